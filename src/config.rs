//! Job configuration: timeouts, retries, abort criteria, scheduling and rollout rate, each
//! validated against SPEC §6 when it is built.

use crate::cron::Cron;
#[doc(no_inline)]
pub use crate::field::ConfigError;
use crate::field::{Field, FieldError, Violation};
use crate::status::{FailureType, JobEndBehavior, RetryableFailureType};
use crate::time::{TimeoutMinutes, Timestamp};

impl From<ConfigError> for crate::Rejection {
    fn from(e: ConfigError) -> Self {
        let field = match e {
            ConfigError::InProgressTimeout => Field::InProgressTimeout,
            ConfigError::StepTimeout => Field::StepTimeout,
            ConfigError::Retry
            | ConfigError::Abort
            | ConfigError::Schedule
            | ConfigError::Rollout
            | ConfigError::MaintenanceWindow
            | ConfigError::MaintenanceWindows
            | ConfigError::ExponentialRate => Field::JobConfig,
        };
        crate::Rejection::InvalidField(FieldError { field, violation: Violation::Config(e) })
    }
}

/// One retry criterion (SPEC §6 Retries, T12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RetryCriterion {
    /// Which failures it retries.
    pub failure: RetryableFailureType,
    /// How many times, 0–10.
    pub retries: u8,
}

/// `jobExecutionsRetryConfig` (SPEC §6: 1–2 criteria, 0–10 retries each, ≤ 10 in total).
/// Deserializing checks what [`new`](Self::new) checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RetrySlots"))]
pub struct RetryConfig {
    criteria: [Option<RetryCriterion>; 2],
}

/// A [`RetryConfig`] as read, before its check.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct RetrySlots {
    criteria: [Option<RetryCriterion>; 2],
}

#[cfg(feature = "serde")]
impl TryFrom<RetrySlots> for RetryConfig {
    type Error = ConfigError;

    /// The kept criteria first, then as `new` takes them.
    fn try_from(r: RetrySlots) -> Result<Self, ConfigError> {
        let kept = kept_first(&r.criteria).ok_or(ConfigError::Retry)?;
        Self::new(kept.as_slice())
    }
}

/// The `Some` slots, when they all come before the `None` ones (as the constructors store them).
#[cfg(feature = "serde")]
fn kept_first<T: Copy, const N: usize>(slots: &[Option<T>; N]) -> Option<heapless::Vec<T, N>> {
    let kept = slots.iter().take_while(|s| s.is_some()).count();
    if slots.iter().skip(kept).any(Option::is_some) {
        return None;
    }
    Some(slots.iter().flatten().copied().collect())
}

impl RetryConfig {
    /// Most retries per device, over all criteria (SPEC §6).
    pub const MAX_TOTAL: u8 = 10;

    /// Validates the criteria (SPEC §6 Retries).
    pub fn new(criteria: &[RetryCriterion]) -> Result<Self, ConfigError> {
        let mut out = [None; 2];
        let mut total: u8 = 0;
        if criteria.is_empty() || criteria.len() > out.len() {
            return Err(ConfigError::Retry);
        }
        for (slot, c) in out.iter_mut().zip(criteria) {
            if c.retries > Self::MAX_TOTAL || criteria.iter().filter(|o| o.failure == c.failure).count() > 1 {
                return Err(ConfigError::Retry);
            }
            total = total.saturating_add(c.retries);
            *slot = Some(*c);
        }
        if total > Self::MAX_TOTAL {
            return Err(ConfigError::Retry);
        }
        Ok(Self { criteria: out })
    }

    /// The criteria.
    pub fn criteria(&self) -> impl Iterator<Item = RetryCriterion> + '_ {
        self.criteria.iter().flatten().copied()
    }
}

/// One abort criterion (SPEC §6 Abort; action CANCEL is the only one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AbortCriterion {
    /// Which failures count.
    pub failure: FailureType,
    /// `thresholdPercentage` in hundredths of a percent (0–10000: two decimals).
    pub threshold_centipercent: u16,
    /// `minNumberOfExecutedThings`, at least 1.
    pub min_executed: u32,
}

/// `abortConfig` (SPEC §6 Abort). Deserializing checks what [`new`](Self::new) checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "AbortSlots"))]
pub struct AbortConfig {
    criteria: [Option<AbortCriterion>; 4],
}

/// An [`AbortConfig`] as read, before its check.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct AbortSlots {
    criteria: [Option<AbortCriterion>; 4],
}

#[cfg(feature = "serde")]
impl TryFrom<AbortSlots> for AbortConfig {
    type Error = ConfigError;

    fn try_from(a: AbortSlots) -> Result<Self, ConfigError> {
        let kept = kept_first(&a.criteria).ok_or(ConfigError::Abort)?;
        Self::new(kept.as_slice())
    }
}

impl AbortConfig {
    /// Validates the criteria: at least one, one per failure type.
    pub fn new(criteria: &[AbortCriterion]) -> Result<Self, ConfigError> {
        let mut out = [None; 4];
        if criteria.is_empty() || criteria.len() > out.len() {
            return Err(ConfigError::Abort);
        }
        for (slot, c) in out.iter_mut().zip(criteria) {
            let repeated = criteria.iter().filter(|o| o.failure == c.failure).count() > 1;
            if c.threshold_centipercent > 10_000 || c.min_executed == 0 || repeated {
                return Err(ConfigError::Abort);
            }
            *slot = Some(*c);
        }
        Ok(Self { criteria: out })
    }

    /// The criteria.
    pub fn criteria(&self) -> impl Iterator<Item = AbortCriterion> + '_ {
        self.criteria.iter().flatten().copied()
    }
}

/// `schedulingConfig` times (SPEC §2, §6). Its maintenance windows are [`JobConfig::windows`].
/// Deserializing checks what [`new`](Self::new) checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "ScheduleTimes"))]
pub struct Schedule {
    start: Option<Timestamp>,
    end: Option<(Timestamp, JobEndBehavior)>,
}

/// A [`Schedule`] as read, before its check.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct ScheduleTimes {
    start: Option<Timestamp>,
    end: Option<(Timestamp, JobEndBehavior)>,
}

#[cfg(feature = "serde")]
impl TryFrom<ScheduleTimes> for Schedule {
    type Error = ConfigError;

    fn try_from(s: ScheduleTimes) -> Result<Self, ConfigError> {
        Self::new(s.start, s.end)
    }
}

impl Schedule {
    /// Validates that `end`, if any, is after `start`. The service's "at least 30 minutes from
    /// now" bounds depend on the request time and are the host's to check.
    pub fn new(
        start: Option<Timestamp>,
        end: Option<(Timestamp, JobEndBehavior)>,
    ) -> Result<Self, ConfigError> {
        match (start, end) {
            (Some(s), Some((e, _))) if e <= s => Err(ConfigError::Schedule),
            (Some(_) | None, Some(_) | None) => Ok(Self { start, end }),
        }
    }

    /// `startTime`.
    #[must_use]
    pub const fn start(&self) -> Option<Timestamp> {
        self.start
    }

    /// `endTime` and `endBehavior`.
    #[must_use]
    pub const fn end(&self) -> Option<(Timestamp, JobEndBehavior)> {
        self.end
    }
}

/// One of `schedulingConfig.maintenanceWindows` (SPEC §6 Scheduling, `lim-scheduling`): the window
/// opens at each occurrence of its `startTime` cron expression and stays open
/// `durationInMinutes`, 1 to 1430. [`rules::maintenance_window`](crate::rules::maintenance_window)
/// says whether a job's windows are open; the registry opens and closes them as time passes
/// ([`JobConfig::windows`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "WindowFields"))]
pub struct MaintenanceWindow {
    start: Cron,
    duration_minutes: u16,
}

/// A [`MaintenanceWindow`] as read, before its check.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct WindowFields {
    start: Cron,
    duration_minutes: u16,
}

#[cfg(feature = "serde")]
impl TryFrom<WindowFields> for MaintenanceWindow {
    type Error = ConfigError;

    fn try_from(w: WindowFields) -> Result<Self, ConfigError> {
        Self::new(w.start, w.duration_minutes)
    }
}

impl MaintenanceWindow {
    /// The longest window, in minutes.
    pub const MAX_DURATION_MINUTES: u16 = 1430;

    /// Checks `durationInMinutes` (1 to 1430).
    ///
    /// # Errors
    /// [`ConfigError::MaintenanceWindow`] outside that range.
    pub const fn new(start: Cron, duration_minutes: u16) -> Result<Self, ConfigError> {
        if duration_minutes == 0 || duration_minutes > Self::MAX_DURATION_MINUTES {
            return Err(ConfigError::MaintenanceWindow);
        }
        Ok(Self { start, duration_minutes })
    }

    /// `startTime`.
    #[must_use]
    pub const fn start(&self) -> &Cron {
        &self.start
    }

    /// `durationInMinutes`.
    #[must_use]
    pub const fn duration_minutes(&self) -> u16 {
        self.duration_minutes
    }
}

/// A job's `schedulingConfig.maintenanceWindows`: 1 to [`CAPACITY`](Self::CAPACITY) windows
/// (SPEC §2, AMBIG-28).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "WindowSlots"))]
pub struct MaintenanceWindows {
    windows: [Option<MaintenanceWindow>; MaintenanceWindows::CAPACITY],
}

/// [`MaintenanceWindows`] as read, before its check.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct WindowSlots {
    windows: [Option<MaintenanceWindow>; MaintenanceWindows::CAPACITY],
}

#[cfg(feature = "serde")]
impl TryFrom<WindowSlots> for MaintenanceWindows {
    type Error = ConfigError;

    /// The kept windows first, then as `new` takes them (at least one).
    fn try_from(w: WindowSlots) -> Result<Self, ConfigError> {
        let kept = kept_first(&w.windows).ok_or(ConfigError::MaintenanceWindows)?;
        Self::new(kept.as_slice())
    }
}

impl MaintenanceWindows {
    /// Most windows a job keeps (the service model leaves the list open; SPEC AMBIG-28).
    pub const CAPACITY: usize = 4;

    /// Keeps 1 to [`CAPACITY`](Self::CAPACITY) windows.
    ///
    /// # Errors
    /// [`ConfigError::MaintenanceWindows`] for none or more than that.
    pub fn new(windows: &[MaintenanceWindow]) -> Result<Self, ConfigError> {
        let mut out = [None; Self::CAPACITY];
        if windows.is_empty() || windows.len() > out.len() {
            return Err(ConfigError::MaintenanceWindows);
        }
        for (slot, w) in out.iter_mut().zip(windows) {
            *slot = Some(*w);
        }
        Ok(Self { windows: out })
    }

    /// The windows, in request order.
    pub fn iter(&self) -> impl Iterator<Item = MaintenanceWindow> + '_ {
        self.windows.iter().flatten().copied()
    }

    /// How many window starts `scheduledJobRollouts` lists (SPEC `lim-scheduling`).
    pub const SCHEDULED_ROLLOUTS: usize = 7;

    /// The next window starts at or after `now`, all windows merged, earliest first, each
    /// instant once: DescribeJob's `scheduledJobRollouts` takes the first
    /// [`SCHEDULED_ROLLOUTS`](Self::SCHEDULED_ROLLOUTS) (SPEC `lim-scheduling`, AMBIG-28).
    pub fn starts_from(&self, now: Timestamp) -> impl Iterator<Item = Timestamp> + '_ {
        let mut from = Some(now);
        core::iter::from_fn(move || {
            let at = self.iter().filter_map(|w| w.start().next_at_or_after(from?)).min()?;
            // Occurrences are whole minutes: the next one is at least a minute later.
            from = at.secs().checked_add(60).map(Timestamp);
            Some(at)
        })
    }

    /// Whether they are open at `now`, and until when that holds
    /// ([`rules::maintenance_window`](crate::rules::maintenance_window)).
    #[must_use]
    pub fn at(&self, now: Timestamp) -> crate::rules::WindowAt {
        crate::rules::maintenance_window(self.windows.iter().flatten(), now)
    }
}

/// `jobExecutionsRolloutConfig.maximumPerMinute`: how many executions a rollout creates per
/// minute, at least 1 (SPEC §6 Rollout).
///
/// Serialized as its number; deserializing checks the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u32", into = "u32"))]
pub struct RolloutRate(u32);

impl RolloutRate {
    /// Validates a `maximumPerMinute` (SPEC §6 Rollout: at least 1).
    pub const fn new(per_minute: u32) -> Result<Self, ConfigError> {
        if per_minute == 0 { Err(ConfigError::Rollout) } else { Ok(Self(per_minute)) }
    }

    /// Executions per minute.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for RolloutRate {
    type Error = ConfigError;

    fn try_from(per_minute: u32) -> Result<Self, ConfigError> {
        Self::new(per_minute)
    }
}

impl From<RolloutRate> for u32 {
    fn from(r: RolloutRate) -> Self {
        r.0
    }
}

/// `jobExecutionsRolloutConfig.exponentialRate.rateIncreaseCriteria`: the rate goes up each time
/// another `notified` things were notified, or another `succeeded` executions of the job
/// succeeded, since the last increase (SPEC §6 Rollout, AMBIG-29). At least one is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RateIncrease {
    /// `numberOfNotifiedThings`.
    pub notified: Option<u32>,
    /// `numberOfSucceededThings`.
    pub succeeded: Option<u32>,
}

/// `jobExecutionsRolloutConfig.exponentialRate` (SPEC §6 Rollout, `lim-rollout`, AMBIG-29): the
/// rollout starts at `baseRatePerMinute` things a minute and multiplies its rate by
/// `incrementFactor` each time its criterion is met, never above `maximumPerMinute` when that
/// is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "ExponentialFields"))]
pub struct ExponentialRate {
    base: u16,
    factor_tenths: u8,
    increase: RateIncrease,
}

/// An [`ExponentialRate`] as read, before its check.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct ExponentialFields {
    base: u16,
    factor_tenths: u8,
    increase: RateIncrease,
}

#[cfg(feature = "serde")]
impl TryFrom<ExponentialFields> for ExponentialRate {
    type Error = ConfigError;

    fn try_from(f: ExponentialFields) -> Result<Self, ConfigError> {
        Self::new(f.base, f.factor_tenths, f.increase)
    }
}

impl ExponentialRate {
    /// Validates `baseRatePerMinute` (1–1000), `incrementFactor` in tenths (11–50: 1.1 to 5
    /// with one decimal) and the criteria (each at least 1, at least one given); SPEC
    /// `lim-rollout`.
    ///
    /// # Errors
    /// [`ConfigError::ExponentialRate`] outside those bounds.
    pub fn new(base: u16, factor_tenths: u8, increase: RateIncrease) -> Result<Self, ConfigError> {
        let positive = |n: Option<u32>| n.is_none_or(|n| n > 0);
        let given = increase.notified.is_some() || increase.succeeded.is_some();
        if !(1..=1000).contains(&base)
            || !(11..=50).contains(&factor_tenths)
            || !given
            || !positive(increase.notified)
            || !positive(increase.succeeded)
        {
            return Err(ConfigError::ExponentialRate);
        }
        Ok(Self { base, factor_tenths, increase })
    }

    /// `baseRatePerMinute`.
    #[must_use]
    pub const fn base(&self) -> u16 {
        self.base
    }

    /// `incrementFactor`, in tenths.
    #[must_use]
    pub const fn factor_tenths(&self) -> u8 {
        self.factor_tenths
    }

    /// `rateIncreaseCriteria`.
    #[must_use]
    pub const fn increase(&self) -> RateIncrease {
        self.increase
    }
}

/// The configuration a job carries (SPEC §4.1 CreateJob members, §6).
///
/// Valid by construction: every member is a validated type, so the ranges of SPEC §6 are
/// checked where a request is read, and a `JobConfig` (built, merged by UpdateJob or restored
/// from a snapshot) is always within them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct JobConfig {
    /// `timeoutConfig.inProgressTimeoutInMinutes`, if any.
    pub in_progress_timeout_minutes: Option<TimeoutMinutes>,
    /// `jobExecutionsRetryConfig`.
    pub retry: Option<RetryConfig>,
    /// `abortConfig`.
    pub abort: Option<AbortConfig>,
    /// `schedulingConfig`.
    pub schedule: Option<Schedule>,
    /// `jobExecutionsRolloutConfig.maximumPerMinute`, if any.
    pub maximum_per_minute: Option<RolloutRate>,
    /// `schedulingConfig.maintenanceWindows`, if any: the job rolls out only while one is open
    /// (SPEC §2, AMBIG-28). Absent from snapshots of format 4 and earlier.
    #[cfg_attr(feature = "serde", serde(default))]
    pub windows: Option<MaintenanceWindows>,
    /// `jobExecutionsRolloutConfig.exponentialRate`, if any (AMBIG-29). Absent from snapshots
    /// of format 4 and earlier.
    #[cfg_attr(feature = "serde", serde(default))]
    pub exponential: Option<ExponentialRate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_bounds() {
        let c = |failure, retries| RetryCriterion { failure, retries };
        assert!(RetryConfig::new(&[c(RetryableFailureType::Failed, 10)]).is_ok());
        assert_eq!(RetryConfig::new(&[c(RetryableFailureType::Failed, 11)]), Err(ConfigError::Retry));
        assert_eq!(
            RetryConfig::new(&[c(RetryableFailureType::Failed, 6), c(RetryableFailureType::TimedOut, 5)]),
            Err(ConfigError::Retry)
        );
        assert_eq!(
            RetryConfig::new(&[c(RetryableFailureType::Failed, 1), c(RetryableFailureType::Failed, 1)]),
            Err(ConfigError::Retry)
        );
        assert_eq!(RetryConfig::new(&[]), Err(ConfigError::Retry));
        let ok =
            RetryConfig::new(&[c(RetryableFailureType::Failed, 4), c(RetryableFailureType::TimedOut, 6)])
                .unwrap();
        assert_eq!(ok.criteria().count(), 2);
    }

    #[test]
    fn abort_schedule_and_timeouts() {
        let a = |threshold_centipercent, min_executed| AbortCriterion {
            failure: FailureType::Failed,
            threshold_centipercent,
            min_executed,
        };
        assert!(AbortConfig::new(&[a(10_000, 1)]).is_ok());
        assert_eq!(AbortConfig::new(&[a(10_001, 1)]), Err(ConfigError::Abort));
        assert_eq!(AbortConfig::new(&[a(50, 0)]), Err(ConfigError::Abort));
        let t = Timestamp;
        assert!(Schedule::new(Some(t(10)), Some((t(11), JobEndBehavior::Cancel))).is_ok());
        assert_eq!(
            Schedule::new(Some(t(10)), Some((t(10), JobEndBehavior::Cancel))),
            Err(ConfigError::Schedule)
        );
        assert_eq!(TimeoutMinutes::new(0), Err(ConfigError::InProgressTimeout));
        assert_eq!(TimeoutMinutes::new(10081), Err(ConfigError::InProgressTimeout));
        assert!(TimeoutMinutes::new(10080).is_ok());
        assert_eq!(RolloutRate::new(0), Err(ConfigError::Rollout));
        assert_eq!(RolloutRate::new(1).map(RolloutRate::get), Ok(1));
        assert_eq!(RolloutRate::try_from(u32::MAX).map(u32::from), Ok(u32::MAX));
    }
}
