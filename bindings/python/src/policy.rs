//! `Policy`: the knobs for the readings of SPEC §R, as a frozen Python class.

use iot_jobs_core::policy::Named;
use iot_jobs_core::{
    DeleteWithoutForce, DetailsWrite, NotifyOn, Numbering, PendingCap, Policy, UnknownThing, VersionBump,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyDict;

/// The readings of SPEC §R that differ between AWS's documents, one keyword per knob; the
/// defaults are the core's `Policy::DEFAULT`.
#[pyclass(name = "Policy", module = "iot_jobs_core", frozen, eq, hash)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PyPolicy(pub Policy);

fn pick<T: Copy>(name: &str, given: &str, choices: &[(&str, T)]) -> PyResult<T> {
    choices.iter().find(|(s, _)| *s == given).map(|(_, v)| *v).ok_or_else(|| {
        let allowed: Vec<&str> = choices.iter().map(|(s, _)| *s).collect();
        PyValueError::new_err(format!("{name} must be one of {allowed:?}, not {given:?}"))
    })
}

#[pymethods]
impl PyPolicy {
    #[new]
    #[pyo3(signature = (
        *,
        delete_timed_out_without_force = Policy::DEFAULT.delete_without_force.timed_out,
        delete_queued_without_force = Policy::DEFAULT.delete_without_force.queued,
        force_cancel_escalates = Policy::DEFAULT.force_cancel_escalates,
        version_bump = None,
        numbering = None,
        device_may_skip_in_progress = Policy::DEFAULT.device_may_skip_in_progress,
        remove_in_progress = Policy::DEFAULT.remove_in_progress,
        data_plane_describes_terminal = Policy::DEFAULT.data_plane_describes_terminal,
        pending_cap = 10,
        details_write = None,
        notify_on = None,
        unknown_thing = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        delete_timed_out_without_force: bool,
        delete_queued_without_force: bool,
        force_cancel_escalates: bool,
        version_bump: Option<PyBackedStr>,
        numbering: Option<PyBackedStr>,
        device_may_skip_in_progress: bool,
        remove_in_progress: bool,
        data_plane_describes_terminal: bool,
        pending_cap: u64,
        details_write: Option<PyBackedStr>,
        notify_on: Option<PyBackedStr>,
        unknown_thing: Option<PyBackedStr>,
    ) -> PyResult<Self> {
        let pending_cap = match pending_cap {
            10 => PendingCap::Ten,
            15 => PendingCap::Fifteen,
            n => return Err(PyValueError::new_err(format!("pending_cap must be 10 or 15, not {n}"))),
        };
        Ok(Self(Policy {
            delete_without_force: DeleteWithoutForce {
                timed_out: delete_timed_out_without_force,
                queued: delete_queued_without_force,
            },
            force_cancel_escalates,
            version_bump: pick(
                "version_bump",
                version_bump.as_deref().unwrap_or("EVERY_CHANGE"),
                VersionBump::NAMES,
            )?,
            numbering: pick(
                "numbering",
                numbering.as_deref().unwrap_or("REUSE_AFTER_DELETE"),
                Numbering::NAMES,
            )?,
            device_may_skip_in_progress,
            remove_in_progress,
            data_plane_describes_terminal,
            pending_cap,
            details_write: pick(
                "details_write",
                details_write.as_deref().unwrap_or("REPLACE"),
                DetailsWrite::NAMES,
            )?,
            notify_on: pick(
                "notify_on",
                notify_on.as_deref().unwrap_or("MEMBERSHIP_CHANGE"),
                NotifyOn::NAMES,
            )?,
            unknown_thing: pick(
                "unknown_thing",
                unknown_thing.as_deref().unwrap_or("EMPTY"),
                UnknownThing::NAMES,
            )?,
        }))
    }

    /// R1: DeleteJobExecution deletes a TIMED_OUT execution without force (default True).
    #[getter]
    fn delete_timed_out_without_force(&self) -> bool {
        self.0.delete_without_force.timed_out
    }
    /// R2: DeleteJobExecution deletes a QUEUED execution without force (default False).
    #[getter]
    fn delete_queued_without_force(&self) -> bool {
        self.0.delete_without_force.queued
    }
    /// R3: a forced CancelJob of a CANCELED job escalates instead of InvalidRequestException.
    #[getter]
    fn force_cancel_escalates(&self) -> bool {
        self.0.force_cancel_escalates
    }
    /// R6: `"EVERY_CHANGE"` (default) or `"DEVICE_UPDATES_ONLY"`.
    #[getter]
    fn version_bump(&self) -> &'static str {
        self.0.version_bump.name()
    }
    /// R7: `"REUSE_AFTER_DELETE"` (default) or `"MONOTONIC"`.
    #[getter]
    fn numbering(&self) -> &'static str {
        self.0.numbering.name()
    }
    /// R9: a device may move QUEUED straight to SUCCEEDED or FAILED (default True).
    #[getter]
    fn device_may_skip_in_progress(&self) -> bool {
        self.0.device_may_skip_in_progress
    }
    /// R10: an IN_PROGRESS execution becomes REMOVED when its thing leaves (default True).
    #[getter]
    fn remove_in_progress(&self) -> bool {
        self.0.remove_in_progress
    }
    /// R11: the data plane describes terminal executions (default False).
    #[getter]
    fn data_plane_describes_terminal(&self) -> bool {
        self.0.data_plane_describes_terminal
    }
    /// R12: GetPendingJobExecutions lists at most 10 (default) or 15 per kind.
    #[getter]
    fn pending_cap(&self) -> usize {
        self.0.pending_cap.get()
    }
    /// R14: `"REPLACE"` (default) or `"MERGE"`.
    #[getter]
    fn details_write(&self) -> &'static str {
        self.0.details_write.name()
    }
    /// R15: `"MEMBERSHIP_CHANGE"` (default) or `"EVERY_NON_TERMINAL_CHANGE"`.
    #[getter]
    fn notify_on(&self) -> &'static str {
        self.0.notify_on.name()
    }
    /// R19: `"EMPTY"` (default) or `"NOT_FOUND"`.
    #[getter]
    fn unknown_thing(&self) -> &'static str {
        self.0.unknown_thing.name()
    }

    fn __repr__(&self) -> String {
        let knobs: Vec<String> = self
            .knobs()
            .iter()
            .map(|(name, knob)| match knob {
                Knob::Flag(b) => format!("{name}={}", py_bool(*b)),
                Knob::Choice(s) => format!("{name}={s:?}"),
                Knob::Count(n) => format!("{name}={n}"),
            })
            .collect();
        format!("Policy({})", knobs.join(", "))
    }

    /// `copy`, `deepcopy` and `pickle`: `functools.partial(Policy, **knobs)`, so loading runs
    /// the constructor again (a bad knob raises its `ValueError`, as the constructor does).
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, ())> {
        let kw = PyDict::new(py);
        for (name, knob) in self.knobs() {
            match knob {
                Knob::Flag(b) => kw.set_item(name, b)?,
                Knob::Choice(s) => kw.set_item(name, s)?,
                Knob::Count(n) => kw.set_item(name, n)?,
            }
        }
        let partial = py.import("functools")?.getattr("partial")?;
        Ok((partial.call((py.get_type::<Self>(),), Some(&kw))?, ()))
    }
}

/// The value of one knob, as the constructor takes it.
enum Knob {
    Flag(bool),
    Choice(&'static str),
    Count(usize),
}

impl PyPolicy {
    /// Every knob, by its keyword, in the constructor's order.
    fn knobs(&self) -> [(&'static str, Knob); 12] {
        [
            ("delete_timed_out_without_force", Knob::Flag(self.delete_timed_out_without_force())),
            ("delete_queued_without_force", Knob::Flag(self.delete_queued_without_force())),
            ("force_cancel_escalates", Knob::Flag(self.force_cancel_escalates())),
            ("version_bump", Knob::Choice(self.version_bump())),
            ("numbering", Knob::Choice(self.numbering())),
            ("device_may_skip_in_progress", Knob::Flag(self.device_may_skip_in_progress())),
            ("remove_in_progress", Knob::Flag(self.remove_in_progress())),
            ("data_plane_describes_terminal", Knob::Flag(self.data_plane_describes_terminal())),
            ("pending_cap", Knob::Count(self.pending_cap())),
            ("details_write", Knob::Choice(self.details_write())),
            ("notify_on", Knob::Choice(self.notify_on())),
            ("unknown_thing", Knob::Choice(self.unknown_thing())),
        ]
    }
}

const fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// The policy an optional argument names (default: `Policy::DEFAULT`).
pub fn or_default(p: Option<&Bound<'_, PyPolicy>>) -> Policy {
    p.map_or(Policy::DEFAULT, |p| p.get().0)
}
