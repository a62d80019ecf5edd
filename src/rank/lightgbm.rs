//! LightGBM training with query groups (LambdaRank) or plain binary labels.
//!
//! lightgbm3's `Dataset` keeps its handle private and has no group setter, so the training
//! set and the boosting loop go through `lightgbm3-sys` here, in one small safe wrapper
//! (handles freed on drop, every return code checked). The trained model is handed on as
//! LightGBM's text format to `lightgbm3::Booster::from_string` for predictions, SHAP
//! contributions and importances: the same text the Python package reads and writes.

use std::ffi::{c_char, c_int, c_void, CStr, CString};

use lightgbm3::{Booster, ImportanceType};
use lightgbm3_sys as sys;

use crate::error::{EcomkitError, Result};

/// A dense, row-major feature matrix with labels and, for ranking, query group sizes.
#[derive(Debug, Clone, Copy)]
pub struct TrainData<'a> {
    /// `n_rows × n_features` values, row by row; NaN is a missing value.
    pub x: &'a [f64],
    pub n_features: usize,
    pub labels: &'a [f64],
    /// Sizes of consecutive query groups (LightGBM's `group`); `None` for no groups.
    pub group: Option<&'a [i32]>,
}

impl TrainData<'_> {
    fn n_rows(&self) -> usize {
        self.labels.len()
    }

    fn check(&self, argument: &str) -> Result<()> {
        if self.n_features == 0 || self.labels.is_empty() {
            return Err(EcomkitError::Empty {
                argument: argument.into(),
            });
        }
        EcomkitError::check_length(
            format!("{argument} (X values)"),
            "y × the number of features",
            self.n_rows() * self.n_features,
            self.x.len(),
        )?;
        if i32::try_from(self.n_rows()).is_err() || i32::try_from(self.n_features).is_err() {
            return Err(EcomkitError::invalid_value(
                argument,
                "too many rows or features for LightGBM",
            ));
        }
        if let Some(bad) = self.labels.iter().find(|l| !l.is_finite()) {
            return Err(EcomkitError::invalid_value(
                format!("{argument} (y)"),
                format!("expected finite labels, got {bad}"),
            ));
        }
        if let Some(group) = self.group {
            if group.iter().any(|&g| g <= 0) {
                return Err(EcomkitError::invalid_value(
                    format!("{argument} (group)"),
                    "expected positive group sizes",
                ));
            }
            let total: i64 = group.iter().map(|&g| i64::from(g)).sum();
            if total != self.n_rows() as i64 {
                return Err(EcomkitError::invalid_value(
                    format!("{argument} (group)"),
                    format!(
                        "group sizes add up to {total}, but there are {} rows",
                        self.n_rows()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// What [`train`] returns.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The model in LightGBM's text format (readable by the Python package).
    pub model: String,
    /// Iterations kept (the best one with early stopping, else all).
    pub best_iteration: usize,
    /// Validation metric names and their value after each iteration (empty without
    /// validation data).
    pub eval_names: Vec<String>,
    pub eval_history: Vec<Vec<f64>>,
}

/// The last error LightGBM reported, when `code` is not 0.
fn check(code: c_int) -> Result<()> {
    if code == 0 {
        return Ok(());
    }
    // SAFETY: LightGBM returns a pointer to its thread-local, NUL-terminated message.
    let message = unsafe { CStr::from_ptr(sys::LGBM_GetLastError()) };
    Err(EcomkitError::invalid_value(
        "params",
        format!("LightGBM: {}", message.to_string_lossy()),
    ))
}

fn c_string(text: &str, argument: &str) -> Result<CString> {
    CString::new(text).map_err(|_| EcomkitError::invalid_value(argument, "contains a NUL byte"))
}

/// A LightGBM dataset, freed on drop.
struct Dataset(sys::DatasetHandle);

impl Drop for Dataset {
    fn drop(&mut self) {
        // SAFETY: the handle came from LGBM_DatasetCreateFromMat and is freed once.
        unsafe { sys::LGBM_DatasetFree(self.0) };
    }
}

impl Dataset {
    fn new(data: &TrainData, params: &CString, reference: Option<&Dataset>) -> Result<Self> {
        let mut handle: sys::DatasetHandle = std::ptr::null_mut();
        // SAFETY: `x` holds n_rows × n_features f64 values (checked), LightGBM copies them.
        check(unsafe {
            sys::LGBM_DatasetCreateFromMat(
                data.x.as_ptr() as *const c_void,
                sys::C_API_DTYPE_FLOAT64 as c_int,
                data.n_rows() as i32,
                data.n_features as i32,
                1,
                params.as_ptr(),
                reference.map_or(std::ptr::null_mut(), |r| r.0),
                &mut handle,
            )
        })?;
        let dataset = Self(handle);
        // LightGBM keeps labels as float32, as its Python package does.
        let labels: Vec<f32> = data.labels.iter().map(|&l| l as f32).collect();
        dataset.set_field(
            "label",
            labels.as_ptr() as *const c_void,
            labels.len(),
            sys::C_API_DTYPE_FLOAT32,
        )?;
        if let Some(group) = data.group {
            dataset.set_field(
                "group",
                group.as_ptr() as *const c_void,
                group.len(),
                sys::C_API_DTYPE_INT32,
            )?;
        }
        Ok(dataset)
    }

    fn set_field(&self, name: &str, data: *const c_void, len: usize, dtype: u32) -> Result<()> {
        let name = c_string(name, "field")?;
        // SAFETY: `data` points to `len` values of `dtype`; LightGBM copies them.
        check(unsafe {
            sys::LGBM_DatasetSetField(self.0, name.as_ptr(), data, len as c_int, dtype as c_int)
        })
    }
}

/// A LightGBM booster being trained, freed on drop.
struct Training(sys::BoosterHandle);

impl Drop for Training {
    fn drop(&mut self) {
        // SAFETY: the handle came from LGBM_BoosterCreate and is freed once.
        unsafe { sys::LGBM_BoosterFree(self.0) };
    }
}

impl Training {
    fn eval_names(&self) -> Result<Vec<String>> {
        let mut count: c_int = 0;
        // SAFETY: a valid booster handle and an out pointer.
        check(unsafe { sys::LGBM_BoosterGetEvalCounts(self.0, &mut count) })?;
        const LEN: usize = 256;
        let mut buffers = vec![[0 as c_char; LEN]; count as usize];
        let mut pointers: Vec<*mut c_char> = buffers.iter_mut().map(|b| b.as_mut_ptr()).collect();
        let (mut out_len, mut needed): (c_int, usize) = (0, 0);
        // SAFETY: `count` buffers of LEN bytes each; LightGBM NUL-terminates within LEN.
        check(unsafe {
            sys::LGBM_BoosterGetEvalNames(
                self.0,
                count,
                &mut out_len,
                LEN,
                &mut needed,
                pointers.as_mut_ptr(),
            )
        })?;
        Ok(buffers
            .iter()
            .take(out_len as usize)
            .map(|b| {
                unsafe { CStr::from_ptr(b.as_ptr()) }
                    .to_string_lossy()
                    .into_owned()
            })
            .collect())
    }

    fn eval(&self, data_index: c_int, n_metrics: usize) -> Result<Vec<f64>> {
        let mut values = vec![0.0f64; n_metrics];
        let mut out_len: c_int = 0;
        // SAFETY: `values` holds one slot per evaluation metric.
        check(unsafe {
            sys::LGBM_BoosterGetEval(self.0, data_index, &mut out_len, values.as_mut_ptr())
        })?;
        values.truncate(out_len as usize);
        Ok(values)
    }

    fn model_string(&self, num_iteration: usize) -> Result<String> {
        let mut needed: i64 = 0;
        let mut buffer = vec![0u8; 1 << 20];
        for _ in 0..2 {
            // SAFETY: `buffer` has `buffer.len()` bytes; LightGBM reports the length it needs.
            check(unsafe {
                sys::LGBM_BoosterSaveModelToString(
                    self.0,
                    0,
                    num_iteration as c_int,
                    sys::C_API_FEATURE_IMPORTANCE_SPLIT as c_int,
                    buffer.len() as i64,
                    &mut needed,
                    buffer.as_mut_ptr() as *mut c_char,
                )
            })?;
            if (needed as usize) <= buffer.len() {
                let text = CStr::from_bytes_until_nul(&buffer).map_err(|_| {
                    EcomkitError::invalid_value("model", "LightGBM returned no text")
                })?;
                return Ok(text.to_string_lossy().into_owned());
            }
            buffer = vec![0u8; needed as usize];
        }
        Err(EcomkitError::invalid_value(
            "model",
            "LightGBM's model text kept growing",
        ))
    }
}

/// Whether a larger value of LightGBM metric `name` is better.
fn higher_is_better(name: &str) -> bool {
    let base = name.split('@').next().unwrap_or(name);
    matches!(
        base,
        "ndcg" | "map" | "auc" | "average_precision" | "auc_mu"
    )
}

/// Train a LightGBM model: `params` in LightGBM's `key=value key=value` form (the same
/// string is given to the datasets and the booster, as the Python package does), for
/// `num_boost_round` iterations, stopping early when the first validation metric has not
/// improved for `early_stopping_rounds` iterations.
pub fn train(
    data: &TrainData,
    params: &str,
    num_boost_round: usize,
    valid: Option<&TrainData>,
    early_stopping_rounds: Option<usize>,
) -> Result<Trained> {
    data.check("X")?;
    if let Some(valid) = valid {
        valid.check("valid")?;
        if valid.n_features != data.n_features {
            return Err(EcomkitError::invalid_value(
                "valid",
                format!(
                    "expected {} features, got {}",
                    data.n_features, valid.n_features
                ),
            ));
        }
    }
    if early_stopping_rounds.is_some() && valid.is_none() {
        return Err(EcomkitError::invalid_value(
            "early_stopping_rounds",
            "needs validation data (valid=)",
        ));
    }
    let params_c = c_string(params, "params")?;
    let train_set = Dataset::new(data, &params_c, None)?;
    let valid_set = valid
        .map(|v| Dataset::new(v, &params_c, Some(&train_set)))
        .transpose()?;
    let mut handle: sys::BoosterHandle = std::ptr::null_mut();
    // SAFETY: a valid dataset handle and parameter string; the booster is freed on drop.
    check(unsafe { sys::LGBM_BoosterCreate(train_set.0, params_c.as_ptr(), &mut handle) })?;
    let booster = Training(handle);
    if let Some(valid_set) = &valid_set {
        // SAFETY: both handles are valid; the dataset outlives the booster's use of it.
        check(unsafe { sys::LGBM_BoosterAddValidData(booster.0, valid_set.0) })?;
    }
    let eval_names = if valid_set.is_some() {
        booster.eval_names()?
    } else {
        Vec::new()
    };
    let mut eval_history = Vec::new();
    let (mut best, mut best_iteration) = (f64::NAN, 0usize);
    let mut iterations = 0;
    for iteration in 1..=num_boost_round {
        let mut finished: c_int = 0;
        // SAFETY: a valid booster handle.
        check(unsafe { sys::LGBM_BoosterUpdateOneIter(booster.0, &mut finished) })?;
        iterations = iteration;
        if valid_set.is_some() && !eval_names.is_empty() {
            let values = booster.eval(1, eval_names.len())?;
            let first = values[0];
            let better = if higher_is_better(&eval_names[0]) {
                first > best
            } else {
                first < best
            };
            if best.is_nan() || better {
                (best, best_iteration) = (first, iteration);
            }
            eval_history.push(values);
            if early_stopping_rounds.is_some_and(|rounds| iteration - best_iteration >= rounds) {
                break;
            }
        }
        if finished != 0 {
            break;
        }
    }
    let keep = if early_stopping_rounds.is_some() {
        best_iteration
    } else {
        iterations
    };
    Ok(Trained {
        model: booster.model_string(keep)?,
        best_iteration: keep,
        eval_names,
        eval_history,
    })
}

fn lightgbm_error(error: lightgbm3::Error) -> EcomkitError {
    EcomkitError::invalid_value("model", format!("LightGBM: {error}"))
}

/// A trained model, loaded from LightGBM's text format.
pub struct Model {
    booster: Booster,
}

impl Model {
    pub fn from_string(model: &str) -> Result<Self> {
        Ok(Self {
            booster: Booster::from_string(model).map_err(lightgbm_error)?,
        })
    }

    pub fn num_features(&self) -> usize {
        self.booster.num_features() as usize
    }

    fn check_features(&self, x: &[f64], n_features: usize) -> Result<()> {
        if n_features != self.num_features() {
            return Err(EcomkitError::invalid_value(
                "X",
                format!(
                    "expected {} features (as in training), got {n_features}",
                    self.num_features()
                ),
            ));
        }
        if n_features == 0 || !x.len().is_multiple_of(n_features) {
            return Err(EcomkitError::invalid_value(
                "X",
                "expected a 2-D array of rows",
            ));
        }
        Ok(())
    }

    /// Predictions for row-major `x` (scores for LambdaRank, probabilities for binary).
    pub fn predict(&self, x: &[f64], n_features: usize) -> Result<Vec<f64>> {
        self.check_features(x, n_features)?;
        self.booster
            .predict(x, n_features as i32, true)
            .map_err(lightgbm_error)
    }

    /// SHAP contributions: `n_features + 1` values per row (the last is the expected value).
    pub fn predict_contrib(&self, x: &[f64], n_features: usize) -> Result<Vec<f64>> {
        self.check_features(x, n_features)?;
        self.booster
            .predict_contrib(x, n_features as i32, true)
            .map_err(lightgbm_error)
    }

    /// Importance of each feature: number of splits, or total gain.
    pub fn feature_importance(&self, gain: bool) -> Result<Vec<f64>> {
        let kind = if gain {
            ImportanceType::Gain
        } else {
            ImportanceType::Split
        };
        self.booster
            .feature_importance(kind)
            .map_err(lightgbm_error)
    }
}
