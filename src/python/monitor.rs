//! `ecomkit.monitor` kernels: drift statistics.

use pyo3::prelude::*;
use pyo3_arrow::input::AnyArray;

use super::errors::run;
use super::one_array;
use crate::monitor::{self, DriftOptions};

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(drift_test, module)?)?;
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
