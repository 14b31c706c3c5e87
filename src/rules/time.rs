//! Time: a job's schedule events (start, paced rollout batches, end), maintenance windows, and
//! an execution's deadlines (SPEC §2 SCHEDULED, §6 Scheduling, §6 Rollout, §6 Timeouts, T7,
//! AMBIG-12, AMBIG-13, AMBIG-15, AMBIG-26, AMBIG-28).
//!
//! The core never reads a clock: every function takes `now`.

use super::{CancelJob, CancelScope};
use crate::config::{ExponentialRate, MaintenanceWindow, RolloutRate, Schedule};
use crate::error::{InvalidRequest, Rejection};
use crate::id::{StepTimeout, Timestamp};
use crate::status::{ExecutionStatus, JobEndBehavior, JobStatus, terminal_execution};
use crate::time::TimeoutMinutes;

/// "No deadline": a time that never comes.
pub const NEVER: Timestamp = Timestamp(u64::MAX);

/// Seconds between two batches of a paced rollout (SPEC §6 Rollout: `maximumPerMinute`).
pub const ROLLOUT_PERIOD_SECS: u64 = 60;

/// What a job's schedule events depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JobClock {
    /// The job's status.
    pub status: JobStatus,
    /// Its `schedulingConfig` times, if any.
    pub schedule: Option<Schedule>,
    /// It went IN_PROGRESS at least once.
    pub started: bool,
    /// Its schedule's end has been applied.
    pub ended: bool,
    /// When the next batch of a paced or scheduled rollout is due, while targets still wait
    /// for one.
    pub rollout_at: Option<Timestamp>,
    /// Its maintenance windows, if it has any (SPEC §2, AMBIG-28).
    pub window: Option<WindowClock>,
}

/// The maintenance-window part of a [`JobClock`] (SPEC §2, AMBIG-26, AMBIG-28).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WindowClock {
    /// When the windows must be looked at again: the job's `startTime` until it passed, then
    /// [`WindowAt::recheck`] of the last look ([`NEVER`] when no occurrence is left).
    pub at: Timestamp,
    /// Whether a window is open at the instant [`schedule_event`] is asked about
    /// ([`maintenance_window`] there); [`next_job_event`] does not read it.
    pub open: bool,
}

/// What a job's schedule does at one instant (SPEC §2, §6 Scheduling, AMBIG-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ScheduleEvent {
    /// SCHEDULED → IN_PROGRESS: QUEUED executions are listed again and the rollout goes on.
    pub start: bool,
    /// The next batch of the rollout goes out (only when the job does not start now).
    pub batch: bool,
    /// The end is applied with this behaviour: the rollout stops, and CANCEL / FORCE_CANCEL
    /// cancel the job's QUEUED (and IN_PROGRESS) executions.
    pub end: Option<JobEndBehavior>,
    /// A maintenance window opens for a job that started before (as
    /// [`Registry::open_window`](crate::registry::Registry::open_window)) or closes (as
    /// [`close_window`](crate::registry::Registry::close_window)); SPEC §2, AMBIG-13, AMBIG-28.
    pub window: Option<Window>,
}

/// Has the schedule's `endTime` passed at `now`? (SPEC §2: a CONTINUOUS job completes only after
/// it; no start after it.)
#[must_use]
pub fn end_passed(schedule: Option<Schedule>, now: Timestamp) -> bool {
    schedule.and_then(|s| s.end()).is_some_and(|(end, _)| now >= end)
}

/// When the job's next schedule event is due, if it has one: its start (a SCHEDULED job that
/// never started nor ended), its next rollout batch (an IN_PROGRESS job), its end (a live job
/// whose end is not applied yet), and for a job with maintenance windows the next look at them
/// instead of its start (a live job whose end is not applied yet). (SPEC §2, §6 Scheduling, §6
/// Rollout, AMBIG-28.)
#[must_use]
pub fn next_job_event(job: &JobClock) -> Option<Timestamp> {
    let live = matches!(job.status, JobStatus::InProgress | JobStatus::Scheduled);
    // No start after the end; nothing at all for a job that is no longer live. AMBIG-28: a job
    // with windows starts when a window is open, so its windows' look replaces its start.
    let start = job
        .schedule
        .and_then(|s| s.start())
        .filter(|_| job.status == JobStatus::Scheduled && !job.started && !job.ended && job.window.is_none());
    let window = job.window.map(|w| w.at).filter(|_| !job.ended && live);
    let rollout = job.rollout_at.filter(|_| job.status == JobStatus::InProgress);
    let end = job.schedule.and_then(|s| s.end()).map(|(at, _)| at).filter(|_| !job.ended && live);
    [start, window, rollout, end].into_iter().flatten().filter(|at| *at != NEVER).min()
}

/// What the job's schedule does at `now` (SPEC §2 SCHEDULED until `startTime`, §6 Rollout,
/// AMBIG-12 for the end).
#[must_use]
pub fn schedule_event(job: &JobClock, now: Timestamp) -> ScheduleEvent {
    let start_due = job.schedule.and_then(|s| s.start()).is_some_and(|s| s <= now);
    // SPEC §2: SCHEDULED until startTime, never started before, and never after the end: not
    // once it passed at `now`, nor once it was applied (an earlier `now` may follow a later
    // one; a host may open and close windows of its own).
    let before_end = !job.ended && !end_passed(job.schedule, now);
    // AMBIG-28: with maintenance windows, the job starts (and later goes on) only while one is
    // open; a job without `startTime` may start at its first window.
    let (start_due, open) = match job.window {
        Some(w) => (start_due || job.schedule.and_then(|s| s.start()).is_none(), w.open),
        None => (start_due, true),
    };
    let start = job.status == JobStatus::Scheduled && !job.started && start_due && before_end && open;
    let window = match (job.window, job.status) {
        // SPEC §2: a window opening takes a job that started back to IN_PROGRESS.
        (Some(w), JobStatus::Scheduled) if w.open && job.started && before_end => Some(Window::Open),
        // SPEC §2, AMBIG-13: at the end of the window it goes back to SCHEDULED.
        (Some(w), JobStatus::InProgress) if !w.open && !job.ended => Some(Window::Close),
        (Some(_) | None, _) => None,
    };
    // SPEC §6 Rollout: the next batch once its minute has come (not while the window closes).
    let batch = !start
        && window.is_none()
        && job.status == JobStatus::InProgress
        && job.rollout_at.is_some_and(|at| at <= now);
    // AMBIG-12: the end applies once, whatever the status that reaches it.
    let end = job.schedule.and_then(|s| s.end()).filter(|(at, _)| *at <= now && !job.ended).map(|(_, b)| b);
    ScheduleEvent { start, batch, end, window }
}

/// Does a job that goes IN_PROGRESS at `now` (its `startTime`, or a maintenance window opening)
/// send a rollout batch at once? Its first batch, yes; once it has started before, the next
/// batch only when its minute has come (SPEC §6 Rollout: at most `maximumPerMinute` a minute).
#[must_use]
pub fn batch_on_start(job: &JobClock, now: Timestamp) -> bool {
    // It goes IN_PROGRESS because its window (if it has one) is open.
    let window = job.window.map(|w| WindowClock { open: true, ..w });
    let running = JobClock { status: JobStatus::InProgress, window, ..*job };
    !job.started || schedule_event(&running, now).batch
}

/// How many targets one rollout batch queues: all of them, or `maximumPerMinute` (SPEC §6
/// Rollout).
#[must_use]
pub fn rollout_batch(maximum_per_minute: Option<RolloutRate>) -> usize {
    maximum_per_minute.map_or(usize::MAX, |m| usize::try_from(m.get()).unwrap_or(usize::MAX))
}

/// Where an exponential rollout stands (SPEC §6 Rollout, AMBIG-29).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Ramp {
    /// The rate, in thousandths of a thing a minute; 0 until the first batch (which starts at
    /// `baseRatePerMinute`).
    pub rate_milli: u64,
    /// Things the rollout notified (executions its batches queued).
    pub notified: u32,
    /// `notified` at the last increase (plus the criterion for each further one).
    pub notified_mark: u32,
    /// The job's SUCCEEDED executions at the last increase (likewise).
    pub succeeded_mark: u32,
}

/// The highest rate a ramp reaches, in thousandths of a thing a minute (more than any batch).
const RAMP_CAP_MILLI: u64 = (u32::MAX as u64) * 1000;

/// The ramp before the next batch of an exponential rollout, with `succeeded` executions of the
/// job SUCCEEDED so far (SPEC §6 Rollout, AMBIG-29): the first batch starts at
/// `baseRatePerMinute`; each time another `numberOfNotifiedThings` were notified, or another
/// `numberOfSucceededThings` succeeded, since the last increase, the rate is multiplied by
/// `incrementFactor` (to a thousandth of a thing).
#[must_use]
pub fn ramp_up(rate: &ExponentialRate, ramp: Ramp, succeeded: u32) -> Ramp {
    let mut r = ramp;
    if r.rate_milli == 0 {
        r.rate_milli = u64::from(rate.base()).saturating_mul(1000);
    }
    let crit = rate.increase();
    loop {
        // AMBIG-29: either criterion met counts; the other keeps counting.
        let by_notified = crit.notified.filter(|n| r.notified.saturating_sub(r.notified_mark) >= *n);
        let by_succeeded = crit.succeeded.filter(|n| succeeded.saturating_sub(r.succeeded_mark) >= *n);
        if by_notified.is_none() && by_succeeded.is_none() {
            return r;
        }
        if r.rate_milli >= RAMP_CAP_MILLI {
            // No batch is that large: the marks catch up at once.
            r.notified_mark = r.notified;
            r.succeeded_mark = succeeded;
            return r;
        }
        r.rate_milli = r.rate_milli.saturating_mul(u64::from(rate.factor_tenths())) / 10;
        r.notified_mark = r.notified_mark.saturating_add(by_notified.unwrap_or(0));
        r.succeeded_mark = r.succeeded_mark.saturating_add(by_succeeded.unwrap_or(0));
    }
}

/// How many targets the next batch queues: [`rollout_batch`] under `maximumPerMinute`, and with
/// an exponential rate the ramp's whole things a minute (at least one) below that (SPEC §6
/// Rollout, AMBIG-29).
#[must_use]
pub fn ramp_batch(maximum_per_minute: Option<RolloutRate>, ramp: Option<Ramp>) -> usize {
    let cap = rollout_batch(maximum_per_minute);
    ramp.map_or(cap, |r| usize::try_from((r.rate_milli / 1000).max(1)).unwrap_or(usize::MAX).min(cap))
}

/// Does a rollout batch give this waiting target an execution? (SPEC T1, T10, §6 Rollout.) Only
/// a registered thing (T10: a deleted thing is no longer a valid target) that never had an
/// execution of the job (AssociateTargetsWithJob may have reached it first: the rollout reaches a
/// target once). A target passed over does not count toward the batch's `maximumPerMinute`.
#[must_use]
pub const fn rollout_reaches(registered: bool, had_execution: bool) -> bool {
    registered && !had_execution
}

/// When the batch after one sent at `now` is due: a minute later while targets still wait,
/// else never (SPEC §6 Rollout).
#[must_use]
pub const fn next_batch_at(now: Timestamp, targets_wait: bool) -> Timestamp {
    if targets_wait { now.saturating_add(ROLLOUT_PERIOD_SECS) } else { NEVER }
}

/// Whether a job's maintenance windows are open at some instant, and until when that holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WindowAt {
    /// Some window is open: an occurrence `o` of its start with `o <= now < o + duration`
    /// (AMBIG-26).
    pub open: bool,
    /// The earliest later instant at which `open` may change: the end of the earliest running
    /// occurrence, or the next start. `None` when no window runs or starts again (no occurrence
    /// before 2200).
    pub recheck: Option<Timestamp>,
}

/// Whether any of a job's maintenance windows is open at `now` (SPEC §2: IN_PROGRESS while one
/// is, SCHEDULED between them; AMBIG-26 for overlapping occurrences and several windows). The
/// host asks again at `recheck` and opens or closes the job's window when `open` changed
/// ([`window`]).
#[must_use]
pub fn maintenance_window<'a>(
    windows: impl IntoIterator<Item = &'a MaintenanceWindow>,
    now: Timestamp,
) -> WindowAt {
    let mut at = WindowAt { open: false, recheck: None };
    for w in windows {
        let len = u64::from(w.duration_minutes()).saturating_mul(60);
        // The earliest occurrence that has not ended at `now`.
        let from = now.secs().checked_sub(len).map_or(0, |s| s.saturating_add(1));
        let change = match w.start().next_at_or_after(Timestamp(from)) {
            Some(o) if o <= now => {
                at.open = true;
                Some(o.saturating_add(len))
            }
            next => next,
        };
        at.recheck = match (at.recheck, change) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    at
}

/// A maintenance window opening or closing for a job (SPEC §2, AMBIG-13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Window {
    /// The window opens: a SCHEDULED job goes IN_PROGRESS.
    Open,
    /// The window closes: an IN_PROGRESS job goes back to SCHEDULED.
    Close,
}

/// May a maintenance window open or close for a job in `job`? (SPEC §2, AMBIG-13.) On success
/// the job takes the returned status; QUEUED executions follow [`listed_to_device`](super::listed_to_device).
///
/// # Errors
/// `InvalidRequestException` ([`InvalidRequest::WindowNeedsStatus`]) unless the job is
/// SCHEDULED (to open) or IN_PROGRESS (to close).
pub const fn window(job: JobStatus, change: Window) -> Result<JobStatus, Rejection> {
    match (change, job) {
        // SPEC §2: a window opening starts a SCHEDULED job's rollout.
        (Window::Open, JobStatus::Scheduled) => Ok(JobStatus::InProgress),
        // SPEC §2, AMBIG-13: a window closing takes the job back to SCHEDULED.
        (Window::Close, JobStatus::InProgress) => Ok(JobStatus::Scheduled),
        (
            Window::Open,
            JobStatus::InProgress
            | JobStatus::Canceled
            | JobStatus::Completed
            | JobStatus::DeletionInProgress,
        )
        | (
            Window::Close,
            JobStatus::Scheduled | JobStatus::Canceled | JobStatus::Completed | JobStatus::DeletionInProgress,
        ) => Err(Rejection::InvalidRequest(InvalidRequest::WindowNeedsStatus(job))),
    }
}

/// What a status change does to an execution's timers (SPEC T7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TimerChange {
    /// QUEUED → IN_PROGRESS: the in-progress timer starts ([`in_progress_deadline`]) and is
    /// the execution's deadline.
    Start,
    /// IN_PROGRESS → IN_PROGRESS: the timers run on.
    Keep,
    /// Any other change: no deadline (QUEUED never times out; terminal no longer can).
    Stop,
}

/// The timers after an execution goes from `from` to `to` (SPEC T7).
#[must_use]
pub const fn timer_on_status(from: ExecutionStatus, to: ExecutionStatus) -> TimerChange {
    match to {
        ExecutionStatus::InProgress => match from {
            // SPEC T7: the in-progress timer starts when the execution enters IN_PROGRESS.
            ExecutionStatus::Queued => TimerChange::Start,
            // SPEC T7: IN_PROGRESS → IN_PROGRESS keeps it.
            ExecutionStatus::InProgress | terminal_execution!() => TimerChange::Keep,
        },
        // SPEC T7: QUEUED executions never time out; terminal ones no longer can.
        ExecutionStatus::Queued | terminal_execution!() => TimerChange::Stop,
    }
}

/// The in-progress deadline of an execution that enters IN_PROGRESS at `now`: `now` plus
/// `inProgressTimeoutInMinutes`, or [`NEVER`] without one (SPEC T7, §6 Timeouts).
#[must_use]
pub const fn in_progress_deadline(now: Timestamp, minutes: Option<TimeoutMinutes>) -> Timestamp {
    match minutes {
        Some(m) => now.saturating_add(m.secs()),
        None => NEVER,
    }
}

/// The deadline after a `stepTimeoutInMinutes` given at `now` (SPEC T7, §3 timer facts,
/// AMBIG-15): a step timer never runs past the in-progress deadline `in_progress`; `-1`
/// ([`StepTimeout::Cancel`]) leaves only that deadline.
#[must_use]
pub const fn step_deadline(now: Timestamp, step: StepTimeout, in_progress: Timestamp) -> Timestamp {
    match step {
        StepTimeout::Minutes(m) => {
            let at = now.saturating_add((m as u64).saturating_mul(60));
            if at.secs() < in_progress.secs() { at } else { in_progress }
        }
        StepTimeout::Cancel => in_progress,
    }
}

/// Does a job created at `now` with `schedule` start SCHEDULED? Only when its `startTime` is
/// still to come (SPEC 4.2 CreateJob, §2 SCHEDULED until `startTime`); see
/// [`create_job`](super::create_job). For a job with maintenance windows, also when none is
/// open at `now` ([`starts_in_window`]).
#[must_use]
pub fn starts_scheduled(schedule: Option<Schedule>, now: Timestamp) -> bool {
    schedule.and_then(|s| s.start()).is_some_and(|start| start > now)
}

/// Does a job with maintenance windows created at `now` start SCHEDULED, and when are its
/// windows looked at first? SCHEDULED while its `startTime` is to come (looked at then) or no
/// window is open at `now` (looked at when that may change, `at`); AMBIG-28.
#[must_use]
pub fn starts_in_window(schedule: Option<Schedule>, at: WindowAt, now: Timestamp) -> (bool, Timestamp) {
    match schedule.and_then(|s| s.start()).filter(|start| *start > now) {
        Some(start) => (true, start),
        None => (!at.open, at.recheck.unwrap_or(NEVER)),
    }
}

/// What the schedule's end does to the job's executions: nothing, or a cancel as CancelJob
/// does (AMBIG-12: STOP_ROLLOUT leaves them alone; CANCEL cancels QUEUED ones; FORCE_CANCEL
/// also IN_PROGRESS ones, and the job is `forceCanceled`). Every behaviour stops the rollout.
#[must_use]
pub const fn end_behavior(behavior: JobEndBehavior) -> Option<CancelJob> {
    match behavior {
        // AMBIG-12: STOP_ROLLOUT leaves existing executions alone.
        JobEndBehavior::StopRollout => None,
        // AMBIG-12: CANCEL cancels QUEUED executions.
        JobEndBehavior::Cancel => Some(CancelJob { scope: CancelScope::Queued, force_canceled: false }),
        // AMBIG-12: FORCE_CANCEL also IN_PROGRESS ones.
        JobEndBehavior::ForceCancel => {
            Some(CancelJob { scope: CancelScope::QueuedAndInProgress, force_canceled: true })
        }
    }
}
