//! Error answers: the HTTP status, the exception name botocore maps to a modeled error
//! (`x-amzn-ErrorType`), and the `{"message","__type"}` body, with `executionState` where the
//! error carries the execution's state ([`ApiError::state_in_body`]).

use iot_jobs_core::wire::WireError;
use std::collections::BTreeMap;

use iot_jobs_core::{ErrorCode, ExecutionState, Plane, Rejection};
use serde::Serialize;

/// An error response: status, `x-amzn-ErrorType`, and `{"message"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The exception name botocore maps to a modeled error.
    pub name: &'static str,
    /// The message.
    pub message: String,
    /// The MQTT ErrorResponse `code` of the same error (SPEC §4.4).
    pub code: ErrorCode,
    /// The MQTT ErrorResponse `executionState`, where the code carries one (SPEC §4.4).
    pub execution_state: Option<ExecutionState>,
    /// The statusDetails of the execution `execution_state` is the state of, read from the
    /// store by the handler that was refused (none until then): the `executionState` of the
    /// HTTP body and of the MQTT ErrorResponse carries them.
    pub status_details: Vec<(String, String)>,
    /// Whether the HTTP body carries `executionState` (with `execution_state`): on the data
    /// plane, as botocore's iot-jobs-data model says of InvalidStateTransitionException ("the
    /// body of the error message also contains the executionState field"; SPEC T6, R13); on the
    /// control plane for a version mismatch only (CancelJobExecution's `expectedVersion`: "an
    /// ErrorResponse that contains the current job execution status data is returned"), not
    /// for its InvalidStateTransitionException, whose model says nothing of it.
    pub state_in_body: bool,
}

impl ApiError {
    /// A core rejection, shaped for `plane`.
    pub fn rejection(r: Rejection, plane: Plane) -> Self {
        ApiError {
            status: r.http_status(plane),
            name: r.exception_name(plane),
            message: r.to_string(),
            code: r.error_code(),
            execution_state: r.execution_state(),
            status_details: Vec::new(),
            state_in_body: plane == Plane::Data || matches!(r, Rejection::VersionMismatch(_)),
        }
    }
    /// A data-plane body the core's wire refused (or, never for a client's input, a response it
    /// could not render): a field constraint is the core's `InvalidField` rejection, any other
    /// invalid body a 400 `InvalidRequestException`.
    pub fn wire(e: WireError) -> Self {
        match e {
            WireError::Field(f) => Self::rejection(Rejection::InvalidField(f), Plane::Data),
            e if e.error_code() == ErrorCode::InternalError => {
                Self::unavailable(format!("cannot render: {e}"))
            }
            e => ApiError {
                code: e.error_code(),
                ..Self::invalid(format!("the request body is not valid: {e}"))
            },
        }
    }
    /// 400 `InvalidRequestException`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidRequestException", message, ErrorCode::InvalidRequest)
    }
    /// 404 `ResourceNotFoundException`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "ResourceNotFoundException", message, ErrorCode::ResourceNotFound)
    }
    /// 409 `ResourceAlreadyExistsException`.
    pub fn exists(message: impl Into<String>) -> Self {
        Self::new(409, "ResourceAlreadyExistsException", message, ErrorCode::InvalidRequest)
    }
    /// 409 `VersionConflictException`.
    pub fn version_conflict(message: impl Into<String>) -> Self {
        Self::new(409, "VersionConflictException", message, ErrorCode::VersionMismatch)
    }
    /// 410 `LimitExceededException`: a limit of AWS's or of the emulator's caps (the MQTT
    /// code is `InvalidRequest`).
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::new(410, "LimitExceededException", message, ErrorCode::InvalidRequest)
    }
    /// 404/405 `UnknownOperationException`: no operation has this method and path.
    pub fn unknown_operation(status: u16, message: impl Into<String>) -> Self {
        Self::new(status, "UnknownOperationException", message, ErrorCode::InvalidTopic)
    }
    /// 503 `ServiceUnavailableException` (the emulator could not save its state, or render).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailableException", message, ErrorCode::InternalError)
    }
    /// An error of this status, exception name and MQTT code, without an execution state.
    pub fn new(status: u16, name: &'static str, message: impl Into<String>, code: ErrorCode) -> Self {
        ApiError {
            status,
            name,
            message: message.into(),
            code,
            execution_state: None,
            status_details: Vec::new(),
            state_in_body: false,
        }
    }
    /// The JSON body: `message`, `__type`, and `executionState` (the data plane's
    /// `JobExecutionState`: `status`, `statusDetails`, `versionNumber`) where
    /// [`ApiError::state_in_body`].
    pub fn body(&self) -> Vec<u8> {
        let execution_state = self.execution_state.filter(|_| self.state_in_body).map(|s| StateBody {
            status: s.status.as_str(),
            status_details: self.status_details.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
            version_number: s.version.get(),
        });
        serde_json::to_vec(&ErrorBody { message: &self.message, kind: self.name, execution_state })
            .unwrap_or_default()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    message: &'a str,
    #[serde(rename = "__type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    execution_state: Option<StateBody<'a>>,
}

/// `JobExecutionState` (iot-jobs-data).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StateBody<'a> {
    status: &'static str,
    status_details: BTreeMap<&'a str, &'a str>,
    version_number: u64,
}
