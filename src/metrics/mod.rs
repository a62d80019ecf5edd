//! Metrics: group-wise ranking metrics, classification and calibration metrics (Python:
//! `ecomkit.metrics`).
//!
//! - [`ranking`]: NDCG, precision, recall, average precision, MRR and hit rate per group, at
//!   many cut-offs in one pass, with explicit conventions for gain, ties and groups without
//!   a relevant item.
//! - [`classification`]: ROC AUC, average precision, log loss, Brier score, calibration
//!   curves and isotonic calibration, as scikit-learn computes them.

pub mod classification;
pub mod ranking;

pub use ranking::{
    ranking_metric, ranking_metrics, ranking_values, ApDenominator, Gain, NoRelevant,
    RankingMetric, RankingOptions, Ties,
};
