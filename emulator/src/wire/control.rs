//! Control-plane shapes of jobs, executions and job templates' members: serde structs mirroring
//! botocore's `iot` (2015-05-28) model (member names, optional members, nesting), the admin API's
//! shapes, and the `schedulingConfig` time format (things and groups: [`super::things`]).
//! Timestamps are epoch seconds.

use std::collections::BTreeMap;

use iot_jobs_core::Timestamp;
use iot_jobs_core::registry::ExecutionView;
use serde::{Deserialize, Deserializer, Serialize};

use super::{ApiError, Arns, StringMap};

/// Parses a JSON body (empty means `{}`); a malformed body or a wrong type is a 400, and so is
/// an array where the model has a structure ([`super::strict`]).
pub fn parse_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { body };
    super::limits::check_depth(body, super::limits::MAX_DEPTH, "the request body")?;
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut path = serde_path_to_error::Track::new();
    let read = super::strict::deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut path));
    // The member it failed at, as botocore names it (`timeoutConfig.inProgressTimeoutInMinutes`,
    // `targets[0]`), before serde_json's text; none for an error at the top (not an object, a
    // required member missing) or after the value (trailing characters).
    let at = |e: serde_json::Error| match path.path().to_string() {
        p if p == "." => e.to_string(),
        p => format!("{p}: {e}"),
    };
    read.map_err(at)
        .and_then(|t| de.end().map(|()| t).map_err(|e| e.to_string()))
        .map_err(|e| ApiError::invalid(format!("the request body is not valid: {e}")))
}

/// A model `long` that some clients send as a JSON string (SPEC §5 expectedVersion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Long(pub i64);

impl<'de> Deserialize<'de> for Long {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Long;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an integer (a JSON integer or a string of one)")
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Long, E> {
                Ok(Long(n))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Long, E> {
                i64::try_from(n).map(Long).map_err(|_| E::custom(format!("{n} is past the largest long")))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Long, E> {
                s.parse().map(Long).map_err(|_| E::custom(format!("{s:?} is not an integer")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A map member whose keys must each come once (attributes, `statusDetails`,
/// `documentParameters`, event configurations): a key given twice is a 400, as in the data
/// plane's `statusDetails` and as tags are (SPEC AMBIG-33), not the last value silently kept.
pub fn unique_keys<'de, D, V>(d: D) -> Result<Option<BTreeMap<String, V>>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    Option::<Unique<V>>::deserialize(d).map(|o| o.map(|u| u.0))
}

/// A map read by [`unique_keys`].
struct Unique<V>(BTreeMap<String, V>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Unique<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Keys<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Keys<V> {
            type Value = Unique<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Unique<V>, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = m.next_entry::<String, V>()? {
                    if out.contains_key(&k) {
                        return Err(serde::de::Error::custom(format!("the key {k:?} is given twice")));
                    }
                    out.insert(k, v);
                }
                Ok(Unique(out))
            }
        }
        d.deserialize_map(Keys(std::marker::PhantomData))
    }
}

// ---- schedule times -----------------------------------------------------------------------------

/// Parses a `schedulingConfig` time, `YYYY-MM-DDTHH:MM` (optionally `:SS` and `Z`; UTC), to
/// epoch seconds. Every field has its exact width of ASCII digits (no sign), and the date must
/// exist: `2027-02-29` and `2027-04-31` are refused, not carried into March or May.
pub fn parse_date_time(s: &str) -> Option<u64> {
    let s = s.strip_suffix('Z').unwrap_or(s);
    let (date, time) = s.split_once('T')?;
    let num = |f: &str, width: usize| {
        (f.len() == width && f.bytes().all(|b| b.is_ascii_digit())).then(|| f.parse::<u64>().ok()).flatten()
    };
    let mut d = date.split('-');
    let (y, m, day) = (num(d.next()?, 4)?, num(d.next()?, 2)?, num(d.next()?, 2)?);
    let mut t = time.split(':');
    let (hh, mm) = (num(t.next()?, 2)?, num(t.next()?, 2)?);
    let ss = t.next().map_or(Some(0), |f| num(f, 2))?;
    if d.next().is_some() || t.next().is_some() {
        return None;
    }
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if y < 1970 || !(1..=12).contains(&m) || !(1..=month_days).contains(&day) {
        return None;
    }
    if hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    // Days from civil (Howard Hinnant), for y >= 1970.
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Formats epoch seconds as a `schedulingConfig` time, `YYYY-MM-DDTHH:MM` (UTC), the inverse
/// of [`parse_date_time`] to the minute.
pub fn format_date_time(secs: u64) -> String {
    // Civil from days (Howard Hinnant), for days since 1970.
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}", rem / 3600, rem % 3600 / 60)
}

/// `ScheduledJobRollout`: the start of one of the next maintenance windows.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledJobRollout {
    pub start_time: String,
}

// ---- control plane: jobs -------------------------------------------------------------------------

/// `timeoutConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeoutConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_progress_timeout_in_minutes: Option<i64>,
}

/// `jobExecutionsRetryConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryConfig {
    pub criteria_list: Vec<RetryCriteria>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryCriteria {
    pub failure_type: String,
    pub number_of_retries: i64,
}

/// `abortConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AbortConfig {
    pub criteria_list: Vec<AbortCriteria>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AbortCriteria {
    pub failure_type: String,
    pub action: String,
    pub threshold_percentage: f64,
    pub min_number_of_executed_things: i64,
}

/// `jobExecutionsRolloutConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_per_minute: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exponential_rate: Option<ExponentialRate>,
}

/// `ExponentialRolloutRate` (bounds in [`super::limits`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExponentialRate {
    pub base_rate_per_minute: i64,
    pub increment_factor: f64,
    pub rate_increase_criteria: RateIncreaseCriteria,
}

/// `RateIncreaseCriteria`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateIncreaseCriteria {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_of_notified_things: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_of_succeeded_things: Option<i64>,
}

/// `PresignedUrlConfig` (stored and echoed; bounds in [`super::limits`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresignedUrlConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_sec: Option<i64>,
}

/// `MaintenanceWindow`: read into the core's `config::MaintenanceWindow`, which opens and closes
/// the job (SPEC AMBIG-28).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceWindow {
    pub start_time: String,
    pub duration_in_minutes: i64,
}

/// `Tag` (kept with a job, a group or a job template).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value", skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `schedulingConfig`: its times and its `maintenanceWindows`, read into the core's configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulingConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_behavior: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance_windows: Option<Vec<MaintenanceWindow>>,
}

/// The configuration members of CreateJob, stored with the job and echoed by DescribeJob.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobConfigs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presigned_url_config: Option<PresignedUrlConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_executions_rollout_config: Option<RolloutConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort_config: Option<AbortConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_config: Option<TimeoutConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_executions_retry_config: Option<RetryConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduling_config: Option<SchedulingConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateJobIn {
    pub targets: Option<Vec<String>>,
    pub document_source: Option<String>,
    pub document: Option<String>,
    pub description: Option<String>,
    pub target_selection: Option<String>,
    pub namespace_id: Option<String>,
    pub tags: Option<Vec<Tag>>,
    pub job_template_arn: Option<String>,
    #[serde(default, deserialize_with = "unique_keys")]
    pub document_parameters: Option<StringMap>,
    pub destination_package_versions: Option<Vec<String>>,
    #[serde(flatten)]
    pub configs: JobConfigs,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRef {
    pub job_arn: String,
    pub job_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateJobIn {
    pub description: Option<String>,
    #[serde(flatten)]
    pub configs: JobConfigs,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelJobIn {
    pub reason_code: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociateTargetsIn {
    pub targets: Option<Vec<String>>,
    pub comment: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessDetailsOut {
    pub number_of_canceled_things: u32,
    pub number_of_succeeded_things: u32,
    pub number_of_failed_things: u32,
    pub number_of_rejected_things: u32,
    pub number_of_queued_things: u32,
    pub number_of_in_progress_things: u32,
    pub number_of_removed_things: u32,
    pub number_of_timed_out_things: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobOut {
    pub job_arn: String,
    pub job_id: String,
    pub target_selection: &'static str,
    pub status: &'static str,
    pub force_canceled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub targets: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_at: u64,
    pub last_updated_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<u64>,
    pub job_process_details: ProcessDetailsOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_id: Option<String>,
    pub is_concurrent: bool,
    /// The next maintenance-window starts of a live job with windows (SPEC `lim-scheduling`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scheduled_job_rollouts: Vec<ScheduledJobRollout>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_template_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_parameters: Option<StringMap>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_package_versions: Option<Vec<String>>,
    #[serde(flatten)]
    pub configs: JobConfigs,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeJobOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_source: Option<String>,
    pub job: JobOut,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSummary {
    pub job_arn: String,
    pub job_id: String,
    pub target_selection: &'static str,
    pub status: &'static str,
    pub created_at: u64,
    pub last_updated_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<u64>,
    pub is_concurrent: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListJobsOut {
    pub jobs: Vec<JobSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct GetJobDocumentOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

// ---- control plane: executions -------------------------------------------------------------------

fn details(v: &ExecutionView<'_>) -> StringMap {
    v.status_details().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetailsOut {
    pub details_map: StringMap,
}

/// The control plane's `JobExecution`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionOut {
    pub job_id: String,
    pub status: &'static str,
    pub force_canceled: bool,
    pub status_details: StatusDetailsOut,
    pub thing_arn: String,
    pub queued_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<u64>,
    pub last_updated_at: u64,
    pub execution_number: u64,
    pub version_number: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approximate_seconds_before_timed_out: Option<u64>,
}

impl ExecutionOut {
    pub fn new(v: &ExecutionView<'_>, arns: &Arns, now: Timestamp) -> Self {
        ExecutionOut {
            job_id: v.job_id().to_string(),
            status: v.status().as_str(),
            force_canceled: v.force_canceled(),
            status_details: StatusDetailsOut { details_map: details(v) },
            thing_arn: arns.thing(v.thing_name().as_str()),
            queued_at: v.queued_at().secs(),
            started_at: v.started_at().map(|t| t.secs()),
            last_updated_at: v.last_updated_at().secs(),
            execution_number: v.number().get(),
            version_number: v.version().get(),
            approximate_seconds_before_timed_out: v.approximate_seconds_before_timed_out(now),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct DescribeExecutionOut {
    pub execution: ExecutionOut,
}

/// The control plane's `JobExecutionSummary`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionSummary {
    pub status: &'static str,
    pub queued_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<u64>,
    pub last_updated_at: u64,
    pub execution_number: u64,
    pub retry_attempt: u8,
}

impl ExecutionSummary {
    pub fn new(v: &ExecutionView<'_>) -> Self {
        ExecutionSummary {
            status: v.status().as_str(),
            queued_at: v.queued_at().secs(),
            started_at: v.started_at().map(|t| t.secs()),
            last_updated_at: v.last_updated_at().secs(),
            execution_number: v.number().get(),
            retry_attempt: v.retry_attempt(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelExecutionIn {
    pub expected_version: Option<Long>,
    #[serde(default, deserialize_with = "unique_keys")]
    pub status_details: Option<StringMap>,
}

// ---- admin -----------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetClockIn {
    pub advance_seconds: u64,
}

/// `POST /_emulator/reset`'s body, which may be empty. Other members are ignored, as the whole
/// body was before `now`: a journal may hold such a reset, and it must replay as it was taken.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetIn {
    /// Where a manual clock starts again, in epoch seconds.
    pub now: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct ClockOut {
    pub now: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_times() {
        assert_eq!(parse_date_time("1970-01-01T00:00"), Some(0));
        assert_eq!(parse_date_time("2026-01-01T12:30"), Some(1_767_270_600));
        assert_eq!(parse_date_time("2026-01-01T12:30:15Z"), Some(1_767_270_615));
        assert_eq!(parse_date_time("2026-13-01T12:30"), None);
        assert_eq!(parse_date_time("tomorrow"), None);
        // Leap days: 2028 and 2000 have one, 2027 and 2100 do not.
        assert_eq!(
            parse_date_time("2028-02-29T00:00"),
            parse_date_time("2028-03-01T00:00").map(|t| t - 86_400)
        );
        assert!(parse_date_time("2000-02-29T00:00").is_some());
        for bad in [
            "2027-02-29T10:00", // not a leap year
            "2100-02-29T10:00", // a century that is not one
            "2027-02-30T10:00",
            "2027-04-31T10:00",
            "2027-06-31T10:00",
            "2027-00-10T10:00",
            "2027-03-00T10:00",
            "2027-+3-01T10:00", // a sign is not a digit
            "2027-03-01T+9:+5",
            "02027-03-01T10:00", // each field has its width
            "2027-3-1T9:5",
            "2027-03-01T10:00:0",
            "2027-03-01T10:00:00:00",
            "2027-03-01-01T10:00",
            "2027-03-01T24:00",
            "2027-03-01T10:60",
            "2027-03-01T10:00:60",
            "2027-03-01 10:00",
            "1969-12-31T23:59",
            "２０２７-03-01T10:00", // digits of another script
        ] {
            assert_eq!(parse_date_time(bad), None, "{bad}");
        }
        for good in ["2027-04-30T10:00", "2027-12-31T23:59:59Z", "2027-03-01T10:00:00", "2027-03-01T10:00Z"] {
            assert!(parse_date_time(good).is_some(), "{good}");
        }
        // Every day of a leap year and of a common one, against the formatter.
        for (start, days) in [("2028-01-01T00:00", 366), ("2027-01-01T00:00", 365)] {
            let t0 = parse_date_time(start).unwrap_or_default();
            for i in 0..days {
                let text = format_date_time(t0 + i * 86_400);
                assert_eq!(parse_date_time(&text), Some(t0 + i * 86_400), "{text}");
            }
        }
    }
}
