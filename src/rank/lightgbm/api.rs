//! LightGBM's C API as a table of function pointers, filled from one of two places:
//! - the LightGBM compiled into this crate from source (cargo feature `lightgbm`, through
//!   `lightgbm3-sys`; needs CMake and libclang at build time), or
//! - a `lib_lightgbm` shared library loaded at run time (cargo feature `lightgbm-dynamic`):
//!   the one LightGBM's own Python wheel ships, so the Python extension neither compiles
//!   LightGBM nor links OpenMP, and trains with the very library the Python package uses.
//!
//! The training and prediction code above this table is the same for both.

use std::ffi::{c_char, c_int, c_void};
use std::sync::OnceLock;

use crate::error::{EcomkitError, Result};

/// A LightGBM `DatasetHandle` or `BoosterHandle`.
pub(super) type Handle = *mut c_void;

pub(super) const DTYPE_FLOAT32: c_int = 0;
pub(super) const DTYPE_FLOAT64: c_int = 1;
pub(super) const DTYPE_INT32: c_int = 2;
pub(super) const DTYPE_INT64: c_int = 3;
pub(super) const PREDICT_NORMAL: c_int = 0;
pub(super) const PREDICT_CONTRIB: c_int = 3;
pub(super) const IMPORTANCE_SPLIT: c_int = 0;
pub(super) const IMPORTANCE_GAIN: c_int = 1;

/// The functions of `LightGBM/c_api.h` that ecomkit calls, with their C signatures.
pub(super) struct Api {
    pub get_last_error: unsafe extern "C" fn() -> *const c_char,
    pub dataset_create_from_mat: unsafe extern "C" fn(
        *const c_void,
        c_int,
        i32,
        i32,
        c_int,
        *const c_char,
        Handle,
        *mut Handle,
    ) -> c_int,
    pub dataset_create_from_csr: unsafe extern "C" fn(
        *const c_void,
        c_int,
        *const i32,
        *const c_void,
        c_int,
        i64,
        i64,
        i64,
        *const c_char,
        Handle,
        *mut Handle,
    ) -> c_int,
    pub dataset_set_field:
        unsafe extern "C" fn(Handle, *const c_char, *const c_void, c_int, c_int) -> c_int,
    pub dataset_free: unsafe extern "C" fn(Handle) -> c_int,
    pub booster_create: unsafe extern "C" fn(Handle, *const c_char, *mut Handle) -> c_int,
    pub booster_free: unsafe extern "C" fn(Handle) -> c_int,
    pub booster_add_valid_data: unsafe extern "C" fn(Handle, Handle) -> c_int,
    pub booster_get_eval_counts: unsafe extern "C" fn(Handle, *mut c_int) -> c_int,
    pub booster_get_eval_names: unsafe extern "C" fn(
        Handle,
        c_int,
        *mut c_int,
        usize,
        *mut usize,
        *mut *mut c_char,
    ) -> c_int,
    pub booster_get_eval: unsafe extern "C" fn(Handle, c_int, *mut c_int, *mut f64) -> c_int,
    pub booster_update_one_iter: unsafe extern "C" fn(Handle, *mut c_int) -> c_int,
    pub booster_save_model_to_string:
        unsafe extern "C" fn(Handle, c_int, c_int, c_int, i64, *mut i64, *mut c_char) -> c_int,
    pub booster_load_model_from_string:
        unsafe extern "C" fn(*const c_char, *mut c_int, *mut Handle) -> c_int,
    pub booster_get_num_feature: unsafe extern "C" fn(Handle, *mut c_int) -> c_int,
    pub booster_predict_for_mat: unsafe extern "C" fn(
        Handle,
        *const c_void,
        c_int,
        i32,
        i32,
        c_int,
        c_int,
        c_int,
        c_int,
        *const c_char,
        *mut i64,
        *mut f64,
    ) -> c_int,
    pub booster_predict_for_csr: unsafe extern "C" fn(
        Handle,
        *const c_void,
        c_int,
        *const i32,
        *const c_void,
        c_int,
        i64,
        i64,
        i64,
        c_int,
        c_int,
        c_int,
        *const c_char,
        *mut i64,
        *mut f64,
    ) -> c_int,
    pub booster_feature_importance: unsafe extern "C" fn(Handle, c_int, c_int, *mut f64) -> c_int,
}

static API: OnceLock<Api> = OnceLock::new();

/// The API in use: a library loaded with [`load_library`] (or named by the environment
/// variable `ECOMKIT_LIGHTGBM_LIB`), else the one compiled in.
pub(super) fn api() -> Result<&'static Api> {
    if let Some(api) = API.get() {
        return Ok(api);
    }
    #[cfg(feature = "lightgbm-dynamic")]
    if let Some(path) = std::env::var_os("ECOMKIT_LIGHTGBM_LIB") {
        load_library(std::path::Path::new(&path))?;
        return API.get().ok_or_else(not_loaded);
    }
    #[cfg(feature = "lightgbm")]
    return Ok(API.get_or_init(Api::linked));
    #[allow(unreachable_code)]
    Err(not_loaded())
}

fn not_loaded() -> EcomkitError {
    EcomkitError::invalid_value(
        "lightgbm",
        "no LightGBM library is loaded: call ecomkit::rank::lightgbm::load_library(path) with \
         the path of lib_lightgbm (LightGBM's Python wheel ships one in lightgbm/lib/), or set \
         ECOMKIT_LIGHTGBM_LIB",
    )
}

#[cfg(feature = "lightgbm")]
impl Api {
    /// The LightGBM compiled into this crate by `lightgbm3-sys`.
    fn linked() -> Self {
        use lightgbm3_sys as sys;
        Self {
            get_last_error: sys::LGBM_GetLastError,
            dataset_create_from_mat: sys::LGBM_DatasetCreateFromMat,
            dataset_create_from_csr: sys::LGBM_DatasetCreateFromCSR,
            dataset_set_field: sys::LGBM_DatasetSetField,
            dataset_free: sys::LGBM_DatasetFree,
            booster_create: sys::LGBM_BoosterCreate,
            booster_free: sys::LGBM_BoosterFree,
            booster_add_valid_data: sys::LGBM_BoosterAddValidData,
            booster_get_eval_counts: sys::LGBM_BoosterGetEvalCounts,
            booster_get_eval_names: sys::LGBM_BoosterGetEvalNames,
            booster_get_eval: sys::LGBM_BoosterGetEval,
            booster_update_one_iter: sys::LGBM_BoosterUpdateOneIter,
            booster_save_model_to_string: sys::LGBM_BoosterSaveModelToString,
            booster_load_model_from_string: sys::LGBM_BoosterLoadModelFromString,
            booster_get_num_feature: sys::LGBM_BoosterGetNumFeature,
            booster_predict_for_mat: sys::LGBM_BoosterPredictForMat,
            booster_predict_for_csr: sys::LGBM_BoosterPredictForCSR,
            booster_feature_importance: sys::LGBM_BoosterFeatureImportance,
        }
    }
}

/// Load LightGBM's C API from the shared library at `path` (e.g. the `lib_lightgbm.so` in
/// LightGBM's Python wheel, `lightgbm/lib/`), for every later training and prediction.
/// Loading again is a no-op: the first library stays in use for the life of the process.
#[cfg(feature = "lightgbm-dynamic")]
pub fn load_library(path: &std::path::Path) -> Result<()> {
    if API.get().is_some() {
        return Ok(());
    }
    let failed = |why: String| {
        EcomkitError::invalid_value(
            "lightgbm",
            format!("cannot load LightGBM from {}: {why}", path.display()),
        )
    };
    // SAFETY: loading runs the library's initialisers; lib_lightgbm's only set up globals.
    let library = unsafe { libloading::Library::new(path) }.map_err(|e| failed(e.to_string()))?;
    // The library stays loaded for the life of the process: the pointers below point into it.
    let library: &'static libloading::Library = Box::leak(Box::new(library));
    macro_rules! symbol {
        ($name:literal) => {
            // SAFETY: the field's type is the C signature of that symbol in c_api.h.
            *unsafe { library.get(concat!($name, "\0").as_bytes()) }
                .map_err(|e| failed(format!("{} is missing ({e})", $name)))?
        };
    }
    let api = Api {
        get_last_error: symbol!("LGBM_GetLastError"),
        dataset_create_from_mat: symbol!("LGBM_DatasetCreateFromMat"),
        dataset_create_from_csr: symbol!("LGBM_DatasetCreateFromCSR"),
        dataset_set_field: symbol!("LGBM_DatasetSetField"),
        dataset_free: symbol!("LGBM_DatasetFree"),
        booster_create: symbol!("LGBM_BoosterCreate"),
        booster_free: symbol!("LGBM_BoosterFree"),
        booster_add_valid_data: symbol!("LGBM_BoosterAddValidData"),
        booster_get_eval_counts: symbol!("LGBM_BoosterGetEvalCounts"),
        booster_get_eval_names: symbol!("LGBM_BoosterGetEvalNames"),
        booster_get_eval: symbol!("LGBM_BoosterGetEval"),
        booster_update_one_iter: symbol!("LGBM_BoosterUpdateOneIter"),
        booster_save_model_to_string: symbol!("LGBM_BoosterSaveModelToString"),
        booster_load_model_from_string: symbol!("LGBM_BoosterLoadModelFromString"),
        booster_get_num_feature: symbol!("LGBM_BoosterGetNumFeature"),
        booster_predict_for_mat: symbol!("LGBM_BoosterPredictForMat"),
        booster_predict_for_csr: symbol!("LGBM_BoosterPredictForCSR"),
        booster_feature_importance: symbol!("LGBM_BoosterFeatureImportance"),
    };
    let _ = API.set(api);
    Ok(())
}

/// Whether a LightGBM library is available without further setup (compiled in, or loaded).
pub fn is_available() -> bool {
    api().is_ok()
}
