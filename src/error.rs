//! The one rejection type of every operation, and its mapping to AWS errors (SPEC §4.1, §4.3,
//! §4.4, R13).
//!
//! A [`Rejection`] is a small `Copy` value. It knows, for each case, the AWS exception name and
//! HTTP status on each [`Plane`], and the MQTT [`ErrorCode`]; it carries what the caller needs
//! next, such as the execution's current state on a transition or version conflict so that a
//! device can resynchronise (SPEC §4.4).

use core::fmt;

use crate::field::FieldError;
use crate::id::VersionNumber;
use crate::status::{ExecutionStatus, JobStatus};

/// Which AWS API a request came through; the same rejection has different HTTP shapes on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Plane {
    /// The control plane, service `iot` (2015-05-28).
    Control,
    /// The jobs data plane, service `iot-jobs-data` (2017-09-29), over HTTPS or MQTT.
    Data,
}

/// The `code` of an MQTT ErrorResponse (SPEC §1, §4.4): exactly nine values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ErrorCode {
    /// A publish to a jobs topic that maps to no API.
    InvalidTopic,
    /// The payload is not valid UTF-8 JSON.
    InvalidJson,
    /// The payload's contents are invalid.
    InvalidRequest,
    /// The update is not allowed from the current status (carries `executionState`).
    InvalidStateTransition,
    /// The job execution does not exist.
    ResourceNotFound,
    /// `expectedVersion` differs from the stored version (carries `executionState`).
    VersionMismatch,
    /// An internal failure; retry later.
    InternalError,
    /// Throttled; retry later.
    RequestThrottled,
    /// Describe of an execution in a terminal state.
    TerminalStateReached,
}

impl ErrorCode {
    /// All nine codes, in the order of DG-API.
    pub const ALL: [Self; 9] = [
        Self::InvalidTopic,
        Self::InvalidJson,
        Self::InvalidRequest,
        Self::InvalidStateTransition,
        Self::ResourceNotFound,
        Self::VersionMismatch,
        Self::InternalError,
        Self::RequestThrottled,
        Self::TerminalStateReached,
    ];

    /// The wire string.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidTopic => "InvalidTopic",
            Self::InvalidJson => "InvalidJson",
            Self::InvalidRequest => "InvalidRequest",
            Self::InvalidStateTransition => "InvalidStateTransition",
            Self::ResourceNotFound => "ResourceNotFound",
            Self::VersionMismatch => "VersionMismatch",
            Self::InternalError => "InternalError",
            Self::RequestThrottled => "RequestThrottled",
            Self::TerminalStateReached => "TerminalStateReached",
        }
    }

    /// Whether the ErrorResponse carries `executionState` (SPEC §4.4: only for these two).
    #[must_use]
    pub const fn carries_execution_state(self) -> bool {
        match self {
            Self::InvalidStateTransition | Self::VersionMismatch => true,
            Self::InvalidTopic
            | Self::InvalidJson
            | Self::InvalidRequest
            | Self::ResourceNotFound
            | Self::InternalError
            | Self::RequestThrottled
            | Self::TerminalStateReached => false,
        }
    }

    /// Whether a device should retry the same request later (SPEC §4.4 observed practice:
    /// throttling and internal errors are transient; the rest need a different request).
    #[must_use]
    pub const fn is_retryable(self) -> bool {
        match self {
            Self::RequestThrottled | Self::InternalError => true,
            Self::InvalidTopic
            | Self::InvalidJson
            | Self::InvalidRequest
            | Self::InvalidStateTransition
            | Self::ResourceNotFound
            | Self::VersionMismatch
            | Self::TerminalStateReached => false,
        }
    }
}

impl core::str::FromStr for ErrorCode {
    type Err = crate::status::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or(crate::status::UnknownValue { what: "ErrorCode" })
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An AWS exception shape (botocore error shape names; SPEC §4.1, §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Exception {
    /// 400 on both planes.
    InvalidRequest,
    /// 404.
    ResourceNotFound,
    /// 409 (control plane CreateJob and friends).
    ResourceAlreadyExists,
    /// 409.
    InvalidStateTransition,
    /// 409 (control plane CancelJobExecution `expectedVersion`).
    VersionConflict,
    /// 410 (SPEC AMBIG-19).
    LimitExceeded,
    /// Control plane 400, data plane 429 (SPEC AMBIG-18).
    Throttling,
    /// 503.
    ServiceUnavailable,
    /// 410 (data plane DescribeJobExecution only, R11).
    TerminalState,
}

impl Exception {
    /// Every shape.
    pub const ALL: [Self; 9] = [
        Self::InvalidRequest,
        Self::ResourceNotFound,
        Self::ResourceAlreadyExists,
        Self::InvalidStateTransition,
        Self::VersionConflict,
        Self::LimitExceeded,
        Self::Throttling,
        Self::ServiceUnavailable,
        Self::TerminalState,
    ];

    /// The exception name botocore maps to a modeled error class.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::InvalidRequest => "InvalidRequestException",
            Self::ResourceNotFound => "ResourceNotFoundException",
            Self::ResourceAlreadyExists => "ResourceAlreadyExistsException",
            Self::InvalidStateTransition => "InvalidStateTransitionException",
            Self::VersionConflict => "VersionConflictException",
            Self::LimitExceeded => "LimitExceededException",
            Self::Throttling => "ThrottlingException",
            Self::ServiceUnavailable => "ServiceUnavailableException",
            Self::TerminalState => "TerminalStateException",
        }
    }

    /// The HTTP status of the shape on `plane` (botocore `error.httpStatusCode`).
    #[must_use]
    pub const fn http_status(self, plane: Plane) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::ResourceNotFound => 404,
            Self::ResourceAlreadyExists | Self::InvalidStateTransition | Self::VersionConflict => 409,
            // SPEC AMBIG-19: 410 exactly.
            Self::LimitExceeded | Self::TerminalState => 410,
            // SPEC AMBIG-18: iot 400, iot-jobs-data 429.
            Self::Throttling => match plane {
                Plane::Control => 400,
                Plane::Data => 429,
            },
            Self::ServiceUnavailable => 503,
        }
    }
}

/// The kind of resource a lookup did not find, or found already existing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Resource {
    /// A job.
    Job,
    /// A thing.
    Thing,
    /// A job execution.
    Execution,
}

impl Resource {
    const fn noun(self) -> &'static str {
        match self {
            Self::Job => "job",
            Self::Thing => "thing",
            Self::Execution => "job execution",
        }
    }
}

/// An operation, as named in the AWS APIs; used in messages and in conformance tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Operation {
    /// CreateJob.
    CreateJob,
    /// CancelJob.
    CancelJob,
    /// DeleteJob.
    DeleteJob,
    /// CancelJobExecution.
    CancelJobExecution,
    /// DeleteJobExecution.
    DeleteJobExecution,
    /// UpdateJobExecution.
    UpdateJobExecution,
    /// StartNextPendingJobExecution.
    StartNextPendingJobExecution,
    /// DescribeJobExecution.
    DescribeJobExecution,
    /// GetPendingJobExecutions.
    GetPendingJobExecutions,
    /// AssociateTargetsWithJob.
    AssociateTargetsWithJob,
}

impl Operation {
    /// The API operation name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CreateJob => "CreateJob",
            Self::CancelJob => "CancelJob",
            Self::DeleteJob => "DeleteJob",
            Self::CancelJobExecution => "CancelJobExecution",
            Self::DeleteJobExecution => "DeleteJobExecution",
            Self::UpdateJobExecution => "UpdateJobExecution",
            Self::StartNextPendingJobExecution => "StartNextPendingJobExecution",
            Self::DescribeJobExecution => "DescribeJobExecution",
            Self::GetPendingJobExecutions => "GetPendingJobExecutions",
            Self::AssociateTargetsWithJob => "AssociateTargetsWithJob",
        }
    }
}

/// An execution's status and version: the `executionState` of an MQTT ErrorResponse
/// (SPEC §4.4). The host adds `statusDetails` from its store when it renders one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExecutionState {
    /// Current status.
    pub status: ExecutionStatus,
    /// Current version.
    pub version: VersionNumber,
}

/// The state an operation found that does not allow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Current {
    /// The job's status.
    Job(JobStatus),
    /// The execution's state.
    Execution(ExecutionState),
}

/// Why a well-formed request is not allowed, where the answer is `InvalidRequestException`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum InvalidRequest {
    /// CancelJob on a job in this status (SPEC R3, R4: CancelJob's model has no 409).
    CancelJobInStatus(JobStatus),
    /// AssociateTargetsWithJob on a SNAPSHOT job (SPEC §2: CONTINUOUS only).
    TargetsNeedContinuousJob,
    /// AssociateTargetsWithJob on a job that is not IN_PROGRESS (SPEC §2).
    TargetsNeedInProgressJob(JobStatus),
    /// A request without any target (SPEC §5 `JobTargets`: at least one).
    NoTargets,
    /// A `nextToken` whose execution no longer exists.
    StaleCursor,
    /// A `nextToken` that another listing gave (its execution is not in this one).
    ForeignCursor,
    /// A maintenance window opened for a job that is not SCHEDULED, or closed for one that is
    /// not IN_PROGRESS.
    WindowNeedsStatus(JobStatus),
}

/// A documented AWS limit that a request would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Limit {
    /// 10 jobs in DELETION_IN_PROGRESS at once (SPEC §6, SEED-CLI).
    JobsDeletionInProgress,
    /// 100 targets per job for AssociateTargetsWithJob (SPEC §6).
    TargetsPerJob,
    /// A version or execution number would pass its maximum: `i64::MAX` in the rules, 4,294,967,295
    /// (`u32::MAX`) as the registry stores them.
    Counter,
    /// A time past the last one the registry stores (its `LATEST_TIME`, 2106-01-01T00:00:00Z:
    /// execution times are kept as `u32` seconds).
    Time,
}

/// A fixed-capacity table of the store that is full. Distinct from AWS's documented limits: the
/// capacity is the host's choice, and nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Table {
    /// Jobs.
    Jobs,
    /// Things.
    Things,
    /// Executions.
    Executions,
    /// Stored statusDetails.
    StatusDetails,
    /// Notifications waiting for the host.
    Events,
    /// The index of names (jobs, things, (job, thing) pairs): its buckets are sized apart
    /// ([`Fixed`](crate::registry::Fixed)'s `I`), so it can fill before the tables it indexes.
    Index,
}

impl Table {
    const fn noun(self) -> &'static str {
        match self {
            Self::Jobs => "jobs",
            Self::Things => "things",
            Self::Executions => "job executions",
            Self::StatusDetails => "status details",
            Self::Events => "pending notifications",
            Self::Index => "index entries (names of jobs, things and job-thing pairs)",
        }
    }
}

/// Why an operation was refused. Nothing changed.
///
/// Map it to the wire with [`exception`](Self::exception) and [`http_status`](Self::http_status)
/// (HTTP), or [`error_code`](Self::error_code) (MQTT); `Display` gives a message that says what
/// was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Rejection {
    /// A field failed validation (400, MQTT `InvalidRequest`).
    InvalidField(FieldError),
    /// A well-formed request that is not allowed (400, MQTT `InvalidRequest`).
    InvalidRequest(InvalidRequest),
    /// The job, thing or execution does not exist (404, MQTT `ResourceNotFound`).
    NotFound(Resource),
    /// CreateJob with a `jobId` that exists, or whose deletion has not completed (409).
    AlreadyExists(Resource),
    /// The operation is not allowed in the current state (409, MQTT `InvalidStateTransition`).
    InvalidStateTransition {
        /// The operation refused.
        operation: Operation,
        /// What it found.
        current: Current,
        /// The status the request asked for (UpdateJobExecution's `status`), if it named one.
        requested: Option<ExecutionStatus>,
    },
    /// `expectedVersion` differs from the stored version (SPEC R13: control plane
    /// `VersionConflictException` 409; data plane 409 with the InvalidStateTransitionException
    /// shape; MQTT `VersionMismatch`). Carries the current state for resynchronisation.
    VersionMismatch(ExecutionState),
    /// A documented AWS limit (control plane 410 `LimitExceededException`; data plane 400
    /// `InvalidRequestException`, a shape its model has, and MQTT `InvalidRequest`).
    LimitExceeded(Limit),
    /// Data-plane describe of a terminal execution (SPEC R11: 410 `TerminalStateException`,
    /// MQTT `TerminalStateReached`).
    TerminalState(ExecutionState),
    /// The host's notification queue is full: deliver pending events and retry (throttling:
    /// control 400, data 429, MQTT `RequestThrottled`).
    Throttled,
    /// A table of the store is full (control plane `LimitExceededException` 410; data plane
    /// `ServiceUnavailableException` 503 and MQTT `InternalError`, because the device did
    /// nothing wrong).
    CapacityExhausted(Table),
    /// A defect of this crate; please report it with the message. The registry met a state its
    /// own invariants exclude (an entry a link names is missing, an operation emitted more
    /// events than it reserved room for, a sink refused an event within the room it reported).
    /// Unlike every other rejection, the operation may have been partly applied (503
    /// `ServiceUnavailableException` on both planes, MQTT `InternalError`).
    LogicBug(&'static str),
}

impl Rejection {
    /// The AWS exception shape on `plane`.
    #[must_use]
    pub const fn exception(self, plane: Plane) -> Exception {
        match self {
            Self::InvalidField(_) | Self::InvalidRequest(_) => Exception::InvalidRequest,
            Self::NotFound(_) => Exception::ResourceNotFound,
            Self::AlreadyExists(_) => Exception::ResourceAlreadyExists,
            Self::InvalidStateTransition { .. } => Exception::InvalidStateTransition,
            // SPEC R13.
            Self::VersionMismatch(_) => match plane {
                Plane::Control => Exception::VersionConflict,
                Plane::Data => Exception::InvalidStateTransition,
            },
            // SPEC §6 lim-store: the data plane has no LimitExceededException shape.
            Self::LimitExceeded(_) => match plane {
                Plane::Control => Exception::LimitExceeded,
                Plane::Data => Exception::InvalidRequest,
            },
            // SPEC R11: only the data plane refuses; its shape is TerminalStateException.
            Self::TerminalState(_) => match plane {
                Plane::Control => Exception::InvalidStateTransition,
                Plane::Data => Exception::TerminalState,
            },
            Self::Throttled => Exception::Throttling,
            Self::CapacityExhausted(_) => match plane {
                Plane::Control => Exception::LimitExceeded,
                Plane::Data => Exception::ServiceUnavailable,
            },
            Self::LogicBug(_) => Exception::ServiceUnavailable,
        }
    }

    /// The exception name on `plane`, e.g. `"InvalidStateTransitionException"`.
    #[must_use]
    pub const fn exception_name(self, plane: Plane) -> &'static str {
        self.exception(plane).name()
    }

    /// The HTTP status on `plane`.
    #[must_use]
    pub const fn http_status(self, plane: Plane) -> u16 {
        self.exception(plane).http_status(plane)
    }

    /// The MQTT ErrorResponse code (SPEC §4.4).
    #[must_use]
    pub const fn error_code(self) -> ErrorCode {
        match self {
            Self::InvalidField(_) | Self::InvalidRequest(_) => ErrorCode::InvalidRequest,
            Self::NotFound(_) => ErrorCode::ResourceNotFound,
            // Control-plane only; the nearest device-API meaning is a request that cannot be
            // accepted as sent.
            Self::AlreadyExists(_) | Self::LimitExceeded(_) => ErrorCode::InvalidRequest,
            Self::InvalidStateTransition { .. } => ErrorCode::InvalidStateTransition,
            Self::VersionMismatch(_) => ErrorCode::VersionMismatch,
            Self::TerminalState(_) => ErrorCode::TerminalStateReached,
            Self::Throttled => ErrorCode::RequestThrottled,
            Self::CapacityExhausted(_) | Self::LogicBug(_) => ErrorCode::InternalError,
        }
    }

    /// The execution state to report in an ErrorResponse, where SPEC §4.4 includes one.
    #[must_use]
    pub const fn execution_state(self) -> Option<ExecutionState> {
        match self {
            Self::InvalidStateTransition { current: Current::Execution(s), .. }
            | Self::VersionMismatch(s) => Some(s),
            Self::InvalidStateTransition { current: Current::Job(_), .. }
            | Self::InvalidField(_)
            | Self::InvalidRequest(_)
            | Self::NotFound(_)
            | Self::AlreadyExists(_)
            | Self::LimitExceeded(_)
            | Self::TerminalState(_)
            | Self::Throttled
            | Self::CapacityExhausted(_)
            | Self::LogicBug(_) => None,
        }
    }
}

impl From<FieldError> for Rejection {
    fn from(e: FieldError) -> Self {
        Self::InvalidField(e)
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::InvalidField(e) => e.fmt(f),
            Self::InvalidRequest(r) => match r {
                InvalidRequest::CancelJobInStatus(s) => {
                    write!(f, "CancelJob is not allowed on a job in status {s}")
                }
                InvalidRequest::TargetsNeedContinuousJob => {
                    f.write_str("targets can be added only to a CONTINUOUS job")
                }
                InvalidRequest::TargetsNeedInProgressJob(s) => {
                    write!(f, "targets can be added only to an IN_PROGRESS job; this one is {s}")
                }
                InvalidRequest::NoTargets => f.write_str("at least one target is required"),
                InvalidRequest::WindowNeedsStatus(s) => {
                    write!(f, "a maintenance window cannot open or close for a job in status {s}")
                }
                InvalidRequest::StaleCursor => {
                    f.write_str("nextToken is no longer valid: the listing changed; start again")
                }
                InvalidRequest::ForeignCursor => {
                    f.write_str("nextToken was given by another listing; a listing goes on only from its own")
                }
            },
            Self::NotFound(r) => write!(f, "the {} does not exist", r.noun()),
            Self::AlreadyExists(r) => write!(f, "the {} already exists", r.noun()),
            Self::InvalidStateTransition { operation, current, requested } => match current {
                Current::Job(s) => {
                    write!(f, "{} is not allowed on a job in status {s}", operation.as_str())?;
                    match operation {
                        // SPEC R4: force does not help a job already being deleted.
                        Operation::DeleteJob | Operation::CancelJob
                            if matches!(s, JobStatus::DeletionInProgress) =>
                        {
                            f.write_str("; the job is already being deleted")
                        }
                        Operation::DeleteJob if !s.is_terminal() => {
                            f.write_str("; set force=true to delete a job that is not terminal")
                        }
                        Operation::CreateJob
                        | Operation::CancelJob
                        | Operation::DeleteJob
                        | Operation::CancelJobExecution
                        | Operation::DeleteJobExecution
                        | Operation::UpdateJobExecution
                        | Operation::StartNextPendingJobExecution
                        | Operation::DescribeJobExecution
                        | Operation::GetPendingJobExecutions
                        | Operation::AssociateTargetsWithJob => Ok(()),
                    }
                }
                Current::Execution(e) => {
                    f.write_str(operation.as_str())?;
                    if let Some(r) = requested {
                        write!(f, " to status {r}")?;
                    }
                    write!(
                        f,
                        " is not allowed on a job execution in status {} (version {})",
                        e.status, e.version
                    )?;
                    match requested {
                        // SPEC T4, R9.
                        Some(r) if !r.is_device_settable() => {
                            f.write_str("; a device sets only IN_PROGRESS, SUCCEEDED, FAILED or REJECTED")
                        }
                        // SPEC T6.
                        Some(_) if e.status.is_terminal() => {
                            f.write_str("; a terminal job execution never changes")
                        }
                        Some(_) | None => Ok(()),
                    }
                }
            },
            Self::VersionMismatch(e) => write!(
                f,
                "expectedVersion does not match: the job execution is at version {} (status {})",
                e.version, e.status
            ),
            Self::LimitExceeded(l) => f.write_str(match l {
                Limit::JobsDeletionInProgress => {
                    "only 10 jobs may be in DELETION_IN_PROGRESS at the same time"
                }
                Limit::TargetsPerJob => "a job may have at most 100 targets",
                Limit::Counter => "a version or execution number would pass its maximum",
                Limit::Time => "the time is past the last one the store keeps (2106-01-01T00:00:00Z)",
            }),
            Self::TerminalState(e) => {
                write!(f, "the job execution is in the terminal status {}", e.status)
            }
            Self::Throttled => f.write_str("too many notifications are waiting for delivery; retry later"),
            Self::CapacityExhausted(t) => write!(f, "the registry's table of {} is full", t.noun()),
            Self::LogicBug(what) => write!(f, "a defect of iot-jobs-core ({what}); please report it"),
        }
    }
}

impl core::error::Error for Rejection {}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;

    #[test]
    fn version_mismatch_per_plane_r13() {
        let s = ExecutionState { status: ExecutionStatus::InProgress, version: VersionNumber::INITIAL };
        let r = Rejection::VersionMismatch(s);
        assert_eq!(r.exception_name(Plane::Control), "VersionConflictException");
        assert_eq!(r.exception_name(Plane::Data), "InvalidStateTransitionException");
        assert_eq!(r.http_status(Plane::Control), 409);
        assert_eq!(r.http_status(Plane::Data), 409);
        assert_eq!(r.error_code(), ErrorCode::VersionMismatch);
        assert_eq!(r.execution_state(), Some(s));
    }

    #[test]
    fn throttling_and_limit_statuses() {
        assert_eq!(Rejection::Throttled.http_status(Plane::Control), 400);
        assert_eq!(Rejection::Throttled.http_status(Plane::Data), 429);
        let l = Rejection::LimitExceeded(Limit::JobsDeletionInProgress);
        assert_eq!(
            (l.exception_name(Plane::Control), l.http_status(Plane::Control)),
            ("LimitExceededException", 410)
        );
        let c = Rejection::CapacityExhausted(Table::Executions);
        assert_eq!(c.http_status(Plane::Control), 410);
        assert_eq!(c.http_status(Plane::Data), 503);
        assert_eq!(c.error_code(), ErrorCode::InternalError);
    }

    #[test]
    fn error_codes_round_trip_and_classify() {
        for c in ErrorCode::ALL {
            assert_eq!(c.as_str().parse::<ErrorCode>(), Ok(c));
        }
        assert!("Throttled".parse::<ErrorCode>().is_err());
        let with_state: std::vec::Vec<_> =
            ErrorCode::ALL.into_iter().filter(|c| c.carries_execution_state()).collect();
        assert_eq!(with_state, [ErrorCode::InvalidStateTransition, ErrorCode::VersionMismatch]);
        let retry: std::vec::Vec<_> = ErrorCode::ALL.into_iter().filter(|c| c.is_retryable()).collect();
        assert_eq!(retry, [ErrorCode::InternalError, ErrorCode::RequestThrottled]);
    }

    #[test]
    fn messages_say_what_was_wrong() {
        let r = Rejection::InvalidStateTransition {
            operation: Operation::DeleteJob,
            current: Current::Job(JobStatus::InProgress),
            requested: None,
        };
        assert_eq!(
            r.to_string(),
            "DeleteJob is not allowed on a job in status IN_PROGRESS; set force=true to delete a job that is not terminal"
        );
        let r = Rejection::InvalidStateTransition {
            operation: Operation::DeleteJob,
            current: Current::Job(JobStatus::DeletionInProgress),
            requested: None,
        };
        assert_eq!(
            r.to_string(),
            "DeleteJob is not allowed on a job in status DELETION_IN_PROGRESS; the job is already being deleted"
        );
        assert_eq!(Rejection::NotFound(Resource::Execution).to_string(), "the job execution does not exist");
    }
}
