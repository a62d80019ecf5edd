//! `ecomkit.metrics` kernels: ranking, classification and calibration metrics.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3_arrow::input::AnyArray;

use super::errors::run;
use crate::error::EcomkitError;
use crate::frame::factorize;
use crate::rank::classification::{self, BinStrategy, Isotonic};
use crate::rank::{ranking_values as metrics_kernel, RankingMetric, RankingOptions};

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
    module.add_function(wrap_pyfunction!(load_svmlight, module)?)?;
    #[cfg(any(feature = "lightgbm", feature = "lightgbm-dynamic"))]
    training::register(module)?;
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

/// `(X, y, group sizes or None)` of a LibSVM file and its `.query` file, `X` as
/// `(indptr, indices, values, n_features)` (the CSR form `scipy.sparse.csr_matrix` takes)
/// when `sparse`, else as `(row-major values, n_features)`.
#[allow(clippy::type_complexity)]
#[pyfunction]
#[pyo3(signature = (path, sparse))]
fn load_svmlight<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    sparse: bool,
) -> PyResult<(
    Bound<'py, PyTuple>,
    Bound<'py, PyArray1<f64>>,
    Option<Vec<i32>>,
)> {
    let (data, dense) = run(py, || {
        let data = crate::rank::svmlight::load_svmlight(&path)?;
        let dense = (!sparse).then(|| data.to_dense()).transpose()?;
        Ok((data, dense))
    })?;
    let x = match dense {
        Some(values) => (values.into_pyarray(py), data.n_features).into_pyobject(py)?,
        None => (
            data.indptr.into_pyarray(py),
            data.indices.into_pyarray(py),
            data.values.into_pyarray(py),
            data.n_features,
        )
            .into_pyobject(py)?,
    };
    Ok((x, data.labels.into_pyarray(py), data.group))
}

#[cfg(any(feature = "lightgbm", feature = "lightgbm-dynamic"))]
pub(crate) mod training {
    //! LightGBM training and prediction (cargo feature `lightgbm` or `lightgbm-dynamic`).

    use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
    use pyo3::prelude::*;

    use super::super::errors::run;
    use crate::error::Result;
    use std::sync::Mutex;

    use crate::error::EcomkitError;
    use crate::rank::lightgbm::{train_observed, Matrix, Model, TrainData};
    use crate::rank::QueryGroups;

    /// A feature matrix from Python: a C-contiguous 2-D float64 array, or a CSR matrix as
    /// `(indptr int64, indices int32, values float64, n_features)`.
    #[derive(FromPyObject)]
    pub(crate) enum MatrixArg<'py> {
        Dense(PyReadonlyArray2<'py, f64>),
        Csr(
            (
                PyReadonlyArray1<'py, i64>,
                PyReadonlyArray1<'py, i32>,
                PyReadonlyArray1<'py, f64>,
                usize,
            ),
        ),
    }

    impl MatrixArg<'_> {
        fn matrix(&self) -> PyResult<Matrix<'_>> {
            Ok(match self {
                MatrixArg::Dense(x) => Matrix::Dense {
                    values: x.as_slice()?,
                    n_features: x.shape()[1],
                },
                MatrixArg::Csr((indptr, indices, values, n_features)) => Matrix::Csr {
                    indptr: indptr.as_slice()?,
                    indices: indices.as_slice()?,
                    values: values.as_slice()?,
                    n_features: *n_features,
                },
            })
        }
    }

    type Valid<'py> = Option<(
        MatrixArg<'py>,
        PyReadonlyArray1<'py, f64>,
        Option<PyReadonlyArray1<'py, i32>>,
    )>;

    /// `(model text, best iteration, eval names, eval history)`.
    #[pyfunction]
    #[pyo3(signature = (x, y, group, params, num_boost_round, valid, early_stopping_rounds, progress=None))]
    #[allow(clippy::type_complexity, clippy::too_many_arguments)]
    pub(crate) fn lgbm_train<'py>(
        py: Python<'py>,
        x: MatrixArg<'py>,
        y: PyReadonlyArray1<'py, f64>,
        group: Option<PyReadonlyArray1<'py, i32>>,
        params: &str,
        num_boost_round: usize,
        valid: Valid<'py>,
        early_stopping_rounds: Option<usize>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<(String, usize, Vec<String>, Vec<Vec<f64>>)> {
        let group = group.as_ref().map(|g| g.as_slice()).transpose()?;
        let data = TrainData {
            x: x.matrix()?,
            labels: y.as_slice()?,
            group,
        };
        let valid_data = match &valid {
            Some((vx, vy, vg)) => Some(TrainData {
                x: vx.matrix()?,
                labels: vy.as_slice()?,
                group: vg.as_ref().map(|g| g.as_slice()).transpose()?,
            }),
            None => None,
        };
        // `progress(iterations done)` runs with the GIL taken back for the call; an exception
        // it raises (KeyboardInterrupt, say) stops training and is raised as it was.
        let raised: Mutex<Option<PyErr>> = Mutex::new(None);
        let report = |iteration: usize| -> Result<()> {
            let Some(callback) = &progress else {
                return Ok(());
            };
            Python::attach(|py| {
                let outcome = py
                    .check_signals()
                    .and_then(|_| callback.call1(py, (iteration,)));
                outcome.map(|_| ()).map_err(|err| {
                    *raised.lock().unwrap_or_else(|e| e.into_inner()) = Some(err);
                    EcomkitError::invalid_value("progress", "interrupted")
                })
            })
        };
        let trained = run(py, || {
            train_observed(
                &data,
                params,
                num_boost_round,
                valid_data.as_ref(),
                early_stopping_rounds,
                report,
            )
        });
        if let Some(err) = raised.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(err);
        }
        let trained = trained?;
        Ok((
            trained.model,
            trained.best_iteration,
            trained.eval_names,
            trained.eval_history,
        ))
    }

    /// A loaded LightGBM model: the text is checked and parsed once, then every prediction
    /// uses the same booster.
    #[pyclass(name = "Booster", frozen)]
    pub(crate) struct PyBooster {
        model: Model,
    }

    #[pymethods]
    impl PyBooster {
        #[new]
        fn new(py: Python<'_>, model: &str) -> PyResult<Self> {
            let model = run(py, || Model::from_string(model))?;
            Ok(Self { model })
        }

        /// Predictions, or SHAP contributions (`n_features + 1` per row) with `contrib`.
        fn predict<'py>(
            &self,
            py: Python<'py>,
            x: MatrixArg<'py>,
            contrib: bool,
        ) -> PyResult<Bound<'py, PyArray1<f64>>> {
            let x = x.matrix()?;
            let model = &self.model;
            let out = run(py, || {
                if contrib {
                    model.predict_contrib(x)
                } else {
                    model.predict(x)
                }
            })?;
            Ok(out.into_pyarray(py))
        }

        /// Splits per feature, or their total gain.
        fn importance(&self, py: Python<'_>, gain: bool) -> PyResult<Vec<f64>> {
            let model = &self.model;
            run(py, || model.feature_importance(gain))
        }

        #[getter]
        fn num_features(&self) -> usize {
            self.model.num_features()
        }
    }

    /// Load LightGBM's C API from the `lib_lightgbm` at `path` (Python finds the one in
    /// LightGBM's wheel); a no-op once loaded or when LightGBM is compiled in.
    #[cfg(feature = "lightgbm-dynamic")]
    #[pyfunction]
    pub(crate) fn lgbm_load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        run(py, || crate::rank::lightgbm::load_library(&path))
    }

    /// Whether LightGBM can be called now without loading a library first.
    #[pyfunction]
    pub(crate) fn lgbm_available() -> bool {
        crate::rank::lightgbm::is_available()
    }

    /// Group sizes (int32) and row order (int64), as numpy arrays.
    type SizesAndOrder<'py> = (Bound<'py, PyArray1<i32>>, Bound<'py, PyArray1<i64>>);

    /// `(group sizes int32, row order int64)` of one query id for each of the `n_rows` rows
    /// of X (see [`QueryGroups`]).
    #[pyfunction]
    pub(crate) fn lgbm_query_groups<'py>(
        py: Python<'py>,
        ids: pyo3_arrow::input::AnyArray,
        n_rows: usize,
        argument: &str,
    ) -> PyResult<SizesAndOrder<'py>> {
        let ids = super::super::one_array(ids)?;
        EcomkitError::check_length(argument, "the rows of X", n_rows, ids.len())?;
        let groups = run(py, || QueryGroups::new(ids.as_ref(), argument))?;
        let order: Vec<i64> = groups.order.iter().map(|&row| i64::from(row)).collect();
        Ok((groups.sizes.into_pyarray(py), order.into_pyarray(py)))
    }

    pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
        module.add_function(wrap_pyfunction!(lgbm_query_groups, module)?)?;
        #[cfg(feature = "lightgbm-dynamic")]
        module.add_function(wrap_pyfunction!(lgbm_load, module)?)?;
        module.add_function(wrap_pyfunction!(lgbm_available, module)?)?;
        module.add_function(wrap_pyfunction!(lgbm_train, module)?)?;
        module.add_class::<PyBooster>()?;
        Ok(())
    }
}
