//! Robust z-scores and the weighted "explosive score".
//!
//! Within each group (say site × category) a feature is centred on its median and scaled by
//! its median absolute deviation, so one outlier cannot move the yardstick the way it moves a
//! mean and a standard deviation. The explosive score adds weighted z-scores and ranks rows
//! within their group.
//!
//! Conventions (also in `docs/score.md`):
//! - NaN, null and ±inf values are missing: they do not enter the median or the MAD, and
//!   their z-score is NaN.
//! - `scale` = 1.482602218505602 × MAD (= `scipy.stats.median_abs_deviation(x,
//!   scale="normal")`; "1.4826" is its rounding). When MAD = 0, [`ZeroMad::MeanAd`] (the
//!   default) falls back to 1.2533141373155003 × mean absolute deviation from the median
//!   (Iglewicz & Hoaglin), and when that is 0 too, every z of the group is 0: the feature
//!   does not separate the group's rows. A one-row group therefore has z = 0. The output
//!   holds no inf and no division by zero.
//! - In the weighted sum a missing z counts as 0 (the group median); a row with every
//!   weighted z missing gets a NaN score, ranks after every scored row and never enters a
//!   top-N.

mod explosive;
mod rank;
mod robust;

#[cfg(feature = "python")]
pub(crate) use explosive::explosive_score_ranked;
pub use explosive::{explosive_score, explosive_score_columns, group_stats, ExplosiveScore};
pub use rank::rank_within_groups;
pub use robust::{
    group_robust_stats, robust_stats, robust_zscore, RobustStats, ZeroMad, MAD_TO_SD, MEAN_AD_TO_SD,
};

use crate::error::{EcomkitError, Result};

/// Options shared by the scoring functions.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ScoreOptions {
    /// Clip every z-score to [-clip, clip] before it is weighted.
    pub clip: Option<f64>,
    /// What a group whose MAD is 0 yields.
    pub zero_mad: ZeroMad,
    /// Keep only the best `top_n` rows of each group.
    pub top_n: Option<usize>,
}

impl ScoreOptions {
    pub(crate) fn validate(&self) -> Result<()> {
        if let Some(clip) = self.clip {
            if clip.is_nan() || clip <= 0.0 {
                return Err(EcomkitError::invalid_value(
                    "clip",
                    format!("must be a positive number, got {clip}"),
                ));
            }
        }
        if self.top_n == Some(0) {
            return Err(EcomkitError::invalid_value(
                "top_n",
                "must be at least 1, got 0",
            ));
        }
        Ok(())
    }
}
