//! Every decision of the core's `rules` module as a function: the outcome, or the exception
//! of the AWS error (see `errors.py`). Statuses are wire strings or the package's enums.

use iot_jobs_core::rules::{self, Actor, CancelScope, StartNext};
use iot_jobs_core::{ExecutionNumber, ExecutionState, Plane, VersionNumber};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

use crate::convert::{
    OrRaise, TYPES, call_class, execution_status_arg, execution_status_obj, job_status, job_status_arg,
    job_status_obj, opt_execution_status, plane as parse_plane, target_selection,
};
use crate::ids::{details_pairs, with_details};
use crate::policy::{PyPolicy, or_default};

fn version(py: Python<'_>, n: u64) -> PyResult<VersionNumber> {
    VersionNumber::new(n).or_raise(py, Plane::Control)
}

fn state(py: Python<'_>, status: &Bound<'_, PyAny>, v: u64) -> PyResult<ExecutionState> {
    Ok(ExecutionState { status: execution_status_arg(status)?, version: version(py, v)? })
}

fn expected(py: Python<'_>, v: Option<u64>) -> PyResult<Option<VersionNumber>> {
    v.map(|v| version(py, v)).transpose()
}

pub(crate) fn scope_str(s: CancelScope) -> &'static str {
    match s {
        CancelScope::Queued => "QUEUED",
        CancelScope::QueuedAndInProgress => "QUEUED_AND_IN_PROGRESS",
    }
}

fn parse_scope(s: &str) -> PyResult<CancelScope> {
    match s {
        "QUEUED" => Ok(CancelScope::Queued),
        "QUEUED_AND_IN_PROGRESS" => Ok(CancelScope::QueuedAndInProgress),
        _ => Err(PyValueError::new_err(format!(
            "{s:?} is not a cancel scope (\"QUEUED\" or \"QUEUED_AND_IN_PROGRESS\")"
        ))),
    }
}

fn parse_actor(s: &str) -> PyResult<Actor> {
    match s {
        "DEVICE" => Ok(Actor::Device),
        "CONTROL_PLANE" => Ok(Actor::ControlPlane),
        "SERVICE" => Ok(Actor::Service),
        _ => Err(PyValueError::new_err(format!(
            "{s:?} is not an actor (\"DEVICE\", \"CONTROL_PLANE\" or \"SERVICE\")"
        ))),
    }
}

fn opt_status_obj(
    py: Python<'_>,
    s: Option<iot_jobs_core::ExecutionStatus>,
) -> PyResult<Option<Bound<'_, PyAny>>> {
    s.map(|s| execution_status_obj(py, s)).transpose()
}

/// `True` if the job status is terminal (CANCELED, COMPLETED).
#[pyfunction]
pub fn job_status_is_terminal(status: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(job_status_arg(status)?.is_terminal())
}

/// `(is_terminal, is_pending, is_retriable, is_device_settable)` of an execution status.
#[pyfunction]
pub fn execution_status_flags(status: &Bound<'_, PyAny>) -> PyResult<(bool, bool, bool, bool)> {
    let s = execution_status_arg(status)?;
    Ok((s.is_terminal(), s.is_pending(), s.is_retriable(), s.is_device_settable()))
}

/// The wire strings of every job status, in the core's order.
#[pyfunction]
pub fn job_statuses() -> Vec<&'static str> {
    iot_jobs_core::JobStatus::ALL.iter().map(|s| s.as_str()).collect()
}

/// The wire strings of every execution status, in the core's order (`ExecutionStatus::ALL`).
#[pyfunction]
pub fn execution_statuses() -> Vec<&'static str> {
    iot_jobs_core::ExecutionStatus::ALL.iter().map(|s| s.as_str()).collect()
}

/// Every AWS exception shape as `(name, control-plane HTTP status, data-plane HTTP status)`, in
/// the core's order (`Exception::ALL`): the status of an exception class whatever made it.
#[pyfunction]
pub fn exception_statuses() -> Vec<(&'static str, u16, u16)> {
    iot_jobs_core::Exception::ALL
        .iter()
        .map(|e| (e.name(), e.http_status(Plane::Control), e.http_status(Plane::Data)))
        .collect()
}

/// DeleteJob (SPEC 4.2, R4, R5, §6): `deleting` jobs are in DELETION_IN_PROGRESS now.
#[pyfunction]
#[pyo3(signature = (job, force = false, deleting = 0))]
pub fn delete_job(py: Python<'_>, job: &Bound<'_, PyAny>, force: bool, deleting: usize) -> PyResult<()> {
    rules::delete_job(job_status_arg(job)?, force, deleting).or_raise(py, Plane::Control)
}

/// DeleteJobExecution (SPEC 4.2, T11, R1, R2).
#[pyfunction]
#[pyo3(signature = (status, version, force = false, policy = None))]
pub fn delete_execution(
    py: Python<'_>,
    status: &Bound<'_, PyAny>,
    version: u64,
    force: bool,
    policy: Option<&Bound<'_, PyPolicy>>,
) -> PyResult<()> {
    let p = or_default(policy);
    rules::delete_execution(state(py, status, version)?, force, &p).or_raise(py, Plane::Control)
}

/// CancelJobExecution (SPEC 4.2, T8, T9, R16): returns the execution's `forceCanceled`.
#[pyfunction]
#[pyo3(signature = (status, version, force = false, expected_version = None))]
pub fn cancel_execution(
    py: Python<'_>,
    status: &Bound<'_, PyAny>,
    version: u64,
    force: bool,
    expected_version: Option<u64>,
) -> PyResult<bool> {
    let s = state(py, status, version)?;
    let e = expected(py, expected_version)?;
    rules::cancel_execution(s, force, e).map(|c| c.force_canceled).or_raise(py, Plane::Control)
}

/// UpdateJobExecution (SPEC 4.3, T2–T6, R9): the status the execution takes. A data-plane
/// operation: a version mismatch raises `InvalidStateTransitionException` (kind
/// `VersionMismatch`, MQTT `VersionMismatch`, SPEC R13).
#[pyfunction]
#[pyo3(signature = (status, version, requested, expected_version = None, policy = None))]
pub fn update_execution<'py>(
    py: Python<'py>,
    status: &Bound<'_, PyAny>,
    version: u64,
    requested: &Bound<'_, PyAny>,
    expected_version: Option<u64>,
    policy: Option<&Bound<'_, PyPolicy>>,
) -> PyResult<Bound<'py, PyAny>> {
    let s = state(py, status, version)?;
    let r = execution_status_arg(requested)?;
    let e = expected(py, expected_version)?;
    let p = or_default(policy);
    let to = rules::update_execution(s, r, e, &p).or_raise(py, Plane::Data)?;
    execution_status_obj(py, to)
}

/// CancelJob (SPEC 4.2, R3, R4, R5): a `CancelJobOutcome(scope, force_canceled)`.
#[pyfunction]
#[pyo3(signature = (job, force = false, policy = None))]
pub fn cancel_job<'py>(
    py: Python<'py>,
    job: &Bound<'_, PyAny>,
    force: bool,
    policy: Option<&Bound<'_, PyPolicy>>,
) -> PyResult<Bound<'py, PyAny>> {
    static CLS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let p = or_default(policy);
    let c = rules::cancel_job(job_status_arg(job)?, force, &p).or_raise(py, Plane::Control)?;
    call_class(py, &CLS, TYPES, "CancelJobOutcome", (scope_str(c.scope), c.force_canceled))
}

/// What an accepted CancelJob does to one execution: its new status, or `None` (SPEC T8, T9,
/// T14). `scope` is `CancelJobOutcome.scope`.
#[pyfunction]
pub fn cancel_job_execution_effect<'py>(
    py: Python<'py>,
    status: &Bound<'_, PyAny>,
    scope: PyBackedStr,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    opt_status_obj(
        py,
        rules::cancel_job_execution_effect(execution_status_arg(status)?, parse_scope(&scope)?),
    )
}

/// CreateJob: the status a new job starts in.
#[pyfunction]
pub fn create_job(py: Python<'_>, scheduled: bool) -> PyResult<Bound<'_, PyAny>> {
    job_status_obj(py, rules::create_job(scheduled))
}

/// CreateJob: raises `ResourceAlreadyExistsException` while a job (in `existing` status) has the id.
#[pyfunction]
#[pyo3(signature = (existing = None))]
pub fn job_id_available(py: Python<'_>, existing: Option<PyBackedStr>) -> PyResult<()> {
    let e = existing.map(|s| job_status(&s)).transpose()?;
    rules::job_id_available(e).or_raise(py, Plane::Control)
}

/// Does the job complete now? (SPEC §2 COMPLETED.)
#[pyfunction]
pub fn job_completes(
    job: &Bound<'_, PyAny>,
    selection: PyBackedStr,
    all_terminal: bool,
    end_passed: bool,
) -> PyResult<bool> {
    Ok(rules::job_completes(job_status_arg(job)?, target_selection(&selection)?, all_terminal, end_passed))
}

/// May a job in status `job` (canceled with force or not) hold an execution in `status`? (SPEC
/// §2 job-holds.)
#[pyfunction]
pub fn job_holds(job: &Bound<'_, PyAny>, force_canceled: bool, status: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(rules::job_holds(job_status_arg(job)?, force_canceled, execution_status_arg(status)?))
}

/// CreateJob's target ARNs (SPEC §5, lim-targets): `None` for 1 to 100; raises
/// `InvalidRequestException` for none, `LimitExceededException` past 100.
#[pyfunction]
pub fn job_targets(py: Python<'_>, targets: usize) -> PyResult<()> {
    rules::job_targets(targets).or_raise(py, Plane::Control)
}

/// The `status` a job event's payload reports (SPEC 7.4): `event` is `"completed"`,
/// `"canceled"`, `"cancellation_in_progress"` or `"deleted"`.
#[pyfunction]
pub fn job_event_status(event: PyBackedStr) -> PyResult<&'static str> {
    let e = iot_jobs_core::topic::JobEvent::ALL
        .into_iter()
        .find(|x| x.as_str() == &*event)
        .ok_or_else(|| PyValueError::new_err(format!("{:?} is not a job event", &*event)))?;
    Ok(rules::job_event_status(e))
}

/// Does the payload of the namespace topics of `topic` list an execution of a job created in
/// namespace `job` (`None`: without one)? Only that namespace's (SPEC R20, AMBIG-27).
#[pyfunction]
#[pyo3(signature = (job, topic))]
pub fn listed_in_namespace(py: Python<'_>, job: Option<PyBackedStr>, topic: PyBackedStr) -> PyResult<bool> {
    let ns = |s: &str| iot_jobs_core::NamespaceId::new(s).or_raise(py, Plane::Control);
    let job = job.map(|j| ns(&j)).transpose()?;
    Ok(rules::listed_in_namespace(job.as_ref(), &ns(&topic)?))
}

/// AssociateTargetsWithJob (SPEC §2): `targets_after` is the job's target count if accepted,
/// `rolling_out` whether its rollout has targets left to reach. `"QUEUE"` (an execution now for
/// each new target) or `"ROLLOUT"` (each waits at the end of the rollout, SPEC R26).
#[pyfunction]
#[pyo3(signature = (job, selection, targets_after, rolling_out = false))]
pub fn associate_targets(
    py: Python<'_>,
    job: &Bound<'_, PyAny>,
    selection: PyBackedStr,
    targets_after: usize,
    rolling_out: bool,
) -> PyResult<&'static str> {
    rules::associate_targets(job_status_arg(job)?, target_selection(&selection)?, targets_after, rolling_out)
        .map(target_join_name)
        .or_raise(py, Plane::Control)
}

/// A thing joined a target group of a job (SPEC T1, R21, R26): `"QUEUE"` (an execution now),
/// `"ROLLOUT"` (at the end of the rollout: with the job's first batch before its start, or
/// when a paced rollout with targets left reaches it) or `"NOTHING"` (its end passed before
/// its start); raises `InvalidRequestException` for a SNAPSHOT job or one that no longer rolls
/// out.
#[pyfunction]
#[pyo3(signature = (job, selection, started, ended, rolling_out = false))]
pub fn group_join(
    py: Python<'_>,
    job: &Bound<'_, PyAny>,
    selection: PyBackedStr,
    started: bool,
    ended: bool,
    rolling_out: bool,
) -> PyResult<&'static str> {
    rules::group_join(job_status_arg(job)?, target_selection(&selection)?, started, ended, rolling_out)
        .map(target_join_name)
        .or_raise(py, Plane::Control)
}

/// Does a thing that leaves a target group leave the job's targets? A CONTINUOUS job's only
/// (SPEC T10, §2).
#[pyfunction]
pub fn group_leave(selection: PyBackedStr) -> PyResult<bool> {
    Ok(rules::group_leave(target_selection(&selection)?))
}

/// A [`rules::TargetJoin`] as Python names it.
pub fn target_join_name(join: rules::TargetJoin) -> &'static str {
    match join {
        rules::TargetJoin::Queue => "QUEUE",
        rules::TargetJoin::Rollout => "ROLLOUT",
        rules::TargetJoin::Nothing => "NOTHING",
    }
}

/// The pending-list rank: 0 for IN_PROGRESS, 1 for QUEUED, `None` for terminal statuses.
#[pyfunction]
pub fn pending_rank(status: &Bound<'_, PyAny>) -> PyResult<Option<u8>> {
    Ok(rules::pending_rank(execution_status_arg(status)?))
}

/// Does a device see this execution in its pending list? (SPEC 3.1, AMBIG-13, SEED-CLI.)
#[pyfunction]
pub fn listed_to_device(job: &Bound<'_, PyAny>, execution: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(rules::listed_to_device(job_status_arg(job)?, execution_status_arg(execution)?))
}

/// StartNext on the head of the pending list: `"NOTHING"`, `"START"` or `"RESUME"`.
#[pyfunction]
#[pyo3(signature = (head = None, version = 1))]
pub fn start_next(py: Python<'_>, head: Option<&Bound<'_, PyAny>>, version: u64) -> PyResult<&'static str> {
    let head = match head {
        Some(s) => Some(state(py, s, version)?),
        None => None,
    };
    let next = rules::start_next(head).or_raise(py, Plane::Data)?;
    Ok(match next {
        StartNext::Nothing => "NOTHING",
        StartNext::Start => "START",
        StartNext::Resume => "RESUME",
    })
}

/// DescribeJobExecution on `plane` (SPEC R11).
#[pyfunction]
#[pyo3(signature = (status, version, plane = None, policy = None))]
pub fn describe_execution(
    py: Python<'_>,
    status: &Bound<'_, PyAny>,
    version: u64,
    plane: Option<PyBackedStr>,
    policy: Option<&Bound<'_, PyPolicy>>,
) -> PyResult<()> {
    let on = parse_plane(plane.as_deref().unwrap_or("control"))?;
    let p = or_default(policy);
    rules::describe_execution(state(py, status, version)?, on, &p).or_raise(py, on)
}

/// What happens to an execution whose thing stops being a target (SPEC T10, R10).
#[pyfunction]
#[pyo3(signature = (status, policy = None))]
pub fn remove_target<'py>(
    py: Python<'py>,
    status: &Bound<'_, PyAny>,
    policy: Option<&Bound<'_, PyPolicy>>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let p = or_default(policy);
    opt_status_obj(py, rules::remove_target(execution_status_arg(status)?, &p))
}

/// What happens to an execution when its thing is deleted (SPEC T10, R10, R4).
#[pyfunction]
#[pyo3(signature = (job, status, policy = None))]
pub fn remove_thing<'py>(
    py: Python<'py>,
    job: &Bound<'_, PyAny>,
    status: &Bound<'_, PyAny>,
    policy: Option<&Bound<'_, PyPolicy>>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let p = or_default(policy);
    opt_status_obj(py, rules::remove_thing(job_status_arg(job)?, execution_status_arg(status)?, &p))
}

/// May a request on `plane` reach an execution of a job in `job`? (SEED-CLI.)
#[pyfunction]
pub fn device_access(py: Python<'_>, job: &Bound<'_, PyAny>, plane: PyBackedStr) -> PyResult<()> {
    let on = parse_plane(&plane)?;
    rules::device_access(job_status_arg(job)?, on).or_raise(py, on)
}

/// A data-plane request names an unknown thing (SPEC R19).
#[pyfunction]
#[pyo3(signature = (policy = None))]
pub fn unknown_thing(py: Python<'_>, policy: Option<&Bound<'_, PyPolicy>>) -> PyResult<()> {
    let p = or_default(policy);
    rules::unknown_thing(&p).or_raise(py, Plane::Data)
}

/// Does a thing that becomes a target (again) get a new QUEUED execution? `RetriesUsed(0, 0)`,
/// the retries its (job, thing) counts from then (SPEC T12: it is not a retry), or `None` while
/// one is pending (SPEC T1, T13).
#[pyfunction]
#[pyo3(signature = (newest = None))]
pub fn queue_on_rejoin(py: Python<'_>, newest: Option<PyBackedStr>) -> PyResult<Option<Bound<'_, PyAny>>> {
    rules::queue_on_rejoin(opt_execution_status(newest.as_ref())?)
        .map(|used| crate::lifecycle::retries_used(py, used))
        .transpose()
}

/// Is the thing's `notify` published after one execution's status change? (SPEC R15.)
#[pyfunction]
#[pyo3(signature = (was_listed, now_listed, status_changed, policy = None))]
pub fn notifies(
    was_listed: bool,
    now_listed: bool,
    status_changed: bool,
    policy: Option<&Bound<'_, PyPolicy>>,
) -> bool {
    rules::notifies(was_listed, now_listed, status_changed, &or_default(policy))
}

/// The topics a change of a thing's executions is published on (SPEC R15, R20, AMBIG-27):
/// `NotifyTopics(notify, notify_next, notify_namespace, notify_next_namespace)`. `namespaced`:
/// the changed execution's job was created with a `namespaceId`; `list_changed`: the thing's
/// pending list changed as `notifies` counts it; `head_changed`: its head changed. Both are
/// judged on the thing's whole pending list, across namespaces.
#[pyfunction]
pub fn notify_topics<'py>(
    py: Python<'py>,
    namespaced: bool,
    list_changed: bool,
    head_changed: bool,
) -> PyResult<Bound<'py, PyAny>> {
    static CLS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let t = rules::notify_topics(namespaced, list_changed, head_changed);
    call_class(
        py,
        &CLS,
        TYPES,
        "NotifyTopics",
        (t.notify, t.notify_next, t.notify_namespace, t.notify_next_namespace),
    )
}

/// The version after an accepted change by `actor` (`"DEVICE"`, `"CONTROL_PLANE"`,
/// `"SERVICE"`) (SPEC R6).
#[pyfunction]
#[pyo3(signature = (current, actor, policy = None))]
pub fn version_after(
    py: Python<'_>,
    current: u64,
    actor: PyBackedStr,
    policy: Option<&Bound<'_, PyPolicy>>,
) -> PyResult<u64> {
    let p = or_default(policy);
    rules::version_after(version(py, current)?, parse_actor(&actor)?, &p)
        .map(VersionNumber::get)
        .or_raise(py, Plane::Control)
}

/// The number of a new execution of a (job, thing) (SPEC R7): `highest_existing` among its
/// executions that still exist, `highest_ever` assigned.
#[pyfunction]
#[pyo3(signature = (highest_existing = None, highest_ever = None, policy = None))]
pub fn next_execution_number(
    py: Python<'_>,
    highest_existing: Option<u64>,
    highest_ever: Option<u64>,
    policy: Option<&Bound<'_, PyPolicy>>,
) -> PyResult<u64> {
    let num = |n: Option<u64>| n.map(|n| ExecutionNumber::new(n).or_raise(py, Plane::Control)).transpose();
    let p = or_default(policy);
    rules::next_execution_number(num(highest_existing)?, num(highest_ever)?, &p)
        .map(ExecutionNumber::get)
        .or_raise(py, Plane::Control)
}

/// The statusDetails an execution stores after a write carrying `update` (SPEC R14).
#[pyfunction]
#[pyo3(signature = (existing, update, policy = None))]
pub fn merge_details<'py>(
    py: Python<'py>,
    existing: &Bound<'_, PyDict>,
    update: &Bound<'_, PyDict>,
    policy: Option<&Bound<'_, PyPolicy>>,
) -> PyResult<Bound<'py, PyDict>> {
    let have = details_pairs(existing)?;
    let new = details_pairs(update)?;
    let p = or_default(policy);
    with_details(py, &new, |u| {
        let merged = rules::merge_details(have.iter().map(|(k, v)| (k.as_str(), v.as_str())), &u, &p)
            .or_raise(py, Plane::Data)?;
        let out = PyDict::new(py);
        for (k, v) in merged {
            out.set_item(k, v)?;
        }
        Ok(out)
    })
}
