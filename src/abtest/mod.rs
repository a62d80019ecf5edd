//! A/B tests: GrowthBook-compatible traffic splitting and uplift statistics (Python:
//! `ecomkit.abtest`).
//!
//! - [`hash`]: GrowthBook's FNV-1a bucketing hash (versions 1 and 2; UTF-16, code point or
//!   UTF-8 units).
//! - [`split`]: bucket ranges, variation choice, namespaces, and [`Split::assign`] with
//!   GrowthBook's `run()` semantics over millions of ids.
//! - [`uplift`]: mergeable per-variant aggregates and the uplift report (lifts, p-values,
//!   intervals, CUPED, sample-ratio check).
//! - [`stats`]: the tests, corrections and power calculations behind it.

mod cell_sums;
pub mod hash;
pub mod split;
pub mod stats;
pub mod uplift;

pub use hash::{fnv1a32, hash_array, Encoding, HashVersion, Hasher};
pub use split::{bucket_ranges, choose_variation, equal_weights, in_namespace, Namespace, Split};
pub use stats::Correction;
pub use uplift::{
    evaluate, Aggregates, EvaluateOptions, MetricKind, MetricSpec, Report, UpliftRow,
};
