//! Rust errors and panics become exceptions of `ecomkit.errors`; nothing aborts Python.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;
use pyo3::types::PyAnyMethods;

use crate::error::{EcomkitError, Result};

/// Run `kernel` with the GIL released; its errors and panics come back as exceptions.
pub(crate) fn run<T: Send>(
    py: Python<'_>,
    kernel: impl FnOnce() -> Result<T> + Send,
) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(kernel))) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(to_pyerr(py, &err)),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(exception(
                py,
                "InternalError",
                format!("internal error in ecomkit (please report it): {message}"),
            ))
        }
    }
}

/// The `ecomkit.errors` exception for `err`.
pub(crate) fn to_pyerr(py: Python<'_>, err: &EcomkitError) -> PyErr {
    let class = match err {
        EcomkitError::ColumnNotFound { .. } => "ColumnNotFoundError",
        EcomkitError::InvalidType { .. } => "InvalidTypeError",
        EcomkitError::LengthMismatch { .. } => "LengthMismatchError",
        EcomkitError::InvalidValue { .. } => "InvalidValueError",
        EcomkitError::Empty { .. } => "EmptyInputError",
        EcomkitError::Arrow(_) => "EcomkitError",
    };
    exception(py, class, err.to_string())
}

/// Instantiate the exception class `class` of `ecomkit.errors` (defined in Python so that
/// it can subclass both `EcomkitError` and `ValueError` / `TypeError`).
fn exception(py: Python<'_>, class: &str, message: String) -> PyErr {
    let made = py
        .import("ecomkit.errors")
        .and_then(|module| module.getattr(class))
        .and_then(|class| class.call1((message,)));
    match made {
        Ok(exception) => PyErr::from_value(exception),
        Err(import_error) => import_error,
    }
}

/// Panics on purpose, so the tests can check that a panic becomes an exception.
#[pyfunction]
#[pyo3(name = "_panic_for_tests")]
pub(crate) fn panic_for_tests(py: Python<'_>) -> PyResult<()> {
    run(py, || -> Result<()> {
        panic!("deliberate panic for tests")
    })
}
