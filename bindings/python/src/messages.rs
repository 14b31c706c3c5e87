//! The device messages (the core's `wire` module): every MQTT request, response and
//! notification payload of the jobs device API, read and written by the core.
//!
//! One function does both directions: [`canonical_message`] parses a payload with the core's
//! parser (every constraint of SPEC §4.3, §4.4, §5 checked) and writes it back with the core's
//! writer, in the same or the other transport's form (`Flavor`). The Python side (`messages.py`)
//! turns the canonical bytes into a `dict` (parse) or a `dict` into checked bytes (serialize), so
//! no message shape is written twice.

use iot_jobs_core::wire::{
    DescribeRequest, ErrorResponse, ExecutionResponse, Flavor, GetPendingRequest, GetPendingResponse,
    JobExecutionsChanged, NextJobExecutionChanged, StartNextRequest, UpdateRequest, UpdateResponse,
    WireError,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyType};

/// The largest output tried before giving up (a job document is at most 32 KiB, SPEC §6).
const MAX_OUT: usize = 16 * 1024 * 1024;

/// The message kinds, as `messages.KINDS` names them.
pub const KINDS: [&str; 10] = [
    "get_pending_request",
    "start_next_request",
    "describe_request",
    "update_request",
    "get_pending_response",
    "execution_response",
    "update_response",
    "error_response",
    "job_executions_changed",
    "next_job_execution_changed",
];

fn flavor(s: &str) -> PyResult<Flavor> {
    match s {
        "mqtt" => Ok(Flavor::Mqtt),
        "http" => Ok(Flavor::Http),
        _ => Err(PyValueError::new_err(format!("{s:?} is not a flavor (\"mqtt\" or \"http\")"))),
    }
}

/// `MessageError(message, mqtt_code)` from `messages.py`: a `ValueError` whose `mqtt_code` is
/// the ErrorResponse code that answers the payload (`InvalidJson`, `InvalidRequest`).
fn message_error(py: Python<'_>, e: WireError) -> PyErr {
    static CLS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let build = || -> PyResult<PyErr> {
        let exc = CLS
            .import(py, "iot_jobs_core.messages", "MessageError")?
            .call1((e.to_string(), e.error_code().as_str()))?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|err| err)
}

/// Writes with `write` into a buffer that grows (from 4 KiB) while the core says it is too small.
fn written(write: impl Fn(&mut [u8]) -> Result<usize, WireError>) -> Result<Vec<u8>, WireError> {
    let mut size = 4096;
    loop {
        let mut out = vec![0; size];
        match write(&mut out) {
            Ok(n) => {
                out.truncate(n);
                return Ok(out);
            }
            Err(WireError::BufferTooSmall) if size < MAX_OUT => size = size.saturating_mul(4),
            Err(e) => return Err(e),
        }
    }
}

macro_rules! round_trip {
    ($t:ty, $payload:expr, $scratch:expr, $from:expr, $to:expr) => {{
        let m = <$t>::parse_as($payload, $scratch, $from)?;
        written(|out| m.serialize_as(out, $to).map(<[u8]>::len))
    }};
}

fn canonical(kind: &str, payload: &[u8], from: Flavor, to: Flavor) -> Result<Option<Vec<u8>>, WireError> {
    // Unescaping never lengthens a string: `payload.len()` bytes of scratch always suffice.
    let mut scratch = vec![0; payload.len()];
    let s = scratch.as_mut_slice();
    let out = match kind {
        "get_pending_request" => round_trip!(GetPendingRequest, payload, s, from, to),
        "start_next_request" => round_trip!(StartNextRequest, payload, s, from, to),
        "describe_request" => round_trip!(DescribeRequest, payload, s, from, to),
        "update_request" => round_trip!(UpdateRequest, payload, s, from, to),
        "get_pending_response" => round_trip!(GetPendingResponse, payload, s, from, to),
        "execution_response" => round_trip!(ExecutionResponse, payload, s, from, to),
        "update_response" => round_trip!(UpdateResponse, payload, s, from, to),
        "error_response" => round_trip!(ErrorResponse, payload, s, from, to),
        "job_executions_changed" => round_trip!(JobExecutionsChanged, payload, s, from, to),
        "next_job_execution_changed" => round_trip!(NextJobExecutionChanged, payload, s, from, to),
        _ => return Ok(None),
    };
    out.map(Some)
}

/// Parses `payload` as the message `kind` in the `source` flavor (`"mqtt"` or `"http"`) and
/// writes it back in the `target` flavor: the canonical JSON bytes. Raises `MessageError` for a
/// payload the service refuses, `ValueError` for an unknown kind or flavor.
#[pyfunction]
#[pyo3(signature = (kind, payload, source = None, target = None))]
pub fn canonical_message<'py>(
    py: Python<'py>,
    kind: PyBackedStr,
    payload: &[u8],
    source: Option<PyBackedStr>,
    target: Option<PyBackedStr>,
) -> PyResult<Bound<'py, PyBytes>> {
    let from = flavor(source.as_deref().unwrap_or("mqtt"))?;
    let to = flavor(target.as_deref().or(source.as_deref()).unwrap_or("mqtt"))?;
    match canonical(&kind, payload, from, to) {
        Ok(Some(out)) => Ok(PyBytes::new(py, &out)),
        Ok(None) => {
            Err(PyValueError::new_err(format!("{:?} is not a message kind; see messages.KINDS", &*kind)))
        }
        Err(e) => Err(message_error(py, e)),
    }
}

/// The message kinds.
#[pyfunction]
pub fn message_kinds() -> Vec<&'static str> {
    KINDS.to_vec()
}
