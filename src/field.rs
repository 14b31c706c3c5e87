//! The vocabulary of validation errors: which request field failed ([`Field`]), which
//! constraint ([`Violation`]), the pair of them ([`FieldError`]) and the job configuration
//! ranges ([`ConfigError`]).
//!
//! A leaf module: it names no other module of the crate, so every module that validates input
//! can use it without import cycles.

use core::fmt;

/// Which request field a [`FieldError`] is about (wire member names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Field {
    /// `jobId`.
    JobId,
    /// `thingName`.
    ThingName,
    /// `namespaceId`.
    NamespaceId,
    /// `executionNumber`.
    ExecutionNumber,
    /// `versionNumber` / `expectedVersion`.
    Version,
    /// A key of `statusDetails`.
    StatusDetailsKey,
    /// A value of `statusDetails`.
    StatusDetailsValue,
    /// The `statusDetails` map as a whole.
    StatusDetails,
    /// `comment`.
    Comment,
    /// `reasonCode`.
    ReasonCode,
    /// `stepTimeoutInMinutes`.
    StepTimeout,
    /// `inProgressTimeoutInMinutes`.
    InProgressTimeout,
    /// A job configuration (`jobExecutionsRetryConfig`, `abortConfig`, `schedulingConfig`,
    /// `jobExecutionsRolloutConfig`).
    JobConfig,
}

impl Field {
    /// The wire member name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::JobId => "jobId",
            Self::ThingName => "thingName",
            Self::NamespaceId => "namespaceId",
            Self::ExecutionNumber => "executionNumber",
            Self::Version => "expectedVersion",
            Self::StatusDetailsKey => "statusDetails key",
            Self::StatusDetailsValue => "statusDetails value",
            Self::StatusDetails => "statusDetails",
            Self::Comment => "comment",
            Self::ReasonCode => "reasonCode",
            Self::StepTimeout => "stepTimeoutInMinutes",
            Self::InProgressTimeout => "inProgressTimeoutInMinutes",
            Self::JobConfig => "job configuration",
        }
    }
}

/// The constraint a field failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Violation {
    /// The value is empty; the model requires at least one character.
    Empty,
    /// The value is longer than allowed (`len` in the unit the field counts).
    TooLong {
        /// The most allowed.
        max: usize,
        /// What was given.
        len: usize,
    },
    /// The character at byte offset `position` is not allowed by the field's pattern.
    InvalidCharacter {
        /// Byte offset of the first offending character.
        position: usize,
    },
    /// A map has more pairs than allowed.
    TooManyPairs {
        /// The most allowed.
        max: usize,
        /// What was given.
        len: usize,
    },
    /// The same key appears twice in a map; `position` is the index of the second pair.
    DuplicateKey {
        /// Index of the repeated pair.
        position: usize,
    },
    /// A number outside the field's range.
    OutOfRange {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// Not a decimal integer.
    NotANumber,
    /// The value is valid but needs `len` bytes of storage and the store that keeps it holds
    /// `capacity` (a device's smaller statusDetails store, for example).
    TooLarge {
        /// Bytes of storage the value needs.
        len: usize,
        /// Bytes of storage there are.
        capacity: usize,
    },
    /// A job configuration value outside its SPEC §6 range.
    Config(ConfigError),
}

/// A request field that failed validation: which field, and which constraint.
///
/// Maps to `InvalidRequestException` (HTTP 400) / MQTT `InvalidRequest` through
/// [`Rejection::InvalidField`](crate::Rejection::InvalidField).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FieldError {
    /// The field.
    pub field: Field,
    /// The constraint it failed.
    pub violation: Violation,
}

impl FieldError {
    /// A failed `field` with its `violation`.
    #[must_use]
    pub const fn new(field: Field, violation: Violation) -> Self {
        Self { field, violation }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.field.as_str();
        match self.violation {
            Violation::Empty => write!(f, "{name} must not be empty"),
            Violation::TooLong { max, len } => {
                write!(f, "{name} is {len} characters long; at most {max} are allowed")
            }
            Violation::InvalidCharacter { position } => write!(
                f,
                "{name} has a character that is not allowed at position {position} (allowed: {})",
                allowed_set(self.field)
            ),
            Violation::TooManyPairs { max, len } => {
                write!(f, "{name} has {len} pairs; at most {max} are allowed")
            }
            Violation::DuplicateKey { position } => {
                write!(f, "{name} repeats a key at pair {position}")
            }
            // -1 is a sentinel, not the bottom of a range (stepTimeoutInMinutes: cancel).
            Violation::OutOfRange { min: -1, max } => {
                write!(f, "{name} must be -1 or between 1 and {max}")
            }
            Violation::OutOfRange { min, max } => {
                write!(f, "{name} must be between {min} and {max}")
            }
            Violation::NotANumber => write!(f, "{name} must be a decimal integer"),
            Violation::TooLarge { len, capacity } => write!(
                f,
                "{name} needs {len} bytes of storage and this endpoint stores at most {capacity}; \
                 send fewer or shorter pairs"
            ),
            Violation::Config(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for FieldError {}

const fn allowed_set(field: Field) -> &'static str {
    match field {
        Field::JobId | Field::NamespaceId => "a-z A-Z 0-9 _ -",
        Field::ThingName | Field::StatusDetailsKey => "a-z A-Z 0-9 : _ -",
        Field::ReasonCode => "A-Z 0-9 _",
        Field::ExecutionNumber | Field::Version | Field::StepTimeout | Field::InProgressTimeout => "0-9",
        Field::StatusDetailsValue | Field::StatusDetails | Field::Comment | Field::JobConfig => {
            "any character but control, format and private-use characters"
        }
    }
}

/// A configuration value outside its SPEC §6 range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConfigError {
    /// `inProgressTimeoutInMinutes` outside 1–10080.
    InProgressTimeout,
    /// `stepTimeoutInMinutes` outside 1–10080 ([`TimeoutMinutes::step`](crate::TimeoutMinutes::step)).
    StepTimeout,
    /// `numberOfRetries` outside 0–10, a failure type listed twice, more than 2 criteria, or more
    /// than 10 retries in total.
    Retry,
    /// An abort criterion with `thresholdPercentage` above 100 (or more than 2 decimals),
    /// `minNumberOfExecutedThings` below 1, a failure type listed twice, or no criterion (or
    /// more than 4).
    Abort,
    /// `endTime` not after `startTime`.
    Schedule,
    /// `maximumPerMinute` below 1.
    Rollout,
    /// A maintenance window's `durationInMinutes` outside 1–1430.
    MaintenanceWindow,
    /// More maintenance windows than a job keeps
    /// ([`MaintenanceWindows::CAPACITY`](crate::config::MaintenanceWindows::CAPACITY), SPEC AMBIG-28).
    MaintenanceWindows,
    /// `exponentialRate` with `baseRatePerMinute` outside 1–1000, `incrementFactor` outside 1.1–5
    /// (one decimal), or no positive `rateIncreaseCriteria`.
    ExponentialRate,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::InProgressTimeout => "inProgressTimeoutInMinutes must be between 1 and 10080",
            Self::StepTimeout => "stepTimeoutInMinutes must be between 1 and 10080",
            Self::Retry => {
                "retry criteria: 1-2 distinct failure types, numberOfRetries 0-10 each, at most 10 in total"
            }
            Self::Abort => {
                "abort criteria: 1-4 criteria, one per failure type, thresholdPercentage 0-100 with at most 2 decimals, minNumberOfExecutedThings at least 1"
            }
            Self::Schedule => "schedulingConfig endTime must be after startTime",
            Self::Rollout => "maximumPerMinute must be at least 1",
            Self::MaintenanceWindow => "maintenanceWindows durationInMinutes must be between 1 and 1430",
            Self::MaintenanceWindows => "maintenanceWindows, when given, holds 1 to 4 windows",
            Self::ExponentialRate => {
                "exponentialRate: baseRatePerMinute 1-1000, incrementFactor 1.1-5 with one decimal, rateIncreaseCriteria numberOfNotifiedThings or numberOfSucceededThings at least 1"
            }
        })
    }
}

impl core::error::Error for ConfigError {}
