//! `ecomkit.monitor` kernels: drift statistics.

use pyo3::prelude::*;
use pyo3_arrow::input::{AnyArray, AnyRecordBatch};
use pyo3_arrow::PyTable;

use super::errors::run;
use super::{one_array, to_frame, to_table};
use crate::monitor::{self, DriftOptions, Request};

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(drift_test, module)?)?;
    module.add_function(wrap_pyfunction!(drift_report, module)?)?;
    module.add_class::<DriftResult>()?;
    Ok(())
}

/// One drift statistic: scipy's `statistic` and `pvalue` (NaN for distances), the method,
/// its threshold, the verdict, and the values counted on each side.
#[pyclass(module = "ecomkit._ecomkit", frozen, get_all)]
pub(crate) struct DriftResult {
    statistic: f64,
    pvalue: f64,
    method: String,
    threshold: f64,
    drifted: bool,
    n_reference: usize,
    n_current: usize,
    n_missing_reference: usize,
    n_missing_current: usize,
}

#[pymethods]
impl DriftResult {
    fn __repr__(&self) -> String {
        format!(
            "DriftResult(method='{}', statistic={:?}, pvalue={:?}, threshold={:?}, drifted={})",
            self.method,
            self.statistic,
            self.pvalue,
            self.threshold,
            if self.drifted { "True" } else { "False" }
        )
    }
}

#[pyfunction]
#[pyo3(signature = (method, reference, current, bins, binning, threshold, categorical))]
#[allow(clippy::too_many_arguments)]
fn drift_test(
    py: Python<'_>,
    method: &str,
    reference: AnyArray,
    current: AnyArray,
    bins: usize,
    binning: &str,
    threshold: Option<f64>,
    categorical: bool,
) -> PyResult<DriftResult> {
    let method: monitor::Method = method.parse()?;
    let options = DriftOptions {
        bins,
        binning: binning.parse()?,
        threshold,
    };
    let (reference, current) = (one_array(reference)?, one_array(current)?);
    run(py, || {
        let (reference, current) =
            monitor::columns(reference.as_ref(), current.as_ref(), categorical)?;
        let test = monitor::drift_test(method, &reference.sample(), &current.sample(), &options)?;
        Ok(DriftResult {
            statistic: test.statistic,
            pvalue: test.pvalue,
            method: method.name().to_string(),
            threshold: test.threshold,
            drifted: test.drifted,
            n_reference: reference.sample().len(),
            n_current: current.sample().len(),
            n_missing_reference: reference.missing,
            n_missing_current: current.missing,
        })
    })
}

/// The drift report of two frames: (table, share of drifted rows, dataset drift).
#[pyfunction]
#[pyo3(signature = (reference, current, columns, methods, thresholds, by, bins, binning, drift_share))]
#[allow(clippy::too_many_arguments)]
fn drift_report(
    py: Python<'_>,
    reference: AnyRecordBatch,
    current: AnyRecordBatch,
    columns: Vec<String>,
    methods: Vec<Option<String>>,
    thresholds: Vec<Option<f64>>,
    by: Vec<String>,
    bins: usize,
    binning: &str,
    drift_share: f64,
) -> PyResult<(PyTable, f64, bool)> {
    let requests = columns
        .into_iter()
        .zip(methods)
        .zip(thresholds)
        .map(|((column, method), threshold)| {
            Ok(Request {
                column,
                method: method.map(|m| m.parse()).transpose()?,
                threshold,
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    let options = DriftOptions {
        bins,
        binning: binning.parse()?,
        threshold: None,
    };
    let (reference, current) = (to_frame(reference)?, to_frame(current)?);
    let report = run(py, || {
        monitor::drift_report(&reference, &current, &requests, &by, &options, drift_share)
    })?;
    Ok((
        to_table(report.table)?,
        report.share_drifted,
        report.dataset_drift,
    ))
}
