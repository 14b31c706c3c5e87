//! A job's configuration (the core's `config::JobConfig`) from keyword arguments: in-progress
//! timeout, retries, abort criteria, schedule, maintenance windows, rollout rate and exponential
//! rate. Every range of SPEC §6 is checked by the core; a value out of range raises
//! `InvalidFieldError` (field `job configuration`), a bad cron expression
//! `InvalidRequestException`.

use iot_jobs_core::config::{
    AbortConfig, AbortCriterion, ExponentialRate, JobConfig, MaintenanceWindow, MaintenanceWindows,
    RateIncrease, RetryConfig, RetryCriterion, RolloutRate, Schedule,
};
use iot_jobs_core::cron::Cron;
use iot_jobs_core::{
    ConfigError, FailureType, Field, FieldError, JobEndBehavior, RetryableFailureType, TimeoutMinutes,
    Timestamp, Violation,
};
use pyo3::conversion::FromPyObjectOwned;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyDict;

use crate::convert::{field_error, invalid_request, request_enum};

/// `maintenance_windows`: `[(startTime cron expression, durationInMinutes)]`.
pub type WindowArgs = Vec<(PyBackedStr, u16)>;

/// `exponential_rate`: `(baseRatePerMinute, incrementFactor in tenths, numberOfNotifiedThings,
/// numberOfSucceededThings)`, either criterion `None`.
pub type ExponentialArgs = (u16, u8, Option<u32>, Option<u32>);

/// The keyword arguments of `Registry.create_job` and `Registry.update_job_config` that make a
/// job's configuration.
pub struct ConfigArgs {
    pub in_progress_timeout_minutes: Option<u16>,
    /// `{"FAILED" | "TIMED_OUT" | "ALL": retries}`.
    pub retry: Option<Vec<(PyBackedStr, u8)>>,
    /// `[(failure type, threshold in hundredths of a percent, minimum executed)]`.
    pub abort: Option<Vec<(PyBackedStr, u16, u32)>>,
    pub start_time: Option<u64>,
    pub end_time: Option<u64>,
    pub end_behavior: Option<PyBackedStr>,
    pub maximum_per_minute: Option<u32>,
    pub maintenance_windows: Option<WindowArgs>,
    pub exponential_rate: Option<ExponentialArgs>,
}

pub fn config_error(py: Python<'_>, e: ConfigError) -> PyErr {
    field_error(py, FieldError::new(Field::JobConfig, Violation::Config(e)))
}

/// `{"FAILED": 2, ...}` as (failure type, retries) pairs.
pub fn retry_pairs(d: &Bound<'_, PyDict>) -> PyResult<Vec<(PyBackedStr, u8)>> {
    d.iter().map(|(k, v)| Ok((k.extract()?, v.extract()?))).collect()
}

/// A `jobExecutionsRetryConfig` from (failure type, retries) pairs, validated by the core.
pub fn retry_config(py: Python<'_>, pairs: &[(PyBackedStr, u8)]) -> PyResult<RetryConfig> {
    let criteria = pairs
        .iter()
        .map(|(f, retries)| {
            Ok(RetryCriterion {
                failure: request_enum(
                    py,
                    "jobExecutionsRetryConfig.criteriaList.failureType",
                    f,
                    &RetryableFailureType::ALL.map(RetryableFailureType::as_str),
                )?,
                retries: *retries,
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    RetryConfig::new(&criteria).map_err(|e| config_error(py, e))
}

/// An `abortConfig` from (failure type, threshold in hundredths of a percent, minimum executed)
/// triples, validated by the core.
pub fn abort_config(py: Python<'_>, triples: &[(PyBackedStr, u16, u32)]) -> PyResult<AbortConfig> {
    let criteria = triples
        .iter()
        .map(|(f, threshold_centipercent, min_executed)| {
            Ok(AbortCriterion {
                failure: request_enum(
                    py,
                    "abortConfig.criteriaList.failureType",
                    f,
                    &FailureType::ALL.map(FailureType::as_str),
                )?,
                threshold_centipercent: *threshold_centipercent,
                min_executed: *min_executed,
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    AbortConfig::new(&criteria).map_err(|e| config_error(py, e))
}

/// `schedulingConfig.endBehavior`: one of `STOP_ROLLOUT`, `CANCEL`, `FORCE_CANCEL`, else
/// `InvalidFieldError` naming the member.
pub fn end_behavior_arg(py: Python<'_>, b: &str) -> PyResult<JobEndBehavior> {
    request_enum(py, "schedulingConfig.endBehavior", b, &JobEndBehavior::ALL.map(JobEndBehavior::as_str))
}

/// A `schedulingConfig` from its times (epoch seconds) and `endBehavior` (`STOP_ROLLOUT` when
/// an end is given without one); `None` when neither time is given. An `endBehavior` without
/// an `endTime` is checked and then ignored, as AWS and the emulator do (SPEC `lim-scheduling`:
/// it applies only when `endTime` is set; the core's `Schedule` holds a behaviour only with an
/// end).
pub fn schedule(
    py: Python<'_>,
    start_time: Option<u64>,
    end_time: Option<u64>,
    end_behavior: Option<&str>,
) -> PyResult<Option<Schedule>> {
    let behavior = end_behavior.map(|b| end_behavior_arg(py, b)).transpose()?;
    let end = end_time.map(|t| (Timestamp(t), behavior.unwrap_or(JobEndBehavior::StopRollout)));
    if start_time.is_none() && end.is_none() {
        return Ok(None);
    }
    Schedule::new(start_time.map(Timestamp), end).map(Some).map_err(|e| config_error(py, e))
}

/// `maximumPerMinute`, validated by the core.
pub fn rollout_rate(py: Python<'_>, n: Option<u32>) -> PyResult<Option<RolloutRate>> {
    n.map(|n| RolloutRate::new(n).map_err(|e| config_error(py, e))).transpose()
}

/// One maintenance window, validated by the core: a bad expression raises
/// `InvalidRequestException`, a duration outside 1–1430 `InvalidFieldError`.
pub fn maintenance_window(py: Python<'_>, expr: &str, minutes: u16) -> PyResult<MaintenanceWindow> {
    let cron = Cron::parse(expr)
        .map_err(|e| invalid_request(py, format!("maintenance window startTime {expr:?} {e}")))?;
    MaintenanceWindow::new(cron, minutes).map_err(|e| config_error(py, e))
}

/// Each window of `windows`, validated by the core.
pub fn window_list(py: Python<'_>, windows: &[(PyBackedStr, u16)]) -> PyResult<Vec<MaintenanceWindow>> {
    windows.iter().map(|(expr, minutes)| maintenance_window(py, expr, *minutes)).collect()
}

/// `schedulingConfig.maintenanceWindows` (1 to 4 windows), validated by the core.
pub fn maintenance_windows(
    py: Python<'_>,
    windows: Option<&[(PyBackedStr, u16)]>,
) -> PyResult<Option<MaintenanceWindows>> {
    windows
        .map(|w| MaintenanceWindows::new(&window_list(py, w)?).map_err(|e| config_error(py, e)))
        .transpose()
}

/// `exponentialRate`, validated by the core.
pub fn exponential_rate(py: Python<'_>, e: Option<ExponentialArgs>) -> PyResult<Option<ExponentialRate>> {
    e.map(|(base, factor_tenths, notified, succeeded)| {
        ExponentialRate::new(base, factor_tenths, RateIncrease { notified, succeeded })
            .map_err(|e| config_error(py, e))
    })
    .transpose()
}

/// An `exponentialRate` as the tuple [`exponential_rate`] reads.
pub fn exponential_tuple(e: &ExponentialRate) -> ExponentialArgs {
    let inc = e.increase();
    (e.base(), e.factor_tenths(), inc.notified, inc.succeeded)
}

/// `inProgressTimeoutInMinutes`, validated by the core.
pub fn timeout_minutes(py: Python<'_>, m: Option<u16>) -> PyResult<Option<TimeoutMinutes>> {
    m.map(|m| TimeoutMinutes::new(m).map_err(|e| config_error(py, e))).transpose()
}

/// A job's configuration as the keyword dict `ConfigArgs` reads: every key present, `None`
/// where the member is absent. A cron expression is kept only as parsed, so each maintenance
/// window is written with the text it was given in one of `given` (the arguments the
/// configuration was made from).
pub fn config_dict<'py>(
    py: Python<'py>,
    c: &JobConfig,
    given: &[&ConfigArgs],
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("in_progress_timeout_minutes", c.in_progress_timeout_minutes.map(TimeoutMinutes::get))?;
    let retry = match &c.retry {
        Some(r) => {
            let rd = PyDict::new(py);
            for cr in r.criteria() {
                rd.set_item(cr.failure.as_str(), cr.retries)?;
            }
            Some(rd)
        }
        None => None,
    };
    d.set_item("retry", retry)?;
    let abort: Option<Vec<(&str, u16, u32)>> = c.abort.as_ref().map(|a| {
        a.criteria().map(|cr| (cr.failure.as_str(), cr.threshold_centipercent, cr.min_executed)).collect()
    });
    d.set_item("abort", abort)?;
    let start = c.schedule.and_then(|s| s.start());
    let end = c.schedule.and_then(|s| s.end());
    d.set_item("start_time", start.map(Timestamp::secs))?;
    d.set_item("end_time", end.map(|(t, _)| t.secs()))?;
    d.set_item("end_behavior", end.map(|(_, b)| b.as_str()))?;
    d.set_item("maximum_per_minute", c.maximum_per_minute.map(RolloutRate::get))?;
    let windows = match &c.windows {
        Some(ws) => Some(ws.iter().map(|w| window_text(py, &w, given)).collect::<PyResult<Vec<_>>>()?),
        None => None,
    };
    d.set_item("maintenance_windows", windows)?;
    d.set_item("exponential_rate", c.exponential.as_ref().map(exponential_tuple))?;
    Ok(d)
}

/// A window as `(expression, minutes)`, its expression the text of an equal window in `given`.
fn window_text(py: Python<'_>, w: &MaintenanceWindow, given: &[&ConfigArgs]) -> PyResult<(String, u16)> {
    for args in given {
        for (expr, minutes) in args.maintenance_windows.iter().flatten() {
            if maintenance_window(py, expr, *minutes)? == *w {
                return Ok((String::from(&**expr), *minutes));
            }
        }
    }
    Err(PyValueError::new_err("a maintenance window of the configuration was given in no argument"))
}

/// The keys of [`config_dict`], in its order.
pub const CONFIG_KEYS: [&str; 9] = [
    "in_progress_timeout_minutes",
    "retry",
    "abort",
    "start_time",
    "end_time",
    "end_behavior",
    "maximum_per_minute",
    "maintenance_windows",
    "exponential_rate",
];

impl ConfigArgs {
    /// The arguments from a dict with keys of [`CONFIG_KEYS`] (missing keys and `None` values
    /// are absent members); an unknown key raises `ValueError`.
    pub fn from_dict(d: &Bound<'_, PyDict>) -> PyResult<Self> {
        for k in d.keys() {
            let k: PyBackedStr = k.extract()?;
            if !CONFIG_KEYS.contains(&&*k) {
                return Err(PyValueError::new_err(format!(
                    "{:?} is not a job configuration key ({})",
                    &*k,
                    CONFIG_KEYS.join(", ")
                )));
            }
        }
        fn get<'py, T: FromPyObjectOwned<'py>>(d: &Bound<'py, PyDict>, k: &str) -> PyResult<Option<T>> {
            match d.get_item(k)? {
                Some(v) if !v.is_none() => v.extract::<T>().map(Some).map_err(Into::into),
                Some(_) | None => Ok(None),
            }
        }
        let retry: Option<Bound<'_, PyDict>> = get(d, "retry")?;
        Ok(Self {
            in_progress_timeout_minutes: get(d, "in_progress_timeout_minutes")?,
            retry: retry.as_ref().map(retry_pairs).transpose()?,
            abort: get(d, "abort")?,
            start_time: get(d, "start_time")?,
            end_time: get(d, "end_time")?,
            end_behavior: get(d, "end_behavior")?,
            maximum_per_minute: get(d, "maximum_per_minute")?,
            maintenance_windows: get(d, "maintenance_windows")?,
            exponential_rate: get(d, "exponential_rate")?,
        })
    }

    /// The configuration, validated by the core.
    pub fn build(&self, py: Python<'_>) -> PyResult<JobConfig> {
        Ok(JobConfig {
            in_progress_timeout_minutes: timeout_minutes(py, self.in_progress_timeout_minutes)?,
            retry: self.retry.as_deref().map(|r| retry_config(py, r)).transpose()?,
            abort: self.abort.as_deref().map(|a| abort_config(py, a)).transpose()?,
            schedule: schedule(py, self.start_time, self.end_time, self.end_behavior.as_deref())?,
            maximum_per_minute: rollout_rate(py, self.maximum_per_minute)?,
            windows: maintenance_windows(py, self.maintenance_windows.as_deref())?,
            exponential: exponential_rate(py, self.exponential_rate)?,
        })
    }
}
