//! Conversions between Python values and the core's types, and the one way a core refusal
//! becomes a Python exception.

use iot_jobs_core::{
    ExecutionState, ExecutionStatus, Field, FieldError, InvalidRequest, JobStatus, Plane, Rejection,
    TargetSelection, Violation,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// The package's pure-Python modules the extension hands objects to.
pub const TYPES: &str = "iot_jobs_core._types";
pub const ERRORS: &str = "iot_jobs_core.errors";
pub const RECORDS: &str = "iot_jobs_core.records";

/// Parses a wire status (a `str` or one of the package's `str` enums).
pub fn job_status(s: &str) -> PyResult<JobStatus> {
    s.parse().map_err(|_| PyValueError::new_err(format!("{s:?} is not a job status")))
}

/// Parses a wire execution status.
pub fn execution_status(s: &str) -> PyResult<ExecutionStatus> {
    s.parse().map_err(|_| PyValueError::new_err(format!("{s:?} is not a job execution status")))
}

/// Parses a target selection.
pub fn target_selection(s: &str) -> PyResult<TargetSelection> {
    s.parse().map_err(|_| PyValueError::new_err(format!("{s:?} is not a target selection")))
}

/// Parses a plane: `"control"` or `"data"` (or `Plane.CONTROL`/`Plane.DATA`).
pub fn plane(s: &str) -> PyResult<Plane> {
    match s {
        "control" => Ok(Plane::Control),
        "data" => Ok(Plane::Data),
        _ => Err(PyValueError::new_err(format!("{s:?} is not a plane (\"control\" or \"data\")"))),
    }
}

pub const fn plane_str(p: Plane) -> &'static str {
    match p {
        Plane::Control => "control",
        Plane::Data => "data",
    }
}

/// An optional status argument.
pub fn opt_execution_status(s: Option<&PyBackedStr>) -> PyResult<Option<ExecutionStatus>> {
    s.map(|s| execution_status(s)).transpose()
}

/// The members of one of the package's enums, in the core's `ALL` order, fetched once.
fn members<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Vec<Py<PyAny>>>,
    class: &str,
    names: &[&str],
) -> PyResult<&'static [Py<PyAny>]> {
    cell.get_or_try_init(py, || {
        let cls = py.import(TYPES)?.getattr(class)?;
        names.iter().map(|n| cls.getattr(*n).map(Bound::unbind)).collect()
    })
    .map(Vec::as_slice)
}

fn member_at<'py>(
    py: Python<'py>,
    all: &[Py<PyAny>],
    i: Option<usize>,
    what: &str,
) -> PyResult<Bound<'py, PyAny>> {
    i.and_then(|i| all.get(i))
        .map(|m| m.bind(py).clone())
        .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err(format!("{what} has no Python member")))
}

/// The `ExecutionStatus` enum member for `s`.
pub fn execution_status_obj(py: Python<'_>, s: ExecutionStatus) -> PyResult<Bound<'_, PyAny>> {
    let names = ExecutionStatus::ALL.map(ExecutionStatus::as_str);
    let all = members(py, &EXEC_MEMBERS, "ExecutionStatus", &names)?;
    member_at(py, all, ExecutionStatus::ALL.iter().position(|x| *x == s), s.as_str())
}

/// The `JobStatus` enum member for `s`.
pub fn job_status_obj(py: Python<'_>, s: JobStatus) -> PyResult<Bound<'_, PyAny>> {
    let names = JobStatus::ALL.map(JobStatus::as_str);
    let all = members(py, &JOB_MEMBERS, "JobStatus", &names)?;
    member_at(py, all, JobStatus::ALL.iter().position(|x| *x == s), s.as_str())
}

/// The `TargetSelection` enum member for `s`.
pub fn selection_obj(py: Python<'_>, s: TargetSelection) -> PyResult<Bound<'_, PyAny>> {
    static ALL: PyOnceLock<Vec<Py<PyAny>>> = PyOnceLock::new();
    const SELECTIONS: [TargetSelection; 2] = [TargetSelection::Snapshot, TargetSelection::Continuous];
    let names = SELECTIONS.map(TargetSelection::as_str);
    let all = members(py, &ALL, "TargetSelection", &names)?;
    member_at(py, all, SELECTIONS.iter().position(|x| *x == s), s.as_str())
}

static EXEC_MEMBERS: PyOnceLock<Vec<Py<PyAny>>> = PyOnceLock::new();
static JOB_MEMBERS: PyOnceLock<Vec<Py<PyAny>>> = PyOnceLock::new();

/// A status argument: one of the enum's members (found by identity, no conversion) or a wire
/// string, parsed with `parse`.
fn status_arg<T: Copy>(
    ob: &Bound<'_, PyAny>,
    cell: &'static PyOnceLock<Vec<Py<PyAny>>>,
    class: &str,
    all: &[T],
    name: fn(T) -> &'static str,
    parse: fn(&str) -> PyResult<T>,
) -> PyResult<T> {
    let names: Vec<&str> = all.iter().map(|s| name(*s)).collect();
    let objs = members(ob.py(), cell, class, &names)?;
    match objs.iter().zip(all).find(|(m, _)| ob.is(*m)) {
        Some((_, s)) => Ok(*s),
        None => parse(&ob.extract::<PyBackedStr>()?),
    }
}

/// An execution status argument: an `ExecutionStatus` member or a wire string.
pub fn execution_status_arg(ob: &Bound<'_, PyAny>) -> PyResult<ExecutionStatus> {
    status_arg(
        ob,
        &EXEC_MEMBERS,
        "ExecutionStatus",
        &ExecutionStatus::ALL,
        ExecutionStatus::as_str,
        execution_status,
    )
}

/// A job status argument: a `JobStatus` member or a wire string.
pub fn job_status_arg(ob: &Bound<'_, PyAny>) -> PyResult<JobStatus> {
    status_arg(ob, &JOB_MEMBERS, "JobStatus", &JobStatus::ALL, JobStatus::as_str, job_status)
}

/// An `ExecutionState` named tuple.
pub fn state_obj(py: Python<'_>, s: ExecutionState) -> PyResult<Bound<'_, PyAny>> {
    static CLS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let status = execution_status_obj(py, s.status)?;
    CLS.import(py, TYPES, "ExecutionState")?.call1((status, s.version.get()))
}

/// Calls a class of the package's `module` (cached per call site through `cell`).
pub fn call_class<'py, A>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyType>>,
    module: &str,
    class: &str,
    args: A,
) -> PyResult<Bound<'py, PyAny>>
where
    A: pyo3::call::PyCallArgs<'py>,
{
    cell.import(py, module, class)?.call1(args)
}

const fn rejection_kind(r: &Rejection) -> &'static str {
    match r {
        Rejection::InvalidField(_) => "InvalidField",
        Rejection::InvalidRequest(_) => "InvalidRequest",
        Rejection::NotFound(_) => "NotFound",
        Rejection::AlreadyExists(_) => "AlreadyExists",
        Rejection::InvalidStateTransition { .. } => "InvalidStateTransition",
        Rejection::VersionMismatch(_) => "VersionMismatch",
        Rejection::LimitExceeded(_) => "LimitExceeded",
        Rejection::TerminalState(_) => "TerminalState",
        Rejection::Throttled => "Throttled",
        Rejection::CapacityExhausted(_) => "CapacityExhausted",
        Rejection::LogicBug(_) => "LogicBug",
        // `Rejection` is non-exhaustive: a later core may add kinds; they still carry their
        // exception, status and MQTT code.
        _ => "Other",
    }
}

const fn violation_parts(v: Violation) -> (&'static str, Option<usize>) {
    match v {
        Violation::Empty => ("empty", None),
        Violation::TooLong { .. } => ("too_long", None),
        Violation::InvalidCharacter { position } => ("invalid_character", Some(position)),
        Violation::TooManyPairs { .. } => ("too_many_pairs", None),
        Violation::DuplicateKey { position } => ("duplicate_key", Some(position)),
        Violation::OutOfRange { .. } => ("out_of_range", None),
        Violation::NotANumber => ("not_a_number", None),
        Violation::TooLarge { .. } => ("too_large", None),
        Violation::Config(_) => ("config", None),
        _ => ("other", None),
    }
}

/// The Python exception for a refusal of an operation on `plane` (see `errors.py`).
pub fn rejected(py: Python<'_>, r: Rejection, on: Plane) -> PyErr {
    rejected_with(py, r, r.to_string(), on, None, None)
}

/// The Python exception for a refusal about one resource the caller named (a registry
/// call's `ResourceNotFoundException`, `ResourceAlreadyExistsException`): `message` names it,
/// and the exception's `resource_id` is `id`.
pub fn rejected_named(py: Python<'_>, r: Rejection, on: Plane, message: String, id: String) -> PyErr {
    rejected_with(py, r, message, on, None, Some(id))
}

/// An `InvalidRequestException` (kind `InvalidRequest`) for a refusal the core answers with
/// its own error type rather than a `Rejection` (a `schedulingConfig` bound, a cron
/// expression): the shape of every `InvalidRequest` rejection, with `message`.
pub fn invalid_request(py: Python<'_>, message: String) -> PyErr {
    rejected_with(
        py,
        Rejection::InvalidRequest(InvalidRequest::NoTargets),
        message,
        Plane::Control,
        None,
        None,
    )
}

/// `InvalidFieldError` (constraint `unknown_value`) for a request member whose value is none of
/// the names AWS takes, where the core answers with a parse error rather than a `FieldError`:
/// `field` is the member's AWS path (`schedulingConfig.endBehavior`), `allowed` its values.
/// The shape is every `InvalidField` rejection's (`InvalidRequestException`, 400).
pub fn unknown_value(py: Python<'_>, field: &'static str, given: &str, allowed: &[&str]) -> PyErr {
    let message = format!("{field} {given:?} is not one of {}", allowed.join(", "));
    let shape = Rejection::InvalidField(FieldError::new(Field::JobConfig, Violation::NotANumber));
    rejected_with(py, shape, message, Plane::Control, Some((field, "unknown_value")), None)
}

/// A request member that names an execution status (UpdateJobExecution's `status`, the
/// ListJobExecutions filters): `InvalidFieldError` naming `field` for a value that is no status,
/// as for the configuration's enums; the core decides which statuses the operation takes.
pub fn status_member(py: Python<'_>, field: &'static str, given: &str) -> PyResult<ExecutionStatus> {
    request_enum(py, field, given, &ExecutionStatus::ALL.map(ExecutionStatus::as_str))
}

/// Parses a request member's enum value, or raises [`unknown_value`] naming `field`.
pub fn request_enum<T: core::str::FromStr>(
    py: Python<'_>,
    field: &'static str,
    given: &str,
    allowed: &[&str],
) -> PyResult<T> {
    given.parse().map_err(|_| unknown_value(py, field, given, allowed))
}

fn rejected_with(
    py: Python<'_>,
    r: Rejection,
    message: String,
    on: Plane,
    field_as: Option<(&'static str, &'static str)>,
    resource_id: Option<String>,
) -> PyErr {
    static MAKE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let build = || -> PyResult<PyErr> {
        let make = MAKE.import(py, ERRORS, "_from_native")?;
        let state = match r.execution_state() {
            Some(s) => Some((execution_status_obj(py, s.status)?, s.version.get())),
            None => None,
        };
        let field = match (field_as, r) {
            (Some((name, constraint)), _) => Some((name, constraint, None)),
            (None, Rejection::InvalidField(e)) => {
                let (constraint, position) = violation_parts(e.violation);
                Some((e.field.as_str(), constraint, position))
            }
            (None, _) => None,
        };
        let args = (
            rejection_kind(&r),
            message,
            plane_str(on),
            (r.exception_name(Plane::Control), r.http_status(Plane::Control)),
            (r.exception_name(Plane::Data), r.http_status(Plane::Data)),
            r.error_code().as_str(),
            state,
            field,
            resource_id,
        );
        Ok(PyErr::from_value(make.call1(args)?))
    };
    build().unwrap_or_else(|e| e)
}

/// A field that failed validation: `InvalidFieldError` (a `ValueError` and an
/// `InvalidRequestException`).
pub fn field_error(py: Python<'_>, e: FieldError) -> PyErr {
    rejected(py, Rejection::InvalidField(e), Plane::Control)
}

/// `Result<T, Rejection>` → `PyResult<T>` for an operation on `plane`.
pub trait OrRaise<T> {
    fn or_raise(self, py: Python<'_>, on: Plane) -> PyResult<T>;
}

impl<T> OrRaise<T> for Result<T, Rejection> {
    fn or_raise(self, py: Python<'_>, on: Plane) -> PyResult<T> {
        self.map_err(|r| rejected(py, r, on))
    }
}

impl<T> OrRaise<T> for Result<T, FieldError> {
    fn or_raise(self, py: Python<'_>, _on: Plane) -> PyResult<T> {
        self.map_err(|e| field_error(py, e))
    }
}
