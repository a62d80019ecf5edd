//! `ecomkit.rank` kernels: svmlight files, LightGBM training and prediction.

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::errors::run;

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(load_svmlight, module)?)?;
    #[cfg(any(feature = "lightgbm", feature = "lightgbm-dynamic"))]
    training::register(module)?;
    Ok(())
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
