//! Time as the core sees it: caller-supplied [`Timestamp`]s (the core never reads a clock) and
//! validated timeout lengths ([`StepTimeout`], [`TimeoutMinutes`]).

use core::fmt;

use crate::field::{ConfigError, Field, FieldError, Violation};

/// A point in time: whole seconds since the Unix epoch, supplied by the caller (SPEC R18).
///
/// The core never reads a clock. Arithmetic saturates, so a timestamp near `u64::MAX` never
/// overflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// Seconds since the epoch.
    #[must_use]
    pub const fn secs(self) -> u64 {
        self.0
    }

    /// `self + secs`, saturating at `u64::MAX`.
    #[must_use]
    pub const fn saturating_add(self, secs: u64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// Seconds from `earlier` to `self`, or 0 if `earlier` is later.
    #[must_use]
    pub const fn saturating_since(self, earlier: Self) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// `stepTimeoutInMinutes` as a request gives it (SPEC §3 timer facts, §6 Timeouts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StepTimeout {
    /// Start (or replace) a step timer of this many minutes, 1–10080 (the registry refuses
    /// others with `InvalidRequestException`, as [`StepTimeout::check`] does).
    Minutes(u16),
    /// `-1`: cancel the current step timer (UpdateJobExecution only).
    Cancel,
}

impl StepTimeout {
    /// The longest step or in-progress timeout: 10080 minutes, 7 days (SPEC §6).
    pub const MAX_MINUTES: u16 = 10080;

    /// Validates a wire value: 1–10080, or -1 where `allow_cancel` (UpdateJobExecution; the
    /// StartNext doc does not mention -1, SPEC §3).
    pub fn from_wire(n: i64, allow_cancel: bool) -> Result<Self, FieldError> {
        let min = if allow_cancel { -1 } else { 1 };
        let range = Violation::OutOfRange { min, max: i64::from(Self::MAX_MINUTES) };
        match n {
            -1 if allow_cancel => Ok(Self::Cancel),
            1..=10080 => {
                u16::try_from(n).map(Self::Minutes).map_err(|_| FieldError::new(Field::StepTimeout, range))
            }
            _ => Err(FieldError::new(Field::StepTimeout, range)),
        }
    }

    /// Checks a value built in code as [`from_wire`](Self::from_wire) checks one read from a
    /// request: `Minutes` of 1–10080, `Cancel` only where `allow_cancel`.
    ///
    /// # Errors
    /// As `from_wire`.
    pub fn check(self, allow_cancel: bool) -> Result<Self, FieldError> {
        let wire = match self {
            Self::Minutes(m) => i64::from(m),
            Self::Cancel => -1,
        };
        Self::from_wire(wire, allow_cancel)
    }
}

/// A validated timeout length in minutes, 1–10080 (SPEC §6 Timeouts): the range shared by
/// `inProgressTimeoutInMinutes` and `stepTimeoutInMinutes`.
///
/// Serialized as its number; deserializing checks the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u16", into = "u16"))]
pub struct TimeoutMinutes(u16);

impl TryFrom<u16> for TimeoutMinutes {
    type Error = ConfigError;

    fn try_from(minutes: u16) -> Result<Self, ConfigError> {
        Self::new(minutes)
    }
}

impl From<TimeoutMinutes> for u16 {
    fn from(m: TimeoutMinutes) -> Self {
        m.0
    }
}

impl TimeoutMinutes {
    /// The shortest timeout: 1 minute.
    pub const MIN: Self = Self(1);
    /// The longest timeout: 10080 minutes, 7 days (SPEC §6).
    pub const MAX: Self = Self(StepTimeout::MAX_MINUTES);

    /// Validates an `inProgressTimeoutInMinutes` (SPEC §6: 1–10080).
    pub const fn new(minutes: u16) -> Result<Self, ConfigError> {
        Self::checked(minutes, ConfigError::InProgressTimeout)
    }

    /// Validates a `stepTimeoutInMinutes` (SPEC §6: 1–10080), such as the agent's
    /// [`Config::step_timeout`](crate::agent::Config::step_timeout): as [`new`](Self::new), with
    /// an error that names the step timeout.
    pub const fn step(minutes: u16) -> Result<Self, ConfigError> {
        Self::checked(minutes, ConfigError::StepTimeout)
    }

    const fn checked(minutes: u16, error: ConfigError) -> Result<Self, ConfigError> {
        if minutes == 0 || minutes > StepTimeout::MAX_MINUTES { Err(error) } else { Ok(Self(minutes)) }
    }

    /// The minutes.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0
    }

    /// The length in seconds.
    #[must_use]
    pub const fn secs(self) -> u64 {
        // At most 10080 * 60: no overflow.
        (self.0 as u64).saturating_mul(60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation<T: fmt::Debug>(r: Result<T, FieldError>) -> Violation {
        r.unwrap_err().violation
    }

    #[test]
    fn step_timeout_range() {
        assert_eq!(StepTimeout::from_wire(1, false), Ok(StepTimeout::Minutes(1)));
        assert_eq!(StepTimeout::from_wire(10080, true), Ok(StepTimeout::Minutes(10080)));
        assert_eq!(StepTimeout::from_wire(-1, true), Ok(StepTimeout::Cancel));
        assert_eq!(
            violation(StepTimeout::from_wire(-1, false)),
            Violation::OutOfRange { min: 1, max: 10080 }
        );
        assert!(StepTimeout::from_wire(0, true).is_err());
        assert!(StepTimeout::from_wire(10081, true).is_err());
        assert!(StepTimeout::from_wire(i64::MIN, true).is_err());
    }

    #[test]
    fn timeout_minutes_range() {
        assert_eq!(TimeoutMinutes::new(0), Err(ConfigError::InProgressTimeout));
        assert_eq!(TimeoutMinutes::new(1), Ok(TimeoutMinutes::MIN));
        assert_eq!(TimeoutMinutes::new(10080), Ok(TimeoutMinutes::MAX));
        assert_eq!(TimeoutMinutes::new(10081), Err(ConfigError::InProgressTimeout));
        assert_eq!(TimeoutMinutes::MAX.secs(), 604_800);
        assert_eq!(TimeoutMinutes::new(7).map(TimeoutMinutes::get), Ok(7));
        assert_eq!(TimeoutMinutes::step(0), Err(ConfigError::StepTimeout));
        assert_eq!(TimeoutMinutes::step(10081), Err(ConfigError::StepTimeout));
        assert_eq!(TimeoutMinutes::step(10080), Ok(TimeoutMinutes::MAX));
        assert_eq!(TimeoutMinutes::step(1), Ok(TimeoutMinutes::MIN));
    }

    #[test]
    fn timestamp_saturates() {
        assert_eq!(Timestamp(u64::MAX).saturating_add(1), Timestamp(u64::MAX));
        assert_eq!(Timestamp(3).saturating_since(Timestamp(5)), 0);
        assert_eq!(Timestamp(5).saturating_since(Timestamp(3)), 2);
    }
}
