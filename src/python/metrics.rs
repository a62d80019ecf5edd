//! `ecomkit.metrics` kernels: ranking, classification and calibration metrics.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3_arrow::input::AnyArray;

use super::errors::run;
use crate::error::EcomkitError;
use crate::frame::factorize;
use crate::metrics::classification::{self, BinStrategy, Isotonic};
use crate::metrics::{ranking_values as metrics_kernel, RankingMetric, RankingOptions};

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(ranking_metrics, module)?)?;
    module.add_function(wrap_pyfunction!(roc_auc, module)?)?;
    module.add_function(wrap_pyfunction!(average_precision_score, module)?)?;
    module.add_function(wrap_pyfunction!(log_loss, module)?)?;
    module.add_function(wrap_pyfunction!(brier_score, module)?)?;
    module.add_function(wrap_pyfunction!(precision_recall_at, module)?)?;
    module.add_function(wrap_pyfunction!(calibration_curve, module)?)?;
    module.add_function(wrap_pyfunction!(isotonic_fit, module)?)?;
    module.add_function(wrap_pyfunction!(isotonic_transform, module)?)?;
    Ok(())
}

fn parse<T: std::str::FromStr<Err = EcomkitError>>(text: &str) -> PyResult<T> {
    Ok(text.parse()?)
}

/// `(values, first row of each group)`: one row of `[metric][cut]` values per group.
#[pyfunction]
#[pyo3(signature = (metrics, labels, scores, groups, cuts, gain, ties, no_relevant, ap_denominator))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn ranking_metrics<'py>(
    py: Python<'py>,
    metrics: Vec<String>,
    labels: PyReadonlyArray1<'py, f64>,
    scores: PyReadonlyArray1<'py, f64>,
    groups: AnyArray,
    cuts: Vec<Option<usize>>,
    gain: &str,
    ties: &str,
    no_relevant: &str,
    ap_denominator: &str,
) -> PyResult<(Bound<'py, PyArray1<f64>>, Vec<usize>)> {
    let metrics = metrics
        .iter()
        .map(|m| parse::<RankingMetric>(m))
        .collect::<PyResult<Vec<_>>>()?;
    let options = RankingOptions {
        gain: parse(gain)?,
        ties: parse(ties)?,
        no_relevant: parse(no_relevant)?,
        ap_denominator: parse(ap_denominator)?,
    };
    let (labels, scores) = (labels.as_slice()?, scores.as_slice()?);
    let chunks = groups.into_chunked_array()?.into_inner().0;
    run(py, || {
        let n_rows = chunks.iter().map(|c| c.len()).sum();
        let groups = factorize(chunks.iter().map(|c| c.as_ref()), n_rows, "groups")?;
        let values = metrics_kernel(&metrics, labels, scores, &groups, &cuts, &options)?;
        Ok((values, groups.first_rows()))
    })
    .map(|(values, first_rows)| (values.into_pyarray(py), first_rows))
}

type Weights<'py> = Option<PyReadonlyArray1<'py, f64>>;

fn weights<'a>(w: &'a Weights<'_>) -> PyResult<Option<&'a [f64]>> {
    Ok(match w {
        Some(w) => Some(w.as_slice()?),
        None => None,
    })
}

macro_rules! binary_metric {
    ($name:ident) => {
        #[pyfunction]
        #[pyo3(signature = (y_true, y_score, sample_weight=None))]
        fn $name<'py>(
            py: Python<'py>,
            y_true: PyReadonlyArray1<'py, f64>,
            y_score: PyReadonlyArray1<'py, f64>,
            sample_weight: Weights<'py>,
        ) -> PyResult<f64> {
            let (y, p) = (y_true.as_slice()?, y_score.as_slice()?);
            let w = weights(&sample_weight)?;
            run(py, || classification::$name(y, p, w))
        }
    };
}

binary_metric!(roc_auc);
binary_metric!(average_precision_score);
binary_metric!(log_loss);
binary_metric!(brier_score);

#[pyfunction]
#[pyo3(signature = (y_true, y_score, threshold, sample_weight=None))]
fn precision_recall_at<'py>(
    py: Python<'py>,
    y_true: PyReadonlyArray1<'py, f64>,
    y_score: PyReadonlyArray1<'py, f64>,
    threshold: f64,
    sample_weight: Weights<'py>,
) -> PyResult<(f64, f64)> {
    let (y, p) = (y_true.as_slice()?, y_score.as_slice()?);
    let w = weights(&sample_weight)?;
    run(py, || {
        classification::precision_recall_at(y, p, threshold, w)
    })
}

/// `(prob_true, prob_pred, count)` of the non-empty bins.
#[pyfunction]
#[pyo3(signature = (y_true, y_prob, n_bins, strategy))]
fn calibration_curve<'py>(
    py: Python<'py>,
    y_true: PyReadonlyArray1<'py, f64>,
    y_prob: PyReadonlyArray1<'py, f64>,
    n_bins: usize,
    strategy: &str,
) -> PyResult<(Vec<f64>, Vec<f64>, Vec<usize>)> {
    let strategy = match strategy {
        "uniform" => BinStrategy::Uniform,
        "quantile" => BinStrategy::Quantile,
        other => {
            let e = EcomkitError::invalid_value(
                "strategy",
                format!("expected 'uniform' or 'quantile', got '{other}'"),
            );
            return Err(e.into());
        }
    };
    let (y, p) = (y_true.as_slice()?, y_prob.as_slice()?);
    let bins = run(py, || {
        classification::calibration_curve(y, p, n_bins, strategy)
    })?;
    Ok((
        bins.iter().map(|b| b.prob_true).collect(),
        bins.iter().map(|b| b.prob_pred).collect(),
        bins.iter().map(|b| b.count).collect(),
    ))
}

#[pyfunction]
#[pyo3(signature = (x, y, sample_weight=None))]
fn isotonic_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    sample_weight: Weights<'py>,
) -> PyResult<(Vec<f64>, Vec<f64>)> {
    let (x, y) = (x.as_slice()?, y.as_slice()?);
    let w = weights(&sample_weight)?;
    let fit = run(py, || Isotonic::fit(x, y, w))?;
    Ok((fit.x, fit.y))
}

#[pyfunction]
#[pyo3(signature = (x_fit, y_fit, values))]
fn isotonic_transform<'py>(
    py: Python<'py>,
    x_fit: Vec<f64>,
    y_fit: Vec<f64>,
    values: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let values = values.as_slice()?;
    let fit = Isotonic { x: x_fit, y: y_fit };
    let out = run(py, || {
        if fit.x.is_empty() || fit.x.len() != fit.y.len() {
            return Err(EcomkitError::invalid_value("calibrator", "not fitted"));
        }
        Ok(values.iter().map(|&v| fit.transform(v)).collect::<Vec<_>>())
    })?;
    Ok(out.into_pyarray(py))
}
