//! A job's configuration (the core's `config::JobConfig`) from keyword arguments: in-progress
//! timeout, retries, abort criteria, schedule and rollout rate. Every range of SPEC §6 is checked
//! by the core; a value out of range raises `InvalidFieldError` (field `job configuration`).

use iot_jobs_core::config::{
    AbortConfig, AbortCriterion, JobConfig, RetryConfig, RetryCriterion, RolloutRate, Schedule,
};
use iot_jobs_core::{
    ConfigError, FailureType, Field, FieldError, JobEndBehavior, RetryableFailureType, TimeoutMinutes,
    Timestamp, Violation,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;

use crate::convert::field_error;

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
}

fn config_error(py: Python<'_>, e: ConfigError) -> PyErr {
    field_error(py, FieldError::new(Field::JobConfig, Violation::Config(e)))
}

fn parse<T: core::str::FromStr>(what: &str, s: &str) -> PyResult<T> {
    s.parse().map_err(|_| PyValueError::new_err(format!("{s:?} is not a {what}")))
}

impl ConfigArgs {
    /// The configuration, validated by the core.
    pub fn build(&self, py: Python<'_>) -> PyResult<JobConfig> {
        let mut c = JobConfig::default();
        if let Some(m) = self.in_progress_timeout_minutes {
            c.in_progress_timeout_minutes = Some(TimeoutMinutes::new(m).map_err(|e| config_error(py, e))?);
        }
        if let Some(r) = &self.retry {
            let criteria = r
                .iter()
                .map(|(f, retries)| {
                    Ok(RetryCriterion {
                        failure: parse::<RetryableFailureType>("retryable failure type", f)?,
                        retries: *retries,
                    })
                })
                .collect::<PyResult<Vec<_>>>()?;
            c.retry = Some(RetryConfig::new(&criteria).map_err(|e| config_error(py, e))?);
        }
        if let Some(a) = &self.abort {
            let criteria = a
                .iter()
                .map(|(f, threshold_centipercent, min_executed)| {
                    Ok(AbortCriterion {
                        failure: parse::<FailureType>("failure type", f)?,
                        threshold_centipercent: *threshold_centipercent,
                        min_executed: *min_executed,
                    })
                })
                .collect::<PyResult<Vec<_>>>()?;
            c.abort = Some(AbortConfig::new(&criteria).map_err(|e| config_error(py, e))?);
        }
        let end = match (self.end_time, &self.end_behavior) {
            (Some(t), b) => {
                let behavior = match b {
                    Some(b) => parse::<JobEndBehavior>("job end behavior", b)?,
                    None => JobEndBehavior::StopRollout,
                };
                Some((Timestamp(t), behavior))
            }
            (None, Some(_)) => return Err(PyValueError::new_err("end_behavior needs end_time")),
            (None, None) => None,
        };
        if self.start_time.is_some() || end.is_some() {
            c.schedule =
                Some(Schedule::new(self.start_time.map(Timestamp), end).map_err(|e| config_error(py, e))?);
        }
        if let Some(n) = self.maximum_per_minute {
            c.maximum_per_minute = Some(RolloutRate::new(n).map_err(|e| config_error(py, e))?);
        }
        Ok(c)
    }
}
