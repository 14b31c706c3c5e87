//! The core's conformance tables (`iot_jobs_core::conformance`), row by row, as Python dicts:
//! the Python tests iterate the same data the Rust tests do, never a copy.

use iot_jobs_core::conformance::{self as c, Cell, Outcome};
use iot_jobs_core::policy::{NotifyOn, UnknownThing};
use iot_jobs_core::{ExecutionStatus, Plane};
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyDict;

use crate::convert::plane_str;

/// The names of the tables [`conformance_table`] returns.
const TABLES: [&str; 19] = [
    "JOB_STATUSES",
    "EXECUTION_STATUSES",
    "CANCEL_JOB",
    "DELETE_JOB",
    "CANCEL_JOB_EFFECT",
    "DELETE_JOB_EXECUTION",
    "CANCEL_JOB_EXECUTION",
    "UPDATE_JOB_EXECUTION",
    "VERSION_CHECKS",
    "DESCRIBE_JOB_EXECUTION",
    "START_NEXT",
    "REMOVE_TARGET",
    "JOB_COMPLETION",
    "DEVICE_ACCESS",
    "UNKNOWN_THING",
    "QUEUE_ON_REJOIN",
    "NOTIFY",
    "REMOVE_THING_JOB",
    "ERRORS",
];

/// The table names, in the order of the core's module.
#[pyfunction]
pub fn conformance_tables() -> Vec<&'static str> {
    TABLES.to_vec()
}

fn st(s: ExecutionStatus) -> &'static str {
    s.as_str()
}

fn opt(s: Option<ExecutionStatus>) -> Option<&'static str> {
    s.map(ExecutionStatus::as_str)
}

/// An outcome as `(exception_name, http_status)`, `None` when accepted.
fn outcome(o: Outcome) -> Option<(&'static str, u16)> {
    match o {
        Outcome::Accepted => None,
        Outcome::Refused(e, http) => Some((e.name(), http)),
    }
}

fn notify_on(n: NotifyOn) -> &'static str {
    match n {
        NotifyOn::MembershipChange => "MEMBERSHIP_CHANGE",
        NotifyOn::EveryNonTerminalChange => "EVERY_NON_TERMINAL_CHANGE",
    }
}

fn unknown(u: UnknownThing) -> &'static str {
    match u {
        UnknownThing::Empty => "EMPTY",
        UnknownThing::NotFound => "NOT_FOUND",
    }
}

/// One row: a dict from `(key, value)` pairs.
macro_rules! row {
    ($py:expr, { $($k:literal : $v:expr),* $(,)? }) => {{
        let d = PyDict::new($py);
        $( d.set_item($k, $v)?; )*
        d
    }};
}

/// The rows of one table, each a `dict` with the Rust row's fields; statuses are wire strings,
/// an outcome is `None` (accepted) or `(exception_name, http_status)`.
#[pyfunction]
pub fn conformance_table<'py>(py: Python<'py>, name: PyBackedStr) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let name: &str = &name;
    let rows: Vec<Bound<'py, PyDict>> = match name {
        "JOB_STATUSES" => c::JOB_STATUSES
            .iter()
            .map(|r| Ok(row!(py, {"status": r.status.as_str(), "terminal": r.terminal, "spec": r.spec})))
            .collect::<PyResult<_>>()?,
        "EXECUTION_STATUSES" => c::EXECUTION_STATUSES
            .iter()
            .map(|r| {
                Ok(row!(py, {"status": st(r.status), "terminal": r.terminal, "pending": r.pending,
                    "device_settable": r.device_settable, "retriable": r.retriable,
                    "set_by": r.set_by, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "CANCEL_JOB" => c::CANCEL_JOB
            .iter()
            .map(|r| {
                let cancels: Vec<&str> = r.cancels.iter().map(|s| s.as_str()).collect();
                Ok(row!(py, {"job": r.job.as_str(), "force": r.force, "outcome": outcome(r.outcome),
                    "cancels": cancels, "force_canceled": r.force_canceled, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "DELETE_JOB" => c::DELETE_JOB
            .iter()
            .map(|r| {
                Ok(row!(py, {"job": r.job.as_str(), "force": r.force, "deleting": r.deleting,
                    "outcome": outcome(r.outcome), "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "CANCEL_JOB_EFFECT" | "REMOVE_TARGET" => {
            let t: &[c::EffectRow] =
                if name == "REMOVE_TARGET" { &c::REMOVE_TARGET } else { &c::CANCEL_JOB_EFFECT };
            t.iter()
                .map(|r| {
                    Ok(row!(py, {"status": st(r.status), "force": r.force, "becomes": opt(r.becomes),
                        "spec": r.spec}))
                })
                .collect::<PyResult<_>>()?
        }
        "DELETE_JOB_EXECUTION" | "CANCEL_JOB_EXECUTION" => {
            let t: &[c::ExecutionRow] = if name == "DELETE_JOB_EXECUTION" {
                &c::DELETE_JOB_EXECUTION
            } else {
                &c::CANCEL_JOB_EXECUTION
            };
            t.iter()
                .map(|r| {
                    Ok(row!(py, {"status": st(r.status), "force": r.force, "outcome": outcome(r.outcome),
                        "spec": r.spec}))
                })
                .collect::<PyResult<_>>()?
        }
        "UPDATE_JOB_EXECUTION" => c::UPDATE_JOB_EXECUTION
            .iter()
            .map(|r| {
                // `requested` in ExecutionStatus::ALL order: requested status → result.
                let cells = PyDict::new(py);
                for (req, cell) in ExecutionStatus::ALL.iter().zip(r.requested.iter()) {
                    let to = match cell {
                        Cell::To(s) => Some(s.as_str()),
                        Cell::Refused => None,
                    };
                    cells.set_item(req.as_str(), to)?;
                }
                Ok(row!(py, {"current": st(r.current), "requested": cells, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "VERSION_CHECKS" => c::VERSION_CHECKS
            .iter()
            .map(|r| {
                Ok(row!(py, {"operation": r.operation, "expected": r.expected,
                    "control": outcome(r.control), "data": outcome(r.data),
                    "mqtt": r.mqtt.map(|m| m.as_str()), "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "DESCRIBE_JOB_EXECUTION" => c::DESCRIBE_JOB_EXECUTION
            .iter()
            .map(|r| {
                Ok(row!(py, {"status": st(r.status), "control": outcome(r.control),
                    "data": outcome(r.data), "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "START_NEXT" => c::START_NEXT
            .iter()
            .map(|r| {
                Ok(row!(py, {"head": opt(r.head), "effect": r.effect, "becomes": opt(r.becomes),
                    "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "JOB_COMPLETION" => c::JOB_COMPLETION
            .iter()
            .map(|r| {
                Ok(row!(py, {"job": c::COMPLETES_FROM.as_str(), "selection": r.selection.as_str(),
                    "all_terminal": r.all_terminal, "end_passed": r.end_passed,
                    "completes": r.completes, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "DEVICE_ACCESS" => c::DEVICE_ACCESS
            .iter()
            .map(|r| {
                let p: Plane = r.plane;
                Ok(row!(py, {"job": r.job.as_str(), "plane": plane_str(p), "outcome": outcome(r.outcome),
                    "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "UNKNOWN_THING" => c::UNKNOWN_THING
            .iter()
            .map(|r| {
                Ok(row!(py, {"unknown_thing": unknown(r.policy), "outcome": outcome(r.outcome),
                    "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "QUEUE_ON_REJOIN" => c::QUEUE_ON_REJOIN
            .iter()
            .map(|r| Ok(row!(py, {"newest": opt(r.newest), "queues": r.queues, "spec": r.spec})))
            .collect::<PyResult<_>>()?,
        "NOTIFY" => c::NOTIFY
            .iter()
            .map(|r| {
                Ok(row!(py, {"notify_on": notify_on(r.notify_on), "was_listed": r.was_listed,
                    "now_listed": r.now_listed, "status_changed": r.status_changed,
                    "notifies": r.notifies, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "REMOVE_THING_JOB" => c::REMOVE_THING_JOB
            .iter()
            .map(|r| Ok(row!(py, {"job": r.job.as_str(), "applies": r.applies, "spec": r.spec})))
            .collect::<PyResult<_>>()?,
        "ERRORS" => c::ERRORS
            .iter()
            .map(|r| {
                Ok(row!(py, {"rejection": r.rejection, "control_name": r.control_name,
                    "control_http": r.control_http, "data_name": r.data_name, "data_http": r.data_http,
                    "mqtt": r.mqtt, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        _ => {
            return Err(PyKeyError::new_err(format!(
                "no conformance table {name:?}; see conformance_tables()"
            )));
        }
    };
    Ok(rows)
}
