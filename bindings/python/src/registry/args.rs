//! The arguments of `Registry`'s methods, converted and checked before the registry is touched:
//! times, deletion delays, ids, namespaces, step timeouts, pages and the constructor's caps.

use iot_jobs_core::registry::{Cursor, Heap, LATEST_TIME};
use iot_jobs_core::{ExecutionNumber, ExecutionStatus, JobId, NamespaceId, Plane, StepTimeout, ThingName};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyInt;

use crate::convert::{OrRaise, status_member};

/// The largest cap of one table. The core's heap index is allocated in full when the registry
/// is made (twice jobs + things + executions buckets), so the caps bound the memory taken at
/// once: at most about 48 MB of index with every cap at this value.
const MAX_CAPACITY: usize = 2_000_000;

/// The heap storage for the constructor's caps, each at most `MAX_CAPACITY` (`ValueError`).
pub(super) fn caps(jobs: usize, things: usize, executions: usize, status_details: usize) -> PyResult<Heap> {
    for (name, cap) in
        [("jobs", jobs), ("things", things), ("executions", executions), ("status_details", status_details)]
    {
        if cap > MAX_CAPACITY {
            return Err(PyValueError::new_err(format!("{name} must be at most {MAX_CAPACITY}, not {cap}")));
        }
    }
    Ok(Heap { jobs, things, executions, status_details, reserve: false })
}

/// A `now` argument: whole seconds from 0 to `LATEST_TIME`. Anything else raises before the
/// registry is touched: `TypeError` for a value that is not an `int`, `ValueError` naming the
/// range for one out of it (a time in milliseconds, a negative one). The core would refuse a
/// later time as `LimitExceededException`, an AWS answer to what is the host's mistake.
#[derive(Clone, Copy)]
pub(super) struct Now(pub(super) u64);

impl<'a, 'py> FromPyObject<'a, 'py> for Now {
    type Error = PyErr;

    fn extract(now: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let Ok(n) = now.extract::<Bound<'py, PyInt>>() else {
            return Err(PyTypeError::new_err(format!(
                "now must be an int, whole seconds since the Unix epoch, not {} (int(time.time()))",
                now.get_type().name()?
            )));
        };
        if let Some(secs) = up_to_latest(&n)? {
            return Ok(Self(secs));
        }
        let latest = LATEST_TIME.secs();
        let hint =
            if n.gt(latest)? { ": milliseconds? (int(time.time()), not time.time() * 1000)" } else { "" };
        Err(PyValueError::new_err(format!(
            "now must be whole seconds from 0 to {latest} (LATEST_TIME, 2106-01-01T00:00:00Z), not {n}{hint}"
        )))
    }
}

/// An int's value if it is from 0 to `LATEST_TIME`, the last time the registry stores.
fn up_to_latest(n: &Bound<'_, PyInt>) -> PyResult<Option<u64>> {
    Ok(if n.lt(0)? { None } else { n.extract::<u64>().ok().filter(|s| *s <= LATEST_TIME.secs()) })
}

/// A deletion delay: whole seconds from 0 to the registry's last time, `LATEST_TIME`. A longer
/// one is refused (`ValueError` naming the bound, as a negative one is): no deletion is due
/// after `LATEST_TIME`, the last time the registry advances to.
#[derive(Clone, Copy)]
pub(super) struct DeletionDelay(pub(super) u64);

impl<'a, 'py> FromPyObject<'a, 'py> for DeletionDelay {
    type Error = PyErr;

    fn extract(delay: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let n = delay.extract::<Bound<'py, PyInt>>()?;
        up_to_latest(&n)?.map(Self).ok_or_else(|| {
            PyValueError::new_err(format!(
                "deletion_delay must be from 0 to {} seconds (LATEST_TIME, the last time the \
                 registry stores: no deletion is due later), not {n}",
                LATEST_TIME.secs()
            ))
        })
    }
}

pub(super) fn job_id(py: Python<'_>, s: &str) -> PyResult<JobId> {
    JobId::new(s).or_raise(py, Plane::Control)
}

pub(super) fn thing_name(py: Python<'_>, s: &str) -> PyResult<ThingName> {
    ThingName::new(s).or_raise(py, Plane::Control)
}

pub(super) fn things(py: Python<'_>, names: &[PyBackedStr]) -> PyResult<Vec<ThingName>> {
    names.iter().map(|n| thing_name(py, n)).collect()
}

pub(super) fn exec_number(py: Python<'_>, n: u64) -> PyResult<ExecutionNumber> {
    ExecutionNumber::new(n).or_raise(py, Plane::Control)
}

/// A namespace argument, validated (`InvalidFieldError`, as refused on `plane`).
pub(super) fn namespace_arg(
    py: Python<'_>,
    n: Option<PyBackedStr>,
    plane: Plane,
) -> PyResult<Option<NamespaceId>> {
    n.map(|n| NamespaceId::new(&n).or_raise(py, plane)).transpose()
}

pub(super) fn step_timeout(
    py: Python<'_>,
    minutes: Option<i64>,
    allow_cancel: bool,
) -> PyResult<Option<StepTimeout>> {
    minutes.map(|m| StepTimeout::from_wire(m, allow_cancel).or_raise(py, Plane::Data)).transpose()
}

/// A listing's arguments: its `status` filter (a request member, see [`status_member`]), where
/// it starts, and its page size: at least 1 (`ValueError` for 0, whose page would hold nothing
/// and give a cursor back to the same place, so that a `while cursor:` loop would never end).
pub(super) fn page_args(
    py: Python<'_>,
    status: Option<PyBackedStr>,
    max_results: usize,
    cursor: Option<(u32, u32)>,
) -> PyResult<(Option<ExecutionStatus>, Option<Cursor>, usize)> {
    let status = status.map(|s| status_member(py, "status", &s)).transpose()?;
    if max_results == 0 {
        return Err(PyValueError::new_err(
            "max_results must be at least 1: a page of 0 executions never ends",
        ));
    }
    Ok((status, cursor.map(|(i, g)| Cursor::from_parts(i, g)), max_results))
}
