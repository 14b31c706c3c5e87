//! The time-driven decisions: a job's schedule events (start, paced rollout batches, end),
//! maintenance windows and an execution's timers (SPEC §2, §6 Scheduling, §6 Rollout, §6
//! Timeouts, T7, T10, AMBIG-12, AMBIG-13, AMBIG-15, AMBIG-26). Times are whole seconds of any
//! epoch; "never" (the core's `NEVER`) is `None`.

use iot_jobs_core::rules::{self, JobClock, Ramp, TimerChange, Window, WindowAt, WindowClock};
use iot_jobs_core::{Plane, StepTimeout, Timestamp};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use crate::config::{
    ExponentialArgs, WindowArgs, end_behavior_arg, exponential_rate, rollout_rate, schedule, timeout_minutes,
    window_list,
};
use crate::convert::{OrRaise, TYPES, call_class, execution_status_arg, job_status_arg, job_status_obj};

/// A job's maintenance-window clock: `(at, open)`, `at` being when its windows are looked at
/// next (`None`: never) and `open` whether one is open at the instant asked about.
pub type WindowClockArgs = (Option<u64>, bool);

/// A time, or `None` for the core's `NEVER`.
fn secs(t: Timestamp) -> Option<u64> {
    (t != rules::NEVER).then_some(t.secs())
}

/// A timer change as its string: `"START"`, `"KEEP"`, `"STOP"`.
pub const fn timer_str(t: TimerChange) -> &'static str {
    match t {
        TimerChange::Start => "START",
        TimerChange::Keep => "KEEP",
        TimerChange::Stop => "STOP",
    }
}

/// A window change as its string: `"OPEN"`, `"CLOSE"`.
pub const fn window_str(w: Window) -> &'static str {
    match w {
        Window::Open => "OPEN",
        Window::Close => "CLOSE",
    }
}

/// A job's clock from the keywords every schedule function takes.
#[allow(clippy::too_many_arguments)]
fn clock(
    py: Python<'_>,
    job: &Bound<'_, PyAny>,
    start_time: Option<u64>,
    end_time: Option<u64>,
    end_behavior: Option<&str>,
    started: bool,
    ended: bool,
    rollout_at: Option<u64>,
    window: Option<WindowClockArgs>,
) -> PyResult<JobClock> {
    Ok(JobClock {
        status: job_status_arg(job)?,
        schedule: schedule(py, start_time, end_time, end_behavior)?,
        started,
        ended,
        rollout_at: rollout_at.map(Timestamp),
        window: window.map(|(at, open)| WindowClock { at: at.map_or(rules::NEVER, Timestamp), open }),
    })
}

/// What the job's schedule does at `now` (SPEC §2 SCHEDULED until `startTime`, §6 Rollout,
/// AMBIG-12): `ScheduleEvent(start, batch, end)`, `end` being the end behaviour applied now
/// (`"STOP_ROLLOUT"`, `"CANCEL"`, `"FORCE_CANCEL"`) or `None`. The keywords are the job's
/// clock: its `schedulingConfig` times and `endBehavior`, whether it went IN_PROGRESS before
/// (`started`), whether its end was applied (`ended`), and when its next rollout batch is due
/// (`rollout_at`), and for a job with maintenance windows `window=(at, open)`: when its windows
/// are looked at next (`None`: never) and whether one is open at `now` (`maintenance_window`);
/// then `ScheduleEvent.window` says whether one opens or closes for it (AMBIG-13, AMBIG-28).
#[pyfunction]
#[pyo3(signature = (job, now, *, start_time = None, end_time = None, end_behavior = None, started = false, ended = false, rollout_at = None, window = None))]
#[allow(clippy::too_many_arguments)]
pub fn schedule_event<'py>(
    py: Python<'py>,
    job: &Bound<'_, PyAny>,
    now: u64,
    start_time: Option<u64>,
    end_time: Option<u64>,
    end_behavior: Option<PyBackedStr>,
    started: bool,
    ended: bool,
    rollout_at: Option<u64>,
    window: Option<WindowClockArgs>,
) -> PyResult<Bound<'py, PyAny>> {
    static CLS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let c =
        clock(py, job, start_time, end_time, end_behavior.as_deref(), started, ended, rollout_at, window)?;
    let e = rules::schedule_event(&c, Timestamp(now));
    let args = (e.start, e.batch, e.end.map(|b| b.as_str()), e.window.map(window_str));
    call_class(py, &CLS, TYPES, "ScheduleEvent", args)
}

/// When the job's next schedule event is due, or `None`: its start (a SCHEDULED job that never
/// started nor ended), its next rollout batch (an IN_PROGRESS job), its end (a live job whose
/// end is not applied yet) (SPEC §2, §6 Scheduling, §6 Rollout). Keywords as
/// `schedule_event`'s.
#[pyfunction]
#[pyo3(signature = (job, *, start_time = None, end_time = None, end_behavior = None, started = false, ended = false, rollout_at = None, window = None))]
#[allow(clippy::too_many_arguments)]
pub fn next_job_event(
    py: Python<'_>,
    job: &Bound<'_, PyAny>,
    start_time: Option<u64>,
    end_time: Option<u64>,
    end_behavior: Option<PyBackedStr>,
    started: bool,
    ended: bool,
    rollout_at: Option<u64>,
    window: Option<WindowClockArgs>,
) -> PyResult<Option<u64>> {
    let c =
        clock(py, job, start_time, end_time, end_behavior.as_deref(), started, ended, rollout_at, window)?;
    Ok(rules::next_job_event(&c).map(Timestamp::secs))
}

/// Does a job that goes IN_PROGRESS at `now` (its `startTime`, or a maintenance window
/// opening) send a rollout batch at once? Its first batch, yes; once started before, only when
/// the next batch's minute has come (SPEC §6 Rollout, AMBIG-13). Keywords as
/// `schedule_event`'s.
#[pyfunction]
#[pyo3(signature = (job, now, *, start_time = None, end_time = None, end_behavior = None, started = false, ended = false, rollout_at = None, window = None))]
#[allow(clippy::too_many_arguments)]
pub fn batch_on_start(
    py: Python<'_>,
    job: &Bound<'_, PyAny>,
    now: u64,
    start_time: Option<u64>,
    end_time: Option<u64>,
    end_behavior: Option<PyBackedStr>,
    started: bool,
    ended: bool,
    rollout_at: Option<u64>,
    window: Option<WindowClockArgs>,
) -> PyResult<bool> {
    let c =
        clock(py, job, start_time, end_time, end_behavior.as_deref(), started, ended, rollout_at, window)?;
    Ok(rules::batch_on_start(&c, Timestamp(now)))
}

/// Has the schedule's `endTime` passed at `now`? (SPEC §2: a CONTINUOUS job completes only
/// after it; no start after it.)
#[pyfunction]
#[pyo3(signature = (now, *, start_time = None, end_time = None, end_behavior = None))]
pub fn end_passed(
    py: Python<'_>,
    now: u64,
    start_time: Option<u64>,
    end_time: Option<u64>,
    end_behavior: Option<PyBackedStr>,
) -> PyResult<bool> {
    let s = schedule(py, start_time, end_time, end_behavior.as_deref())?;
    Ok(rules::end_passed(s, Timestamp(now)))
}

/// Does a job created at `now` with this schedule start SCHEDULED? Only while its `startTime`
/// is still to come (SPEC 4.2 CreateJob, §2 SCHEDULED until `startTime`).
#[pyfunction]
#[pyo3(signature = (now, *, start_time = None, end_time = None, end_behavior = None))]
pub fn starts_scheduled(
    py: Python<'_>,
    now: u64,
    start_time: Option<u64>,
    end_time: Option<u64>,
    end_behavior: Option<PyBackedStr>,
) -> PyResult<bool> {
    let s = schedule(py, start_time, end_time, end_behavior.as_deref())?;
    Ok(rules::starts_scheduled(s, Timestamp(now)))
}

/// What the schedule's end does to the job's executions (AMBIG-12): `None` (STOP_ROLLOUT
/// leaves them alone), or a `CancelJobOutcome(scope, force_canceled)` as CancelJob's (CANCEL:
/// QUEUED ones; FORCE_CANCEL: also IN_PROGRESS ones, and the job is `forceCanceled`). Every
/// behaviour stops the rollout.
#[pyfunction]
pub fn end_behavior<'py>(py: Python<'py>, behavior: PyBackedStr) -> PyResult<Option<Bound<'py, PyAny>>> {
    static CLS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let b = end_behavior_arg(py, &behavior)?;
    rules::end_behavior(b)
        .map(|c| {
            let scope = crate::rules::scope_str(c.scope);
            call_class(py, &CLS, TYPES, "CancelJobOutcome", (scope, c.force_canceled))
        })
        .transpose()
}

/// How many targets one rollout batch queues: `maximum_per_minute`, or `None` without one (all
/// of them) (SPEC §6 Rollout).
#[pyfunction]
#[pyo3(signature = (maximum_per_minute = None))]
pub fn rollout_batch(py: Python<'_>, maximum_per_minute: Option<u32>) -> PyResult<Option<usize>> {
    let n = rules::rollout_batch(rollout_rate(py, maximum_per_minute)?);
    // The core's "every target" (`usize::MAX` without a rate) is `None`.
    Ok((n != usize::MAX || maximum_per_minute.is_some()).then_some(n))
}

/// Does a rollout batch give this waiting target an execution? Only a registered thing that
/// never had an execution of the job (SPEC T1, T10, T13, §6 Rollout).
#[pyfunction]
pub fn rollout_reaches(registered: bool, had_execution: bool) -> bool {
    rules::rollout_reaches(registered, had_execution)
}

/// When the batch after one sent at `now` is due: a minute later while targets still wait,
/// else `None` (SPEC §6 Rollout).
#[pyfunction]
pub fn next_batch_at(now: u64, targets_wait: bool) -> Option<u64> {
    secs(rules::next_batch_at(Timestamp(now), targets_wait))
}

/// Whether any of a job's maintenance windows is open at `now` (SPEC §2, AMBIG-26): `windows`
/// is `[(startTime cron expression, durationInMinutes)]`. A `WindowAt(open, recheck)`: ask
/// again at `recheck` (`None`: no window runs or starts again) and call `window("OPEN")` /
/// `window("CLOSE")` when `open` changed. A bad expression raises `InvalidRequestException`,
/// a duration outside 1–1430 `InvalidFieldError`.
#[pyfunction]
pub fn maintenance_window<'py>(
    py: Python<'py>,
    windows: WindowArgs,
    now: u64,
) -> PyResult<Bound<'py, PyAny>> {
    static CLS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let ws = window_list(py, &windows)?;
    let at = rules::maintenance_window(&ws, Timestamp(now));
    call_class(py, &CLS, TYPES, "WindowAt", (at.open, at.recheck.map(Timestamp::secs)))
}

/// May a maintenance window open (`"OPEN"`) or close (`"CLOSE"`) for a job in `job`? The job's
/// new `JobStatus`, or `InvalidRequestException` unless it is SCHEDULED (to open) or
/// IN_PROGRESS (to close) (SPEC §2, AMBIG-13).
#[pyfunction]
pub fn window<'py>(
    py: Python<'py>,
    job: &Bound<'_, PyAny>,
    change: PyBackedStr,
) -> PyResult<Bound<'py, PyAny>> {
    let change = match [Window::Open, Window::Close].into_iter().find(|w| window_str(*w) == &*change) {
        Some(w) => w,
        None => {
            let s: &str = &change;
            return Err(PyValueError::new_err(format!(
                "{s:?} is not a window change (\"OPEN\" or \"CLOSE\")"
            )));
        }
    };
    let to = rules::window(job_status_arg(job)?, change).or_raise(py, Plane::Control)?;
    job_status_obj(py, to)
}

/// What a status change does to an execution's timers (SPEC T7): `"START"` (QUEUED →
/// IN_PROGRESS: the in-progress timer starts), `"KEEP"` (IN_PROGRESS → IN_PROGRESS) or
/// `"STOP"` (any other change).
#[pyfunction]
pub fn timer_on_status(
    from_status: &Bound<'_, PyAny>,
    to_status: &Bound<'_, PyAny>,
) -> PyResult<&'static str> {
    Ok(timer_str(rules::timer_on_status(
        execution_status_arg(from_status)?,
        execution_status_arg(to_status)?,
    )))
}

/// The in-progress deadline of an execution that enters IN_PROGRESS at `now`: `now` plus
/// `minutes` (`inProgressTimeoutInMinutes`, 1–10080), or `None` without one (SPEC T7, §6
/// Timeouts).
#[pyfunction]
#[pyo3(signature = (now, minutes = None))]
pub fn in_progress_deadline(py: Python<'_>, now: u64, minutes: Option<u16>) -> PyResult<Option<u64>> {
    Ok(secs(rules::in_progress_deadline(Timestamp(now), timeout_minutes(py, minutes)?)))
}

/// The deadline after a `stepTimeoutInMinutes` of `step` (1–10080, or -1) given at `now` (SPEC
/// T7, §3 timer facts, AMBIG-15): a step timer never runs past the in-progress deadline
/// `in_progress` (`None`: none); -1 leaves only that deadline.
#[pyfunction]
#[pyo3(signature = (now, step, in_progress = None))]
pub fn step_deadline(py: Python<'_>, now: u64, step: i64, in_progress: Option<u64>) -> PyResult<Option<u64>> {
    let step = StepTimeout::from_wire(step, true).or_raise(py, Plane::Data)?;
    let cap = in_progress.map_or(rules::NEVER, Timestamp);
    Ok(secs(rules::step_deadline(Timestamp(now), step, cap)))
}

/// A ramp from its `Ramp` tuple `(rate_milli, notified, notified_mark, succeeded_mark)`.
fn ramp((rate_milli, notified, notified_mark, succeeded_mark): (u64, u32, u32, u32)) -> Ramp {
    Ramp { rate_milli, notified, notified_mark, succeeded_mark }
}

/// The ramp before the next batch of an exponential rollout (SPEC §6 Rollout, AMBIG-29).
/// `rate`: the job's `(baseRatePerMinute, incrementFactor in tenths, numberOfNotifiedThings,
/// numberOfSucceededThings)` (a criterion `None` when not given; validated by the core,
/// `InvalidFieldError`); `ramp`: where it stood, a `Ramp` (`Ramp()` before the first batch);
/// `succeeded`: the job's SUCCEEDED executions so far. The first batch starts at
/// `baseRatePerMinute`; each time another `numberOfNotifiedThings` were notified, or another
/// `numberOfSucceededThings` succeeded, since the last increase, the rate is multiplied by
/// `incrementFactor`. Store the answer, add the batch's executions to its `notified`.
#[pyfunction]
#[pyo3(signature = (rate, ramp = (0, 0, 0, 0), succeeded = 0))]
pub fn ramp_up<'py>(
    py: Python<'py>,
    rate: ExponentialArgs,
    ramp: (u64, u32, u32, u32),
    succeeded: u32,
) -> PyResult<Bound<'py, PyAny>> {
    static CLS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let Some(rate) = exponential_rate(py, Some(rate))? else {
        return Err(PyValueError::new_err("no exponential rate"));
    };
    let r = rules::ramp_up(&rate, self::ramp(ramp), succeeded);
    call_class(py, &CLS, TYPES, "Ramp", (r.rate_milli, r.notified, r.notified_mark, r.succeeded_mark))
}

/// How many targets the next batch queues (SPEC §6 Rollout, AMBIG-29): `rollout_batch`'s
/// under `maximum_per_minute`, and with a `ramp` (the answer of `ramp_up`) its rate in whole
/// things, at least one. `None`: every target (no rate and no ramp).
#[pyfunction]
#[pyo3(signature = (maximum_per_minute = None, ramp = None))]
pub fn ramp_batch(
    py: Python<'_>,
    maximum_per_minute: Option<u32>,
    ramp: Option<(u64, u32, u32, u32)>,
) -> PyResult<Option<usize>> {
    let n = rules::ramp_batch(rollout_rate(py, maximum_per_minute)?, ramp.map(self::ramp));
    // The core's "every target" (`usize::MAX` without a rate or ramp) is `None`.
    Ok((n != usize::MAX || maximum_per_minute.is_some() || ramp.is_some()).then_some(n))
}

/// Does a job with maintenance windows created at `now` start SCHEDULED, and when are its
/// windows looked at first? (AMBIG-28.) `at`: `maintenance_window(windows, now)`. A
/// `(scheduled, look_at)` pair: SCHEDULED while its `startTime` is to come (looked at then) or
/// no window is open (looked at when that may change; `None`: never).
#[pyfunction]
#[pyo3(signature = (now, at, *, start_time = None, end_time = None, end_behavior = None))]
pub fn starts_in_window(
    py: Python<'_>,
    now: u64,
    at: (bool, Option<u64>),
    start_time: Option<u64>,
    end_time: Option<u64>,
    end_behavior: Option<PyBackedStr>,
) -> PyResult<(bool, Option<u64>)> {
    let s = schedule(py, start_time, end_time, end_behavior.as_deref())?;
    let at = WindowAt { open: at.0, recheck: at.1.map(Timestamp) };
    let (scheduled, look) = rules::starts_in_window(s, at, Timestamp(now));
    Ok((scheduled, secs(look)))
}
