//! Median, MAD and robust z-scores per group.

use rayon::prelude::*;

use super::ScoreOptions;
use crate::error::{EcomkitError, Result};
use crate::groups::{Groups, Partition};

/// 1 / Φ⁻¹(3/4): turns a MAD into a standard deviation for normal data (scipy's
/// `scale="normal"`).
pub const MAD_TO_SD: f64 = 1.482_602_218_505_602;
/// √(π/2): turns a mean absolute deviation into a standard deviation for normal data.
pub const MEAN_AD_TO_SD: f64 = 1.253_314_137_315_500_3;

/// What a group whose MAD is 0 yields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ZeroMad {
    /// Scale by 1.2533 × the mean absolute deviation instead; z = 0 if that is 0 too.
    #[default]
    MeanAd,
    /// Every z of the group is 0.
    Zero,
}

impl std::str::FromStr for ZeroMad {
    type Err = EcomkitError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "mean_ad" => Ok(Self::MeanAd),
            "zero" => Ok(Self::Zero),
            other => Err(EcomkitError::invalid_value(
                "zero_mad",
                format!("expected 'mean_ad' or 'zero', got '{other}'"),
            )),
        }
    }
}

/// Location and scale of one group's values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RobustStats {
    /// Values that entered the statistics (finite ones).
    pub count: usize,
    /// Values left out: NaN, null or ±inf.
    pub n_nan: usize,
    /// Median (mean of the two middle values for an even count); NaN when `count` is 0.
    pub median: f64,
    /// Median absolute deviation from the median, unscaled; NaN when `count` is 0.
    pub mad: f64,
    /// The divisor of the z-scores; 0 means every z of the group is 0.
    pub scale: f64,
}

impl RobustStats {
    /// The robust z-score of `x` in this group; NaN for a missing `x`.
    pub fn z(&self, x: f64) -> f64 {
        if !x.is_finite() || self.count == 0 {
            f64::NAN
        } else if self.scale == 0.0 {
            0.0
        } else {
            // Keep the promise of no inf even for values near f64::MAX.
            ((x - self.median) / self.scale).clamp(f64::MIN, f64::MAX)
        }
    }
}

/// Statistics of one group; `scratch` is reused between calls to spare allocations.
pub fn robust_stats(
    values: impl Iterator<Item = f64>,
    zero_mad: ZeroMad,
    scratch: &mut Vec<u64>,
) -> RobustStats {
    scratch.clear();
    scratch.extend(values.map(selection_key));
    stats_of_keys(scratch, zero_mad)
}

/// The key a value is selected by (see [`selection_key`]) for a missing value: above every
/// other key, so that the finite values are always the smallest keys.
const MISSING: u64 = u64::MAX;

/// Selection runs on integers that sort as the floats do: integer comparisons are
/// markedly faster than `f64::total_cmp`, and the results are the same values. NaN and
/// ±inf are missing.
fn selection_key(x: f64) -> u64 {
    if x.is_finite() {
        ordered_bits(x)
    } else {
        MISSING
    }
}

/// Statistics of one group from its selection keys, which it reorders.
fn stats_of_keys(keys: &mut [u64], zero_mad: ZeroMad) -> RobustStats {
    let n_nan = keys.iter().filter(|&&key| key == MISSING).count();
    let count = keys.len() - n_nan;
    if count == 0 {
        return RobustStats {
            count,
            n_nan,
            median: f64::NAN,
            mad: f64::NAN,
            scale: 0.0,
        };
    }
    // Missing keys sort last, so the `count` smallest keys are the values.
    let median = median_of_smallest(keys, count, from_ordered_bits);
    let mut abs_sum = 0.0;
    for key in keys.iter_mut().filter(|key| **key != MISSING) {
        let deviation = (from_ordered_bits(*key) - median).abs();
        abs_sum += deviation;
        // Bits of a non-negative float already sort as the float, below `MISSING`.
        *key = deviation.to_bits();
    }
    let mad = median_of_smallest(keys, count, f64::from_bits);
    let mean_ad = abs_sum / count as f64;
    let scale = if mad > 0.0 {
        MAD_TO_SD * mad
    } else if zero_mad == ZeroMad::MeanAd && mean_ad > 0.0 {
        MEAN_AD_TO_SD * mean_ad
    } else {
        0.0
    };
    RobustStats {
        count,
        n_nan,
        median,
        mad,
        scale,
    }
}

/// An integer whose order is the order of the (non-NaN) float `x`; -0.0 maps with 0.0.
fn ordered_bits(x: f64) -> u64 {
    let bits = (x + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

fn from_ordered_bits(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    })
}

/// Median of the `count` smallest keys by selection, O(n); the mean of the two middle
/// values for an even count.
fn median_of_smallest(keys: &mut [u64], count: usize, decode: fn(u64) -> f64) -> f64 {
    let (lower, upper_middle, _) = keys.select_nth_unstable(count / 2);
    let upper_middle = decode(*upper_middle);
    if count % 2 == 1 {
        upper_middle
    } else {
        let lower_middle = decode(*lower.iter().max().expect("an even count has a lower half"));
        (lower_middle + upper_middle) / 2.0
    }
}

/// Statistics of every group of a partition, groups in parallel.
pub fn group_robust_stats(
    values: &[f64],
    partition: &Partition,
    zero_mad: ZeroMad,
) -> Vec<RobustStats> {
    group_robust_stats_reusing(values, partition, zero_mad, &mut Vec::new())
}

/// [`group_robust_stats`] with the selection keys (one per row) in `keys`, so that the
/// features of one call reuse one buffer instead of faulting in a fresh one each.
pub(crate) fn group_robust_stats_reusing(
    values: &[f64],
    partition: &Partition,
    zero_mad: ZeroMad,
    keys: &mut Vec<u64>,
) -> Vec<RobustStats> {
    partition.arrange_into(values, keys, selection_key);
    partition
        .split_mut(keys)
        .into_par_iter()
        .map(|group| stats_of_keys(group, zero_mad))
        .collect()
}

/// Robust z-scores of `values` within `groups`.
///
/// ```
/// use ecomkit::groups::Groups;
/// use ecomkit::score::{robust_zscore, ScoreOptions};
/// let values = [1.0, 2.0, 3.0, 4.0, 100.0];
/// let z = robust_zscore(&values, &Groups::single(5).unwrap(), &ScoreOptions::default()).unwrap();
/// assert_eq!(z[2], 0.0); // the median
/// assert!((z[4] - 97.0 / (1.482602218505602 * 1.0)).abs() < 1e-12);
/// ```
pub fn robust_zscore(values: &[f64], groups: &Groups, options: &ScoreOptions) -> Result<Vec<f64>> {
    options.validate()?;
    EcomkitError::check_length("groups", "values", values.len(), groups.len())?;
    let stats = group_robust_stats(values, &groups.partition(), options.zero_mad);
    Ok(zscores(values, groups, &stats, options.clip))
}

/// [`RobustStats::z`] in the form the row loops want: the group's numbers read once, and
/// selects for branches.
#[derive(Clone, Copy)]
pub(crate) struct ZScale {
    /// NaN when the group has no values, which makes every z NaN.
    median: f64,
    scale: f64,
    /// Every z of the group is 0 (MAD and its fallback are 0).
    flat: bool,
}

impl ZScale {
    pub(crate) fn new(stats: &RobustStats) -> Self {
        Self {
            median: if stats.count == 0 {
                f64::NAN
            } else {
                stats.median
            },
            scale: stats.scale,
            flat: stats.count > 0 && stats.scale == 0.0,
        }
    }

    /// The same value as [`RobustStats::z`], clamped to `bounds` (see [`z_bounds`]).
    #[inline(always)]
    pub(crate) fn z(self, x: f64, (low, high): (f64, f64)) -> f64 {
        let z = if self.flat {
            0.0
        } else {
            (x - self.median) / self.scale
        };
        if x.is_finite() {
            z.clamp(low, high)
        } else {
            f64::NAN
        }
    }
}

/// The range z-scores are clamped to: `±clip` (no clip: ±∞), and never beyond the finite
/// floats.
pub(crate) fn z_bounds(clip: Option<f64>) -> (f64, f64) {
    let clip = clip.unwrap_or(f64::INFINITY);
    ((-clip).max(f64::MIN), clip.min(f64::MAX))
}

/// z of every row from its group's statistics, rows in parallel.
pub(crate) fn zscores(
    values: &[f64],
    groups: &Groups,
    stats: &[RobustStats],
    clip: Option<f64>,
) -> Vec<f64> {
    let bounds = z_bounds(clip);
    let scales: Vec<ZScale> = stats.iter().map(ZScale::new).collect();
    values
        .par_iter()
        .zip(groups.ids().par_iter())
        .with_min_len(4096)
        .map(|(&x, &g)| scales[g as usize].z(x, bounds))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_loop_gives_robust_stats_z_exactly() {
        let stats = [
            RobustStats {
                count: 5,
                n_nan: 0,
                median: 2.0,
                mad: 1.0,
                scale: 1.5,
            },
            RobustStats {
                count: 3,
                n_nan: 1,
                median: 4.0,
                mad: 0.0,
                scale: 0.0,
            },
            RobustStats {
                count: 0,
                n_nan: 2,
                median: f64::NAN,
                mad: f64::NAN,
                scale: 0.0,
            },
            RobustStats {
                count: 2,
                n_nan: 0,
                median: -1.0,
                mad: 1e-300,
                scale: 1e-300,
            },
        ];
        let xs = [
            0.0,
            -0.0,
            2.0,
            3.5,
            -7.25,
            1e308,
            -1e308,
            f64::MAX,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for clip in [None, Some(0.5), Some(1e300)] {
            let limit = clip.unwrap_or(f64::INFINITY);
            let bounds = z_bounds(clip);
            for s in &stats {
                for &x in &xs {
                    let want = s.z(x).clamp(-limit, limit);
                    let got = ZScale::new(s).z(x, bounds);
                    assert!(
                        got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                        "{s:?}, x = {x}, clip {clip:?}: got {got}, want {want}"
                    );
                }
            }
        }
    }

    fn stats(values: &[f64]) -> RobustStats {
        robust_stats(values.iter().copied(), ZeroMad::MeanAd, &mut Vec::new())
    }

    #[test]
    fn even_count_median_is_mean_of_middle_pair() {
        let s = stats(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!(s.median, 2.5);
        assert_eq!(s.mad, 1.0);
    }

    #[test]
    fn missing_values_are_left_out() {
        let s = stats(&[f64::NAN, 1.0, f64::INFINITY, 3.0]);
        assert_eq!((s.count, s.n_nan, s.median), (2, 2, 2.0));
        assert!(s.z(f64::NAN).is_nan());
    }

    #[test]
    fn zero_mad_falls_back_to_mean_absolute_deviation() {
        let s = stats(&[5.0, 5.0, 5.0, 9.0]);
        assert_eq!(s.mad, 0.0);
        assert_eq!(s.scale, MEAN_AD_TO_SD * 1.0);
        let flat = stats(&[5.0, 5.0]);
        assert_eq!((flat.scale, flat.z(5.0)), (0.0, 0.0));
        let zero = robust_stats(
            [5.0, 5.0, 5.0, 9.0].into_iter(),
            ZeroMad::Zero,
            &mut Vec::new(),
        );
        assert_eq!(zero.z(9.0), 0.0);
    }

    #[test]
    fn all_missing_group_has_nan_statistics() {
        let s = stats(&[f64::NAN]);
        assert!(s.median.is_nan() && s.mad.is_nan() && s.z(1.0).is_nan());
    }
}
