//! # ecomkit
//!
//! Fast, exact kernels for e-commerce ML pipelines, usable from Rust with no Python at all
//! (the PyO3 layer in `src/python/` is behind the `python` cargo feature).
//!
//! - [`score`]: robust z-scores (median / MAD per group) and the weighted explosive score.
//! - [`features`]: rolling windows, sessions, point-in-time features, decay scores, splits.
//! - [`abtest`]: GrowthBook-compatible traffic splitting and uplift statistics.
//! - [`metrics`]: ranking, classification and calibration metrics.
//! - [`monitor`]: drift statistics between a reference and a current sample.
//! - [`rank`]: LambdaRank training through LightGBM, query groups, svmlight files.
//! - [`datasets`]: seeded synthetic data for demos, tests and benchmarks.
//! - [`frame`] and [`groups`]: the edge where Arrow columns become slices and dense group ids.
//!
//! ```
//! use ecomkit::datasets::{asin_daily, DEFAULT_START};
//! use ecomkit::frame::Frame;
//! use ecomkit::score::{explosive_score, ScoreOptions};
//!
//! let frame = Frame::from(asin_daily(50, 10, 0, DEFAULT_START)?);
//! let weights = [("bsr".to_string(), -1.0), ("review_count".to_string(), 0.5)];
//! let by = ["site".to_string(), "category".to_string()];
//! let options = ScoreOptions { top_n: Some(3), ..Default::default() };
//! let result = explosive_score(&frame, &weights, &by, &options)?;
//! assert_eq!(result.score.len(), frame.num_rows());
//! assert!(result.top_rows.unwrap().len() <= 3 * result.groups.n_groups());
//! # Ok::<(), ecomkit::EcomkitError>(())
//! ```

pub mod abtest;
mod cpu;
pub mod datasets;
pub mod error;
pub mod features;
pub mod frame;
pub mod groups;
pub mod metrics;
pub mod monitor;
pub mod rank;
pub mod rng;
pub mod score;

#[cfg(feature = "python")]
mod python;

pub use error::{EcomkitError, Result};

/// Deprecated alias of [`abtest`] (the module's name in Python too), kept for one release.
#[deprecated(note = "renamed to `ecomkit::abtest`")]
pub mod experiment {
    pub use crate::abtest::*;
}

/// The arrow-rs crates ecomkit's API takes and returns (`RecordBatch`, arrays, schemas), at
/// the version ecomkit is built with: use these rather than adding `arrow-array` yourself,
/// so the types always match (`cargo add arrow-array` may pick a newer major version).
pub mod arrow {
    pub use arrow_array as array;
    pub use arrow_array::RecordBatch;
    pub use arrow_buffer as buffer;
    pub use arrow_schema as schema;
}

/// README's Rust example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
