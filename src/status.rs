//! Job and job-execution statuses, and the other wire enumerations of SPEC §1.
//!
//! Every enum here has the exact uppercase wire strings of botocore's models, an `ALL` array in
//! model order, [`as_str`](JobStatus::as_str), [`FromStr`] and `Display`.
//! Parsing is exact and case-sensitive: the spelling traps of SPEC §1 (`"SUCCESS"`, `"Failed"`)
//! are rejected with [`UnknownValue`].

use core::fmt;
use core::str::FromStr;

/// A string that names no value of the enumeration it was parsed as.
///
/// Returned by every `FromStr` impl in this module; `what` names the enumeration
/// (for example `"JobExecutionStatus"`), so a message can say what was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UnknownValue {
    /// The botocore shape name of the enumeration that was expected.
    pub what: &'static str,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a valid {} value", self.what)
    }
}

impl core::error::Error for UnknownValue {}

/// The six terminal [`ExecutionStatus`] values as one pattern (SPEC 3.1): a `match` on a status
/// stays exhaustive without listing them again.
macro_rules! terminal_execution {
    () => {
        $crate::status::ExecutionStatus::Succeeded
            | $crate::status::ExecutionStatus::Failed
            | $crate::status::ExecutionStatus::TimedOut
            | $crate::status::ExecutionStatus::Rejected
            | $crate::status::ExecutionStatus::Removed
            | $crate::status::ExecutionStatus::Canceled
    };
}
pub(crate) use terminal_execution;

/// Defines a wire enumeration: variants with their exact strings, `ALL`, `as_str`, `FromStr`,
/// `Display` and (feature `serde`) string (de)serialization.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $shape:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in the order of the botocore model (SPEC §1).
            pub const ALL: [Self; [$(Self::$variant),+].len()] = [$(Self::$variant),+];

            /// The exact wire string (SPEC §1).
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $wire, )+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $wire => Ok(Self::$variant), )+
                    _ => Err(UnknownValue { what: $shape }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        crate::macros::serde_as_str!($name, |f| f.write_str(concat!("a ", $shape, " string")), |v| v.parse().map_err(|_| E::unknown_variant(v, &[$($wire),+])));
    };
}

wire_enum! {
    /// The status of a job (SPEC §1 `JobStatus`, §2 table (a)).
    JobStatus, "JobStatus" {
        /// Rolling out; executions are queued for its targets.
        InProgress = "IN_PROGRESS",
        /// Canceled by CancelJob, the abort configuration or a schedule's end (terminal).
        Canceled = "CANCELED",
        /// Every execution of a snapshot job is terminal (terminal).
        Completed = "COMPLETED",
        /// DeleteJob was accepted; the job disappears when deletion completes.
        DeletionInProgress = "DELETION_IN_PROGRESS",
        /// Waiting for its start time or its next maintenance window.
        Scheduled = "SCHEDULED",
    }
}

impl JobStatus {
    /// `COMPLETED` and `CANCELED`: the states DeleteJob accepts without force (SPEC 4.2 DeleteJob,
    /// AMBIG-20). `DELETION_IN_PROGRESS` is transitional, not terminal (SPEC §2).
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        match self {
            // SPEC §2: COMPLETED and CANCELED are terminal.
            Self::Completed | Self::Canceled => true,
            // SPEC §2: SCHEDULED and IN_PROGRESS are live; DELETION_IN_PROGRESS is transitional.
            Self::InProgress | Self::Scheduled | Self::DeletionInProgress => false,
        }
    }
}

wire_enum! {
    /// The status of one job execution (SPEC §1 `JobExecutionStatus`, §3 table (b)).
    ExecutionStatus, "JobExecutionStatus" {
        /// Created by the rollout, waiting for the device.
        Queued = "QUEUED",
        /// The device reported it started.
        InProgress = "IN_PROGRESS",
        /// The device reported success (terminal).
        Succeeded = "SUCCEEDED",
        /// The device reported failure (terminal, retriable).
        Failed = "FAILED",
        /// A timer expired (terminal, retriable).
        TimedOut = "TIMED_OUT",
        /// The device declined the job (terminal, never retried).
        Rejected = "REJECTED",
        /// The thing stopped being a target (terminal).
        Removed = "REMOVED",
        /// Canceled by CancelJob, CancelJobExecution or abort (terminal).
        Canceled = "CANCELED",
    }
}

impl ExecutionStatus {
    /// Terminal statuses never change again (SPEC 3.1; TIMED_OUT is terminal, R1).
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        !self.is_pending()
    }

    /// QUEUED and IN_PROGRESS: the statuses GetPending and StartNext consider (SPEC 3.1).
    #[must_use]
    pub const fn is_pending(self) -> bool {
        match self {
            // SPEC 3.1: "pending" means QUEUED or IN_PROGRESS.
            Self::Queued | Self::InProgress => true,
            // SPEC 3.1 / DG-NOTIF: the six terminal statuses.
            terminal_execution!() => false,
        }
    }

    /// FAILED and TIMED_OUT: the statuses a retry configuration can retry (SPEC 3.1, T12;
    /// REJECTED never is).
    #[must_use]
    pub const fn is_retriable(self) -> bool {
        match self {
            // SPEC 3.1 "Retriable via retry config" column.
            Self::Failed | Self::TimedOut => true,
            Self::Queued
            | Self::InProgress
            | Self::Succeeded
            | Self::Rejected
            | Self::Removed
            | Self::Canceled => false,
        }
    }

    /// The statuses a device may request in UpdateJobExecution (SPEC T4: IN_PROGRESS, SUCCEEDED,
    /// FAILED, REJECTED). The others are set only by the service (R9).
    #[must_use]
    pub const fn is_device_settable(self) -> bool {
        match self {
            // SPEC T4: "Devices may only set IN_PROGRESS, FAILED, SUCCEEDED, REJECTED".
            Self::InProgress | Self::Succeeded | Self::Failed | Self::Rejected => true,
            // SPEC 3.1 "Set by" column: AWS IoT Jobs sets these.
            Self::Queued | Self::TimedOut | Self::Removed | Self::Canceled => false,
        }
    }
}

wire_enum! {
    /// How a job picks its targets (SPEC §1 `TargetSelection`; SNAPSHOT is the default).
    TargetSelection, "TargetSelection" {
        /// Keeps rolling out to things that join a target group.
        Continuous = "CONTINUOUS",
        /// Rolls out to the targets at creation, then completes.
        Snapshot = "SNAPSHOT",
    }
}

impl Default for TargetSelection {
    /// SNAPSHOT (SPEC §1, DG-CTL).
    fn default() -> Self {
        Self::Snapshot
    }
}

wire_enum! {
    /// Failure types counted by an abort criterion (SPEC §1 `JobExecutionFailureType`).
    FailureType, "JobExecutionFailureType" {
        /// Executions that ended FAILED.
        Failed = "FAILED",
        /// Executions that ended REJECTED.
        Rejected = "REJECTED",
        /// Executions that ended TIMED_OUT.
        TimedOut = "TIMED_OUT",
        /// Any of the three.
        All = "ALL",
    }
}

wire_enum! {
    /// Failure types a retry criterion retries (SPEC §1 `RetryableFailureType`; REJECTED never).
    RetryableFailureType, "RetryableFailureType" {
        /// Retry executions that ended FAILED.
        Failed = "FAILED",
        /// Retry executions that ended TIMED_OUT.
        TimedOut = "TIMED_OUT",
        /// Retry both.
        All = "ALL",
    }
}

wire_enum! {
    /// What a schedule's end time does to the job (SPEC §1 `JobEndBehavior`, AMBIG-12).
    JobEndBehavior, "JobEndBehavior" {
        /// Stop creating executions; leave existing ones alone.
        StopRollout = "STOP_ROLLOUT",
        /// Cancel the job: QUEUED executions become CANCELED.
        Cancel = "CANCEL",
        /// Cancel the job and its QUEUED and IN_PROGRESS executions.
        ForceCancel = "FORCE_CANCEL",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_strings_round_trip_and_are_exact() {
        for s in JobStatus::ALL {
            assert_eq!(s.as_str().parse::<JobStatus>(), Ok(s));
        }
        for s in ExecutionStatus::ALL {
            assert_eq!(s.as_str().parse::<ExecutionStatus>(), Ok(s));
        }
        // SPEC §1 spelling traps.
        for bad in ["SUCCESS", "Failed", "FAILURE", "succeeded", "", "QUEUED ", "IN PROGRESS"] {
            assert_eq!(bad.parse::<ExecutionStatus>(), Err(UnknownValue { what: "JobExecutionStatus" }));
        }
        assert!("CANCELLATION_IN_PROGRESS".parse::<JobStatus>().is_err());
        assert!("DELETED".parse::<JobStatus>().is_err());
    }

    #[test]
    fn model_order_and_counts() {
        assert_eq!(
            JobStatus::ALL.map(JobStatus::as_str),
            ["IN_PROGRESS", "CANCELED", "COMPLETED", "DELETION_IN_PROGRESS", "SCHEDULED"]
        );
        assert_eq!(
            ExecutionStatus::ALL.map(ExecutionStatus::as_str),
            ["QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "REMOVED", "CANCELED"]
        );
    }

    #[test]
    fn classification_matches_spec_3_1() {
        use ExecutionStatus::*;
        let terminal: [ExecutionStatus; 6] = [Succeeded, Failed, TimedOut, Rejected, Removed, Canceled];
        for s in ExecutionStatus::ALL {
            assert_eq!(s.is_terminal(), terminal.contains(&s), "{s}");
            assert_eq!(s.is_pending(), !terminal.contains(&s), "{s}");
            assert_eq!(s.is_device_settable(), [InProgress, Succeeded, Failed, Rejected].contains(&s), "{s}");
            assert_eq!(s.is_retriable(), [Failed, TimedOut].contains(&s), "{s}");
        }
        let terminal_jobs: [JobStatus; 2] = [JobStatus::Completed, JobStatus::Canceled];
        for s in JobStatus::ALL {
            assert_eq!(s.is_terminal(), terminal_jobs.contains(&s), "{s}");
        }
    }
}
