//! The registry's views and events as the package's Python records (`Execution`, `Job`, the
//! notifications and changes), and the pages of its listings. A view is copied out of the
//! registry first ([`ExecutionFields`], [`JobFields`]), so that an event's record can carry its
//! subject as of the event and be turned into Python when the host drains it.

use iot_jobs_core::registry::{Event, ExecutionView, JobView, ProcessDetails};
use iot_jobs_core::{
    ExecutionNumber, ExecutionStatus, JobId, JobStatus, NamespaceId, ReasonCode, TargetSelection, ThingName,
    Timestamp, VersionNumber, rules,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

use super::events::{Record, Subject};
use crate::convert::{RECORDS, call_class, execution_status_obj, job_status_obj, selection_obj};

/// What an `Execution` record shows of an execution: its view's members, owned.
#[derive(Clone)]
pub(super) struct ExecutionFields {
    job_id: JobId,
    thing_name: ThingName,
    number: ExecutionNumber,
    status: ExecutionStatus,
    version: VersionNumber,
    job_status: JobStatus,
    job_namespace: Option<NamespaceId>,
    queued_at: Timestamp,
    started_at: Option<Timestamp>,
    last_updated_at: Timestamp,
    force_canceled: bool,
    retry_attempt: u8,
    deadline: Option<Timestamp>,
    status_details: Vec<(Box<str>, Box<str>)>,
}

impl ExecutionFields {
    pub(super) fn of(v: &ExecutionView<'_>) -> Self {
        Self {
            job_id: v.job_id().clone(),
            thing_name: v.thing_name().clone(),
            number: v.number(),
            status: v.status(),
            version: v.version(),
            job_status: v.job_status(),
            job_namespace: v.job_namespace().cloned(),
            queued_at: v.queued_at(),
            started_at: v.started_at(),
            last_updated_at: v.last_updated_at(),
            force_canceled: v.force_canceled(),
            retry_attempt: v.retry_attempt(),
            deadline: v.deadline(),
            status_details: v.status_details().map(|(k, val)| (k.into(), val.into())).collect(),
        }
    }
}

/// What a `Job` record shows of a job: its view's lifecycle members, owned.
#[derive(Clone)]
pub(super) struct JobFields {
    id: JobId,
    status: JobStatus,
    target_selection: TargetSelection,
    namespace: Option<NamespaceId>,
    created_at: Timestamp,
    last_updated_at: Timestamp,
    completed_at: Option<Timestamp>,
    reason_code: Option<ReasonCode>,
    force_canceled: bool,
    targets: u32,
    is_concurrent: bool,
    process: ProcessDetails,
}

impl JobFields {
    pub(super) fn of(v: &JobView<'_>) -> Self {
        Self {
            id: v.id().clone(),
            status: v.status(),
            target_selection: v.target_selection(),
            namespace: v.namespace().cloned(),
            created_at: v.created_at(),
            last_updated_at: v.last_updated_at(),
            completed_at: v.completed_at(),
            reason_code: v.reason_code().cloned(),
            force_canceled: v.force_canceled(),
            targets: v.targets(),
            is_concurrent: v.is_concurrent(),
            process: v.process_details(),
        }
    }

    /// The job as its removal leaves it: no executions (they are removed before it).
    pub(super) fn removed(self) -> Self {
        let is_concurrent = rules::job_is_concurrent(self.status, false, false);
        Self { process: ProcessDetails::default(), is_concurrent, ..self }
    }
}

pub(super) fn execution_obj<'py>(py: Python<'py>, v: &ExecutionFields) -> PyResult<Bound<'py, PyAny>> {
    static CLS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let details = PyDict::new(py);
    for (k, val) in &v.status_details {
        details.set_item(&**k, &**val)?;
    }
    let kw = PyDict::new(py);
    kw.set_item("job_id", v.job_id.as_str())?;
    kw.set_item("thing_name", v.thing_name.as_str())?;
    kw.set_item("execution_number", v.number.get())?;
    kw.set_item("status", execution_status_obj(py, v.status)?)?;
    kw.set_item("version_number", v.version.get())?;
    kw.set_item("job_status", job_status_obj(py, v.job_status)?)?;
    kw.set_item("job_namespace_id", v.job_namespace.as_ref().map(NamespaceId::as_str))?;
    kw.set_item("queued_at", v.queued_at.secs())?;
    kw.set_item("started_at", v.started_at.map(Timestamp::secs))?;
    kw.set_item("last_updated_at", v.last_updated_at.secs())?;
    kw.set_item("force_canceled", v.force_canceled)?;
    kw.set_item("retry_attempt", v.retry_attempt)?;
    kw.set_item("deadline", v.deadline.map(Timestamp::secs))?;
    kw.set_item("status_details", details)?;
    CLS.import(py, RECORDS, "Execution")?.call((), Some(&kw))
}

pub(super) fn job_obj<'py>(py: Python<'py>, v: &JobFields) -> PyResult<Bound<'py, PyAny>> {
    static CLS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let counts = PyDict::new(py);
    for s in ExecutionStatus::ALL {
        counts.set_item(s.as_str(), v.process.count(s))?;
    }
    let kw = PyDict::new(py);
    kw.set_item("job_id", v.id.as_str())?;
    kw.set_item("status", job_status_obj(py, v.status)?)?;
    kw.set_item("target_selection", selection_obj(py, v.target_selection)?)?;
    kw.set_item("namespace_id", v.namespace.as_ref().map(NamespaceId::as_str))?;
    kw.set_item("created_at", v.created_at.secs())?;
    kw.set_item("last_updated_at", v.last_updated_at.secs())?;
    kw.set_item("completed_at", v.completed_at.map(Timestamp::secs))?;
    kw.set_item("reason_code", v.reason_code.as_ref().map(ReasonCode::as_str))?;
    kw.set_item("force_canceled", v.force_canceled)?;
    kw.set_item("targets", v.targets)?;
    kw.set_item("is_concurrent", v.is_concurrent)?;
    kw.set_item("process_details", counts)?;
    CLS.import(py, RECORDS, "Job")?.call((), Some(&kw))
}

/// The record of an event: a `JobChanged` or `ExecutionChanged` carries its subject as the
/// queue resolved it (`view`), the notifications their names only.
pub(super) fn record_obj<'py>(py: Python<'py>, r: &Record) -> PyResult<Bound<'py, PyAny>> {
    static NOTIFY: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static NEXT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static NS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static NEXT_NS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static JOB: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static EXEC: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let view = || -> PyResult<Option<Bound<'py, PyAny>>> {
        match r.subject.as_deref() {
            Some(Subject::Job(f)) => job_obj(py, f).map(Some),
            Some(Subject::Execution(f)) => execution_obj(py, f).map(Some),
            None => Ok(None),
        }
    };
    match &r.event {
        Event::Notify(t) => call_class(py, &NOTIFY, RECORDS, "Notify", (t.as_str(),)),
        Event::NotifyNext(t) => call_class(py, &NEXT, RECORDS, "NotifyNext", (t.as_str(),)),
        Event::NotifyNamespace { thing, namespace } => {
            call_class(py, &NS, RECORDS, "NotifyNamespace", (thing.as_str(), namespace.as_str()))
        }
        Event::NotifyNextNamespace { thing, namespace } => {
            call_class(py, &NEXT_NS, RECORDS, "NotifyNextNamespace", (thing.as_str(), namespace.as_str()))
        }
        Event::Job { job, event } => {
            call_class(py, &JOB, RECORDS, "JobChanged", (job.as_str(), event.as_str(), view()?))
        }
        Event::Execution { job, thing, number, event } => call_class(
            py,
            &EXEC,
            RECORDS,
            "ExecutionChanged",
            (job.as_str(), thing.as_str(), number.get(), event.as_str(), view()?),
        ),
        // `Event` is non-exhaustive: a kind a later core adds is handed over as its debug form
        // rather than dropped.
        other => Ok(pyo3::types::PyString::new(py, &format!("{other:?}")).into_any()),
    }
}

/// A page of a listing: the executions and the cursor to go on from.
pub(super) type Page<'py> = (Vec<Bound<'py, PyAny>>, Option<(u32, u32)>);

/// Runs a registry listing that visits views, collecting them as `Execution` records; the first
/// conversion error (if any) is raised after the listing.
pub(super) fn collect<'py, T>(
    py: Python<'py>,
    list: impl FnOnce(&mut dyn FnMut(ExecutionView<'_>)) -> PyResult<T>,
) -> PyResult<(Vec<Bound<'py, PyAny>>, T)> {
    let mut out = Vec::new();
    let mut err = None;
    let t = list(&mut |v| match execution_obj(py, &ExecutionFields::of(&v)) {
        Ok(o) => out.push(o),
        Err(e) => err = err.take().or(Some(e)),
    })?;
    err.map_or(Ok((out, t)), Err)
}
