//! The time-driven decisions: maintenance windows, schedule starts and ends, rollout batches and
//! execution timers (SPEC §2, §6 Scheduling and Rollout, T7, T10, AMBIG-12, AMBIG-13,
//! AMBIG-15, AMBIG-26, AMBIG-28, AMBIG-29).

use super::{BAD, OK, Outcome};
use crate::rules::{TimerChange, Window};
use crate::status::{ExecutionStatus, JobEndBehavior, JobStatus};

use ExecutionStatus as E;
use JobStatus as J;

/// A maintenance window opening or closing for a job in one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowRow {
    /// Open or close.
    pub change: Window,
    /// The job's status.
    pub job: JobStatus,
    /// The answer.
    pub outcome: Outcome,
    /// The job's status after an accepted change.
    pub becomes: Option<JobStatus>,
    /// Source.
    pub spec: &'static str,
}

/// One case of [`rules::maintenance_window`](crate::rules::maintenance_window): the windows
/// (`startTime`, `durationInMinutes`), the instant in seconds after [`WINDOWS_BASE`], and the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MaintenanceWindowRow {
    /// The job's windows.
    pub windows: &'static [(&'static str, u16)],
    /// Seconds after [`WINDOWS_BASE`].
    pub now: u64,
    /// Some window is open.
    pub open: bool,
    /// When to ask again, in seconds after [`WINDOWS_BASE`].
    pub recheck: Option<u64>,
    /// Source.
    pub spec: &'static str,
}

/// 2026-12-01T00:00:00Z, a Tuesday: the origin of [`MAINTENANCE_WINDOW`]'s instants.
pub const WINDOWS_BASE: u64 = 1_796_083_200;

const H: u64 = 3600;
const DAILY_2AM: &[(&str, u16)] = &[("cron(0 2 * * ? *)", 60)];
const TWO_DAILY: &[(&str, u16)] = &[("cron(0 2 * * ? *)", 60), ("cron(30 2 * * ? *)", 60)];

/// Whether a job's maintenance windows are open (SPEC §2, `lim-scheduling`, AMBIG-26).
pub const MAINTENANCE_WINDOW: [MaintenanceWindowRow; 9] = [
    MaintenanceWindowRow {
        windows: DAILY_2AM,
        now: 2 * H - 1,
        open: false,
        recheck: Some(2 * H),
        spec: "SPEC §2",
    },
    MaintenanceWindowRow {
        windows: DAILY_2AM,
        now: 2 * H,
        open: true,
        recheck: Some(3 * H),
        spec: "SPEC §2",
    },
    MaintenanceWindowRow {
        windows: DAILY_2AM,
        now: 3 * H - 1,
        open: true,
        recheck: Some(3 * H),
        spec: "SPEC §2",
    },
    MaintenanceWindowRow {
        windows: DAILY_2AM,
        now: 3 * H,
        open: false,
        recheck: Some(26 * H),
        spec: "SPEC §2",
    },
    // Hourly windows of 90 minutes overlap: open throughout; the earliest running one ends first.
    MaintenanceWindowRow {
        windows: &[("cron(0 * * * ? *)", 90)],
        now: H + 45 * 60,
        open: true,
        recheck: Some(2 * H + 30 * 60),
        spec: "AMBIG-26",
    },
    MaintenanceWindowRow {
        windows: TWO_DAILY,
        now: 3 * H + 10 * 60,
        open: true,
        recheck: Some(3 * H + 30 * 60),
        spec: "AMBIG-26",
    },
    MaintenanceWindowRow {
        windows: TWO_DAILY,
        now: 4 * H,
        open: false,
        recheck: Some(26 * H),
        spec: "AMBIG-26",
    },
    // Only past occurrences: closed for good.
    MaintenanceWindowRow {
        windows: &[("cron(0 2 1 1 ? 2020)", 60)],
        now: 0,
        open: false,
        recheck: None,
        spec: "SPEC §2",
    },
    MaintenanceWindowRow { windows: &[], now: 0, open: false, recheck: None, spec: "SPEC §2" },
];

/// Maintenance windows (SPEC §2, AMBIG-13).
pub const WINDOW: [WindowRow; 10] = [
    WindowRow { change: Window::Open, job: J::InProgress, outcome: BAD, becomes: None, spec: "SPEC §2" },
    WindowRow { change: Window::Open, job: J::Canceled, outcome: BAD, becomes: None, spec: "SPEC §2" },
    WindowRow { change: Window::Open, job: J::Completed, outcome: BAD, becomes: None, spec: "SPEC §2" },
    WindowRow {
        change: Window::Open,
        job: J::DeletionInProgress,
        outcome: BAD,
        becomes: None,
        spec: "SPEC §2, R4",
    },
    WindowRow {
        change: Window::Open,
        job: J::Scheduled,
        outcome: OK,
        becomes: Some(J::InProgress),
        spec: "SPEC §2",
    },
    WindowRow {
        change: Window::Close,
        job: J::InProgress,
        outcome: OK,
        becomes: Some(J::Scheduled),
        spec: "SPEC §2, AMBIG-13",
    },
    WindowRow { change: Window::Close, job: J::Canceled, outcome: BAD, becomes: None, spec: "SPEC §2" },
    WindowRow { change: Window::Close, job: J::Completed, outcome: BAD, becomes: None, spec: "SPEC §2" },
    WindowRow {
        change: Window::Close,
        job: J::DeletionInProgress,
        outcome: BAD,
        becomes: None,
        spec: "SPEC §2, R4",
    },
    WindowRow { change: Window::Close, job: J::Scheduled, outcome: BAD, becomes: None, spec: "SPEC §2" },
];

/// A job's schedule event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleEventKind {
    /// `startTime`: SCHEDULED → IN_PROGRESS.
    Start,
    /// The next batch of a paced rollout.
    Batch,
    /// `endTime`: the end behaviour.
    End,
}

/// When a schedule event is due (offered by the timer) and when it fires at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleEventRow {
    /// The event.
    pub event: ScheduleEventKind,
    /// The job statuses it applies to.
    pub statuses: &'static [JobStatus],
    /// It needs a job that never started.
    pub needs_not_started: bool,
    /// It is offered only for a job whose end was not applied.
    pub offered_needs_not_ended: bool,
    /// It fires only for a job whose end was not applied.
    pub needs_not_ended: bool,
    /// It fires only while the end has not passed.
    pub needs_end_not_passed: bool,
    /// It fires only when the start does not fire at the same instant.
    pub needs_no_start: bool,
    /// Source.
    pub spec: &'static str,
}

/// The schedule's events (SPEC §2 SCHEDULED, §6 Scheduling, §6 Rollout, AMBIG-12). An event is
/// due at its time (`startTime`, the batch's minute, `endTime`) and fires once that time has
/// come, in the statuses and conditions of its row; the timer offers the earliest due event.
/// The end fires in any status once (the timer offers it only for a live job: IN_PROGRESS or
/// SCHEDULED).
pub const SCHEDULE_EVENTS: [ScheduleEventRow; 3] = [
    ScheduleEventRow {
        event: ScheduleEventKind::Start,
        statuses: &[J::Scheduled],
        needs_not_started: true,
        offered_needs_not_ended: true,
        needs_not_ended: true,
        needs_end_not_passed: true,
        needs_no_start: false,
        spec: "SPEC §2 SCHEDULED until startTime; no start after the end",
    },
    ScheduleEventRow {
        event: ScheduleEventKind::Batch,
        statuses: &[J::InProgress],
        needs_not_started: false,
        offered_needs_not_ended: false,
        needs_not_ended: false,
        needs_end_not_passed: false,
        needs_no_start: true,
        spec: "SPEC §6 Rollout (maximumPerMinute: one batch a minute)",
    },
    ScheduleEventRow {
        event: ScheduleEventKind::End,
        statuses: &[J::InProgress, J::Scheduled],
        needs_not_started: false,
        offered_needs_not_ended: true,
        needs_not_ended: true,
        needs_end_not_passed: false,
        needs_no_start: false,
        spec: "SPEC §6 Scheduling endBehavior, AMBIG-12 (applied once)",
    },
];

/// What the schedule of a job with maintenance windows does when its windows are looked at
/// (SPEC §2, AMBIG-13, AMBIG-28), with its start due (passed, or no `startTime`), its end neither
/// applied nor passed. Once the end passed, neither a start nor an opening happens; once it was
/// applied, no close either. A status without a row (CANCELED, COMPLETED,
/// DELETION_IN_PROGRESS) does nothing. The windows replace the start on the timer: it offers the
/// next look, for a live job whose end was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowedEventRow {
    /// The job's status.
    pub status: JobStatus,
    /// It went IN_PROGRESS before.
    pub started: bool,
    /// A window is open at that instant ([`MAINTENANCE_WINDOW`]).
    pub open: bool,
    /// It starts (SCHEDULED → IN_PROGRESS, its first batch).
    pub start: bool,
    /// A window opens or closes for it.
    pub window: Option<Window>,
    /// Source.
    pub spec: &'static str,
}

/// The schedule events of a job with maintenance windows (SPEC §2, AMBIG-28).
pub const WINDOWED_EVENTS: [WindowedEventRow; 8] = [
    WindowedEventRow {
        status: J::Scheduled,
        started: false,
        open: false,
        start: false,
        window: None,
        spec: "AMBIG-28 (no start outside a window)",
    },
    WindowedEventRow {
        status: J::Scheduled,
        started: false,
        open: true,
        start: true,
        window: None,
        spec: "SPEC §2 (starts in its first window), AMBIG-28",
    },
    WindowedEventRow {
        status: J::Scheduled,
        started: true,
        open: false,
        start: false,
        window: None,
        spec: "SPEC §2 (SCHEDULED between windows)",
    },
    WindowedEventRow {
        status: J::Scheduled,
        started: true,
        open: true,
        start: false,
        window: Some(Window::Open),
        spec: "SPEC §2 (IN_PROGRESS when the next window opens)",
    },
    WindowedEventRow {
        status: J::InProgress,
        started: false,
        open: false,
        start: false,
        window: Some(Window::Close),
        spec: "SPEC §2, AMBIG-13 (back to SCHEDULED at the end of a window)",
    },
    WindowedEventRow {
        status: J::InProgress,
        started: false,
        open: true,
        start: false,
        window: None,
        spec: "SPEC §2 (IN_PROGRESS inside a window)",
    },
    WindowedEventRow {
        status: J::InProgress,
        started: true,
        open: false,
        start: false,
        window: Some(Window::Close),
        spec: "SPEC §2, AMBIG-13 (back to SCHEDULED at the end of a window)",
    },
    WindowedEventRow {
        status: J::InProgress,
        started: true,
        open: true,
        start: false,
        window: None,
        spec: "SPEC §2 (IN_PROGRESS inside a window)",
    },
];

/// One step of an exponential rollout ([`rules::ramp_up`](crate::rules::ramp_up) and
/// [`rules::ramp_batch`](crate::rules::ramp_batch)): the rate and criteria, where the ramp stood,
/// the job's SUCCEEDED executions, and the ramp and batch that follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RampRow {
    /// `baseRatePerMinute`.
    pub base: u16,
    /// `incrementFactor` in tenths.
    pub factor_tenths: u8,
    /// `numberOfNotifiedThings`.
    pub notified_criterion: Option<u32>,
    /// `numberOfSucceededThings`.
    pub succeeded_criterion: Option<u32>,
    /// `maximumPerMinute`.
    pub maximum: Option<u32>,
    /// The ramp before: rate (thousandths), things notified, and the two marks.
    pub before: (u64, u32, u32, u32),
    /// The job's SUCCEEDED executions.
    pub succeeded: u32,
    /// The ramp after: rate (thousandths) and the two marks.
    pub after: (u64, u32, u32),
    /// The next batch.
    pub batch: usize,
    /// Source.
    pub spec: &'static str,
}

/// Exponential rollout (SPEC §6 Rollout, `lim-rollout`, AMBIG-29).
pub const RAMP: [RampRow; 10] = [
    RampRow {
        base: 5,
        factor_tenths: 20,
        notified_criterion: Some(10),
        succeeded_criterion: None,
        maximum: None,
        before: (0, 0, 0, 0),
        succeeded: 0,
        after: (5_000, 0, 0),
        batch: 5,
        spec: "SPEC §6 Rollout (the first batch at baseRatePerMinute)",
    },
    RampRow {
        base: 5,
        factor_tenths: 20,
        notified_criterion: Some(10),
        succeeded_criterion: None,
        maximum: None,
        before: (5_000, 9, 0, 0),
        succeeded: 9,
        after: (5_000, 0, 0),
        batch: 5,
        spec: "AMBIG-29 (criterion not met: the rate stays)",
    },
    RampRow {
        base: 5,
        factor_tenths: 20,
        notified_criterion: Some(10),
        succeeded_criterion: None,
        maximum: None,
        before: (5_000, 10, 0, 0),
        succeeded: 0,
        after: (10_000, 10, 0),
        batch: 10,
        spec: "AMBIG-29 (met: times incrementFactor)",
    },
    RampRow {
        base: 5,
        factor_tenths: 20,
        notified_criterion: Some(10),
        succeeded_criterion: None,
        maximum: Some(15),
        before: (10_000, 35, 10, 0),
        succeeded: 0,
        after: (40_000, 30, 0),
        batch: 15,
        spec: "AMBIG-29 (met twice since: twice; capped by maximumPerMinute)",
    },
    RampRow {
        base: 1,
        factor_tenths: 15,
        notified_criterion: None,
        succeeded_criterion: Some(2),
        maximum: None,
        before: (1_000, 40, 0, 0),
        succeeded: 3,
        after: (1_500, 0, 2),
        batch: 1,
        spec: "AMBIG-29 (by succeeded things; a thousandth kept, a batch is whole things)",
    },
    RampRow {
        base: 1,
        factor_tenths: 15,
        notified_criterion: None,
        succeeded_criterion: Some(2),
        maximum: None,
        before: (1_500, 40, 0, 2),
        succeeded: 4,
        after: (2_250, 0, 4),
        batch: 2,
        spec: "AMBIG-29 (by succeeded things)",
    },
    RampRow {
        base: 2,
        factor_tenths: 11,
        notified_criterion: Some(4),
        succeeded_criterion: Some(1),
        maximum: None,
        before: (2_000, 4, 0, 0),
        succeeded: 1,
        after: (2_200, 4, 1),
        batch: 2,
        spec: "AMBIG-29 (both criteria met at once: one increase, both counted)",
    },
    RampRow {
        base: 2,
        factor_tenths: 11,
        notified_criterion: Some(4),
        succeeded_criterion: Some(1),
        maximum: None,
        before: (2_000, 4, 0, 0),
        succeeded: 0,
        after: (2_200, 4, 0),
        batch: 2,
        spec: "AMBIG-29 (either criterion met: one increase)",
    },
    RampRow {
        base: 1000,
        factor_tenths: 20,
        notified_criterion: Some(10),
        succeeded_criterion: None,
        maximum: None,
        before: (5_000_000_000, 10, 0, 0),
        succeeded: 0,
        after: (10_000_000_000, 10, 0),
        batch: 10_000_000,
        spec: "AMBIG-29 (millions of things a minute: still multiplied)",
    },
    RampRow {
        base: 1000,
        factor_tenths: 20,
        notified_criterion: Some(10),
        succeeded_criterion: None,
        maximum: None,
        before: (4_294_967_295_000, 30, 0, 0),
        succeeded: 0,
        after: (4_294_967_295_000, 30, 0),
        batch: 4_294_967_295,
        spec: "AMBIG-29 (at u32::MAX things a minute the rate stops; the marks catch up)",
    },
];

/// What an end behaviour cancels (AMBIG-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndBehaviorRow {
    /// `endBehavior`.
    pub behavior: JobEndBehavior,
    /// QUEUED executions are canceled.
    pub cancels_queued: bool,
    /// IN_PROGRESS executions are canceled (and the job is `forceCanceled`).
    pub cancels_in_progress: bool,
    /// Source.
    pub spec: &'static str,
}

/// Every end behaviour stops the rollout (AMBIG-12).
pub const END_BEHAVIOR: [EndBehaviorRow; 3] = [
    EndBehaviorRow {
        behavior: JobEndBehavior::StopRollout,
        cancels_queued: false,
        cancels_in_progress: false,
        spec: "AMBIG-12",
    },
    EndBehaviorRow {
        behavior: JobEndBehavior::Cancel,
        cancels_queued: true,
        cancels_in_progress: false,
        spec: "AMBIG-12",
    },
    EndBehaviorRow {
        behavior: JobEndBehavior::ForceCancel,
        cancels_queued: true,
        cancels_in_progress: true,
        spec: "AMBIG-12",
    },
];

/// Does a rollout batch give a waiting target an execution (`rules::rollout_reaches`)?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolloutReachRow {
    /// The target's thing is still registered.
    pub registered: bool,
    /// The target already had an execution of the job.
    pub had_execution: bool,
    /// The batch queues one (and counts it toward `maximumPerMinute`).
    pub reaches: bool,
    /// Source.
    pub spec: &'static str,
}

/// A rollout reaches a target once, and only while it is a registered thing.
pub const ROLLOUT_REACH: [RolloutReachRow; 4] = [
    RolloutReachRow { registered: true, had_execution: false, reaches: true, spec: "T1; §6 Rollout" },
    // AssociateTargetsWithJob reached it first.
    RolloutReachRow { registered: true, had_execution: true, reaches: false, spec: "T1; T13" },
    // A deleted thing is no longer a valid target.
    RolloutReachRow { registered: false, had_execution: false, reaches: false, spec: "T10" },
    RolloutReachRow { registered: false, had_execution: true, reaches: false, spec: "T10; T13" },
];

/// What a thing that joined a target group of a CONTINUOUS job gets (`rules::group_join`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupJoinRow {
    /// The job's status.
    pub job: JobStatus,
    /// It went IN_PROGRESS before.
    pub started: bool,
    /// Its `endTime` passed.
    pub ended: bool,
    /// Its rollout has targets left to reach (a paced rollout between batches; before the
    /// start, any target at all).
    pub rolling_out: bool,
    /// `Some(join)`: what the thing gets; `None`: refused (`InvalidRequestException`).
    pub join: Option<crate::rules::TargetJoin>,
    /// Source.
    pub spec: &'static str,
}

/// A joiner gets an execution now while the job runs or waits between windows with nothing
/// left to roll out, a place at the end of the rollout before the start or while a paced
/// rollout has targets left, nothing once an end passed before the start; a job that no longer
/// rolls out refuses it. (A SNAPSHOT job refuses every joiner: its targets were fixed at its
/// creation.)
pub const GROUP_JOIN: [GroupJoinRow; 13] = {
    use crate::rules::TargetJoin::{Nothing, Queue, Rollout};
    const fn row(
        job: JobStatus,
        (started, ended, rolling_out): (bool, bool, bool),
        join: Option<crate::rules::TargetJoin>,
        spec: &'static str,
    ) -> GroupJoinRow {
        GroupJoinRow { job, started, ended, rolling_out, join, spec }
    }
    [
        row(J::InProgress, (true, false, false), Some(Queue), "T1"),
        row(J::InProgress, (true, false, true), Some(Rollout), "T1; R26"),
        row(J::InProgress, (true, true, false), Some(Queue), "T1; AMBIG-12"),
        row(J::Scheduled, (false, false, true), Some(Rollout), "T1; R21"),
        // A group that was empty when the job was created: the joiner is the rollout's first.
        row(J::Scheduled, (false, false, false), Some(Rollout), "T1; R21"),
        row(J::Scheduled, (false, true, false), Some(Nothing), "AMBIG-12"),
        row(J::Scheduled, (true, false, false), Some(Queue), "R21; AMBIG-13"),
        row(J::Scheduled, (true, false, true), Some(Rollout), "R21; R26"),
        row(J::Scheduled, (true, true, false), Some(Queue), "R21; AMBIG-13"),
        row(J::Canceled, (true, false, false), None, "§2"),
        row(J::Completed, (true, false, false), None, "§2"),
        row(J::DeletionInProgress, (true, false, false), None, "§2"),
        row(J::DeletionInProgress, (true, false, true), None, "§2"),
    ]
};

/// Whether a thing that leaves a target group leaves the job (`rules::group_leave`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupLeaveRow {
    /// The job's `targetSelection`.
    pub selection: crate::status::TargetSelection,
    /// The thing leaves the job's targets: its pending execution is REMOVED, or it leaves the
    /// rollout that has not reached it.
    pub leaves: bool,
    /// Source.
    pub spec: &'static str,
}

/// A CONTINUOUS job follows its groups; a SNAPSHOT job keeps the things it was created with.
pub const GROUP_LEAVE: [GroupLeaveRow; 2] = {
    use crate::status::TargetSelection::{Continuous, Snapshot};
    [
        GroupLeaveRow { selection: Continuous, leaves: true, spec: "T10" },
        GroupLeaveRow { selection: Snapshot, leaves: false, spec: "§2" },
    ]
};

/// When a job's next rollout batch is due, as [`BatchOnStartRow`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchDue {
    /// No batch is pending (every target has been reached, or none was paced).
    None,
    /// The batch's minute is still to come.
    Later,
    /// The batch's minute has come.
    Come,
}

/// Does a job that goes IN_PROGRESS (its `startTime`, or a maintenance window opening) send a
/// rollout batch at once (`rules::batch_on_start`)?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOnStartRow {
    /// The job went IN_PROGRESS before.
    pub started: bool,
    /// Its next batch (`None` for a job that never started: its first batch is its start).
    pub due: BatchDue,
    /// A batch goes at once.
    pub batch: bool,
    /// Source.
    pub spec: &'static str,
}

/// The first start sends the first batch; a window opening again sends the next batch only
/// once its minute has come, so a job never sends more than `maximumPerMinute` a minute across
/// windows.
pub const BATCH_ON_START: [BatchOnStartRow; 4] = [
    BatchOnStartRow {
        started: false,
        due: BatchDue::None,
        batch: true,
        spec: "SPEC §6 Rollout (the first batch)",
    },
    BatchOnStartRow {
        started: true,
        due: BatchDue::None,
        batch: false,
        spec: "SPEC §6 Rollout (nothing waits)",
    },
    BatchOnStartRow {
        started: true,
        due: BatchDue::Later,
        batch: false,
        spec: "SPEC §6 Rollout (one batch a minute), AMBIG-13",
    },
    BatchOnStartRow { started: true, due: BatchDue::Come, batch: true, spec: "SPEC §6 Rollout, AMBIG-13" },
];

/// What a status change does to an execution's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerRow {
    /// The new status.
    pub to: ExecutionStatus,
    /// From QUEUED.
    pub from_queued: TimerChange,
    /// From any other status.
    pub from_other: TimerChange,
    /// Source.
    pub spec: &'static str,
}

/// Timers on a status change (SPEC T7). A started in-progress timer ends at `now + minutes ×
/// 60` (never without `inProgressTimeoutInMinutes`); a step timer at `min(now + minutes × 60,
/// in-progress deadline)`, and `-1` leaves the in-progress deadline (SPEC T7, AMBIG-15).
pub const TIMER_ON_STATUS: [TimerRow; 8] = [
    TimerRow {
        to: E::Queued,
        from_queued: TimerChange::Stop,
        from_other: TimerChange::Stop,
        spec: "SPEC T7 (QUEUED never times out)",
    },
    TimerRow {
        to: E::InProgress,
        from_queued: TimerChange::Start,
        from_other: TimerChange::Keep,
        spec: "SPEC T7",
    },
    TimerRow {
        to: E::Succeeded,
        from_queued: TimerChange::Stop,
        from_other: TimerChange::Stop,
        spec: "SPEC T7",
    },
    TimerRow {
        to: E::Failed,
        from_queued: TimerChange::Stop,
        from_other: TimerChange::Stop,
        spec: "SPEC T7",
    },
    TimerRow {
        to: E::TimedOut,
        from_queued: TimerChange::Stop,
        from_other: TimerChange::Stop,
        spec: "SPEC T7",
    },
    TimerRow {
        to: E::Rejected,
        from_queued: TimerChange::Stop,
        from_other: TimerChange::Stop,
        spec: "SPEC T7",
    },
    TimerRow {
        to: E::Removed,
        from_queued: TimerChange::Stop,
        from_other: TimerChange::Stop,
        spec: "SPEC T7",
    },
    TimerRow {
        to: E::Canceled,
        from_queued: TimerChange::Stop,
        from_other: TimerChange::Stop,
        spec: "SPEC T7",
    },
];
