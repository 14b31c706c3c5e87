//! How rejections go on the wire, and what each Policy knob changes (SPEC §4.4, §R).

use super::*;

/// How one kind of rejection goes on the wire (SPEC §4.1, §4.3, §4.4, R13, AMBIG-18, AMBIG-19).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ErrorRow {
    /// The [`Rejection`](crate::Rejection) variant.
    pub rejection: &'static str,
    /// Control plane exception name.
    pub control_name: &'static str,
    /// Control plane HTTP status.
    pub control_http: u16,
    /// Data plane exception name.
    pub data_name: &'static str,
    /// Data plane HTTP status.
    pub data_http: u16,
    /// MQTT ErrorResponse code.
    pub mqtt: &'static str,
    /// Source.
    pub spec: &'static str,
}

/// Every rejection on every plane.
pub const ERRORS: [ErrorRow; 11] = [
    ErrorRow {
        rejection: "InvalidField",
        control_name: "InvalidRequestException",
        control_http: 400,
        data_name: "InvalidRequestException",
        data_http: 400,
        mqtt: "InvalidRequest",
        spec: "SPEC 4.1, 4.3, 4.4",
    },
    ErrorRow {
        rejection: "InvalidRequest",
        control_name: "InvalidRequestException",
        control_http: 400,
        data_name: "InvalidRequestException",
        data_http: 400,
        mqtt: "InvalidRequest",
        spec: "SPEC 4.1, R3",
    },
    ErrorRow {
        rejection: "NotFound",
        control_name: "ResourceNotFoundException",
        control_http: 404,
        data_name: "ResourceNotFoundException",
        data_http: 404,
        mqtt: "ResourceNotFound",
        spec: "SPEC 4.1, 4.3, 4.4",
    },
    ErrorRow {
        rejection: "AlreadyExists",
        control_name: "ResourceAlreadyExistsException",
        control_http: 409,
        data_name: "ResourceAlreadyExistsException",
        data_http: 409,
        mqtt: "InvalidRequest",
        spec: "SPEC 4.1 CreateJob",
    },
    ErrorRow {
        rejection: "InvalidStateTransition",
        control_name: "InvalidStateTransitionException",
        control_http: 409,
        data_name: "InvalidStateTransitionException",
        data_http: 409,
        mqtt: "InvalidStateTransition",
        spec: "SPEC 4.1, 4.3, 4.4, T6",
    },
    ErrorRow {
        rejection: "VersionMismatch",
        control_name: "VersionConflictException",
        control_http: 409,
        data_name: "InvalidStateTransitionException",
        data_http: 409,
        mqtt: "VersionMismatch",
        spec: "SPEC R13",
    },
    ErrorRow {
        rejection: "LimitExceeded",
        control_name: "LimitExceededException",
        control_http: 410,
        data_name: "InvalidRequestException",
        data_http: 400,
        mqtt: "InvalidRequest",
        spec: "SPEC §6 lim-store, AMBIG-19",
    },
    ErrorRow {
        rejection: "TerminalState",
        control_name: "InvalidStateTransitionException",
        control_http: 409,
        data_name: "TerminalStateException",
        data_http: 410,
        mqtt: "TerminalStateReached",
        spec: "SPEC R11, 4.4",
    },
    ErrorRow {
        rejection: "Throttled",
        control_name: "ThrottlingException",
        control_http: 400,
        data_name: "ThrottlingException",
        data_http: 429,
        mqtt: "RequestThrottled",
        spec: "SPEC AMBIG-18, 4.4",
    },
    ErrorRow {
        rejection: "CapacityExhausted",
        control_name: "LimitExceededException",
        control_http: 410,
        data_name: "ServiceUnavailableException",
        data_http: 503,
        mqtt: "InternalError",
        spec: "SPEC 4.4 (the store's own limit)",
    },
    ErrorRow {
        rejection: "LogicBug",
        control_name: "ServiceUnavailableException",
        control_http: 503,
        data_name: "ServiceUnavailableException",
        data_http: 503,
        mqtt: "InternalError",
        spec: "SPEC 4.4 (a defect of this crate, not of the request)",
    },
];

/// The table a [`PolicyDelta`] changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TableRef {
    /// [`DELETE_JOB_EXECUTION`].
    DeleteJobExecution,
    /// [`CANCEL_JOB`].
    CancelJob,
    /// [`UPDATE_JOB_EXECUTION`] (row = current status index, column = requested status index).
    UpdateJobExecution,
    /// [`REMOVE_TARGET`].
    RemoveTarget,
    /// [`DESCRIBE_JOB_EXECUTION`] (the data-plane column).
    DescribeJobExecution,
}

/// A cell that changes when a knob is set to its alternative reading (SPEC §R).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PolicyDelta {
    /// The SPEC §R row.
    pub reading: &'static str,
    /// The knob and its alternative value.
    pub knob: &'static str,
    /// The table.
    pub table: TableRef,
    /// The row's index in the table.
    pub row: usize,
    /// For [`TableRef::UpdateJobExecution`], the requested status's index; 0 otherwise.
    pub column: usize,
    /// The answer under the alternative: accepted or refused (with the resulting status where
    /// the table has one).
    pub alternative: Outcome,
    /// For effect tables, the new status under the alternative.
    pub becomes: Option<ExecutionStatus>,
}

/// Every cell the alternative readings change; all other cells stay as in the tables.
/// (R6, R7, R12, R14, R15 and R19 change stored state or lists, not these decisions; the
/// registry's tests cover them.)
pub const POLICY_DELTAS: [PolicyDelta; 12] = [
    PolicyDelta {
        reading: "R1",
        knob: "delete_without_force.timed_out = false",
        table: TableRef::DeleteJobExecution,
        row: 8,
        column: 0,
        alternative: ISTE,
        becomes: None,
    },
    PolicyDelta {
        reading: "R2",
        knob: "delete_without_force.queued = true",
        table: TableRef::DeleteJobExecution,
        row: 0,
        column: 0,
        alternative: OK,
        becomes: None,
    },
    PolicyDelta {
        reading: "R3",
        knob: "force_cancel_escalates = true",
        table: TableRef::CancelJob,
        row: 3,
        column: 0,
        alternative: OK,
        becomes: None,
    },
    PolicyDelta {
        reading: "R9",
        knob: "device_may_skip_in_progress = false",
        table: TableRef::UpdateJobExecution,
        row: 0,
        column: 2,
        alternative: ISTE,
        becomes: None,
    },
    PolicyDelta {
        reading: "R9",
        knob: "device_may_skip_in_progress = false",
        table: TableRef::UpdateJobExecution,
        row: 0,
        column: 3,
        alternative: ISTE,
        becomes: None,
    },
    PolicyDelta {
        reading: "R10",
        knob: "remove_in_progress = false",
        table: TableRef::RemoveTarget,
        row: 1,
        column: 0,
        alternative: OK,
        becomes: None,
    },
    PolicyDelta {
        reading: "R11",
        knob: "data_plane_describes_terminal = true",
        table: TableRef::DescribeJobExecution,
        row: 2,
        column: 0,
        alternative: OK,
        becomes: None,
    },
    PolicyDelta {
        reading: "R11",
        knob: "data_plane_describes_terminal = true",
        table: TableRef::DescribeJobExecution,
        row: 3,
        column: 0,
        alternative: OK,
        becomes: None,
    },
    PolicyDelta {
        reading: "R11",
        knob: "data_plane_describes_terminal = true",
        table: TableRef::DescribeJobExecution,
        row: 4,
        column: 0,
        alternative: OK,
        becomes: None,
    },
    PolicyDelta {
        reading: "R11",
        knob: "data_plane_describes_terminal = true",
        table: TableRef::DescribeJobExecution,
        row: 5,
        column: 0,
        alternative: OK,
        becomes: None,
    },
    PolicyDelta {
        reading: "R11",
        knob: "data_plane_describes_terminal = true",
        table: TableRef::DescribeJobExecution,
        row: 6,
        column: 0,
        alternative: OK,
        becomes: None,
    },
    PolicyDelta {
        reading: "R11",
        knob: "data_plane_describes_terminal = true",
        table: TableRef::DescribeJobExecution,
        row: 7,
        column: 0,
        alternative: OK,
        becomes: None,
    },
];
