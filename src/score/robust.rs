//! Median, MAD and robust z-scores per group.

use rayon::prelude::*;

use super::ScoreOptions;
use crate::error::{parse_enum, EcomkitError, Result};
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

parse_enum!(ZeroMad, "zero_mad", { "mean_ad" => ZeroMad::MeanAd, "zero" => ZeroMad::Zero });

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
    let n = scratch.len();
    scratch.resize(n + selection_scratch_len(n), 0);
    let (keys, selection) = scratch.split_at_mut(n);
    stats_of_keys(keys, zero_mad, selection)
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

/// Statistics of one group from its selection keys, which stay as they are; `scratch`
/// (at least [`selection_scratch_len`] long) takes the selections' copies.
fn stats_of_keys(keys: &[u64], zero_mad: ZeroMad, scratch: &mut [u64]) -> RobustStats {
    let Some(middle) = select_middle(keys, |key| key, scratch) else {
        return RobustStats {
            count: 0,
            n_nan: keys.len(),
            median: f64::NAN,
            mad: f64::NAN,
            scale: 0.0,
        };
    };
    let count = middle.count;
    let median = middle.value(from_ordered_bits);
    // Bits of a non-negative float sort as the float; missing keys stay above them all.
    let deviation = |key: u64| {
        if key == MISSING {
            MISSING
        } else {
            (from_ordered_bits(key) - median).abs().to_bits()
        }
    };
    let mad = select_middle(keys, deviation, scratch)
        .expect("the same values as the median's")
        .value(f64::from_bits);
    let scale = if mad > 0.0 {
        MAD_TO_SD * mad
    } else {
        // The mean absolute deviation is only needed here, so it is only summed here.
        let mean_ad = || {
            let sum: f64 = keys
                .iter()
                .filter(|&&key| key != MISSING)
                .map(|&key| (from_ordered_bits(key) - median).abs())
                .sum();
            sum / count as f64
        };
        match zero_mad {
            ZeroMad::MeanAd => Some(mean_ad())
                .filter(|&mean_ad| mean_ad > 0.0)
                .map_or(0.0, |mean_ad| MEAN_AD_TO_SD * mean_ad),
            ZeroMad::Zero => 0.0,
        }
    };
    RobustStats {
        count,
        n_nan: keys.len() - count,
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

/// Groups smaller than this are selected among all their keys; larger ones are first
/// narrowed down by a sample.
const SAMPLED_FROM: usize = 1024;
/// Keys in the sample of a large group.
const SAMPLE: usize = 256;

/// How much scratch [`select_middle`] needs for `n` keys.
fn selection_scratch_len(n: usize) -> usize {
    n + SAMPLE
}

/// The middle of the values that are not missing: their number and the two middle order
/// statistics (the same one for an odd number).
#[derive(Debug, PartialEq)]
struct Middle {
    count: usize,
    lower: u64,
    upper: u64,
}

impl Middle {
    /// The median, decoded: the mean of the two middle values for an even count.
    fn value(&self, decode: fn(u64) -> f64) -> f64 {
        if self.count % 2 == 1 {
            decode(self.upper)
        } else {
            (decode(self.lower) + decode(self.upper)) / 2.0
        }
    }
}

/// The middle of `map(key)` over `keys` leaving out `MISSING` values (`None` if all are),
/// in O(n) and without reordering `keys`.
///
/// Floyd and Rivest's idea: a sample of a large group brackets the middle between two of
/// its own order statistics; one branch-free pass keeps the values inside the bracket
/// (about a fifth of them) and counts those below it and the missing ones; the selection
/// then runs on the kept values only. That is about half the work of `select_nth_unstable`
/// on all keys, and the missing values are counted in the same pass. A bracket that misses
/// (rare with a strided sample; periodic data at worst) is widened to every value: the
/// result is exact either way.
fn select_middle(keys: &[u64], map: impl Fn(u64) -> u64, scratch: &mut [u64]) -> Option<Middle> {
    let n = keys.len();
    let (kept, sample) = scratch.split_at_mut(n);
    let everything = (0, MISSING - 1);
    let mut bracket = if n < SAMPLED_FROM {
        everything
    } else {
        sample_bracket(keys, &map, &mut sample[..SAMPLE])
    };
    loop {
        let Pass {
            below,
            kept: len,
            missing,
        } = keep_between(keys, bracket, &map, kept);
        let count = n - missing;
        if count == 0 {
            return None;
        }
        let (k, even) = (count / 2, count.is_multiple_of(2));
        // The k-th value, and for an even count the one before it, must have been kept.
        if below + usize::from(even) <= k && k < below + len {
            let (lower, upper, _) = kept[..len].select_nth_unstable(k - below);
            let upper = *upper;
            let lower = if even {
                *lower.iter().max().expect("a kept value below the k-th")
            } else {
                upper
            };
            return Some(Middle {
                count,
                lower,
                upper,
            });
        }
        debug_assert_ne!(bracket, everything, "every value brackets the middle");
        bracket = everything;
    }
}

/// Values (by `map`) that bracket the middle of the values of `keys` with high
/// probability: the order statistics of a strided sample about 3 standard deviations
/// either side of the sample's own middle. An end past the sample is unbounded.
fn sample_bracket(keys: &[u64], map: &impl Fn(u64) -> u64, sample: &mut [u64]) -> (u64, u64) {
    let stride = keys.len() / sample.len();
    for (slot, &key) in sample
        .iter_mut()
        .zip(keys[stride / 2..].iter().step_by(stride))
    {
        *slot = map(key);
    }
    // Missing values are the largest: the sample's values are its `size` smallest.
    let size = sample.iter().filter(|&&value| value != MISSING).count();
    let centre = size as f64 / 2.0;
    let margin = 1.5 * (size as f64).sqrt() + 2.0;
    let (low_at, high_at) = (centre - margin, centre + margin);
    let high_at = (high_at < size as f64).then_some(high_at as usize);
    let high = match high_at {
        Some(at) => *sample.select_nth_unstable(at).1,
        None => MISSING - 1,
    };
    let low = if low_at >= 0.0 {
        // After the first selection the values below `high` come first; else all do.
        let sample_len = sample.len();
        let below_high = &mut sample[..high_at.unwrap_or(sample_len)];
        *below_high.select_nth_unstable(low_at as usize).1
    } else {
        0
    };
    (low, high)
}

/// What one pass of [`keep_between`] found.
struct Pass {
    below: usize,
    kept: usize,
    missing: usize,
}

/// Copies the values (by `map`) of `keys` within `low..=high` to the front of `kept`, and
/// counts them, those below `low` and the missing ones.
fn keep_between(
    keys: &[u64],
    (low, high): (u64, u64),
    map: &impl Fn(u64) -> u64,
    kept: &mut [u64],
) -> Pass {
    let width = high - low;
    let (mut below, mut len, mut missing) = (0, 0, 0);
    for &key in keys {
        let value = map(key);
        below += usize::from(value < low);
        missing += usize::from(value == MISSING);
        // Written unconditionally, kept by advancing: no branch to mispredict.
        kept[len] = value;
        len += usize::from(value.wrapping_sub(low) <= width);
    }
    Pass {
        below,
        kept: len,
        missing,
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
    (0..partition.n_groups())
        .into_par_iter()
        .map_init(Vec::new, |scratch, g| {
            let group = &keys[partition.range(g)];
            let needed = selection_scratch_len(group.len());
            if scratch.len() < needed {
                scratch.resize(needed, 0);
            }
            stats_of_keys(group, zero_mad, scratch)
        })
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

    /// The sampled selection against a full sort, on shapes where a strided sample
    /// brackets well (random), perfectly (sorted) and badly (periodic with the stride's
    /// period, few distinct values), with and without missing values.
    #[test]
    fn bracketed_selection_matches_a_sort() {
        let mut rng = crate::rng::Rng::new(7);
        let mut scratch = Vec::new();
        for case in 0..600 {
            let n = [1, 2, 3, 1023, 1024, 1025, 4099, 20_000][case % 8];
            let missing_share = [0, 0, 1, 50, 99, 100][case % 6];
            let keys: Vec<u64> = (0..n as u64)
                .map(|i| {
                    if rng.below(100) < missing_share {
                        return MISSING;
                    }
                    match case % 5 {
                        0 => rng.next_u64(),
                        1 => i * 3,
                        2 => (n as u64 - i) % 4,
                        3 => u64::from((i % 64) < 32) * rng.below(1000),
                        _ => rng.below(5) * (u64::MAX / 4 - 1),
                    }
                })
                .collect();
            scratch.resize(selection_scratch_len(n), 0);
            for flip in [false, true] {
                // A mapped selection sees the mapped values (missing ones stay missing).
                let map = |key: u64| {
                    if flip && key != MISSING {
                        !key >> 1
                    } else {
                        key
                    }
                };
                let mut values: Vec<u64> = keys.iter().map(|&key| map(key)).collect();
                values.retain(|&value| value != MISSING);
                values.sort_unstable();
                let want = (!values.is_empty()).then(|| {
                    let k = values.len() / 2;
                    let lower = if values.len().is_multiple_of(2) {
                        k - 1
                    } else {
                        k
                    };
                    Middle {
                        count: values.len(),
                        lower: values[lower],
                        upper: values[k],
                    }
                });
                assert_eq!(select_middle(&keys, map, &mut scratch), want, "case {case}");
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
