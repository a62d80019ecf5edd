//! Ranking: learning to rank with LightGBM and its inputs (Python: `ecomkit.rank`).
//!
//! - [`QueryGroups`]: one query id per row into LightGBM's group sizes and a row order.
//! - [`svmlight`]: the svmlight / LightGBM text format with `qid` and `.query` files.
//! - `lightgbm` (cargo feature `lightgbm`): LambdaRank and binary training through
//!   LightGBM 4.7, with query groups.
//!
//! The metrics that used to live here are in [`crate::metrics`]; `rank::metrics` and
//! `rank::classification` remain for this release as deprecated aliases.

#[cfg(any(feature = "lightgbm", feature = "lightgbm-dynamic"))]
pub mod lightgbm;
mod queries;
pub mod svmlight;

pub use queries::QueryGroups;

/// Deprecated alias of [`crate::metrics::ranking`], kept for one release.
#[deprecated(note = "moved to `ecomkit::metrics::ranking` (or `ecomkit::metrics`)")]
pub mod metrics {
    pub use crate::metrics::ranking::*;
}

/// Deprecated alias of [`crate::metrics::classification`], kept for one release.
#[deprecated(note = "moved to `ecomkit::metrics::classification`")]
pub mod classification {
    pub use crate::metrics::classification::*;
}
