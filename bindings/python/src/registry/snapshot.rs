//! `Registry.snapshot()` and `Registry.restore`: the format, the registry's clock and the core's
//! snapshot, as JSON.

use iot_jobs_core::registry::Heap;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use super::state::State;

/// The `format` member of a snapshot this version writes and reads.
pub(super) const SNAPSHOT_FORMAT: &str = "iot-jobs-core-py/1";

/// `Registry.snapshot()`: the format, the registry's clock, and the core's snapshot.
#[derive(serde::Serialize)]
struct Saving<'a> {
    format: &'static str,
    clock: Option<u64>,
    registry: iot_jobs_core::registry::Snapshot<'a, Heap>,
}

/// What `Registry.restore` reads: the core's snapshot is read by the core itself.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Saved<'a> {
    pub(super) format: String,
    pub(super) clock: Option<u64>,
    #[serde(borrow)]
    pub(super) registry: &'a serde_json::value::RawValue,
}

pub(super) fn serialized(st: &State) -> PyResult<Vec<u8>> {
    let saving = Saving { format: SNAPSHOT_FORMAT, clock: st.clock, registry: st.reg.snapshot() };
    serde_json::to_vec(&saving).map_err(|e| PyValueError::new_err(format!("cannot write the snapshot: {e}")))
}

/// A snapshot argument: `bytes` (or anything with the buffer protocol's bytes, as `bytes()` takes
/// them) or `str`.
pub(super) struct Snapshot(pub(super) Vec<u8>);

impl<'a, 'py> FromPyObject<'a, 'py> for Snapshot {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(s) = obj.cast::<PyString>() {
            return Ok(Snapshot(s.to_cow()?.as_bytes().to_vec()));
        }
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(Snapshot(b.as_bytes().to_vec()));
        }
        Err(PyTypeError::new_err(format!(
            "snapshot must be bytes (from Registry.snapshot()) or str, not {}",
            obj.get_type().name()?
        )))
    }
}
