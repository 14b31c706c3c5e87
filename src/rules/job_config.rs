//! UpdateJob's configuration merge, CreateJob's configuration from a job template, and the
//! schedule's bounds from the request time (SPEC 4.1 UpdateJob, R22, §6 Scheduling).

use crate::config::{
    AbortConfig, ExponentialRate, JobConfig, MaintenanceWindows, RetryConfig, RolloutRate, Schedule,
};
use crate::id::Timestamp;
use crate::time::TimeoutMinutes;

/// UpdateJob's configuration members: `None` where the request leaves a member out (the job's
/// value stays), `Some(value)` where it gives one (the value replaces the job's, and may itself
/// be absent). There is no `schedulingConfig` member: a schedule cannot be changed (SPEC 4.1
/// UpdateJob).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(clippy::option_option)]
pub struct JobConfigUpdate {
    /// `timeoutConfig`: its `inProgressTimeoutInMinutes`.
    pub in_progress_timeout_minutes: Option<Option<TimeoutMinutes>>,
    /// `jobExecutionsRetryConfig`.
    pub retry: Option<Option<RetryConfig>>,
    /// `abortConfig`.
    pub abort: Option<Option<AbortConfig>>,
    /// `jobExecutionsRolloutConfig`: its `maximumPerMinute`.
    pub maximum_per_minute: Option<Option<RolloutRate>>,
    /// `jobExecutionsRolloutConfig`: its `exponentialRate` (given with `maximumPerMinute`).
    pub exponential: Option<Option<ExponentialRate>>,
}

impl JobConfigUpdate {
    /// An update that gives every member UpdateJob can change, with `config`'s values.
    #[must_use]
    pub const fn every_member(config: &JobConfig) -> Self {
        Self {
            in_progress_timeout_minutes: Some(config.in_progress_timeout_minutes),
            retry: Some(config.retry),
            abort: Some(config.abort),
            maximum_per_minute: Some(config.maximum_per_minute),
            exponential: Some(config.exponential),
        }
    }
}

/// The job's configuration after UpdateJob (SPEC 4.1 UpdateJob): the members given replace the
/// job's, the others stay, and the schedule is the job's. The result applies from now on (a
/// running in-progress timer is frozen, AMBIG-15). Both are valid by construction, so the
/// merge is too.
#[must_use]
pub fn update_job_config(job: &JobConfig, update: &JobConfigUpdate) -> JobConfig {
    JobConfig {
        in_progress_timeout_minutes: update
            .in_progress_timeout_minutes
            .unwrap_or(job.in_progress_timeout_minutes),
        retry: update.retry.unwrap_or(job.retry),
        abort: update.abort.unwrap_or(job.abort),
        // SPEC 4.1 UpdateJob: no schedulingConfig member.
        schedule: job.schedule,
        windows: job.windows,
        maximum_per_minute: update.maximum_per_minute.unwrap_or(job.maximum_per_minute),
        exponential: update.exponential.unwrap_or(job.exponential),
    }
}

/// Which side a configuration member of a job created from a job template comes from (SPEC
/// R22, AMBIG-30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConfigSource {
    /// The template's member (the request leaves it out).
    Template,
    /// The request's member, whole (it gives one, whatever its value).
    Request,
}

impl ConfigSource {
    /// A member given (`true`) comes from the request, else from the template (SPEC R22).
    #[must_use]
    pub const fn of(given: bool) -> Self {
        if given { Self::Request } else { Self::Template }
    }

    /// This side's value: `request` when it is the request's and the request gives one (`Some`),
    /// else `template`.
    #[must_use]
    pub fn pick<T>(self, template: T, request: Option<T>) -> T {
        match (self, request) {
            (Self::Request, Some(value)) => value,
            (Self::Request, None) | (Self::Template, Some(_) | None) => template,
        }
    }
}

/// Where each lifecycle member of a job created from a job template comes from
/// ([`template_sources`]): a host that echoes the configuration it was given (DescribeJob) takes
/// each member's text from the side named here, so the echo is what the core applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TemplateSources {
    /// `timeoutConfig`.
    pub in_progress_timeout_minutes: ConfigSource,
    /// `jobExecutionsRetryConfig`.
    pub retry: ConfigSource,
    /// `abortConfig`.
    pub abort: ConfigSource,
    /// `jobExecutionsRolloutConfig`: its `maximumPerMinute`.
    pub maximum_per_minute: ConfigSource,
    /// `jobExecutionsRolloutConfig`: its `exponentialRate`.
    pub exponential: ConfigSource,
    /// `schedulingConfig` without its windows: always the request's (a template has none).
    pub schedule: ConfigSource,
    /// `schedulingConfig.maintenanceWindows`.
    pub windows: ConfigSource,
}

/// Where each member of a job created from a job template comes from (SPEC R22, AMBIG-30):
/// each member the CreateJob request gives (`Some` in `given`, whatever its value; `windows_given`
/// for its `maintenanceWindows`) is the request's whole member, each member it leaves out the
/// template's; the schedule is the request's (a template has none).
#[must_use]
pub const fn template_sources(given: &JobConfigUpdate, windows_given: bool) -> TemplateSources {
    TemplateSources {
        in_progress_timeout_minutes: ConfigSource::of(given.in_progress_timeout_minutes.is_some()),
        retry: ConfigSource::of(given.retry.is_some()),
        abort: ConfigSource::of(given.abort.is_some()),
        maximum_per_minute: ConfigSource::of(given.maximum_per_minute.is_some()),
        exponential: ConfigSource::of(given.exponential.is_some()),
        // SPEC R22: a template has no schedule.
        schedule: ConfigSource::Request,
        windows: ConfigSource::of(windows_given),
    }
}

/// The configuration of a job created from a job template (SPEC R22, AMBIG-30): each member
/// the CreateJob request gives (`Some` in `given`, whatever its value) replaces the template's
/// whole member; each member it leaves out is the template's ([`template_sources`]). A template
/// has no schedule, so the job's is the request's `schedule` alone; its maintenance windows
/// apply unless the request gives `windows` of its own. Both sides are valid by construction, so
/// the result is too.
#[must_use]
pub fn job_config_from_template(
    template: &JobConfig,
    given: &JobConfigUpdate,
    schedule: Option<Schedule>,
    windows: Option<MaintenanceWindows>,
) -> JobConfig {
    let from = template_sources(given, windows.is_some());
    JobConfig {
        in_progress_timeout_minutes: from
            .in_progress_timeout_minutes
            .pick(template.in_progress_timeout_minutes, given.in_progress_timeout_minutes),
        retry: from.retry.pick(template.retry, given.retry),
        abort: from.abort.pick(template.abort, given.abort),
        maximum_per_minute: from
            .maximum_per_minute
            .pick(template.maximum_per_minute, given.maximum_per_minute),
        exponential: from.exponential.pick(template.exponential, given.exponential),
        schedule: from.schedule.pick(None, Some(schedule)),
        windows: from.windows.pick(template.windows, windows.map(Some)),
    }
}

/// The earliest `startTime` (and the shortest `endTime − startTime`) from the request time:
/// 30 minutes (SPEC §6 Scheduling).
pub const SCHEDULE_MIN_SECS: u64 = 30 * 60;
/// The latest `startTime` from the request time: 1 year of 365 days (SPEC §6 Scheduling).
pub const SCHEDULE_START_MAX_SECS: u64 = 365 * 86_400;
/// The latest `endTime` from the request time: 2 years (SPEC §6 Scheduling).
pub const SCHEDULE_END_MAX_SECS: u64 = 2 * SCHEDULE_START_MAX_SECS;

/// A `schedulingConfig` time outside its bounds from the request time (SPEC §6 Scheduling);
/// an `InvalidRequestException`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ScheduleBound {
    /// `startTime` less than 30 minutes or more than 1 year from now.
    StartTime,
    /// `endTime` less than 30 minutes after `startTime` (or now), or more than 2 years from now.
    EndTime,
}

impl core::fmt::Display for ScheduleBound {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::StartTime => "schedulingConfig startTime must be 30 minutes to 1 year from now",
            Self::EndTime => {
                "schedulingConfig endTime must be at least 30 minutes after startTime and within 2 years from now"
            }
        })
    }
}

impl core::error::Error for ScheduleBound {}

/// Checks a CreateJob `schedulingConfig` against the request time `now` (SPEC §6 Scheduling):
/// `startTime` from 30 minutes to 1 year ahead; `endTime` at least 30 minutes after `startTime`
/// (or after now, without one) and at most 2 years ahead. Bounds are inclusive.
///
/// # Errors
/// The first bound passed, `startTime` first.
pub const fn schedule_bounds(
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), ScheduleBound> {
    let n = now.secs();
    if let Some(t) = start
        && (t.secs() < n.saturating_add(SCHEDULE_MIN_SECS)
            || t.secs() > n.saturating_add(SCHEDULE_START_MAX_SECS))
    {
        return Err(ScheduleBound::StartTime);
    }
    if let Some(t) = end {
        let from = match start {
            Some(s) => s.secs(),
            None => n,
        };
        if t.secs() < from.saturating_add(SCHEDULE_MIN_SECS)
            || t.secs() > n.saturating_add(SCHEDULE_END_MAX_SECS)
        {
            return Err(ScheduleBound::EndTime);
        }
    }
    Ok(())
}
