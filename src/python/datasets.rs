//! `ecomkit.datasets` generators.

use pyo3::prelude::*;
use pyo3_arrow::PyTable;

use super::errors::run;
use super::to_table;
use crate::datasets;

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(asin_daily, module)?)?;
    module.add_function(wrap_pyfunction!(exploding_asins, module)?)?;
    module.add_function(wrap_pyfunction!(experiment_units, module)?)?;
    module.add_function(wrap_pyfunction!(clickstream, module)?)?;
    Ok(())
}

#[pyfunction]
#[pyo3(signature = (n_asins, n_days, seed, start))]
fn asin_daily(
    py: Python<'_>,
    n_asins: usize,
    n_days: usize,
    seed: u64,
    start: i32,
) -> PyResult<PyTable> {
    let batch = run(py, || datasets::asin_daily(n_asins, n_days, seed, start))?;
    to_table(batch)
}

#[pyfunction]
#[pyo3(signature = (n_asins, n_days, seed))]
fn exploding_asins(
    py: Python<'_>,
    n_asins: usize,
    n_days: usize,
    seed: u64,
) -> PyResult<Vec<(String, usize)>> {
    run(py, || Ok(datasets::exploding_asins(n_asins, n_days, seed)))
}

#[pyfunction]
#[pyo3(signature = (n_users, seed, lift))]
fn experiment_units(py: Python<'_>, n_users: usize, seed: u64, lift: f64) -> PyResult<PyTable> {
    let batch = run(py, || datasets::experiment_units(n_users, seed, lift))?;
    to_table(batch)
}

#[pyfunction]
#[pyo3(signature = (n_users, n_days, seed, start))]
fn clickstream(
    py: Python<'_>,
    n_users: usize,
    n_days: usize,
    seed: u64,
    start: i32,
) -> PyResult<PyTable> {
    let batch = run(py, || datasets::clickstream(n_users, n_days, seed, start))?;
    to_table(batch)
}
