//! Ranking: group-wise ranking metrics, classification and calibration metrics.
//!
//! - [`metrics`]: NDCG, precision, recall, average precision, MRR and hit rate per group, at
//!   many cut-offs in one pass, with explicit conventions for gain, ties and groups without
//!   a relevant item.
//! - [`classification`]: ROC AUC, average precision, log loss, Brier score, calibration
//!   curves and isotonic calibration, as scikit-learn computes them.
//! - [`QueryGroups`]: one query id per row into LightGBM's group sizes and a row order.
//! - `lightgbm` (cargo feature `lightgbm`): LambdaRank and binary training through
//!   LightGBM 4.7, with query groups.

pub mod classification;
#[cfg(any(feature = "lightgbm", feature = "lightgbm-dynamic"))]
pub mod lightgbm;
pub mod metrics;
mod queries;
pub mod svmlight;

pub use metrics::{
    ranking_metric, ranking_metrics, ranking_values, ApDenominator, Gain, NoRelevant,
    RankingMetric, RankingOptions, Ties,
};
pub use queries::QueryGroups;
