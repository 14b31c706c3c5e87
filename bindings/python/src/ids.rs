//! The validated identifiers: `JobId("bad!")` raises `InvalidFieldError` (a `ValueError`)
//! naming the field, the constraint and the position.

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyDict, PyType};

use crate::convert::{OrRaise, field_error};
use iot_jobs_core::{Plane, StatusDetails};

macro_rules! py_id {
    ($(#[$meta:meta])* $py:ident, $name:literal, $core:ty) => {
        $(#[$meta])*
        #[pyclass(name = $name, module = "iot_jobs_core", frozen, eq, ord, hash)]
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $py(pub $core);

        #[pymethods]
        impl $py {
            /// Validates `value` (SPEC §5, R17: a full match of the pattern and length).
            #[new]
            fn new(py: Python<'_>, value: PyBackedStr) -> PyResult<Self> {
                <$core>::new(&value).map(Self).or_raise(py, Plane::Control)
            }
            /// The longest valid value, in characters.
            #[classattr]
            const MAX_LEN: usize = <$core>::MAX_LEN;
            /// The identifier as it goes on the wire.
            #[getter]
            fn value(&self) -> &str {
                self.0.as_str()
            }
            fn __str__(&self) -> &str {
                self.0.as_str()
            }
            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let quoted = pyo3::types::PyString::new(py, self.0.as_str()).repr()?;
                Ok(format!("{}({})", $name, quoted))
            }
            /// `copy`, `deepcopy` and `pickle`: the class and its value, so loading validates
            /// the value again (a bad one raises `InvalidFieldError`, as the constructor does).
            fn __reduce__<'py>(&self, py: Python<'py>) -> (Bound<'py, PyType>, (&str,)) {
                (py.get_type::<Self>(), (self.0.as_str(),))
            }
        }
    };
}

py_id!(
    /// A job identifier: 1–64 of `[a-zA-Z0-9_-]`.
    PyJobId, "JobId", iot_jobs_core::JobId
);
py_id!(
    /// A thing name: 1–128 of `[a-zA-Z0-9:_-]`.
    PyThingName, "ThingName", iot_jobs_core::ThingName
);
py_id!(
    /// A namespace: 1–64 of `[a-zA-Z0-9_-]`.
    PyNamespaceId, "NamespaceId", iot_jobs_core::NamespaceId
);
py_id!(
    /// A reason code: 1–128 of `[A-Z0-9_]`.
    PyReasonCode, "ReasonCode", iot_jobs_core::ReasonCode
);

/// A statusDetails map as owned pairs, in the dict's order.
pub fn details_pairs(d: &Bound<'_, PyDict>) -> PyResult<Vec<(String, String)>> {
    d.iter().map(|(k, v)| Ok((k.extract::<String>()?, v.extract::<String>()?))).collect()
}

/// Checks a statusDetails map against SPEC §5 (at most 10 pairs; keys 1–128 and values 1–1024
/// characters of the model's patterns) and calls `f` with it.
pub fn with_details<T>(
    py: Python<'_>,
    pairs: &[(String, String)],
    f: impl FnOnce(StatusDetails<'_>) -> PyResult<T>,
) -> PyResult<T> {
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let details = StatusDetails::new(&refs).map_err(|e| field_error(py, e))?;
    f(details)
}

/// Validates a statusDetails map (a `dict[str, str]`); raises `InvalidFieldError`.
#[pyfunction]
pub fn validate_status_details(py: Python<'_>, details: &Bound<'_, PyDict>) -> PyResult<()> {
    with_details(py, &details_pairs(details)?, |_| Ok(()))
}
