//! `Registry`: the core's `registry::Registry` over heap storage (`registry::Heap`), with the
//! lifecycle operations, views as Python records and events collected for the host to drain.

use iot_jobs_core::registry::{
    Cursor, Event, EventSink, ExecutionView, Heap, JobView, LATEST_TIME, NewJob, Registry, Update,
};
use iot_jobs_core::{
    ExecutionNumber, ExecutionStatus, JobId, NamespaceId, Plane, ReasonCode, StepTimeout, ThingName,
    Timestamp, VersionNumber,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyInt, PyList, PyType};

use crate::config::{ConfigArgs, ExponentialArgs, WindowArgs, retry_pairs};
use crate::convert::{
    OrRaise, RECORDS, TYPES, call_class, execution_status, execution_status_obj, job_status_obj,
    opt_execution_status, selection_obj, state_obj,
};
use crate::ids::{details_pairs, with_details};
use crate::policy::{PyPolicy, or_default};

/// The largest cap of one table. The core's heap index is allocated in full when the registry
/// is made (twice jobs + things + executions buckets), so the caps bound the memory taken at
/// once: at most about 48 MB of index with every cap at this value.
const MAX_CAPACITY: usize = 2_000_000;

/// The event queue, as the core's `EventSink`: it reports its room honestly, so an operation
/// that would overflow it is refused before it changes anything (`ThrottlingException`).
struct Queue<'a> {
    events: &'a mut Vec<Event>,
    max: usize,
}

impl EventSink for Queue<'_> {
    fn room(&self) -> usize {
        self.max.saturating_sub(self.events.len())
    }
    fn push(&mut self, event: Event) {
        self.events.push(event);
    }
}

/// The AWS IoT Jobs lifecycle state of one account/region: things, jobs and executions, with
/// numbering, versions, reuse, DELETION_IN_PROGRESS and timers as the core's registry applies them.
///
/// Every operation takes `now` (whole seconds, any epoch the host picks) and either applies
/// completely or raises a `JobsError` having changed nothing. Notifications accumulate; take
/// them with `drain_events()`.
///
/// One thread at a time: share a registry between threads under a `threading.Lock`. A call
/// made while another thread's call has it raises `RuntimeError("Already borrowed")` (PyO3's
/// borrow check) and changes nothing.
#[pyclass(name = "Registry", module = "iot_jobs_core")]
pub struct PyRegistry {
    reg: Registry<Heap>,
    events: Vec<Event>,
    max_events: usize,
}

fn job_id(py: Python<'_>, s: &str) -> PyResult<JobId> {
    JobId::new(s).or_raise(py, Plane::Control)
}

fn thing_name(py: Python<'_>, s: &str) -> PyResult<ThingName> {
    ThingName::new(s).or_raise(py, Plane::Control)
}

fn things(py: Python<'_>, names: &[PyBackedStr]) -> PyResult<Vec<ThingName>> {
    names.iter().map(|n| thing_name(py, n)).collect()
}

fn exec_number(py: Python<'_>, n: u64) -> PyResult<ExecutionNumber> {
    ExecutionNumber::new(n).or_raise(py, Plane::Control)
}

fn execution_obj<'py>(py: Python<'py>, v: &ExecutionView<'_>) -> PyResult<Bound<'py, PyAny>> {
    static CLS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let details = PyDict::new(py);
    for (k, val) in v.status_details() {
        details.set_item(k, val)?;
    }
    let kw = PyDict::new(py);
    kw.set_item("job_id", v.job_id().as_str())?;
    kw.set_item("thing_name", v.thing_name().as_str())?;
    kw.set_item("execution_number", v.number().get())?;
    kw.set_item("status", execution_status_obj(py, v.status())?)?;
    kw.set_item("version_number", v.version().get())?;
    kw.set_item("job_status", job_status_obj(py, v.job_status())?)?;
    kw.set_item("job_namespace_id", v.job_namespace().map(NamespaceId::as_str))?;
    kw.set_item("queued_at", v.queued_at().secs())?;
    kw.set_item("started_at", v.started_at().map(Timestamp::secs))?;
    kw.set_item("last_updated_at", v.last_updated_at().secs())?;
    kw.set_item("force_canceled", v.force_canceled())?;
    kw.set_item("retry_attempt", v.retry_attempt())?;
    kw.set_item("deadline", v.deadline().map(Timestamp::secs))?;
    kw.set_item("status_details", details)?;
    CLS.import(py, RECORDS, "Execution")?.call((), Some(&kw))
}

fn job_obj<'py>(py: Python<'py>, v: &JobView<'_>) -> PyResult<Bound<'py, PyAny>> {
    static CLS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let counts = PyDict::new(py);
    let pd = v.process_details();
    for s in ExecutionStatus::ALL {
        counts.set_item(s.as_str(), pd.count(s))?;
    }
    let kw = PyDict::new(py);
    kw.set_item("job_id", v.id().as_str())?;
    kw.set_item("status", job_status_obj(py, v.status())?)?;
    kw.set_item("target_selection", selection_obj(py, v.target_selection())?)?;
    kw.set_item("namespace_id", v.namespace().map(NamespaceId::as_str))?;
    kw.set_item("created_at", v.created_at().secs())?;
    kw.set_item("last_updated_at", v.last_updated_at().secs())?;
    kw.set_item("completed_at", v.completed_at().map(Timestamp::secs))?;
    kw.set_item("reason_code", v.reason_code().map(ReasonCode::as_str))?;
    kw.set_item("force_canceled", v.force_canceled())?;
    kw.set_item("targets", v.targets())?;
    kw.set_item("process_details", counts)?;
    CLS.import(py, RECORDS, "Job")?.call((), Some(&kw))
}

fn event_obj<'py>(py: Python<'py>, e: &Event) -> PyResult<Bound<'py, PyAny>> {
    static NOTIFY: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static NEXT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static NS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static NEXT_NS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static JOB: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static EXEC: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    match e {
        Event::Notify(t) => call_class(py, &NOTIFY, RECORDS, "Notify", (t.as_str(),)),
        Event::NotifyNext(t) => call_class(py, &NEXT, RECORDS, "NotifyNext", (t.as_str(),)),
        Event::NotifyNamespace { thing, namespace } => {
            call_class(py, &NS, RECORDS, "NotifyNamespace", (thing.as_str(), namespace.as_str()))
        }
        Event::NotifyNextNamespace { thing, namespace } => {
            call_class(py, &NEXT_NS, RECORDS, "NotifyNextNamespace", (thing.as_str(), namespace.as_str()))
        }
        Event::Job { job, event } => {
            call_class(py, &JOB, RECORDS, "JobChanged", (job.as_str(), event.as_str()))
        }
        Event::Execution { job, thing, number, event } => call_class(
            py,
            &EXEC,
            RECORDS,
            "ExecutionChanged",
            (job.as_str(), thing.as_str(), number.get(), event.as_str()),
        ),
        // `Event` is non-exhaustive: a kind a later core adds is handed over as its debug form
        // rather than dropped.
        other => Ok(pyo3::types::PyString::new(py, &format!("{other:?}")).into_any()),
    }
}

/// A page of a listing: the executions and the cursor to go on from.
type Page<'py> = (Vec<Bound<'py, PyAny>>, Option<(u32, u32)>);

/// Runs a registry listing that visits views, collecting them as `Execution` records; the first
/// conversion error (if any) is raised after the listing.
fn collect<'py, T>(
    py: Python<'py>,
    list: impl FnOnce(&mut dyn FnMut(ExecutionView<'_>)) -> PyResult<T>,
) -> PyResult<(Vec<Bound<'py, PyAny>>, T)> {
    let mut out = Vec::new();
    let mut err = None;
    let t = list(&mut |v| match execution_obj(py, &v) {
        Ok(o) => out.push(o),
        Err(e) => err = err.take().or(Some(e)),
    })?;
    err.map_or(Ok((out, t)), Err)
}

fn cursor_of(c: Option<(u32, u32)>) -> Option<Cursor> {
    c.map(|(i, g)| Cursor::from_parts(i, g))
}

/// A page size: at least 1 (`ValueError` for 0, whose page would hold nothing and give a
/// cursor back to the same place, so that a `while cursor:` loop would never end).
fn page_size(max_results: usize) -> PyResult<usize> {
    if max_results == 0 {
        return Err(PyValueError::new_err(
            "max_results must be at least 1: a page of 0 executions never ends",
        ));
    }
    Ok(max_results)
}

/// A deletion delay: whole seconds from 0 to the registry's last time, `LATEST_TIME`. A longer
/// one is refused (`ValueError` naming the bound, as a negative one is): no deletion is due
/// after `LATEST_TIME`, the last time the registry advances to.
#[derive(Clone, Copy)]
struct DeletionDelay(u64);

impl<'a, 'py> FromPyObject<'a, 'py> for DeletionDelay {
    type Error = PyErr;

    fn extract(delay: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let latest = LATEST_TIME.secs();
        let n = delay.extract::<Bound<'py, PyInt>>()?;
        let secs = if n.lt(0)? { None } else { n.extract::<u64>().ok().filter(|s| *s <= latest) };
        secs.map(Self).ok_or_else(|| {
            PyValueError::new_err(format!(
                "deletion_delay must be from 0 to {latest} seconds (LATEST_TIME, the last time the \
                 registry stores: no deletion is due later), not {n}"
            ))
        })
    }
}

/// A namespace argument, validated (`InvalidFieldError`, as refused on `plane`).
fn namespace_arg(py: Python<'_>, n: Option<PyBackedStr>, plane: Plane) -> PyResult<Option<NamespaceId>> {
    n.map(|n| NamespaceId::new(&n).or_raise(py, plane)).transpose()
}

fn step_timeout(py: Python<'_>, minutes: Option<i64>, allow_cancel: bool) -> PyResult<Option<StepTimeout>> {
    minutes.map(|m| StepTimeout::from_wire(m, allow_cancel).or_raise(py, Plane::Data)).transpose()
}

impl PyRegistry {
    fn sink(&mut self) -> (&mut Registry<Heap>, Queue<'_>) {
        (&mut self.reg, Queue { events: &mut self.events, max: self.max_events })
    }
}

#[pymethods]
impl PyRegistry {
    /// An empty registry holding at most `jobs` jobs, `things` things, `executions` executions
    /// and `status_details` statusDetails maps (tables grow on the heap up to these caps; a
    /// full table refuses with `LimitExceededException` on the control plane,
    /// `ServiceUnavailableException` on the data plane). `deletion_delay`: seconds a deleted job
    /// stays DELETION_IN_PROGRESS before `advance` removes it (0 to `LATEST_TIME`, as
    /// `set_deletion_delay` takes it). `max_events`: events held until
    /// `drain_events()`; an operation that would pass it raises `ThrottlingException`.
    /// Each cap is at most 2 000 000 (`ValueError` beyond).
    #[new]
    #[pyo3(
        signature = (*, policy = None, jobs = 1000, things = 1000, executions = 10_000, status_details = 10_000, deletion_delay = DeletionDelay(0), max_events = 100_000),
        text_signature = "(*, policy=None, jobs=1000, things=1000, executions=10000, status_details=10000, deletion_delay=0, max_events=100000)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        policy: Option<&Bound<'_, PyPolicy>>,
        jobs: usize,
        things: usize,
        executions: usize,
        status_details: usize,
        deletion_delay: DeletionDelay,
        max_events: usize,
    ) -> PyResult<Self> {
        for (name, cap) in [
            ("jobs", jobs),
            ("things", things),
            ("executions", executions),
            ("status_details", status_details),
        ] {
            if cap > MAX_CAPACITY {
                return Err(PyValueError::new_err(format!(
                    "{name} must be at most {MAX_CAPACITY}, not {cap}"
                )));
            }
        }
        let heap = Heap { jobs, things, executions, status_details, reserve: false };
        let mut reg = Registry::new(heap, or_default(policy));
        reg.set_deletion_delay(deletion_delay.0);
        Ok(Self { reg, events: Vec::new(), max_events })
    }

    /// The policy it follows.
    #[getter]
    fn policy(&self) -> PyPolicy {
        PyPolicy(*self.reg.policy())
    }

    /// Sets how many seconds a deleted job stays DELETION_IN_PROGRESS (later deletions): whole
    /// seconds from 0 to `LATEST_TIME`; a negative or longer delay raises `ValueError` naming
    /// the bound. A deletion is due at its `now` plus the delay, or at `LATEST_TIME` when that
    /// is earlier, since `advance` goes no further.
    fn set_deletion_delay(&mut self, secs: DeletionDelay) {
        self.reg.set_deletion_delay(secs.0);
    }

    /// Forgets every thing, job, execution and pending event. A cursor from before is refused
    /// afterwards (`InvalidRequestException`, kind `InvalidRequest`), even where the new
    /// executions fill the same places.
    fn clear(&mut self) {
        self.reg.clear();
        self.events.clear();
    }

    /// The events of the operations since the last call, in order: `Notify`, `NotifyNext`,
    /// `JobChanged`, `ExecutionChanged`.
    fn drain_events<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for e in &self.events {
            out.append(event_obj(py, e)?)?;
        }
        self.events.clear();
        Ok(out)
    }

    /// How full the tables are.
    fn usage<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let u = self.reg.usage();
        let d = PyDict::new(py);
        d.set_item("jobs", u.jobs)?;
        d.set_item("things", u.things)?;
        d.set_item("executions", u.executions)?;
        d.set_item("status_details", u.details)?;
        d.set_item("pairs", u.pairs)?;
        Ok(d)
    }

    /// Jobs in DELETION_IN_PROGRESS now (at most 10).
    fn jobs_deleting(&self) -> usize {
        self.reg.jobs_deleting()
    }

    // --- things -------------------------------------------------------------------------

    /// Registers a thing (CreateThing); registering a known thing again is a no-op.
    fn add_thing(&mut self, py: Python<'_>, name: PyBackedStr) -> PyResult<()> {
        let name = thing_name(py, &name)?;
        self.reg.add_thing(&name).map(|_| ()).or_raise(py, Plane::Control)
    }

    /// Deletes a thing (DeleteThing): its pending executions become REMOVED (SPEC T10, R10).
    fn remove_thing(&mut self, py: Python<'_>, name: PyBackedStr, now: u64) -> PyResult<()> {
        let name = thing_name(py, &name)?;
        let (reg, mut q) = self.sink();
        reg.remove_thing(&name, Timestamp(now), &mut q).or_raise(py, Plane::Control)
    }

    /// The registered things' names.
    fn things(&self) -> Vec<String> {
        self.reg.things().map(|t| t.as_str().to_owned()).collect()
    }

    // --- jobs ---------------------------------------------------------------------------

    /// CreateJob: a new IN_PROGRESS job with one QUEUED execution per target (registered
    /// things). Raises `ResourceAlreadyExistsException` while the id is in use, also during its
    /// deletion.
    ///
    /// The configuration (all optional, SPEC §6 ranges checked by the core):
    /// `in_progress_timeout_minutes` (1–10080); `retry`, `{"FAILED" | "TIMED_OUT" | "ALL":
    /// retries}`; `abort`, `[(failure type, threshold in hundredths of a percent, minimum
    /// executed)]`; `start_time` (the job is SCHEDULED until then), `end_time` and
    /// `end_behavior` (`STOP_ROLLOUT`, the default, `CANCEL`, `FORCE_CANCEL`);
    /// `maintenance_windows`, `[(startTime cron expression, durationInMinutes)]` (1 to 4: the job
    /// is IN_PROGRESS only while one is open, `advance` opens and closes them);
    /// `maximum_per_minute` (rollout rate); `exponential_rate`, `(baseRatePerMinute,
    /// incrementFactor in tenths, numberOfNotifiedThings, numberOfSucceededThings)` with a
    /// criterion `None` when not given (the rollout ramps up, `advance` sends its batches).
    #[pyo3(signature = (
        job_id, targets, now, *, target_selection = None, namespace_id = None,
        in_progress_timeout_minutes = None, retry = None, abort = None, start_time = None,
        end_time = None, end_behavior = None, maximum_per_minute = None,
        maintenance_windows = None, exponential_rate = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn create_job(
        &mut self,
        py: Python<'_>,
        job_id: PyBackedStr,
        targets: Vec<PyBackedStr>,
        now: u64,
        target_selection: Option<PyBackedStr>,
        namespace_id: Option<PyBackedStr>,
        in_progress_timeout_minutes: Option<u16>,
        retry: Option<&Bound<'_, PyDict>>,
        abort: Option<Vec<(PyBackedStr, u16, u32)>>,
        start_time: Option<u64>,
        end_time: Option<u64>,
        end_behavior: Option<PyBackedStr>,
        maximum_per_minute: Option<u32>,
        maintenance_windows: Option<WindowArgs>,
        exponential_rate: Option<ExponentialArgs>,
    ) -> PyResult<()> {
        let id = self::job_id(py, &job_id)?;
        let selection = crate::convert::target_selection(target_selection.as_deref().unwrap_or("SNAPSHOT"))?;
        let ns = namespace_arg(py, namespace_id, Plane::Control)?;
        let targets = things(py, &targets)?;
        let config = ConfigArgs {
            in_progress_timeout_minutes,
            retry: retry.map(retry_pairs).transpose()?,
            abort,
            start_time,
            end_time,
            end_behavior,
            maximum_per_minute,
            maintenance_windows,
            exponential_rate,
        }
        .build(py)?;
        let mut job = NewJob::new(&id, selection);
        job.namespace = ns.as_ref();
        job.config = config;
        let (reg, mut q) = self.sink();
        reg.create_job(&job, &targets, Timestamp(now), &mut q).map(|_| ()).or_raise(py, Plane::Control)
    }

    /// UpdateJob's configuration members: they apply from now on (a running in-progress timer
    /// keeps its deadline, AMBIG-15). Every member is given: one left `None` is removed. The
    /// schedule and its maintenance windows cannot be changed: they are kept as they were.
    #[pyo3(signature = (job_id, now, *, in_progress_timeout_minutes = None, retry = None, abort = None, maximum_per_minute = None, exponential_rate = None))]
    #[allow(clippy::too_many_arguments)]
    fn update_job_config(
        &mut self,
        py: Python<'_>,
        job_id: PyBackedStr,
        now: u64,
        in_progress_timeout_minutes: Option<u16>,
        retry: Option<&Bound<'_, PyDict>>,
        abort: Option<Vec<(PyBackedStr, u16, u32)>>,
        maximum_per_minute: Option<u32>,
        exponential_rate: Option<ExponentialArgs>,
    ) -> PyResult<()> {
        let id = self::job_id(py, &job_id)?;
        let config = ConfigArgs {
            in_progress_timeout_minutes,
            retry: retry.map(retry_pairs).transpose()?,
            abort,
            start_time: None,
            end_time: None,
            end_behavior: None,
            maximum_per_minute,
            maintenance_windows: None,
            exponential_rate,
        }
        .build(py)?;
        // SPEC 4.1 UpdateJob: the registry keeps the job's schedule and windows.
        self.reg.update_job_config(&id, config, Timestamp(now)).or_raise(py, Plane::Control)
    }

    /// DescribeJob's lifecycle members; `ResourceNotFoundException` for an unknown job.
    fn job<'py>(&self, py: Python<'py>, job_id: PyBackedStr) -> PyResult<Bound<'py, PyAny>> {
        let id = self::job_id(py, &job_id)?;
        let v = self.reg.job(&id).or_raise(py, Plane::Control)?;
        job_obj(py, &v)
    }

    /// Every job, including those being deleted, in creation order.
    fn jobs<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.reg.jobs().map(|v| job_obj(py, &v)).collect()
    }

    /// AssociateTargetsWithJob (CONTINUOUS jobs): returns how many executions were queued.
    fn add_targets(
        &mut self,
        py: Python<'_>,
        job_id: PyBackedStr,
        targets: Vec<PyBackedStr>,
        now: u64,
    ) -> PyResult<usize> {
        let id = self::job_id(py, &job_id)?;
        let targets = things(py, &targets)?;
        let (reg, mut q) = self.sink();
        reg.add_targets(&id, &targets, Timestamp(now), &mut q).or_raise(py, Plane::Control)
    }

    /// A thing leaves a job's targets: its pending execution becomes REMOVED (SPEC T10, R10).
    fn remove_target(
        &mut self,
        py: Python<'_>,
        job_id: PyBackedStr,
        thing: PyBackedStr,
        now: u64,
    ) -> PyResult<()> {
        let id = self::job_id(py, &job_id)?;
        let t = thing_name(py, &thing)?;
        let (reg, mut q) = self.sink();
        reg.remove_target(&id, &t, Timestamp(now), &mut q).or_raise(py, Plane::Control)
    }

    /// CancelJob (SPEC 4.2, R3, R5, T8, T9).
    #[pyo3(signature = (job_id, now, *, force = false, reason_code = None))]
    fn cancel_job(
        &mut self,
        py: Python<'_>,
        job_id: PyBackedStr,
        now: u64,
        force: bool,
        reason_code: Option<PyBackedStr>,
    ) -> PyResult<()> {
        let id = self::job_id(py, &job_id)?;
        let rc = reason_code.map(|r| ReasonCode::new(&r).or_raise(py, Plane::Control)).transpose()?;
        let (reg, mut q) = self.sink();
        reg.cancel_job(&id, force, rc.as_ref(), Timestamp(now), &mut q).or_raise(py, Plane::Control)
    }

    /// DeleteJob (SPEC 4.2, R4, §6): the job becomes DELETION_IN_PROGRESS; `advance` removes
    /// it once the deletion delay has passed. At most 10 deletions at once.
    #[pyo3(signature = (job_id, now, *, force = false))]
    fn delete_job(&mut self, py: Python<'_>, job_id: PyBackedStr, now: u64, force: bool) -> PyResult<()> {
        let id = self::job_id(py, &job_id)?;
        let (reg, mut q) = self.sink();
        reg.delete_job(&id, force, Timestamp(now), &mut q).or_raise(py, Plane::Control)
    }

    /// A maintenance window opened for a SCHEDULED job.
    fn open_window(&mut self, py: Python<'_>, job_id: PyBackedStr, now: u64) -> PyResult<()> {
        let id = self::job_id(py, &job_id)?;
        let (reg, mut q) = self.sink();
        reg.open_window(&id, Timestamp(now), &mut q).or_raise(py, Plane::Control)
    }

    /// A maintenance window closed for an IN_PROGRESS job.
    fn close_window(&mut self, py: Python<'_>, job_id: PyBackedStr, now: u64) -> PyResult<()> {
        let id = self::job_id(py, &job_id)?;
        let (reg, mut q) = self.sink();
        reg.close_window(&id, Timestamp(now), &mut q).or_raise(py, Plane::Control)
    }

    // --- executions (control plane) ------------------------------------------------------

    /// DescribeJobExecution by number, or the latest; on `plane="data"` also the device's
    /// view (a job being deleted is not found; a terminal execution raises
    /// `TerminalStateException`, SPEC R11).
    #[pyo3(signature = (job_id, thing, execution_number = None, *, plane = None))]
    fn describe_execution<'py>(
        &self,
        py: Python<'py>,
        job_id: PyBackedStr,
        thing: PyBackedStr,
        execution_number: Option<u64>,
        plane: Option<PyBackedStr>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let on = crate::convert::plane(plane.as_deref().unwrap_or("control"))?;
        let id = self::job_id(py, &job_id)?;
        let t = thing_name(py, &thing)?;
        let n = execution_number.map(|n| exec_number(py, n)).transpose()?;
        let v = self.reg.describe_execution(&id, &t, n, on).or_raise(py, on)?;
        execution_obj(py, &v)
    }

    /// CancelJobExecution (SPEC 4.2, T8, T9, R16): returns the new `ExecutionState`.
    #[pyo3(signature = (job_id, thing, now, *, force = false, expected_version = None, status_details = None))]
    #[allow(clippy::too_many_arguments)]
    fn cancel_execution<'py>(
        &mut self,
        py: Python<'py>,
        job_id: PyBackedStr,
        thing: PyBackedStr,
        now: u64,
        force: bool,
        expected_version: Option<u64>,
        status_details: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = self::job_id(py, &job_id)?;
        let t = thing_name(py, &thing)?;
        let ev = expected_version.map(|v| VersionNumber::new(v).or_raise(py, Plane::Control)).transpose()?;
        let pairs = status_details.map(details_pairs).transpose()?;
        let (reg, mut q) = self.sink();
        let s = match &pairs {
            Some(p) => with_details(py, p, |d| {
                reg.cancel_execution(&id, &t, force, ev, Some(&d), Timestamp(now), &mut q)
                    .or_raise(py, Plane::Control)
            })?,
            None => reg
                .cancel_execution(&id, &t, force, ev, None, Timestamp(now), &mut q)
                .or_raise(py, Plane::Control)?,
        };
        state_obj(py, s)
    }

    /// DeleteJobExecution (SPEC 4.2, T11, R1, R2): the number may be reused (R7).
    #[pyo3(signature = (job_id, thing, execution_number, now, *, force = false))]
    fn delete_execution(
        &mut self,
        py: Python<'_>,
        job_id: PyBackedStr,
        thing: PyBackedStr,
        execution_number: u64,
        now: u64,
        force: bool,
    ) -> PyResult<()> {
        let id = self::job_id(py, &job_id)?;
        let t = thing_name(py, &thing)?;
        let n = exec_number(py, execution_number)?;
        let (reg, mut q) = self.sink();
        reg.delete_execution(&id, &t, n, force, Timestamp(now), &mut q).or_raise(py, Plane::Control)
    }

    /// ListJobExecutionsForJob: `(executions, next_cursor)`; pass the cursor back to go on.
    #[pyo3(signature = (job_id, *, status = None, max_results = 100, cursor = None))]
    fn list_for_job<'py>(
        &self,
        py: Python<'py>,
        job_id: PyBackedStr,
        status: Option<PyBackedStr>,
        max_results: usize,
        cursor: Option<(u32, u32)>,
    ) -> PyResult<Page<'py>> {
        let id = self::job_id(py, &job_id)?;
        let st = opt_execution_status(status.as_ref())?;
        let (from, max_results) = (cursor_of(cursor), page_size(max_results)?);
        let (out, next) = collect(py, |visit| {
            self.reg.list_for_job(&id, st, from, max_results, visit).or_raise(py, Plane::Control)
        })?;
        Ok((out, next.map(Cursor::to_parts)))
    }

    /// ListJobExecutionsForThing: `(executions, next_cursor)`.
    #[pyo3(signature = (thing, *, status = None, max_results = 100, cursor = None))]
    fn list_for_thing<'py>(
        &self,
        py: Python<'py>,
        thing: PyBackedStr,
        status: Option<PyBackedStr>,
        max_results: usize,
        cursor: Option<(u32, u32)>,
    ) -> PyResult<Page<'py>> {
        let t = thing_name(py, &thing)?;
        let st = opt_execution_status(status.as_ref())?;
        let (from, max_results) = (cursor_of(cursor), page_size(max_results)?);
        let (out, next) = collect(py, |visit| {
            self.reg.list_for_thing(&t, st, from, max_results, visit).or_raise(py, Plane::Control)
        })?;
        Ok((out, next.map(Cursor::to_parts)))
    }

    // --- device calls (data plane) -------------------------------------------------------

    /// GetPendingJobExecutions: IN_PROGRESS first, then QUEUED, at most the policy's cap. With
    /// `namespace`, the payload of `notify-namespace-NS`: only the executions of jobs created in
    /// that namespace (SPEC R20, AMBIG-27).
    #[pyo3(signature = (thing, *, namespace = None))]
    fn pending<'py>(
        &self,
        py: Python<'py>,
        thing: PyBackedStr,
        namespace: Option<PyBackedStr>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let t = thing_name(py, &thing)?;
        let ns = namespace_arg(py, namespace, Plane::Data)?;
        collect(py, |visit| match &ns {
            Some(ns) => self.reg.pending_in_namespace(&t, ns, visit).or_raise(py, Plane::Data),
            None => self.reg.pending(&t, visit).or_raise(py, Plane::Data),
        })
        .map(|(out, ())| out)
    }

    /// DescribeJobExecution `$next`: the head of the pending list, or `None`. With `namespace`,
    /// the payload of `notify-next-namespace-NS`: the first pending execution of a job created
    /// in that namespace (SPEC R20, AMBIG-27).
    #[pyo3(signature = (thing, *, namespace = None))]
    fn next_pending<'py>(
        &self,
        py: Python<'py>,
        thing: PyBackedStr,
        namespace: Option<PyBackedStr>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let t = thing_name(py, &thing)?;
        let ns = namespace_arg(py, namespace, Plane::Data)?;
        let v = match &ns {
            Some(ns) => self.reg.next_pending_in_namespace(&t, ns),
            None => self.reg.next_pending(&t),
        }
        .or_raise(py, Plane::Data)?;
        v.map(|v| execution_obj(py, &v)).transpose()
    }

    /// StartNextPendingJobExecution: the started (or resumed) execution, or `None`.
    #[pyo3(signature = (thing, now, *, status_details = None, step_timeout_minutes = None))]
    fn start_next<'py>(
        &mut self,
        py: Python<'py>,
        thing: PyBackedStr,
        now: u64,
        status_details: Option<&Bound<'_, PyDict>>,
        step_timeout_minutes: Option<i64>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let t = thing_name(py, &thing)?;
        let step = step_timeout(py, step_timeout_minutes, false)?;
        let pairs = status_details.map(details_pairs).transpose()?;
        let (reg, mut q) = self.sink();
        let h = match &pairs {
            Some(p) => with_details(py, p, |d| {
                reg.start_next(&t, Some(&d), step, Timestamp(now), &mut q).or_raise(py, Plane::Data)
            })?,
            None => reg.start_next(&t, None, step, Timestamp(now), &mut q).or_raise(py, Plane::Data)?,
        };
        h.and_then(|h| self.reg.execution(h)).map(|v| execution_obj(py, &v)).transpose()
    }

    /// UpdateJobExecution (SPEC 4.3, T2–T6, R6, R9, R13, R14): returns the new `ExecutionState`.
    /// A version mismatch raises `InvalidStateTransitionException` with kind `VersionMismatch`
    /// and the current `execution_state`.
    #[pyo3(signature = (job_id, thing, status, now, *, status_details = None, expected_version = None, execution_number = None, step_timeout_minutes = None))]
    #[allow(clippy::too_many_arguments)]
    fn update_execution<'py>(
        &mut self,
        py: Python<'py>,
        job_id: PyBackedStr,
        thing: PyBackedStr,
        status: PyBackedStr,
        now: u64,
        status_details: Option<&Bound<'_, PyDict>>,
        expected_version: Option<u64>,
        execution_number: Option<u64>,
        step_timeout_minutes: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = self::job_id(py, &job_id)?;
        let t = thing_name(py, &thing)?;
        let mut u = Update::new(execution_status(&status)?);
        u.expected_version =
            expected_version.map(|v| VersionNumber::new(v).or_raise(py, Plane::Data)).transpose()?;
        u.execution_number = execution_number.map(|n| exec_number(py, n)).transpose()?;
        u.step_timeout = step_timeout(py, step_timeout_minutes, true)?;
        let pairs = status_details.map(details_pairs).transpose()?;
        let (reg, mut q) = self.sink();
        let s = match &pairs {
            Some(p) => with_details(py, p, |d| {
                let u = Update { status_details: Some(&d), ..u };
                reg.update_execution(&id, &t, &u, Timestamp(now), &mut q).or_raise(py, Plane::Data)
            })?,
            None => reg.update_execution(&id, &t, &u, Timestamp(now), &mut q).or_raise(py, Plane::Data)?,
        };
        state_obj(py, s)
    }

    // --- time ---------------------------------------------------------------------------

    /// The earliest `now` at which `advance` may have something to do, if any.
    fn next_deadline(&self) -> Option<u64> {
        self.reg.next_deadline().map(Timestamp::secs)
    }

    /// Applies everything due at `now` (timeouts, retries, schedule events, deletions). With a
    /// `budget`, does at most that many units of work and says whether more is due; without,
    /// does all of it. Returns `Advanced(work, more)`.
    #[pyo3(signature = (now, budget = None))]
    fn advance<'py>(
        &mut self,
        py: Python<'py>,
        now: u64,
        budget: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        static CLS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
        let mut work: usize = 0;
        let more = loop {
            let (reg, mut q) = self.sink();
            let a =
                reg.advance(Timestamp(now), budget.unwrap_or(1024), &mut q).or_raise(py, Plane::Control)?;
            work = work.saturating_add(a.work);
            // Without a budget, go on while the core says more is due and progress is made.
            if budget.is_some() || !a.more || a.work == 0 {
                break a.more;
            }
        };
        call_class(py, &CLS, TYPES, "Advanced", (work, more))
    }

    fn __repr__(&self) -> String {
        let u = self.reg.usage();
        format!(
            "Registry(jobs={}, things={}, executions={}, deleting={}, events={})",
            u.jobs,
            u.things,
            u.executions,
            self.reg.jobs_deleting(),
            self.events.len()
        )
    }
}
