//! Rust errors and panics become exceptions of `ecomkit.errors`; nothing aborts Python.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;
use pyo3::types::PyAnyMethods;

use crate::error::{EcomkitError, Result};

/// The exception classes of `ecomkit.errors`, imported once. They are defined in Python so
/// that each can subclass both `EcomkitError` and `ValueError` / `TypeError`.
mod classes {
    pyo3::import_exception!(ecomkit.errors, EcomkitError);
    pyo3::import_exception!(ecomkit.errors, InvalidValueError);
    pyo3::import_exception!(ecomkit.errors, InvalidTypeError);
    pyo3::import_exception!(ecomkit.errors, ColumnNotFoundError);
    pyo3::import_exception!(ecomkit.errors, LengthMismatchError);
    pyo3::import_exception!(ecomkit.errors, EmptyInputError);
    pyo3::import_exception!(ecomkit.errors, InternalError);
}

/// Run `kernel` with the GIL released; its errors and panics come back as exceptions.
pub(crate) fn run<T: Send>(
    py: Python<'_>,
    kernel: impl FnOnce() -> Result<T> + Send,
) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(kernel))) {
        Ok(result) => Ok(result?),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(classes::InternalError::new_err(format!(
                "internal error in ecomkit (please report it): {message}"
            )))
        }
    }
}

/// The `ecomkit.errors` exception for an error, with the `argument` and `column` at fault
/// as attributes (None where the error names none).
impl From<EcomkitError> for PyErr {
    fn from(err: EcomkitError) -> Self {
        let message = err.to_string();
        let pyerr = match err {
            EcomkitError::ColumnNotFound { .. } => classes::ColumnNotFoundError::new_err(message),
            EcomkitError::InvalidType { .. } => classes::InvalidTypeError::new_err(message),
            EcomkitError::LengthMismatch { .. } => classes::LengthMismatchError::new_err(message),
            EcomkitError::InvalidValue { .. } => classes::InvalidValueError::new_err(message),
            EcomkitError::Empty { .. } => classes::EmptyInputError::new_err(message),
            EcomkitError::Arrow(_) => classes::EcomkitError::new_err(message),
        };
        let (argument, column) = err.location();
        Python::attach(|py| {
            let value = pyerr.value(py);
            // Setting two attributes on a fresh exception instance cannot fail.
            let _ = value.setattr("argument", argument);
            let _ = value.setattr("column", column);
        });
        pyerr
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

/// The check behind every frame function's column arguments, for the Python layer that
/// selects columns before a kernel sees them: one rule and one message.
#[pyfunction]
pub(crate) fn require_columns(
    available: Vec<String>,
    wanted: Vec<String>,
    argument: &str,
) -> PyResult<()> {
    Ok(EcomkitError::require_columns(
        &available, &wanted, argument,
    )?)
}
