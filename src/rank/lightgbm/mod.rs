//! LightGBM training with query groups (LambdaRank) or plain binary labels.
//!
//! The training set, the boosting loop and predictions go through LightGBM's C API in one
//! small safe wrapper (handles freed on drop, every return code checked), the calls the
//! Python package makes. The C API comes from [`api`]: LightGBM compiled into the crate
//! (feature `lightgbm`) or a `lib_lightgbm` loaded at run time (feature `lightgbm-dynamic`,
//! [`load_library`]). A trained model is LightGBM's text format, the same text the Python
//! package reads and writes.

mod api;
mod model_text;

use std::ffi::{c_char, c_int, c_void, CStr, CString};

pub use api::is_available;
#[cfg(feature = "lightgbm-dynamic")]
pub use api::load_library;
use api::{api, Api, Handle};
use model_text::checked_model_text;

use crate::error::{EcomkitError, Result};

/// A feature matrix: dense and row-major, or sparse in CSR form (LightGBM takes both; a
/// LibSVM file is read as CSR). NaN is a missing value; an absent sparse entry is 0.
#[derive(Debug, Clone, Copy)]
pub enum Matrix<'a> {
    /// `n_rows × n_features` values, row by row.
    Dense {
        values: &'a [f64],
        n_features: usize,
    },
    /// Row `r`'s entries are `indices[indptr[r]..indptr[r + 1]]`, each in
    /// `0..n_features`, with the values beside them.
    Csr {
        indptr: &'a [i64],
        indices: &'a [i32],
        values: &'a [f64],
        n_features: usize,
    },
}

impl Matrix<'_> {
    pub fn n_features(&self) -> usize {
        match *self {
            Matrix::Dense { n_features, .. } | Matrix::Csr { n_features, .. } => n_features,
        }
    }

    /// The number of rows, after checking that the parts hold together (LightGBM reads
    /// every offset and index it is given): `argument` names the matrix in errors.
    fn rows(&self, argument: &str) -> Result<usize> {
        let bad = |why: String| EcomkitError::invalid_value(argument, why);
        let rows = match *self {
            Matrix::Dense { values, n_features } => {
                if n_features == 0 || !values.len().is_multiple_of(n_features) {
                    return Err(bad(format!(
                        "expected a 2-D array of rows of {n_features} features, got {} values",
                        values.len()
                    )));
                }
                values.len() / n_features
            }
            Matrix::Csr {
                indptr,
                indices,
                values,
                n_features,
            } => {
                if indices.len() != values.len() {
                    return Err(bad(format!(
                        "a sparse matrix has {} indices and {} values",
                        indices.len(),
                        values.len()
                    )));
                }
                let ends_right = indptr.first() == Some(&0)
                    && indptr.last() == Some(&(indices.len() as i64))
                    && indptr.windows(2).all(|w| w[0] <= w[1]);
                if !ends_right {
                    return Err(bad(
                        "a sparse matrix's row offsets (indptr) must rise from 0 to the \
                         number of entries"
                            .into(),
                    ));
                }
                if let Some(j) = indices.iter().find(|&&j| j < 0 || j as usize >= n_features) {
                    return Err(bad(format!(
                        "a sparse matrix has feature index {j}, outside 0 to {}",
                        n_features.saturating_sub(1)
                    )));
                }
                indptr.len() - 1
            }
        };
        if i32::try_from(rows).is_err() || i32::try_from(self.n_features()).is_err() {
            return Err(bad("too many rows or features for LightGBM".into()));
        }
        Ok(rows)
    }
}

/// The most features (columns) a training set may have, 2²⁴: LightGBM sets up about 500
/// bytes per feature before it looks at the data, so 10⁹ features (one stray index in a
/// LibSVM file) would take 500 GB and the process would be killed for memory.
pub const MAX_TRAIN_FEATURES: usize = 1 << 24;

/// A feature matrix with labels and, for ranking, query group sizes.
#[derive(Debug, Clone, Copy)]
pub struct TrainData<'a> {
    pub x: Matrix<'a>,
    pub labels: &'a [f64],
    /// Sizes of consecutive query groups (LightGBM's `group`); `None` for no groups.
    pub group: Option<&'a [i32]>,
}

impl TrainData<'_> {
    fn n_rows(&self) -> usize {
        self.labels.len()
    }

    /// `argument` is "X" for the training data (its parts are then `X`, `y` and `group`, as
    /// the Python arguments) or "valid" (`valid X`, `valid y`, `valid group`).
    fn check(&self, argument: &str) -> Result<()> {
        let part = |name: &str| match argument {
            "X" => name.to_string(),
            _ => format!("{argument} {name}"),
        };
        if self.x.n_features() == 0 || self.labels.is_empty() {
            return Err(EcomkitError::Empty {
                argument: argument.into(),
            });
        }
        let rows = self.x.rows(&part("X"))?;
        if self.x.n_features() > MAX_TRAIN_FEATURES {
            return Err(EcomkitError::invalid_value(
                part("X"),
                format!(
                    "{} features (columns, or the largest feature index + 1 of a LibSVM file) \
                     are more than the {MAX_TRAIN_FEATURES} ecomkit trains on: LightGBM keeps \
                     about 500 bytes per feature, {} GB here; renumber the features from 0",
                    self.x.n_features(),
                    self.x.n_features() / 2_000_000
                ),
            ));
        }
        EcomkitError::check_length(part("y"), "the rows of X", rows, self.n_rows())?;
        if let Some(bad) = self.labels.iter().find(|l| !l.is_finite()) {
            return Err(EcomkitError::invalid_value(
                part("y"),
                format!("expected finite labels, got {bad}"),
            ));
        }
        if let Some(group) = self.group {
            if group.iter().any(|&g| g <= 0) {
                return Err(EcomkitError::invalid_value(
                    part("group"),
                    "expected positive group sizes",
                ));
            }
            let total: i64 = group.iter().map(|&g| i64::from(g)).sum();
            if total != self.n_rows() as i64 {
                return Err(EcomkitError::invalid_value(
                    part("group"),
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
fn check(api: &Api, code: c_int) -> Result<()> {
    check_for(api, code, "params")
}

/// [`check`], naming `argument` as the input at fault.
fn check_for(api: &Api, code: c_int, argument: &str) -> Result<()> {
    if code == 0 {
        return Ok(());
    }
    // SAFETY: LightGBM returns a pointer to its thread-local, NUL-terminated message.
    let message = unsafe { CStr::from_ptr((api.get_last_error)()) };
    Err(EcomkitError::invalid_value(
        argument,
        format!("LightGBM: {}", message.to_string_lossy()),
    ))
}

fn c_string(text: &str, argument: &str) -> Result<CString> {
    CString::new(text).map_err(|_| EcomkitError::invalid_value(argument, "contains a NUL byte"))
}

/// A LightGBM handle owned by a struct and freed once, on drop, by `$free`.
macro_rules! owned_handle {
    ($(#[$doc:meta])* $name:ident, $free:ident) => {
        $(#[$doc])*
        struct $name {
            api: &'static Api,
            handle: Handle,
        }

        impl Drop for $name {
            fn drop(&mut self) {
                // SAFETY: the handle came from LightGBM's matching create call; nothing else
                // frees it.
                unsafe { (self.api.$free)(self.handle) };
            }
        }
    };
}

owned_handle!(
    /// A LightGBM dataset, freed on drop.
    Dataset,
    dataset_free
);

impl Dataset {
    fn new(
        api: &'static Api,
        data: &TrainData,
        params: &CString,
        reference: Option<&Dataset>,
    ) -> Result<Self> {
        let mut handle: Handle = std::ptr::null_mut();
        let reference = reference.map_or(std::ptr::null_mut(), |r| r.handle);
        // SAFETY: the matrix was checked by `TrainData::check` (its lengths, offsets and
        // indices agree); LightGBM copies the values.
        check(api, unsafe {
            match data.x {
                Matrix::Dense { values, n_features } => (api.dataset_create_from_mat)(
                    values.as_ptr() as *const c_void,
                    api::DTYPE_FLOAT64,
                    data.n_rows() as i32,
                    n_features as i32,
                    1,
                    params.as_ptr(),
                    reference,
                    &mut handle,
                ),
                Matrix::Csr {
                    indptr,
                    indices,
                    values,
                    n_features,
                } => (api.dataset_create_from_csr)(
                    indptr.as_ptr() as *const c_void,
                    api::DTYPE_INT64,
                    indices.as_ptr(),
                    values.as_ptr() as *const c_void,
                    api::DTYPE_FLOAT64,
                    indptr.len() as i64,
                    values.len() as i64,
                    n_features as i64,
                    params.as_ptr(),
                    reference,
                    &mut handle,
                ),
            }
        })?;
        let dataset = Self { api, handle };
        // LightGBM keeps labels as float32, as its Python package does.
        let labels: Vec<f32> = data.labels.iter().map(|&l| l as f32).collect();
        dataset.set_field(
            "label",
            labels.as_ptr() as *const c_void,
            labels.len(),
            api::DTYPE_FLOAT32,
        )?;
        if let Some(group) = data.group {
            dataset.set_field(
                "group",
                group.as_ptr() as *const c_void,
                group.len(),
                api::DTYPE_INT32,
            )?;
        }
        Ok(dataset)
    }

    fn set_field(&self, name: &str, data: *const c_void, len: usize, dtype: c_int) -> Result<()> {
        let name = c_string(name, "field")?;
        // SAFETY: `data` points to `len` values of `dtype`; LightGBM copies them.
        check(self.api, unsafe {
            (self.api.dataset_set_field)(self.handle, name.as_ptr(), data, len as c_int, dtype)
        })
    }
}

owned_handle!(
    /// A LightGBM booster, freed on drop: one being trained, or a [`Model`] loaded from text.
    Booster,
    booster_free
);

impl Booster {
    fn check(&self, code: c_int) -> Result<()> {
        check(self.api, code)
    }

    fn eval_names(&self) -> Result<Vec<String>> {
        let mut count: c_int = 0;
        // SAFETY: a valid booster handle and an out pointer.
        self.check(unsafe { (self.api.booster_get_eval_counts)(self.handle, &mut count) })?;
        const LEN: usize = 256;
        let mut buffers = vec![[0 as c_char; LEN]; count as usize];
        let mut pointers: Vec<*mut c_char> = buffers.iter_mut().map(|b| b.as_mut_ptr()).collect();
        let (mut out_len, mut needed): (c_int, usize) = (0, 0);
        // SAFETY: `count` buffers of LEN bytes each; LightGBM NUL-terminates within LEN.
        self.check(unsafe {
            (self.api.booster_get_eval_names)(
                self.handle,
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
        self.check(unsafe {
            (self.api.booster_get_eval)(self.handle, data_index, &mut out_len, values.as_mut_ptr())
        })?;
        values.truncate(out_len as usize);
        Ok(values)
    }

    fn model_string(&self, num_iteration: usize) -> Result<String> {
        let mut needed: i64 = 0;
        let mut buffer = vec![0u8; 1 << 20];
        for _ in 0..2 {
            // SAFETY: `buffer` has `buffer.len()` bytes; LightGBM reports the length it needs.
            self.check(unsafe {
                (self.api.booster_save_model_to_string)(
                    self.handle,
                    0,
                    num_iteration as c_int,
                    api::IMPORTANCE_SPLIT,
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
    train_observed(
        data,
        params,
        num_boost_round,
        valid,
        early_stopping_rounds,
        |_| Ok(()),
    )
}

/// [`train`], calling `after_iteration(iterations done)` after each boosting iteration: for
/// progress reports, and to stop (its error is returned) when the user interrupts.
pub fn train_observed(
    data: &TrainData,
    params: &str,
    num_boost_round: usize,
    valid: Option<&TrainData>,
    early_stopping_rounds: Option<usize>,
    mut after_iteration: impl FnMut(usize) -> Result<()>,
) -> Result<Trained> {
    data.check("X")?;
    if let Some(valid) = valid {
        valid.check("valid")?;
        if valid.x.n_features() != data.x.n_features() {
            return Err(EcomkitError::invalid_value(
                "valid",
                format!(
                    "expected {} features, got {}",
                    data.x.n_features(),
                    valid.x.n_features()
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
    let api = api()?;
    let params_c = c_string(params, "params")?;
    let train_set = Dataset::new(api, data, &params_c, None)?;
    let valid_set = valid
        .map(|v| Dataset::new(api, v, &params_c, Some(&train_set)))
        .transpose()?;
    let mut handle: Handle = std::ptr::null_mut();
    // SAFETY: a valid dataset handle and parameter string; the booster is freed on drop.
    check(api, unsafe {
        (api.booster_create)(train_set.handle, params_c.as_ptr(), &mut handle)
    })?;
    let booster = Booster { api, handle };
    if let Some(valid_set) = &valid_set {
        // SAFETY: both handles are valid; the dataset outlives the booster's use of it.
        booster.check(unsafe { (api.booster_add_valid_data)(booster.handle, valid_set.handle) })?;
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
        booster.check(unsafe { (api.booster_update_one_iter)(booster.handle, &mut finished) })?;
        iterations = iteration;
        after_iteration(iteration)?;
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

/// A trained model, loaded from LightGBM's text format.
pub struct Model {
    booster: Booster,
    num_features: usize,
}

// SAFETY: LightGBM's booster guards its state with its own locks; predictions from several
// threads are what its Python package does too.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Model {
    pub fn from_string(model: &str) -> Result<Self> {
        let api = api()?;
        let text = c_string(&checked_model_text(model)?, "model")?;
        let (mut handle, mut iterations): (Handle, c_int) = (std::ptr::null_mut(), 0);
        // SAFETY: a NUL-terminated model text and two out pointers.
        let code = unsafe {
            (api.booster_load_model_from_string)(text.as_ptr(), &mut iterations, &mut handle)
        };
        check_for(api, code, "model")?;
        let booster = Booster { api, handle };
        let mut num_features: c_int = 0;
        // SAFETY: a valid booster handle and an out pointer.
        booster.check(unsafe { (api.booster_get_num_feature)(handle, &mut num_features) })?;
        Ok(Self {
            booster,
            num_features: num_features.max(0) as usize,
        })
    }

    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// The number of rows of `x`, after checking it and its width.
    fn rows(&self, x: &Matrix) -> Result<usize> {
        if x.n_features() != self.num_features {
            return Err(EcomkitError::invalid_value(
                "X",
                format!(
                    "expected {} features (as in training), got {}",
                    self.num_features,
                    x.n_features()
                ),
            ));
        }
        x.rows("X")
    }

    /// `values_per_row` predictions of `kind` per row of `x`.
    fn predict_kind(&self, x: Matrix, kind: c_int, values_per_row: usize) -> Result<Vec<f64>> {
        let rows = self.rows(&x)?;
        let mut out = vec![0.0f64; rows * values_per_row];
        if rows == 0 {
            return Ok(out);
        }
        let (api, handle, mut out_len) = (self.booster.api, self.booster.handle, 0i64);
        let no_params = c"";
        // SAFETY: `x` was checked (lengths, offsets and indices agree with `rows` rows of
        // the model's width) and `out` has room for `values_per_row` values per row, what
        // LightGBM writes for a one-class model.
        self.booster.check(unsafe {
            match x {
                Matrix::Dense { values, n_features } => (api.booster_predict_for_mat)(
                    handle,
                    values.as_ptr() as *const c_void,
                    api::DTYPE_FLOAT64,
                    rows as i32,
                    n_features as i32,
                    1,
                    kind,
                    0,
                    -1,
                    no_params.as_ptr(),
                    &mut out_len,
                    out.as_mut_ptr(),
                ),
                Matrix::Csr {
                    indptr,
                    indices,
                    values,
                    n_features,
                } => (api.booster_predict_for_csr)(
                    handle,
                    indptr.as_ptr() as *const c_void,
                    api::DTYPE_INT64,
                    indices.as_ptr(),
                    values.as_ptr() as *const c_void,
                    api::DTYPE_FLOAT64,
                    indptr.len() as i64,
                    values.len() as i64,
                    n_features as i64,
                    kind,
                    0,
                    -1,
                    no_params.as_ptr(),
                    &mut out_len,
                    out.as_mut_ptr(),
                ),
            }
        })?;
        out.truncate(out_len.max(0) as usize);
        Ok(out)
    }

    /// Predictions for `x` (scores for LambdaRank, probabilities for binary).
    pub fn predict(&self, x: Matrix) -> Result<Vec<f64>> {
        self.predict_kind(x, api::PREDICT_NORMAL, 1)
    }

    /// SHAP contributions: `n_features + 1` values per row (the last is the expected value).
    pub fn predict_contrib(&self, x: Matrix) -> Result<Vec<f64>> {
        self.predict_kind(x, api::PREDICT_CONTRIB, self.num_features + 1)
    }

    /// Importance of each feature: number of splits, or total gain.
    pub fn feature_importance(&self, gain: bool) -> Result<Vec<f64>> {
        let kind = if gain {
            api::IMPORTANCE_GAIN
        } else {
            api::IMPORTANCE_SPLIT
        };
        let mut out = vec![0.0f64; self.num_features];
        // SAFETY: `out` has one slot per feature of the model.
        self.booster.check(unsafe {
            (self.booster.api.booster_feature_importance)(
                self.booster.handle,
                0,
                kind,
                out.as_mut_ptr(),
            )
        })?;
        Ok(out)
    }
}
