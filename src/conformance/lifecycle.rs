//! The lifecycle decisions the service makes on its own: retries, abort, schedules, windows,
//! timers, device access, statusDetails writes, UpdateJob's merge and the schedule's bounds
//! (SPEC T7, T12, T13, R14, R19, §2, §6, AMBIG-12, AMBIG-13, AMBIG-15, SEED-CLI).
//!
//! Where an input is numeric, a table gives the rule per case and `tests/conformance.rs`
//! checks the rules over an exhaustive small domain of values.

use super::{BAD, OK, Outcome};
use crate::error::{Exception, Plane};
use crate::policy::{DetailsWrite, NotifyOn, UnknownThing};
use crate::rules::{TimerChange, Window};
use crate::status::{ExecutionStatus, FailureType, JobEndBehavior, JobStatus, RetryableFailureType};

use ExecutionStatus as E;
use JobStatus as J;
use RetryableFailureType as RF;

const NOT_FOUND: Outcome = Outcome::Refused(Exception::ResourceNotFound, 404);

/// Whether a rule applies to a job in one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobFlagRow {
    /// Job status.
    pub job: JobStatus,
    /// The rule applies.
    pub applies: bool,
    /// Source.
    pub spec: &'static str,
}

/// Which jobs get retries: live ones (SPEC T12).
pub const RETRY_JOB: [JobFlagRow; 5] = [
    JobFlagRow { job: J::InProgress, applies: true, spec: "SPEC T12" },
    JobFlagRow { job: J::Canceled, applies: false, spec: "SPEC T12 (no new executions once canceled)" },
    JobFlagRow { job: J::Completed, applies: false, spec: "SPEC T12 (no new executions once completed)" },
    JobFlagRow { job: J::DeletionInProgress, applies: false, spec: "SPEC T12, R4" },
    JobFlagRow { job: J::Scheduled, applies: true, spec: "SPEC T12, R5" },
];

/// The failure type an execution status counts as for retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryFailureRow {
    /// The status the execution reached.
    pub status: ExecutionStatus,
    /// Its retry failure type, or `None`: never retried.
    pub failure: Option<RetryableFailureType>,
    /// Source.
    pub spec: &'static str,
}

/// Which statuses are retried, and as which failure type (SPEC T12, §6 Retries).
pub const RETRY_FAILURE: [RetryFailureRow; 8] = [
    RetryFailureRow { status: E::Queued, failure: None, spec: "SPEC T12 (not a failure)" },
    RetryFailureRow { status: E::InProgress, failure: None, spec: "SPEC T12 (not a failure)" },
    RetryFailureRow { status: E::Succeeded, failure: None, spec: "SPEC T12 (not a failure)" },
    RetryFailureRow { status: E::Failed, failure: Some(RF::Failed), spec: "SPEC T12" },
    RetryFailureRow { status: E::TimedOut, failure: Some(RF::TimedOut), spec: "SPEC T12" },
    RetryFailureRow { status: E::Rejected, failure: None, spec: "SPEC T12 (REJECTED never)" },
    RetryFailureRow { status: E::Removed, failure: None, spec: "SPEC T12 (not a failure)" },
    RetryFailureRow { status: E::Canceled, failure: None, spec: "SPEC T12 (not a failure)" },
];

/// Most retries per (job, thing) over every criterion (SPEC §6 Retries).
pub const RETRY_MAX_TOTAL: u8 = 10;

/// Which criterion of a retry configuration applies to a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryCriterionRow {
    /// The failure ([`RF::Failed`] or [`RF::TimedOut`]).
    pub failure: RetryableFailureType,
    /// The failure types the configuration has criteria for.
    pub criteria: &'static [RetryableFailureType],
    /// The criterion that applies, or `None`: no retry. It grants a retry while the retries it
    /// counts (its own type's; both types' for `ALL`) are below its `numberOfRetries`.
    pub applies: Option<RetryableFailureType>,
    /// Source.
    pub spec: &'static str,
}

/// The criterion for the failure's type, else the one for ALL (SPEC §6 Retries).
pub const RETRY_CRITERION: [RetryCriterionRow; 12] = [
    RetryCriterionRow {
        failure: RF::Failed,
        criteria: &[RF::Failed],
        applies: Some(RF::Failed),
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::Failed,
        criteria: &[RF::TimedOut],
        applies: None,
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::Failed,
        criteria: &[RF::All],
        applies: Some(RF::All),
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::Failed,
        criteria: &[RF::Failed, RF::TimedOut],
        applies: Some(RF::Failed),
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::Failed,
        criteria: &[RF::Failed, RF::All],
        applies: Some(RF::Failed),
        spec: "SPEC §6 Retries (own type first)",
    },
    RetryCriterionRow {
        failure: RF::Failed,
        criteria: &[RF::TimedOut, RF::All],
        applies: Some(RF::All),
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::TimedOut,
        criteria: &[RF::Failed],
        applies: None,
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::TimedOut,
        criteria: &[RF::TimedOut],
        applies: Some(RF::TimedOut),
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::TimedOut,
        criteria: &[RF::All],
        applies: Some(RF::All),
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::TimedOut,
        criteria: &[RF::Failed, RF::TimedOut],
        applies: Some(RF::TimedOut),
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::TimedOut,
        criteria: &[RF::Failed, RF::All],
        applies: Some(RF::All),
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::TimedOut,
        criteria: &[RF::TimedOut, RF::All],
        applies: Some(RF::TimedOut),
        spec: "SPEC §6 Retries (own type first)",
    },
];

/// Which jobs are checked against their abort criteria: IN_PROGRESS ones (SPEC §6 Abort).
pub const ABORT_JOB: [JobFlagRow; 5] = [
    JobFlagRow { job: J::InProgress, applies: true, spec: "SPEC §6 Abort" },
    JobFlagRow { job: J::Canceled, applies: false, spec: "SPEC §6 Abort (already ended)" },
    JobFlagRow { job: J::Completed, applies: false, spec: "SPEC §6 Abort (already ended)" },
    JobFlagRow { job: J::DeletionInProgress, applies: false, spec: "SPEC §6 Abort, R4" },
    JobFlagRow { job: J::Scheduled, applies: false, spec: "SPEC §6 Abort (not started)" },
];

/// Which ended executions an abort criterion counts as failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbortFailureRow {
    /// The criterion's failure type.
    pub failure: FailureType,
    /// FAILED executions count.
    pub failed: bool,
    /// REJECTED executions count.
    pub rejected: bool,
    /// TIMED_OUT executions count.
    pub timed_out: bool,
    /// Source.
    pub spec: &'static str,
}

/// An abort criterion is met when at least `minNumberOfExecutedThings` executions ended
/// (SUCCEEDED, FAILED, REJECTED, TIMED_OUT) and `failures × 100 ≥ thresholdPercentage ×
/// executed`; the first criterion met cancels the job as CancelJob without force does (SPEC §6
/// Abort, T8).
pub const ABORT_FAILURES: [AbortFailureRow; 4] = [
    AbortFailureRow {
        failure: FailureType::Failed,
        failed: true,
        rejected: false,
        timed_out: false,
        spec: "SPEC §6 Abort",
    },
    AbortFailureRow {
        failure: FailureType::Rejected,
        failed: false,
        rejected: true,
        timed_out: false,
        spec: "SPEC §6 Abort",
    },
    AbortFailureRow {
        failure: FailureType::TimedOut,
        failed: false,
        rejected: false,
        timed_out: true,
        spec: "SPEC §6 Abort",
    },
    AbortFailureRow {
        failure: FailureType::All,
        failed: true,
        rejected: true,
        timed_out: true,
        spec: "SPEC §6 Abort",
    },
];

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

/// A request on a plane reaching an execution of a job in one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessRow {
    /// The job's status.
    pub job: JobStatus,
    /// The plane.
    pub plane: Plane,
    /// The answer.
    pub outcome: Outcome,
    /// Source.
    pub spec: &'static str,
}

/// Devices lose access to a job being deleted (SEED-CLI).
pub const DEVICE_ACCESS: [AccessRow; 10] = [
    AccessRow { job: J::InProgress, plane: Plane::Control, outcome: OK, spec: "SPEC 4.2" },
    AccessRow { job: J::Canceled, plane: Plane::Control, outcome: OK, spec: "SPEC 4.2" },
    AccessRow { job: J::Completed, plane: Plane::Control, outcome: OK, spec: "SPEC 4.2" },
    AccessRow { job: J::DeletionInProgress, plane: Plane::Control, outcome: OK, spec: "SEED-CLI" },
    AccessRow { job: J::Scheduled, plane: Plane::Control, outcome: OK, spec: "SPEC 4.2" },
    AccessRow { job: J::InProgress, plane: Plane::Data, outcome: OK, spec: "SPEC 4.3" },
    AccessRow { job: J::Canceled, plane: Plane::Data, outcome: OK, spec: "SPEC 4.3" },
    AccessRow { job: J::Completed, plane: Plane::Data, outcome: OK, spec: "SPEC 4.3" },
    AccessRow { job: J::DeletionInProgress, plane: Plane::Data, outcome: NOT_FOUND, spec: "SEED-CLI" },
    AccessRow { job: J::Scheduled, plane: Plane::Data, outcome: OK, spec: "SPEC 4.3" },
];

/// A data-plane request for a thing the registry does not know, under one reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownThingRow {
    /// The reading.
    pub policy: UnknownThing,
    /// The answer: accepted means "as a thing with no executions".
    pub outcome: Outcome,
    /// Source.
    pub spec: &'static str,
}

/// Unknown things on the data plane (SPEC R19).
pub const UNKNOWN_THING: [UnknownThingRow; 2] = [
    UnknownThingRow { policy: UnknownThing::Empty, outcome: OK, spec: "SPEC R19" },
    UnknownThingRow { policy: UnknownThing::NotFound, outcome: NOT_FOUND, spec: "SPEC R19 alternative" },
];

/// Whether a thing that becomes a target (again) gets a new QUEUED execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RejoinRow {
    /// The status of its newest execution of the job, if any.
    pub newest: Option<ExecutionStatus>,
    /// A new execution is queued.
    pub queues: bool,
    /// Source.
    pub spec: &'static str,
}

/// Queue only if nothing is pending (SPEC T1, T13).
pub const QUEUE_ON_REJOIN: [RejoinRow; 9] = [
    RejoinRow { newest: None, queues: true, spec: "SPEC T1" },
    RejoinRow { newest: Some(E::Queued), queues: false, spec: "SPEC T13" },
    RejoinRow { newest: Some(E::InProgress), queues: false, spec: "SPEC T13" },
    RejoinRow { newest: Some(E::Succeeded), queues: true, spec: "SPEC T13" },
    RejoinRow { newest: Some(E::Failed), queues: true, spec: "SPEC T13" },
    RejoinRow { newest: Some(E::TimedOut), queues: true, spec: "SPEC T13" },
    RejoinRow { newest: Some(E::Rejected), queues: true, spec: "SPEC T13" },
    RejoinRow { newest: Some(E::Removed), queues: true, spec: "SPEC T13" },
    RejoinRow { newest: Some(E::Canceled), queues: true, spec: "SPEC T13" },
];

/// Where a key of a statusDetails write is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyIn {
    /// In the stored map and in the update.
    Both,
    /// In the stored map only.
    StoredOnly,
    /// In the update only.
    UpdateOnly,
}

/// What the stored map holds for a key after a write that carries statusDetails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAfter {
    /// The update's value, in the update's order, after the kept pairs.
    UpdateValue,
    /// The stored value, in stored order.
    StoredValue,
    /// Nothing.
    Dropped,
}

/// One key of a statusDetails write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetailsRow {
    /// The reading.
    pub write: DetailsWrite,
    /// Where the key is.
    pub key: KeyIn,
    /// What the map holds for it after.
    pub after: KeyAfter,
    /// Source.
    pub spec: &'static str,
}

/// Most pairs in a stored map after a write (SPEC R14, AMBIG-16); more is an
/// `InvalidRequestException`.
pub const DETAILS_MAX_PAIRS: usize = 10;

/// statusDetails writes (SPEC R14). A write without statusDetails leaves the map alone.
pub const DETAILS_WRITE: [DetailsRow; 6] = [
    DetailsRow {
        write: DetailsWrite::Replace,
        key: KeyIn::Both,
        after: KeyAfter::UpdateValue,
        spec: "SPEC R14",
    },
    DetailsRow {
        write: DetailsWrite::Replace,
        key: KeyIn::StoredOnly,
        after: KeyAfter::Dropped,
        spec: "SPEC R14",
    },
    DetailsRow {
        write: DetailsWrite::Replace,
        key: KeyIn::UpdateOnly,
        after: KeyAfter::UpdateValue,
        spec: "SPEC R14",
    },
    DetailsRow {
        write: DetailsWrite::Merge,
        key: KeyIn::Both,
        after: KeyAfter::UpdateValue,
        spec: "SPEC R14 alternative",
    },
    DetailsRow {
        write: DetailsWrite::Merge,
        key: KeyIn::StoredOnly,
        after: KeyAfter::StoredValue,
        spec: "SPEC R14 alternative",
    },
    DetailsRow {
        write: DetailsWrite::Merge,
        key: KeyIn::UpdateOnly,
        after: KeyAfter::UpdateValue,
        spec: "SPEC R14 alternative",
    },
];

/// A member of a job's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigMember {
    /// `timeoutConfig`.
    Timeout,
    /// `jobExecutionsRetryConfig`.
    Retry,
    /// `abortConfig`.
    Abort,
    /// `jobExecutionsRolloutConfig`.
    Rollout,
    /// `schedulingConfig`.
    Scheduling,
}

/// Whether UpdateJob changes one member of a job's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigMemberRow {
    /// The member.
    pub member: ConfigMember,
    /// When the request gives it, its value replaces the job's; otherwise (or when not
    /// updatable) the job's stays.
    pub updatable: bool,
    /// Source.
    pub spec: &'static str,
}

/// UpdateJob's merge (SPEC 4.1 UpdateJob); the result is validated as CreateJob's (SPEC §6).
pub const UPDATE_JOB_CONFIG: [ConfigMemberRow; 5] = [
    ConfigMemberRow { member: ConfigMember::Timeout, updatable: true, spec: "SPEC 4.1 UpdateJob" },
    ConfigMemberRow { member: ConfigMember::Retry, updatable: true, spec: "SPEC 4.1 UpdateJob" },
    ConfigMemberRow { member: ConfigMember::Abort, updatable: true, spec: "SPEC 4.1 UpdateJob" },
    ConfigMemberRow { member: ConfigMember::Rollout, updatable: true, spec: "SPEC 4.1 UpdateJob" },
    ConfigMemberRow {
        member: ConfigMember::Scheduling,
        updatable: false,
        spec: "SPEC 4.1 UpdateJob (no schedulingConfig member)",
    },
];

/// What a bound of a scheduling time is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundFrom {
    /// The request time.
    Now,
    /// `startTime` if given, else the request time.
    StartOrNow,
}

/// The bounds of one `schedulingConfig` time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleBoundRow {
    /// `startTime` (false: `endTime`).
    pub start_time: bool,
    /// At least this many seconds after `min_from`.
    pub min_secs: u64,
    /// What the minimum is measured from.
    pub min_from: BoundFrom,
    /// At most this many seconds after the request time.
    pub max_secs: u64,
    /// Source.
    pub spec: &'static str,
}

/// `schedulingConfig` bounds from the request time, inclusive (SPEC §6 Scheduling); `startTime`
/// is checked first; a time outside is an `InvalidRequestException`.
pub const SCHEDULE_BOUNDS: [ScheduleBoundRow; 2] = [
    ScheduleBoundRow {
        start_time: true,
        min_secs: 1_800,
        min_from: BoundFrom::Now,
        max_secs: 31_536_000,
        spec: "SPEC §6 Scheduling (30 min .. 1 year)",
    },
    ScheduleBoundRow {
        start_time: false,
        min_secs: 1_800,
        min_from: BoundFrom::StartOrNow,
        max_secs: 63_072_000,
        spec: "SPEC §6 Scheduling (30 min after start .. 2 years)",
    },
];

/// Whether one execution's status change publishes its thing's `notify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifyRow {
    /// The reading.
    pub notify_on: NotifyOn,
    /// In the pending list before.
    pub was_listed: bool,
    /// In the pending list after.
    pub now_listed: bool,
    /// The status changed (a progress report does not change it).
    pub status_changed: bool,
    /// `notify` is published.
    pub notifies: bool,
    /// Source.
    pub spec: &'static str,
}

const fn notify_row(notify_on: NotifyOn, was: bool, now: bool, changed: bool, notifies: bool) -> NotifyRow {
    let spec = match notify_on {
        NotifyOn::MembershipChange => "SPEC R15",
        NotifyOn::EveryNonTerminalChange => "SPEC R15 alternative, AMBIG-24",
    };
    NotifyRow { notify_on, was_listed: was, now_listed: now, status_changed: changed, notifies, spec }
}

/// `notify` on a status change (SPEC R15): when the pending list's membership changes; under
/// the alternative, also on every status change of a listed execution.
pub const NOTIFY: [NotifyRow; 16] = [
    notify_row(NotifyOn::MembershipChange, false, false, false, false),
    notify_row(NotifyOn::MembershipChange, false, false, true, false),
    notify_row(NotifyOn::MembershipChange, false, true, false, true),
    notify_row(NotifyOn::MembershipChange, false, true, true, true),
    notify_row(NotifyOn::MembershipChange, true, false, false, true),
    notify_row(NotifyOn::MembershipChange, true, false, true, true),
    notify_row(NotifyOn::MembershipChange, true, true, false, false),
    notify_row(NotifyOn::MembershipChange, true, true, true, false),
    notify_row(NotifyOn::EveryNonTerminalChange, false, false, false, false),
    notify_row(NotifyOn::EveryNonTerminalChange, false, false, true, false),
    notify_row(NotifyOn::EveryNonTerminalChange, false, true, false, true),
    notify_row(NotifyOn::EveryNonTerminalChange, false, true, true, true),
    notify_row(NotifyOn::EveryNonTerminalChange, true, false, false, true),
    notify_row(NotifyOn::EveryNonTerminalChange, true, false, true, true),
    notify_row(NotifyOn::EveryNonTerminalChange, true, true, false, false),
    notify_row(NotifyOn::EveryNonTerminalChange, true, true, true, true),
];

/// Which jobs' executions a DeleteThing removes, as a thing leaving the targets does
/// ([`REMOVE_TARGET`](super::REMOVE_TARGET)): all but those of a job being deleted (SPEC T10, R4).
pub const REMOVE_THING_JOB: [JobFlagRow; 5] = [
    JobFlagRow { job: J::InProgress, applies: true, spec: "SPEC T10" },
    JobFlagRow { job: J::Canceled, applies: true, spec: "SPEC T10" },
    JobFlagRow { job: J::Completed, applies: true, spec: "SPEC T10" },
    JobFlagRow { job: J::DeletionInProgress, applies: false, spec: "SPEC R4 (the deletion removes them)" },
    JobFlagRow { job: J::Scheduled, applies: true, spec: "SPEC T10, R5" },
];
