//! Error answers: the HTTP status, the exception name botocore maps to a modeled error
//! (`x-amzn-ErrorType`), and the `{"message","__type"}` body.

use iot_jobs_core::wire::WireError;
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
        ApiError { status, name, message: message.into(), code, execution_state: None }
    }
    /// The JSON body.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&ErrorBody { message: &self.message, kind: self.name }).unwrap_or_default()
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    message: &'a str,
    #[serde(rename = "__type")]
    kind: &'a str,
}
