//! Job-document parameters of the AWS managed job templates (the core's `parameters` module,
//! SPEC AMBIG-31): a document's `${aws:iot:parameter:NAME}` placeholders and their substitution
//! by CreateJob's `documentParameters`, done by the core.

use std::collections::HashMap;

use iot_jobs_core::parameters::{self, SubstitutionError};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// `SubstitutionError(message, reason, name, position)` from `parameters.py`: a `ValueError`
/// with `reason` `"missing"` (`name` has no value) or `"unterminated"` (the placeholder at byte
/// `position` has no `}`).
fn substitution_error(py: Python<'_>, e: SubstitutionError<'_>) -> PyErr {
    static CLS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let (reason, name, position) = match e {
        SubstitutionError::Missing(n) => ("missing", Some(n), None),
        SubstitutionError::Unterminated(at) => ("unterminated", None, Some(at)),
        // The buffer is sized for the whole result (see `substitute_parameters`).
        SubstitutionError::Overflow => ("overflow", None, None),
    };
    let build = || -> PyResult<PyErr> {
        let exc = CLS.import(py, "iot_jobs_core.parameters", "SubstitutionError")?.call1((
            e.to_string(),
            reason,
            name,
            position,
        ))?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|err| err)
}

/// The names of the document's placeholders, in order (repeated as often as they occur);
/// raises `SubstitutionError` for a placeholder without its `}`.
#[pyfunction]
pub fn document_placeholders(py: Python<'_>, document: PyBackedStr) -> PyResult<Vec<String>> {
    parameters::placeholders(&document)
        .map(|n| n.map(String::from).map_err(|e| substitution_error(py, e)))
        .collect()
}

/// The document with each placeholder replaced by its value from `values`; raises
/// `SubstitutionError` for a placeholder whose name has no value or that has no `}`.
#[pyfunction]
pub fn substitute_parameters(
    py: Python<'_>,
    document: PyBackedStr,
    values: HashMap<String, PyBackedStr>,
) -> PyResult<String> {
    // The result is the document less its placeholders plus their values: this size holds it.
    let mut size = document.len();
    for name in parameters::placeholders(&document) {
        let name = name.map_err(|e| substitution_error(py, e))?;
        size = size.saturating_add(values.get(name).map_or(0, |v| v.len()));
    }
    let mut out = vec![0u8; size];
    let len = parameters::substitute(&document, |n| values.get(n).map(|v| &**v), &mut out)
        .map_err(|e| substitution_error(py, e))?;
    out.truncate(len);
    String::from_utf8(out).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// What opens a placeholder (`${aws:iot:parameter:`); a `}` closes it.
pub const PREFIX: &str = parameters::PREFIX;
