//! The core's conformance tables (`iot_jobs_core::conformance`), row by row, as Python dicts:
//! the Python tests iterate the same data the Rust tests do, never a copy.

use iot_jobs_core::conformance::{
    self as c, BatchDue, BoundFrom, Cell, ConfigMember, KeyAfter, KeyIn, Outcome, ScheduleEventKind, TableRef,
};
use iot_jobs_core::policy::{DetailsWrite, NotifyOn, UnknownThing};
use iot_jobs_core::{ExecutionStatus, Plane};
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyDict;

use crate::convert::plane_str;
use crate::schedule::{timer_str, window_str};

/// The names of the tables [`conformance_table`] returns.
const TABLES: [&str; 45] = [
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
    "POLICY_DELTAS",
    "RETRY_JOB",
    "RETRY_FAILURE",
    "RETRY_CRITERION",
    "ABORT_JOB",
    "ABORT_FAILURES",
    "CONCURRENT_JOB",
    "DETAILS_WRITE",
    "UPDATE_JOB_CONFIG",
    "SCHEDULE_BOUNDS",
    "WINDOW",
    "MAINTENANCE_WINDOW",
    "SCHEDULE_EVENTS",
    "END_BEHAVIOR",
    "ROLLOUT_REACH",
    "GROUP_JOIN",
    "GROUP_LEAVE",
    "BATCH_ON_START",
    "TIMER_ON_STATUS",
    "TEMPLATE_JOB_CONFIG",
    "WINDOWED_EVENTS",
    "RAMP",
    "NOTIFY_TOPICS",
    "NAMESPACE_PAYLOAD",
    "JOB_EVENT_STATUS",
    "JOB_HOLDS",
];

/// The module's numeric constants: `DETAILS_MAX_PAIRS`, `RETRY_MAX_TOTAL`, `WINDOWS_BASE`.
#[pyfunction]
pub fn conformance_constants() -> Vec<(&'static str, u64)> {
    vec![
        ("DETAILS_MAX_PAIRS", c::DETAILS_MAX_PAIRS as u64),
        ("RETRY_MAX_TOTAL", u64::from(c::RETRY_MAX_TOTAL)),
        ("WINDOWS_BASE", c::WINDOWS_BASE),
    ]
}

/// The table names (the Python tests check them against the core's module's source).
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

fn table_ref(t: TableRef) -> &'static str {
    match t {
        TableRef::DeleteJobExecution => "DELETE_JOB_EXECUTION",
        TableRef::CancelJob => "CANCEL_JOB",
        TableRef::UpdateJobExecution => "UPDATE_JOB_EXECUTION",
        TableRef::RemoveTarget => "REMOVE_TARGET",
        TableRef::DescribeJobExecution => "DESCRIBE_JOB_EXECUTION",
    }
}

fn details_write(w: DetailsWrite) -> &'static str {
    match w {
        DetailsWrite::Replace => "REPLACE",
        DetailsWrite::Merge => "MERGE",
    }
}

fn key_in(k: KeyIn) -> &'static str {
    match k {
        KeyIn::Both => "BOTH",
        KeyIn::StoredOnly => "STORED_ONLY",
        KeyIn::UpdateOnly => "UPDATE_ONLY",
    }
}

fn key_after(k: KeyAfter) -> &'static str {
    match k {
        KeyAfter::UpdateValue => "UPDATE_VALUE",
        KeyAfter::StoredValue => "STORED_VALUE",
        KeyAfter::Dropped => "DROPPED",
    }
}

/// A configuration member: its AWS name and the `create_job` keywords that give it.
fn config_member(m: ConfigMember) -> (&'static str, &'static [&'static str]) {
    match m {
        ConfigMember::Timeout => ("timeoutConfig", &["in_progress_timeout_minutes"]),
        ConfigMember::Retry => ("jobExecutionsRetryConfig", &["retry"]),
        ConfigMember::Abort => ("abortConfig", &["abort"]),
        ConfigMember::Rollout => ("jobExecutionsRolloutConfig", &["maximum_per_minute", "exponential_rate"]),
        ConfigMember::Scheduling => ("schedulingConfig", &["start_time", "end_time", "end_behavior"]),
        ConfigMember::MaintenanceWindows => ("schedulingConfig.maintenanceWindows", &["maintenance_windows"]),
    }
}

fn bound_from(b: BoundFrom) -> &'static str {
    match b {
        BoundFrom::Now => "NOW",
        BoundFrom::StartOrNow => "START_OR_NOW",
    }
}

fn event_kind(k: ScheduleEventKind) -> &'static str {
    match k {
        ScheduleEventKind::Start => "START",
        ScheduleEventKind::Batch => "BATCH",
        ScheduleEventKind::End => "END",
    }
}

fn batch_due(d: BatchDue) -> &'static str {
    match d {
        BatchDue::None => "NONE",
        BatchDue::Later => "LATER",
        BatchDue::Come => "COME",
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

fn job_flags<'py>(py: Python<'py>, t: &[c::JobFlagRow]) -> PyResult<Vec<Bound<'py, PyDict>>> {
    t.iter().map(|r| Ok(row!(py, {"job": r.job.as_str(), "applies": r.applies, "spec": r.spec}))).collect()
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
        "JOB_EVENT_STATUS" => c::JOB_EVENT_STATUS
            .iter()
            .map(|r| Ok(row!(py, {"event": r.event.as_str(), "status": r.status, "spec": r.spec})))
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
            .map(|r| {
                let queues = r.queues.map(|u| crate::lifecycle::retries_used(py, u)).transpose()?;
                Ok(row!(py, {"newest": opt(r.newest), "queues": queues, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "NOTIFY" => c::NOTIFY
            .iter()
            .map(|r| {
                Ok(row!(py, {"notify_on": notify_on(r.notify_on), "was_listed": r.was_listed,
                    "now_listed": r.now_listed, "status_changed": r.status_changed,
                    "notifies": r.notifies, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "REMOVE_THING_JOB" => job_flags(py, &c::REMOVE_THING_JOB)?,
        "JOB_HOLDS" => c::JOB_HOLDS
            .iter()
            .map(|r| {
                let holds: Vec<&str> = r.holds.iter().map(|s| s.as_str()).collect();
                Ok(row!(py, {"job": r.job.as_str(), "force_canceled": r.force_canceled, "holds": holds,
                    "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "RETRY_JOB" => job_flags(py, &c::RETRY_JOB)?,
        "ABORT_JOB" => job_flags(py, &c::ABORT_JOB)?,
        "CONCURRENT_JOB" => job_flags(py, &c::CONCURRENT_JOB)?,
        "ERRORS" => c::ERRORS
            .iter()
            .map(|r| {
                Ok(row!(py, {"rejection": r.rejection, "control_name": r.control_name,
                    "control_http": r.control_http, "data_name": r.data_name, "data_http": r.data_http,
                    "mqtt": r.mqtt, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "POLICY_DELTAS" => c::POLICY_DELTAS
            .iter()
            .map(|r| {
                Ok(row!(py, {"reading": r.reading, "knob": r.knob, "table": table_ref(r.table),
                    "row": r.row, "column": r.column, "alternative": outcome(r.alternative),
                    "becomes": opt(r.becomes)}))
            })
            .collect::<PyResult<_>>()?,
        "RETRY_FAILURE" => c::RETRY_FAILURE
            .iter()
            .map(|r| {
                Ok(row!(py, {"status": st(r.status), "failure": r.failure.map(|f| f.as_str()),
                    "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "RETRY_CRITERION" => c::RETRY_CRITERION
            .iter()
            .map(|r| {
                let criteria: Vec<&str> = r.criteria.iter().map(|f| f.as_str()).collect();
                Ok(row!(py, {"failure": r.failure.as_str(), "criteria": criteria,
                    "applies": r.applies.map(|f| f.as_str()), "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "ABORT_FAILURES" => c::ABORT_FAILURES
            .iter()
            .map(|r| {
                Ok(row!(py, {"failure": r.failure.as_str(), "failed": r.failed, "rejected": r.rejected,
                    "timed_out": r.timed_out, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "DETAILS_WRITE" => c::DETAILS_WRITE
            .iter()
            .map(|r| {
                Ok(row!(py, {"details_write": details_write(r.write), "key": key_in(r.key),
                    "after": key_after(r.after), "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "UPDATE_JOB_CONFIG" | "TEMPLATE_JOB_CONFIG" => {
            let t: &[c::ConfigMemberRow] =
                if name == "UPDATE_JOB_CONFIG" { &c::UPDATE_JOB_CONFIG } else { &c::TEMPLATE_JOB_CONFIG };
            t.iter()
                .map(|r| {
                    let (member, keys) = config_member(r.member);
                    Ok(row!(py, {"member": member, "keys": keys.to_vec(), "updatable": r.updatable,
                    "spec": r.spec}))
                })
                .collect::<PyResult<_>>()?
        }
        "WINDOWED_EVENTS" => c::WINDOWED_EVENTS
            .iter()
            .map(|r| {
                Ok(row!(py, {"status": r.status.as_str(), "started": r.started, "open": r.open,
                    "start": r.start, "window": r.window.map(window_str), "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "RAMP" => c::RAMP
            .iter()
            .map(|r| {
                Ok(row!(py, {"base": r.base, "factor_tenths": r.factor_tenths,
                    "notified_criterion": r.notified_criterion,
                    "succeeded_criterion": r.succeeded_criterion, "maximum": r.maximum,
                    "before": r.before, "succeeded": r.succeeded, "after": r.after, "batch": r.batch,
                    "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "NOTIFY_TOPICS" => c::NOTIFY_TOPICS
            .iter()
            .map(|r| {
                Ok(row!(py, {"namespaced": r.namespaced, "list_changed": r.list_changed,
                    "head_changed": r.head_changed, "notify": r.notify, "notify_next": r.notify_next,
                    "notify_namespace": r.notify_namespace,
                    "notify_next_namespace": r.notify_next_namespace, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "NAMESPACE_PAYLOAD" => c::NAMESPACE_PAYLOAD
            .iter()
            .map(|r| {
                Ok(row!(py, {"job_namespace": r.job_namespace, "topic_namespace": r.topic_namespace,
                    "listed": r.listed, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "SCHEDULE_BOUNDS" => c::SCHEDULE_BOUNDS
            .iter()
            .map(|r| {
                Ok(row!(py, {"start_time": r.start_time, "min_secs": r.min_secs,
                    "min_from": bound_from(r.min_from), "max_secs": r.max_secs, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "WINDOW" => c::WINDOW
            .iter()
            .map(|r| {
                Ok(row!(py, {"change": window_str(r.change), "job": r.job.as_str(),
                    "outcome": outcome(r.outcome), "becomes": r.becomes.map(|j| j.as_str()),
                    "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "MAINTENANCE_WINDOW" => c::MAINTENANCE_WINDOW
            .iter()
            .map(|r| {
                Ok(row!(py, {"windows": r.windows.to_vec(), "now": r.now, "open": r.open,
                    "recheck": r.recheck, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "SCHEDULE_EVENTS" => c::SCHEDULE_EVENTS
            .iter()
            .map(|r| {
                let statuses: Vec<&str> = r.statuses.iter().map(|s| s.as_str()).collect();
                Ok(row!(py, {"event": event_kind(r.event), "statuses": statuses,
                    "needs_not_started": r.needs_not_started,
                    "offered_needs_not_ended": r.offered_needs_not_ended,
                    "needs_not_ended": r.needs_not_ended, "needs_end_not_passed": r.needs_end_not_passed,
                    "needs_no_start": r.needs_no_start, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "END_BEHAVIOR" => c::END_BEHAVIOR
            .iter()
            .map(|r| {
                Ok(row!(py, {"behavior": r.behavior.as_str(), "cancels_queued": r.cancels_queued,
                    "cancels_in_progress": r.cancels_in_progress, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "ROLLOUT_REACH" => c::ROLLOUT_REACH
            .iter()
            .map(|r| {
                Ok(row!(py, {"registered": r.registered, "had_execution": r.had_execution,
                    "reaches": r.reaches, "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "GROUP_JOIN" => c::GROUP_JOIN
            .iter()
            .map(|r| {
                Ok(row!(py, {"job": r.job.as_str(), "started": r.started, "ended": r.ended,
                    "rolling_out": r.rolling_out, "join": r.join.map(crate::rules::target_join_name),
                    "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "GROUP_LEAVE" => c::GROUP_LEAVE
            .iter()
            .map(|r| Ok(row!(py, {"selection": r.selection.as_str(), "leaves": r.leaves, "spec": r.spec})))
            .collect::<PyResult<_>>()?,
        "BATCH_ON_START" => c::BATCH_ON_START
            .iter()
            .map(|r| {
                Ok(row!(py, {"started": r.started, "due": batch_due(r.due), "batch": r.batch,
                    "spec": r.spec}))
            })
            .collect::<PyResult<_>>()?,
        "TIMER_ON_STATUS" => c::TIMER_ON_STATUS
            .iter()
            .map(|r| {
                Ok(row!(py, {"to": st(r.to), "from_queued": timer_str(r.from_queued),
                    "from_other": timer_str(r.from_other), "spec": r.spec}))
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
