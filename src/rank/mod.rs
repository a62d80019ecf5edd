//! Ranking: group-wise ranking metrics, classification and calibration metrics.
//!
//! - [`metrics`]: NDCG, precision, recall, average precision, MRR and hit rate per group, at
//!   many cut-offs in one pass, with explicit conventions for gain, ties and groups without
//!   a relevant item.
//! - [`classification`]: ROC AUC, average precision, log loss, Brier score, calibration
//!   curves and isotonic calibration, as scikit-learn computes them.

pub mod classification;
pub mod metrics;

pub use metrics::{
    ranking_metric, ApDenominator, Gain, NoRelevant, RankingMetric, RankingOptions, Ties,
};
