//! The decisions the service makes on its own about a job's configuration: retries, abort
//! criteria, UpdateJob's merge and the schedule's bounds (SPEC T12, §6 Retries, §6 Abort, 4.1
//! UpdateJob, §6 Scheduling). Configurations are given as the keywords of
//! `Registry.create_job` (`retry={"FAILED": 2}`, `abort=[("FAILED", 5000, 1)]`, ...).

use iot_jobs_core::Timestamp;
use iot_jobs_core::rules::{self, ConfigSource, Executed, JobConfigUpdate, RetriesUsed};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

use crate::config::{
    ConfigArgs, WindowArgs, abort_config, config_dict, exponential_rate, retry_config, retry_pairs,
    rollout_rate, schedule, timeout_minutes,
};
use crate::convert::{TYPES, call_class, execution_status_arg, invalid_request, job_status_arg};

/// The failure type an execution status counts as for retries: `"FAILED"`, `"TIMED_OUT"`, or
/// `None` (SPEC T12: REJECTED is never retried; the other statuses are not failures).
#[pyfunction]
pub fn retry_failure(status: &Bound<'_, PyAny>) -> PyResult<Option<&'static str>> {
    Ok(rules::retry_failure(execution_status_arg(status)?).map(|f| f.as_str()))
}

/// Does a job in `job` still get new executions from retries? Only IN_PROGRESS and SCHEDULED
/// ones (SPEC T12).
#[pyfunction]
pub fn job_retries(job: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(rules::job_retries(job_status_arg(job)?))
}

/// Is an execution that just reached `status` retried? (SPEC T12, §6 Retries.) `retry`:
/// the job's `{"FAILED" | "TIMED_OUT" | "ALL": numberOfRetries}`; `used`: the retries the
/// (job, thing) used so far, `RetriesUsed(failed, timed_out)`. A `Retry(failure, criterion,
/// used)` (store `used`), or `None`.
#[pyfunction]
#[pyo3(signature = (job, status, retry = None, used = (0, 0)))]
pub fn retry<'py>(
    py: Python<'py>,
    job: &Bound<'_, PyAny>,
    status: &Bound<'_, PyAny>,
    retry: Option<&Bound<'_, PyDict>>,
    used: (u8, u8),
) -> PyResult<Option<Bound<'py, PyAny>>> {
    static RETRY: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let config = retry.map(|d| retry_config(py, &retry_pairs(d)?)).transpose()?;
    let used = RetriesUsed { failed: used.0, timed_out: used.1 };
    let got = rules::retry(job_status_arg(job)?, execution_status_arg(status)?, config.as_ref(), used);
    got.map(|r| {
        call_class(
            py,
            &RETRY,
            TYPES,
            "Retry",
            (r.failure.as_str(), r.criterion.as_str(), retries_used(py, r.used)?),
        )
    })
    .transpose()
}

/// `used` as the package's `RetriesUsed(failed, timed_out)`.
pub fn retries_used(py: Python<'_>, used: RetriesUsed) -> PyResult<Bound<'_, PyAny>> {
    static USED: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    call_class(py, &USED, TYPES, "RetriesUsed", (used.failed, used.timed_out))
}

/// Is a job in `job` checked against its abort criteria? Only an IN_PROGRESS one (SPEC §6
/// Abort).
#[pyfunction]
pub fn job_aborts(job: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(rules::job_aborts(job_status_arg(job)?))
}

/// `isConcurrent` of a job in `job` (SPEC §2, job facts): a SCHEDULED or IN_PROGRESS one while
/// its rollout has targets left (`rolling_out`), a DELETION_IN_PROGRESS one while it has
/// executions left (`executions_left`), never a CANCELED or COMPLETED one.
#[pyfunction]
#[pyo3(signature = (job, *, rolling_out=false, executions_left=false))]
pub fn job_is_concurrent(job: &Bound<'_, PyAny>, rolling_out: bool, executions_left: bool) -> PyResult<bool> {
    Ok(rules::job_is_concurrent(job_status_arg(job)?, rolling_out, executions_left))
}

/// The abort criterion met now, if any (SPEC §6 Abort, T8): `abort` is the job's
/// `[(failure type, threshold in hundredths of a percent, minimum executed)]`; the keywords
/// count its ended executions. The first criterion met, in configuration order, as an
/// `AbortCriterion(failure, threshold_centipercent, min_executed)`; the job is then canceled
/// as by CancelJob without force.
#[pyfunction]
#[pyo3(signature = (job, abort = None, *, succeeded = 0, failed = 0, rejected = 0, timed_out = 0))]
pub fn abort_due<'py>(
    py: Python<'py>,
    job: &Bound<'_, PyAny>,
    abort: Option<Vec<(PyBackedStr, u16, u32)>>,
    succeeded: u32,
    failed: u32,
    rejected: u32,
    timed_out: u32,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    static CLS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let config = abort.as_deref().map(|a| abort_config(py, a)).transpose()?;
    let executed = Executed { succeeded, failed, rejected, timed_out };
    rules::abort_due(job_status_arg(job)?, config.as_ref(), executed)
        .map(|c| {
            call_class(
                py,
                &CLS,
                TYPES,
                "AbortCriterion",
                (c.failure.as_str(), c.threshold_centipercent, c.min_executed),
            )
        })
        .transpose()
}

/// The members UpdateJob can give (SPEC 4.1 UpdateJob: no `schedulingConfig`).
const UPDATABLE: [&str; 5] =
    ["in_progress_timeout_minutes", "retry", "abort", "maximum_per_minute", "exponential_rate"];

/// The members a request gives, as the core's `JobConfigUpdate`: a key present gives its member
/// (`None` as an absent one), a missing key leaves it out; a key UpdateJob cannot give raises
/// `ValueError`. The arguments are returned too (for the text of what they give).
fn config_update(py: Python<'_>, update: &Bound<'_, PyDict>) -> PyResult<(ConfigArgs, JobConfigUpdate)> {
    for k in update.keys() {
        let k: PyBackedStr = k.extract()?;
        if !UPDATABLE.contains(&&*k) {
            return Err(PyValueError::new_err(format!(
                "the request cannot give {:?} here (it gives {})",
                &*k,
                UPDATABLE.join(", ")
            )));
        }
    }
    let args = ConfigArgs::from_dict(update)?;
    let given = |k: &str| update.contains(k);
    let u = JobConfigUpdate {
        in_progress_timeout_minutes: given("in_progress_timeout_minutes")?
            .then(|| timeout_minutes(py, args.in_progress_timeout_minutes))
            .transpose()?,
        retry: given("retry")?
            .then(|| args.retry.as_deref().map(|r| retry_config(py, r)).transpose())
            .transpose()?,
        abort: given("abort")?
            .then(|| args.abort.as_deref().map(|a| abort_config(py, a)).transpose())
            .transpose()?,
        maximum_per_minute: given("maximum_per_minute")?
            .then(|| rollout_rate(py, args.maximum_per_minute))
            .transpose()?,
        exponential: given("exponential_rate")?
            .then(|| exponential_rate(py, args.exponential_rate))
            .transpose()?,
    };
    Ok((args, u))
}

/// The job's configuration after UpdateJob (SPEC 4.1 UpdateJob, AMBIG-15). `job`: the job's
/// configuration as a dict of `create_job`'s keywords (`in_progress_timeout_minutes`, `retry`,
/// `abort`, `start_time`, `end_time`, `end_behavior`, `maximum_per_minute`,
/// `maintenance_windows`, `exponential_rate`; missing keys are absent members). `update`: the
/// members the request gives, of `in_progress_timeout_minutes`, `retry`, `abort`,
/// `maximum_per_minute`, `exponential_rate` (a key with `None` removes the member; a missing key
/// keeps the job's). The answer has every key, `None` where the member is absent; the schedule
/// and its maintenance windows are always the job's. Both are validated as CreateJob's
/// (`InvalidFieldError`).
#[pyfunction]
pub fn update_job_config<'py>(
    py: Python<'py>,
    job: &Bound<'_, PyDict>,
    update: &Bound<'_, PyDict>,
) -> PyResult<Bound<'py, PyDict>> {
    let old_args = ConfigArgs::from_dict(job)?;
    let old = old_args.build(py)?;
    let (args, u) = config_update(py, update)?;
    config_dict(py, &rules::update_job_config(&old, &u), &[&old_args, &args])
}

/// The configuration of a job CreateJob makes from a job template (SPEC R22, AMBIG-30).
/// `template`: the template's configuration as a dict of `create_job`'s keywords (no schedule:
/// `start_time`, `end_time` and `end_behavior` raise `ValueError`). `given`: the members the
/// request gives, as `update_job_config`'s `update` (each given member replaces the template's
/// whole member, whatever its value; `None` gives it absent). The keywords are the request's
/// `schedulingConfig`: its times, and `maintenance_windows`, which replace the template's when
/// given. The answer has every key of `create_job`'s configuration, `None` where absent.
#[pyfunction]
#[pyo3(signature = (template, given, *, start_time = None, end_time = None, end_behavior = None, maintenance_windows = None))]
pub fn job_config_from_template<'py>(
    py: Python<'py>,
    template: &Bound<'_, PyDict>,
    given: &Bound<'_, PyDict>,
    start_time: Option<u64>,
    end_time: Option<u64>,
    end_behavior: Option<PyBackedStr>,
    maintenance_windows: Option<WindowArgs>,
) -> PyResult<Bound<'py, PyDict>> {
    let template_args = ConfigArgs::from_dict(template)?;
    if template_args.start_time.is_some()
        || template_args.end_time.is_some()
        || template_args.end_behavior.is_some()
    {
        return Err(PyValueError::new_err(
            "a job template has no schedule (start_time, end_time, end_behavior)",
        ));
    }
    let base = template_args.build(py)?;
    let (args, u) = config_update(py, given)?;
    let request = ConfigArgs {
        in_progress_timeout_minutes: None,
        retry: None,
        abort: None,
        start_time,
        end_time,
        end_behavior,
        maximum_per_minute: None,
        maintenance_windows,
        exponential_rate: None,
    };
    let sched = schedule(py, request.start_time, request.end_time, request.end_behavior.as_deref())?;
    let windows = crate::config::maintenance_windows(py, request.maintenance_windows.as_deref())?;
    let config = rules::job_config_from_template(&base, &u, sched, windows);
    config_dict(py, &config, &[&template_args, &args, &request])
}

/// A side as its string: `"TEMPLATE"` or `"REQUEST"`.
const fn source_str(s: ConfigSource) -> &'static str {
    match s {
        ConfigSource::Template => "TEMPLATE",
        ConfigSource::Request => "REQUEST",
    }
}

/// Where each member of a job made from a job template comes from (SPEC R22, AMBIG-30), for a
/// host that echoes the configuration text it was given: `{key: "TEMPLATE" | "REQUEST"}` for the
/// keys `in_progress_timeout_minutes`, `retry`, `abort`, `maximum_per_minute`,
/// `exponential_rate`, `schedule` (its times) and `maintenance_windows`. `given` as
/// `job_config_from_template`'s; `windows_given`: the request's `schedulingConfig` gives
/// `maintenanceWindows`.
#[pyfunction]
#[pyo3(signature = (given, windows_given = false))]
pub fn template_sources<'py>(
    py: Python<'py>,
    given: &Bound<'_, PyDict>,
    windows_given: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let (_, u) = config_update(py, given)?;
    let s = rules::template_sources(&u, windows_given);
    let d = PyDict::new(py);
    d.set_item("in_progress_timeout_minutes", source_str(s.in_progress_timeout_minutes))?;
    d.set_item("retry", source_str(s.retry))?;
    d.set_item("abort", source_str(s.abort))?;
    d.set_item("maximum_per_minute", source_str(s.maximum_per_minute))?;
    d.set_item("exponential_rate", source_str(s.exponential))?;
    d.set_item("schedule", source_str(s.schedule))?;
    d.set_item("maintenance_windows", source_str(s.windows))?;
    Ok(d)
}

/// Checks a CreateJob `schedulingConfig` against the request time `now` (SPEC §6 Scheduling):
/// `start_time` from 30 minutes to 1 year ahead; `end_time` at least 30 minutes after
/// `start_time` (or after now, without one) and at most 2 years ahead, bounds inclusive.
/// `None`, or `InvalidRequestException` for the first bound passed, `start_time` first.
#[pyfunction]
#[pyo3(signature = (now, start_time = None, end_time = None))]
pub fn schedule_bounds(
    py: Python<'_>,
    now: u64,
    start_time: Option<u64>,
    end_time: Option<u64>,
) -> PyResult<()> {
    rules::schedule_bounds(start_time.map(Timestamp), end_time.map(Timestamp), Timestamp(now))
        .map_err(|e| invalid_request(py, e.to_string()))
}
