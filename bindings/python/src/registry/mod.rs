//! `Registry`: the core's `registry::Registry` over heap storage (`registry::Heap`), with the
//! lifecycle operations, views as Python records and events collected for the host to drain.
//!
//! This module holds the class and its one `#[pymethods]` block (pyo3's `multiple-pymethods`
//! feature is off); the arguments' conversions are in `args`, the exceptions of refused calls in
//! `errors`, the event queue and what its records carry in `events`, the Python records in
//! `records`, `snapshot`/`restore`'s format in `snapshot`, and the lock and what it guards in
//! `state`.
//!
//! Threads: the registry's state sits in a `std::sync::Mutex` inside a frozen pyclass, so every
//! method takes `&self` and a registry can be shared between threads with no lock of the host's.
//! The mutex is only ever waited for with the GIL released (`MutexExt::lock_py_attached`: a
//! `try_lock`, else the blocking `lock` detached from the interpreter). Holding it, a method
//! builds its Python records and exceptions, which needs the GIL and may let another thread run
//! Python meanwhile (the interpreter switches threads between bytecodes of the records'
//! constructors). That cannot deadlock: the only order in which the two are ever held is "the
//! mutex, then the GIL" — a thread that holds the mutex may wait for the GIL, but no thread
//! waits for the mutex while it holds the GIL, so the holder always gets the GIL back, finishes
//! and unlocks. The one way round it is a call into the same registry from Python code run while
//! the mutex is held on the same thread: every argument is converted before the mutex is taken
//! and the records are the package's own dataclasses, but building them allocates, and the
//! garbage collector may then run any object's `__del__` on this thread. Such a call raises
//! `RuntimeError` (the registry records which thread holds its lock) instead of waiting for ever.

mod args;
mod errors;
mod events;
mod records;
mod snapshot;
mod state;

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use iot_jobs_core::registry::{Cursor, LATEST_TIME, NewJob, Registry, Update};
use iot_jobs_core::{Plane, ReasonCode, TargetSelection, Timestamp, VersionNumber};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyType};

use self::args::{
    DeletionDelay, Now, caps, exec_number, job_id, namespace_arg, page_args, step_timeout, thing_name, things,
};
use self::errors::{Ids, OrRaiseFor};
use self::events::Kept;
use self::records::{ExecutionFields, JobFields, Page, collect, execution_obj, job_obj, record_obj};
use self::snapshot::{SNAPSHOT_FORMAT, Saved, Snapshot, serialized};
use self::state::State;
use crate::config::{ConfigArgs, ExponentialArgs, WindowArgs, retry_pairs};
use crate::convert::{OrRaise, TYPES, call_class, request_enum, state_obj, status_member};
use crate::ids::{details_pairs, with_details};
use crate::policy::{PyPolicy, or_default};

/// The AWS IoT Jobs lifecycle state of one account/region: things, jobs and executions, with
/// numbering, versions, reuse, DELETION_IN_PROGRESS and timers as the core's registry applies them.
///
/// Every operation takes `now` (whole seconds since the Unix epoch, 0 to `LATEST_TIME`) and
/// either applies completely or raises a `JobsError` having changed nothing. A `now` earlier than
/// the latest one a call succeeded with is taken as that one (time never goes backwards for the
/// registry). Notifications accumulate; take them with `drain_events()`.
///
/// Safe to share between threads: each call holds the registry's own lock while it runs (taken
/// with the GIL released), so calls from several threads apply one after the other.
#[pyclass(name = "Registry", module = "iot_jobs_core", frozen)]
pub struct PyRegistry {
    state: Mutex<State>,
    /// The thread holding `state`'s lock (see `state::THREAD`), 0 when none.
    owner: AtomicU64,
}

#[pymethods]
impl PyRegistry {
    /// An empty registry holding at most `jobs` jobs, `things` things, `executions` executions
    /// and `status_details` statusDetails maps (tables grow on the heap up to these caps; a
    /// full table refuses with `LimitExceededException` on the control plane,
    /// `ServiceUnavailableException` on the data plane). `deletion_delay`: seconds a deleted job
    /// stays DELETION_IN_PROGRESS before `advance` removes it (0 to `LATEST_TIME`, as
    /// `set_deletion_delay` takes it). `max_events`: events held until `drain_events()`; an
    /// operation that would pass it raises `ThrottlingException`. `max_events=None` keeps no
    /// events (for a host that delivers no notifications and never drains: with a maximum, its
    /// queue fills and every operation is throttled). Each cap is at most 2 000 000
    /// (`ValueError` beyond). The default caps cost about 1 MB and 0.5 ms per registry: the
    /// core's heap index, 4 bytes a bucket for twice jobs + things + executions, is allocated
    /// whole at construction (the emulator's caps, 100 000 / 100 000 / 1 000 000, would cost
    /// 9.6 MB and 5 ms each); the tables themselves grow as they fill.
    #[new]
    #[pyo3(
        signature = (*, policy = None, jobs = 10_000, things = 10_000, executions = 100_000, status_details = 100_000, deletion_delay = DeletionDelay(0), max_events = Some(100_000)),
        text_signature = "(*, policy=None, jobs=10000, things=10000, executions=100000, status_details=100000, deletion_delay=0, max_events=100000)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        policy: Option<&Bound<'_, PyPolicy>>,
        jobs: usize,
        things: usize,
        executions: usize,
        status_details: usize,
        deletion_delay: DeletionDelay,
        max_events: Option<usize>,
    ) -> PyResult<Self> {
        let caps = caps(jobs, things, executions, status_details)?;
        let mut reg = Registry::new(caps, or_default(policy));
        reg.set_deletion_delay(deletion_delay.0);
        Ok(Self::from_parts(reg, caps, max_events, None))
    }

    /// A registry with the state of a `snapshot()` (bytes, or the same JSON as `str`), under
    /// these caps and this policy (neither is in a snapshot; `deletion_delay` is). Raises
    /// `ValueError` naming what is wrong for anything else: not JSON, another format, an
    /// inconsistent state, or more jobs, things, executions or statusDetails maps than the caps
    /// hold. Events that were pending when the snapshot was taken are not in it.
    #[staticmethod]
    #[pyo3(
        signature = (snapshot, *, policy = None, jobs = 10_000, things = 10_000, executions = 100_000, status_details = 100_000, max_events = Some(100_000)),
        text_signature = "(snapshot, *, policy=None, jobs=10000, things=10000, executions=100000, status_details=100000, max_events=100000)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn restore(
        py: Python<'_>,
        snapshot: Snapshot,
        policy: Option<&Bound<'_, PyPolicy>>,
        jobs: usize,
        things: usize,
        executions: usize,
        status_details: usize,
        max_events: Option<usize>,
    ) -> PyResult<Self> {
        let caps = caps(jobs, things, executions, status_details)?;
        let policy = or_default(policy);
        let bytes = snapshot.0;
        let (reg, clock) = py
            .detach(|| -> Result<_, String> {
                let saved: Saved<'_> = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
                if saved.format != SNAPSHOT_FORMAT {
                    return Err(format!(
                        "its format is {:?}; this version reads {SNAPSHOT_FORMAT:?}",
                        saved.format
                    ));
                }
                if saved.clock.is_some_and(|c| c > LATEST_TIME.secs()) {
                    return Err(format!("its clock is past LATEST_TIME ({})", LATEST_TIME.secs()));
                }
                let mut de = serde_json::Deserializer::from_str(saved.registry.get());
                let reg = Registry::restore(caps, policy, &mut de).map_err(|e| e.to_string())?;
                Ok((reg, saved.clock))
            })
            .map_err(|e| PyValueError::new_err(format!("not a registry snapshot: {e}")))?;
        Ok(Self::from_parts(reg, caps, max_events, clock))
    }

    /// The whole state as bytes (JSON: the core's snapshot and the registry's clock), for
    /// `Registry.restore`: to save a state and load it in another process, or to build a
    /// fixture's world once and restore it per test. The pending events are not in it.
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let st = self.state(py)?;
        // The encoding holds the registry's lock, not the GIL: other threads run meanwhile.
        let bytes = py.detach(|| serialized(&st))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// `copy`, `deepcopy` and `pickle`: `Registry.restore` of a `snapshot()` with the same caps,
    /// policy and `max_events`. Refused (`ValueError`) while events are pending: they are not
    /// in a snapshot, and would be lost; `drain_events()` first.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let (bytes, caps, max_events, policy) = {
            let st = self.state(py)?;
            if !st.events.is_empty() {
                return Err(PyValueError::new_err(format!(
                    "a Registry with {} pending events cannot be copied or pickled (they are not in \
                     its snapshot): drain_events() first",
                    st.events.len()
                )));
            }
            (py.detach(|| serialized(&st))?, st.caps, st.max_events, PyPolicy(*st.reg.policy()))
        };
        let kw = PyDict::new(py);
        kw.set_item("policy", Bound::new(py, policy)?)?;
        kw.set_item("jobs", caps.jobs)?;
        kw.set_item("things", caps.things)?;
        kw.set_item("executions", caps.executions)?;
        kw.set_item("status_details", caps.status_details)?;
        kw.set_item("max_events", max_events)?;
        let restore = py.get_type::<Self>().getattr("restore")?;
        let partial = py.import("functools")?.getattr("partial")?.call((restore,), Some(&kw))?;
        Ok((partial, (PyBytes::new(py, &bytes),)))
    }

    /// The policy it follows.
    #[getter]
    fn policy(&self, py: Python<'_>) -> PyResult<PyPolicy> {
        Ok(PyPolicy(*self.state(py)?.reg.policy()))
    }

    /// The latest `now` a call succeeded with since the registry was made or cleared (`None`
    /// before the first): a call given an earlier `now` runs at this time instead.
    #[getter]
    fn clock(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        Ok(self.state(py)?.clock)
    }

    /// Sets how many seconds a deleted job stays DELETION_IN_PROGRESS (later deletions): whole
    /// seconds from 0 to `LATEST_TIME`; a negative or longer delay raises `ValueError` naming
    /// the bound. A deletion is due at its `now` plus the delay, or at `LATEST_TIME` when that
    /// is earlier, since `advance` goes no further.
    fn set_deletion_delay(&self, py: Python<'_>, secs: DeletionDelay) -> PyResult<()> {
        self.state(py)?.reg.set_deletion_delay(secs.0);
        Ok(())
    }

    /// Forgets every thing, job, execution and pending event, and its clock (a later call may
    /// give any `now` again). A cursor from before is refused afterwards
    /// (`InvalidRequestException`, kind `InvalidRequest`), even where the new executions fill
    /// the same places.
    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        let mut st = self.state(py)?;
        st.reg.clear();
        st.events.clear();
        st.kept = Kept::default();
        st.clock = None;
        Ok(())
    }

    /// The events of the operations since the last call, in order: `Notify`, `NotifyNext`,
    /// `NotifyNamespace`, `NotifyNextNamespace` (the thing's name: render `pending` or
    /// `next_pending` into the payload, which gives the list as it is now), `JobChanged`,
    /// `ExecutionChanged` (with `view`, the job or execution as of the event, also once it is
    /// gone). Always empty with `max_events=None`.
    fn drain_events<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let events = core::mem::take(&mut self.state(py)?.events);
        let out = PyList::empty(py);
        for e in &events {
            out.append(record_obj(py, e)?)?;
        }
        Ok(out)
    }

    /// How full the tables are.
    fn usage<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let u = self.state(py)?.reg.usage();
        let d = PyDict::new(py);
        d.set_item("jobs", u.jobs)?;
        d.set_item("things", u.things)?;
        d.set_item("executions", u.executions)?;
        d.set_item("status_details", u.details)?;
        d.set_item("pairs", u.pairs)?;
        Ok(d)
    }

    /// Jobs in DELETION_IN_PROGRESS now (at most 10).
    fn jobs_deleting(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.state(py)?.reg.jobs_deleting())
    }

    // --- things -------------------------------------------------------------------------

    /// Registers a thing (CreateThing); registering a known thing again is a no-op.
    fn add_thing(&self, py: Python<'_>, name: PyBackedStr) -> PyResult<()> {
        let t = thing_name(py, &name)?;
        self.state(py)?.reg.add_thing(&t).map(|_| ()).or_raise_for(py, Plane::Control, Ids::thing(&name))
    }

    /// Deletes a thing (DeleteThing): its pending executions become REMOVED (SPEC T10, R10).
    fn remove_thing(&self, py: Python<'_>, name: PyBackedStr, now: Now) -> PyResult<()> {
        let t = thing_name(py, &name)?;
        self.state(py)?.at(now, |reg, q, now| {
            reg.remove_thing(&t, now, q).or_raise_for(py, Plane::Control, Ids::thing(&name))
        })
    }

    /// The registered things' names.
    fn things(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        Ok(self.state(py)?.reg.things().map(|t| t.as_str().to_owned()).collect())
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
    /// `end_behavior` (`STOP_ROLLOUT`, the default, `CANCEL`, `FORCE_CANCEL`; ignored without
    /// `end_time`, as AWS does); `maintenance_windows`, `[(startTime cron expression,
    /// durationInMinutes)]` (1 to 4: the job is IN_PROGRESS only while one is open, `advance`
    /// opens and closes them); `maximum_per_minute` (rollout rate); `exponential_rate`,
    /// `(baseRatePerMinute, incrementFactor in tenths, numberOfNotifiedThings,
    /// numberOfSucceededThings)` with a criterion `None` when not given (the rollout ramps up,
    /// `advance` sends its batches). Times are epoch seconds. Without `members`, `targets` are
    /// the request's every target: 1 to 100 (`InvalidRequestException` for none,
    /// `LimitExceededException` past 100). `members`: the things of the thing groups the
    /// request targets; each gets an execution after the `targets`, but a group is one target,
    /// so they do not count toward the job's 100 (SPEC lim-targets), and the host counts the
    /// request's ARNs (`job_targets`): both lists may then be empty (groups without things).
    #[pyo3(signature = (
        job_id, targets, now, *, members = None, target_selection = None, namespace_id = None,
        in_progress_timeout_minutes = None, retry = None, abort = None, start_time = None,
        end_time = None, end_behavior = None, maximum_per_minute = None,
        maintenance_windows = None, exponential_rate = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn create_job(
        &self,
        py: Python<'_>,
        job_id: PyBackedStr,
        targets: Vec<PyBackedStr>,
        now: Now,
        members: Option<Vec<PyBackedStr>>,
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
        let selection = request_enum(
            py,
            "targetSelection",
            target_selection.as_deref().unwrap_or("SNAPSHOT"),
            &[TargetSelection::Snapshot.as_str(), TargetSelection::Continuous.as_str()],
        )?;
        let ns = namespace_arg(py, namespace_id, Plane::Control)?;
        // SPEC lim-targets: a request of things alone is counted here, one with groups by the host.
        let whole = members.is_none();
        let targets = things(py, &targets)?;
        let members = things(py, members.as_deref().unwrap_or_default())?;
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
        self.state(py)?.at(now, |reg, q, now| {
            let made = if whole {
                reg.create_job(&job, &targets, now, q)
            } else {
                reg.create_job_with_members(&job, &targets, &members, now, q)
            };
            let ids = Ids::job_and_unknown(&job_id, reg, targets.iter().chain(&members));
            made.map(|_| ()).or_raise_for(py, Plane::Control, ids)
        })
    }

    /// UpdateJob's configuration members: they apply from now on (a running in-progress timer
    /// keeps its deadline, AMBIG-15). Every member is given: one left `None` is removed. The
    /// schedule and its maintenance windows cannot be changed: they are kept as they were.
    #[pyo3(signature = (job_id, now, *, in_progress_timeout_minutes = None, retry = None, abort = None, maximum_per_minute = None, exponential_rate = None))]
    #[allow(clippy::too_many_arguments)]
    fn update_job_config(
        &self,
        py: Python<'_>,
        job_id: PyBackedStr,
        now: Now,
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
        self.state(py)?.at(now, |reg, _, now| {
            reg.update_job_config(&id, config, now).or_raise_for(py, Plane::Control, Ids::job(&job_id))
        })
    }

    /// DescribeJob's lifecycle members; `ResourceNotFoundException` for an unknown job.
    fn job<'py>(&self, py: Python<'py>, job_id: PyBackedStr) -> PyResult<Bound<'py, PyAny>> {
        let id = self::job_id(py, &job_id)?;
        let st = self.state(py)?;
        let v = st.reg.job(&id).or_raise_for(py, Plane::Control, Ids::job(&job_id))?;
        job_obj(py, &JobFields::of(&v))
    }

    /// Every job, including those being deleted, in creation order.
    fn jobs<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let st = self.state(py)?;
        st.reg.jobs().map(|v| job_obj(py, &JobFields::of(&v))).collect()
    }

    /// AssociateTargetsWithJob (CONTINUOUS jobs): returns how many executions were queued.
    /// The things count toward the job's 100 targets (`LimitExceededException` past them);
    /// `members`, the things of the thing groups the request targets, get executions too but
    /// do not (as `create_job`'s). One change: made whole or refused whole.
    #[pyo3(signature = (job_id, targets, now, *, members = None))]
    fn add_targets(
        &self,
        py: Python<'_>,
        job_id: PyBackedStr,
        targets: Vec<PyBackedStr>,
        now: Now,
        members: Option<Vec<PyBackedStr>>,
    ) -> PyResult<usize> {
        let id = self::job_id(py, &job_id)?;
        let targets = things(py, &targets)?;
        let members = things(py, members.as_deref().unwrap_or_default())?;
        self.state(py)?.at(now, |reg, q, now| {
            reg.add_targets_and_members(&id, &targets, &members, now, q).or_raise_for(
                py,
                Plane::Control,
                Ids::job(&job_id),
            )
        })
    }

    /// Things that joined a thing group a CONTINUOUS job targets (AddThingToThingGroup, SPEC
    /// T1, T13): like `add_targets`, each registered thing without a pending execution of the
    /// job gets a QUEUED one, but the group is the job's target, so they do not count toward its
    /// 100 targets. Returns how many executions were queued.
    fn add_members(
        &self,
        py: Python<'_>,
        job_id: PyBackedStr,
        things: Vec<PyBackedStr>,
        now: Now,
    ) -> PyResult<usize> {
        let id = self::job_id(py, &job_id)?;
        let names = self::things(py, &things)?;
        self.state(py)?.at(now, |reg, q, now| {
            let added = reg.add_members(&id, &names, now, q);
            added.or_raise_for(py, Plane::Control, Ids::job_and_unknown(&job_id, reg, &names))
        })
    }

    /// A thing leaves a job's targets (a CONTINUOUS job's group lost it): its pending execution
    /// becomes REMOVED (SPEC T10, R10), or it leaves a rollout that has not reached it. A
    /// SNAPSHOT job keeps the things it was created with: nothing changes (`group_leave`).
    fn remove_target(
        &self,
        py: Python<'_>,
        job_id: PyBackedStr,
        thing: PyBackedStr,
        now: Now,
    ) -> PyResult<()> {
        let id = self::job_id(py, &job_id)?;
        let t = thing_name(py, &thing)?;
        self.state(py)?.at(now, |reg, q, now| {
            reg.remove_target(&id, &t, now, q).or_raise_for(py, Plane::Control, Ids::both(&job_id, &thing))
        })
    }

    /// CancelJob (SPEC 4.2, R3, R5, T8, T9).
    #[pyo3(signature = (job_id, now, *, force = false, reason_code = None))]
    fn cancel_job(
        &self,
        py: Python<'_>,
        job_id: PyBackedStr,
        now: Now,
        force: bool,
        reason_code: Option<PyBackedStr>,
    ) -> PyResult<()> {
        let id = self::job_id(py, &job_id)?;
        let rc = reason_code.map(|r| ReasonCode::new(&r).or_raise(py, Plane::Control)).transpose()?;
        self.state(py)?.at(now, |reg, q, now| {
            reg.cancel_job(&id, force, rc.as_ref(), now, q).or_raise_for(
                py,
                Plane::Control,
                Ids::job(&job_id),
            )
        })
    }

    /// DeleteJob (SPEC 4.2, R4, §6): the job becomes DELETION_IN_PROGRESS; `advance` removes
    /// it once the deletion delay has passed. At most 10 deletions at once.
    #[pyo3(signature = (job_id, now, *, force = false))]
    fn delete_job(&self, py: Python<'_>, job_id: PyBackedStr, now: Now, force: bool) -> PyResult<()> {
        let id = self::job_id(py, &job_id)?;
        self.state(py)?.at(now, |reg, q, now| {
            reg.delete_job(&id, force, now, q).or_raise_for(py, Plane::Control, Ids::job(&job_id))
        })
    }

    /// A maintenance window opened for a SCHEDULED job.
    fn open_window(&self, py: Python<'_>, job_id: PyBackedStr, now: Now) -> PyResult<()> {
        let id = self::job_id(py, &job_id)?;
        self.state(py)?.at(now, |reg, q, now| {
            reg.open_window(&id, now, q).or_raise_for(py, Plane::Control, Ids::job(&job_id))
        })
    }

    /// A maintenance window closed for an IN_PROGRESS job.
    fn close_window(&self, py: Python<'_>, job_id: PyBackedStr, now: Now) -> PyResult<()> {
        let id = self::job_id(py, &job_id)?;
        self.state(py)?.at(now, |reg, q, now| {
            reg.close_window(&id, now, q).or_raise_for(py, Plane::Control, Ids::job(&job_id))
        })
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
        let st = self.state(py)?;
        let v = st.reg.describe_execution(&id, &t, n, on).or_raise_for(py, on, Ids::both(&job_id, &thing))?;
        execution_obj(py, &ExecutionFields::of(&v))
    }

    /// CancelJobExecution (SPEC 4.2, T8, T9, R16): returns the new `ExecutionState`.
    #[pyo3(signature = (job_id, thing, now, *, force = false, expected_version = None, status_details = None))]
    #[allow(clippy::too_many_arguments)]
    fn cancel_execution<'py>(
        &self,
        py: Python<'py>,
        job_id: PyBackedStr,
        thing: PyBackedStr,
        now: Now,
        force: bool,
        expected_version: Option<u64>,
        status_details: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = self::job_id(py, &job_id)?;
        let t = thing_name(py, &thing)?;
        let ev = expected_version.map(|v| VersionNumber::new(v).or_raise(py, Plane::Control)).transpose()?;
        let pairs = status_details.map(details_pairs).transpose()?;
        let ids = Ids::both(&job_id, &thing);
        let s = self.state(py)?.at(now, |reg, q, now| match &pairs {
            Some(p) => with_details(py, p, |d| {
                reg.cancel_execution(&id, &t, force, ev, Some(&d), now, q).or_raise_for(
                    py,
                    Plane::Control,
                    ids,
                )
            }),
            None => {
                reg.cancel_execution(&id, &t, force, ev, None, now, q).or_raise_for(py, Plane::Control, ids)
            }
        })?;
        state_obj(py, s)
    }

    /// DeleteJobExecution (SPEC 4.2, T11, R1, R2): the number may be reused (R7).
    #[pyo3(signature = (job_id, thing, execution_number, now, *, force = false))]
    fn delete_execution(
        &self,
        py: Python<'_>,
        job_id: PyBackedStr,
        thing: PyBackedStr,
        execution_number: u64,
        now: Now,
        force: bool,
    ) -> PyResult<()> {
        let id = self::job_id(py, &job_id)?;
        let t = thing_name(py, &thing)?;
        let n = exec_number(py, execution_number)?;
        self.state(py)?.at(now, |reg, q, now| {
            q.keep_execution(reg, &id, &t, n);
            reg.delete_execution(&id, &t, n, force, now, q).or_raise_for(
                py,
                Plane::Control,
                Ids::both(&job_id, &thing),
            )
        })
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
        let (st, from, max_results) = page_args(py, status, max_results, cursor)?;
        let state = self.state(py)?;
        let (out, next) = collect(py, |visit| {
            state.reg.list_for_job(&id, st, from, max_results, visit).or_raise_for(
                py,
                Plane::Control,
                Ids::job(&job_id),
            )
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
        let (st, from, max_results) = page_args(py, status, max_results, cursor)?;
        let state = self.state(py)?;
        let (out, next) = collect(py, |visit| {
            state.reg.list_for_thing(&t, st, from, max_results, visit).or_raise_for(
                py,
                Plane::Control,
                Ids::thing(&thing),
            )
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
        let ids = Ids::thing(&thing);
        let state = self.state(py)?;
        collect(py, |visit| match &ns {
            Some(ns) => state.reg.pending_in_namespace(&t, ns, visit).or_raise_for(py, Plane::Data, ids),
            None => state.reg.pending(&t, visit).or_raise_for(py, Plane::Data, ids),
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
        let state = self.state(py)?;
        let v = match &ns {
            Some(ns) => state.reg.next_pending_in_namespace(&t, ns),
            None => state.reg.next_pending(&t),
        }
        .or_raise_for(py, Plane::Data, Ids::thing(&thing))?;
        v.map(|v| execution_obj(py, &ExecutionFields::of(&v))).transpose()
    }

    /// StartNextPendingJobExecution: the started (or resumed) execution, or `None`.
    #[pyo3(signature = (thing, now, *, status_details = None, step_timeout_minutes = None))]
    fn start_next<'py>(
        &self,
        py: Python<'py>,
        thing: PyBackedStr,
        now: Now,
        status_details: Option<&Bound<'_, PyDict>>,
        step_timeout_minutes: Option<i64>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let t = thing_name(py, &thing)?;
        let step = step_timeout(py, step_timeout_minutes, false)?;
        let pairs = status_details.map(details_pairs).transpose()?;
        let ids = Ids::thing(&thing);
        let mut state = self.state(py)?;
        let h = state.at(now, |reg, q, now| match &pairs {
            Some(p) => with_details(py, p, |d| {
                reg.start_next(&t, Some(&d), step, now, q).or_raise_for(py, Plane::Data, ids)
            }),
            None => reg.start_next(&t, None, step, now, q).or_raise_for(py, Plane::Data, ids),
        })?;
        h.and_then(|h| state.reg.execution(h))
            .map(|v| execution_obj(py, &ExecutionFields::of(&v)))
            .transpose()
    }

    /// UpdateJobExecution (SPEC 4.3, T2–T6, R6, R9, R13, R14): returns the new `ExecutionState`.
    /// A version mismatch raises `InvalidStateTransitionException` with kind `VersionMismatch`
    /// and the current `execution_state`.
    #[pyo3(signature = (job_id, thing, status, now, *, status_details = None, expected_version = None, execution_number = None, step_timeout_minutes = None))]
    #[allow(clippy::too_many_arguments)]
    fn update_execution<'py>(
        &self,
        py: Python<'py>,
        job_id: PyBackedStr,
        thing: PyBackedStr,
        status: PyBackedStr,
        now: Now,
        status_details: Option<&Bound<'_, PyDict>>,
        expected_version: Option<u64>,
        execution_number: Option<u64>,
        step_timeout_minutes: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = self::job_id(py, &job_id)?;
        let t = thing_name(py, &thing)?;
        let mut u = Update::new(status_member(py, "status", &status)?);
        u.expected_version =
            expected_version.map(|v| VersionNumber::new(v).or_raise(py, Plane::Data)).transpose()?;
        u.execution_number = execution_number.map(|n| exec_number(py, n)).transpose()?;
        u.step_timeout = step_timeout(py, step_timeout_minutes, true)?;
        let pairs = status_details.map(details_pairs).transpose()?;
        let ids = Ids::both(&job_id, &thing);
        let s = self.state(py)?.at(now, |reg, q, now| match &pairs {
            Some(p) => with_details(py, p, |d| {
                let u = Update { status_details: Some(&d), ..u };
                reg.update_execution(&id, &t, &u, now, q).or_raise_for(py, Plane::Data, ids)
            }),
            None => reg.update_execution(&id, &t, &u, now, q).or_raise_for(py, Plane::Data, ids),
        })?;
        state_obj(py, s)
    }

    // --- time ---------------------------------------------------------------------------

    /// The earliest `now` at which `advance` may have something to do, if any.
    fn next_deadline(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        Ok(self.state(py)?.reg.next_deadline().map(Timestamp::secs))
    }

    /// Applies everything due up to `now` (timeouts, retries, schedule events, deletions), as a
    /// simulation clock does: a step at each instant something falls due before `now`, in time
    /// order, so that what it changes is stamped then (a timeout due at +60 s is TIMED_OUT at
    /// +60 s however late `advance` comes), then one at `now`. With a `budget`, does at most
    /// that many units of work and says whether more is due; without, does all of it. Returns
    /// `Advanced(work, more)`.
    #[pyo3(signature = (now, budget = None))]
    fn advance<'py>(&self, py: Python<'py>, now: Now, budget: Option<usize>) -> PyResult<Bound<'py, PyAny>> {
        static CLS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
        let (work, more) = self.state(py)?.advancing(now, |reg, q, now| {
            let a = q.advance(reg, now, budget.unwrap_or(usize::MAX)).or_raise(py, Plane::Control)?;
            Ok((a.work, a.more))
        })?;
        call_class(py, &CLS, TYPES, "Advanced", (work, more))
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        // A repr taken while this thread is inside a call (a debugger, a finalizer's log line).
        let Ok(st) = self.state(py) else { return "Registry(<in a call on this thread>)".to_owned() };
        let u = st.reg.usage();
        format!(
            "Registry(jobs={}, things={}, executions={}, deleting={}, events={})",
            u.jobs,
            u.things,
            u.executions,
            st.reg.jobs_deleting(),
            st.events.len()
        )
    }
}
