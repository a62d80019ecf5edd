//! The explosive score: weighted robust z-scores, ranked within groups.

use std::collections::HashSet;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use rayon::prelude::*;

use super::rank::rank_partition_reusing;
use super::robust::{group_robust_stats_reusing, z_bounds, RobustStats, ZScale, ZeroMad};
use super::ScoreOptions;
use crate::error::{EcomkitError, Result};
use crate::frame::Frame;
use crate::groups::Groups;

/// Everything the explosive score computes, row-aligned with the input; ranks are `u32`
/// unless asked otherwise (the Python layer takes numpy's i64 without a conversion pass).
#[derive(Debug, Clone)]
pub struct ExplosiveScore<Rank = u32> {
    /// The weighted features, in the order given.
    pub features: Vec<String>,
    /// Their weights.
    pub weights: Vec<f64>,
    /// `z[f][row]`: robust z-score of feature `f` (clipped if asked).
    pub z: Vec<Vec<f64>>,
    /// Σ weight × z, a missing z counting as 0; NaN when every z of the row is missing.
    pub score: Vec<f64>,
    /// 1 = highest score within the row's group; ties in input order; NaN last.
    pub rank: Vec<Rank>,
    /// `stats[f][group]`: the median and scale behind `z[f]`.
    pub stats: Vec<Vec<RobustStats>>,
    /// The group of every row.
    pub groups: Groups,
    /// With `top_n`: the rows ranked at most `top_n` with a score, in input order.
    pub top_rows: Option<Vec<u32>>,
}

/// The explosive score of the `frame` columns named in `weights`, within groups of `by`.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
/// use ecomkit::frame::Frame;
/// use ecomkit::score::{explosive_score, ScoreOptions};
///
/// let batch = RecordBatch::try_from_iter([
///     ("category", Arc::new(StringArray::from(vec!["toys", "toys", "toys", "books"])) as ArrayRef),
///     ("bsr", Arc::new(Float64Array::from(vec![500.0, 20.0, 800.0, 10.0])) as ArrayRef),
/// ]).unwrap();
/// let weights = [("bsr".to_string(), -1.0)]; // lower BSR is better
/// let result = explosive_score(&Frame::from(batch), &weights, &["category".to_string()],
///                              &ScoreOptions::default()).unwrap();
/// assert_eq!(result.rank, vec![2, 1, 3, 1]);
/// ```
pub fn explosive_score(
    frame: &Frame,
    weights: &[(String, f64)],
    by: &[String],
    options: &ScoreOptions,
) -> Result<ExplosiveScore> {
    explosive_score_ranked(frame, weights, by, options)
}

/// [`explosive_score`] with ranks of type `Rank`.
pub(crate) fn explosive_score_ranked<Rank: RankType>(
    frame: &Frame,
    weights: &[(String, f64)],
    by: &[String],
    options: &ScoreOptions,
) -> Result<ExplosiveScore<Rank>> {
    if frame.num_rows() == 0 {
        return Err(EcomkitError::Empty {
            argument: "frame".into(),
        });
    }
    let groups = frame.groups(by, "by")?;
    let columns = weights
        .iter()
        .map(|(name, _)| frame.column(name, "weights")?.to_f64("weights"))
        .collect::<Result<Vec<_>>>()?;
    let features: Vec<(&str, &[f64], f64)> = weights
        .iter()
        .zip(&columns)
        .map(|((name, weight), values)| (name.as_str(), values.as_ref(), *weight))
        .collect();
    explosive_score_columns_ranked(&features, groups, options)
}

/// The explosive score over plain slices: `(name, values, weight)` per feature.
pub fn explosive_score_columns(
    features: &[(&str, &[f64], f64)],
    groups: Groups,
    options: &ScoreOptions,
) -> Result<ExplosiveScore> {
    explosive_score_columns_ranked(features, groups, options)
}

/// An integer type ranks can be returned as.
pub(crate) trait RankType: From<u32> + Copy + PartialOrd + Send {}
impl<T: From<u32> + Copy + PartialOrd + Send> RankType for T {}

fn explosive_score_columns_ranked<Rank: RankType>(
    features: &[(&str, &[f64], f64)],
    groups: Groups,
    options: &ScoreOptions,
) -> Result<ExplosiveScore<Rank>> {
    options.validate()?;
    check_features(features.iter().map(|(name, _, _)| *name), "weights")?;
    for (name, values, weight) in features {
        if !weight.is_finite() {
            return Err(EcomkitError::invalid_value(
                "weights",
                format!("the weight of '{name}' must be a finite number, got {weight}"),
            ));
        }
        EcomkitError::check_length(
            format!("weights (feature '{name}')"),
            "the groups",
            groups.len(),
            values.len(),
        )?;
    }
    let partition = groups.partition();
    // One feature after another, each with all threads; the features and then the ranks
    // reuse one buffer of keys.
    let mut keys = Vec::new();
    let stats: Vec<Vec<RobustStats>> = features
        .iter()
        .map(|(_, values, _)| {
            group_robust_stats_reusing(values, &partition, options.zero_mad, &mut keys)
        })
        .collect();
    let values: Vec<&[f64]> = features.iter().map(|(_, values, _)| *values).collect();
    let weights: Vec<f64> = features.iter().map(|(_, _, w)| *w).collect();
    let (z, score) = zscores_and_score(&values, &weights, groups.ids(), &stats, options.clip);
    let rank = rank_partition_reusing(&score, &partition, &mut keys);
    let top_rows = options.top_n.map(|n| {
        let last = Rank::from(u32::try_from(n).unwrap_or(u32::MAX));
        (0..score.len() as u32)
            .filter(|&row| rank[row as usize] <= last && !score[row as usize].is_nan())
            .collect()
    });
    Ok(ExplosiveScore {
        features: features
            .iter()
            .map(|(name, _, _)| name.to_string())
            .collect(),
        weights,
        z,
        score,
        rank,
        stats,
        groups,
        top_rows,
    })
}

/// Rows per block of the fused z-score and score pass.
const BLOCK: usize = 1 << 14;

/// Every feature's z and the weighted sum Σ w × z (a missing z counting as 0; NaN where all
/// are missing), in one parallel pass over blocks of rows. Within a block, each feature is
/// one tight loop over its column (its group statistics fit in L1), then added to the
/// block's scores, which stay in cache between features.
fn zscores_and_score(
    values: &[&[f64]],
    weights: &[f64],
    ids: &[u32],
    stats: &[Vec<RobustStats>],
    clip: Option<f64>,
) -> (Vec<Vec<f64>>, Vec<f64>) {
    let n_rows = ids.len();
    let bounds = z_bounds(clip);
    let scales: Vec<Vec<ZScale>> = stats
        .iter()
        .map(|s| s.iter().map(ZScale::new).collect())
        .collect();
    let mut z: Vec<Vec<f64>> = values.iter().map(|_| vec![0.0; n_rows]).collect();
    let mut score = vec![0.0; n_rows];
    // Each block of rows gets its own mutable window of every z column.
    let mut blocks: Vec<Vec<&mut [f64]>> = (0..n_rows.div_ceil(BLOCK))
        .map(|_| Vec::with_capacity(values.len()))
        .collect();
    for column in z.iter_mut() {
        for (block, window) in blocks.iter_mut().zip(column.chunks_mut(BLOCK)) {
            block.push(window);
        }
    }
    score
        .par_chunks_mut(BLOCK)
        .zip(blocks.into_par_iter())
        .enumerate()
        .for_each_init(Vec::new, |seen, (b, (score, mut z))| {
            let rows = b * BLOCK..b * BLOCK + score.len();
            let ids = &ids[rows.clone()];
            seen.clear();
            seen.resize(score.len(), false);
            for (f, z) in z.iter_mut().enumerate() {
                let (scales, weight) = (scales[f].as_slice(), weights[f]);
                let rows = z
                    .iter_mut()
                    .zip(&values[f][rows.clone()])
                    .zip(ids)
                    .zip(score.iter_mut())
                    .zip(seen.iter_mut());
                for ((((z, &x), &group), sum), seen) in rows {
                    let value = scales[group as usize].z(x, bounds);
                    *z = value;
                    // A sum that starts at +0.0 never becomes -0.0: adding 0.0 is exact.
                    let present = !value.is_nan();
                    *sum += if present { weight * value } else { 0.0 };
                    *seen |= present;
                }
            }
            for (sum, &seen) in score.iter_mut().zip(seen.iter()) {
                *sum = if seen {
                    sum.clamp(f64::MIN, f64::MAX)
                } else {
                    f64::NAN
                };
            }
        });
    (z, score)
}

/// The per-group table users read when scores jump around: one row per group and feature
/// with the `by` keys, `feature`, `count`, `n_nan`, `median`, `mad` (unscaled) and `scale`
/// (the divisor of the z-scores).
pub fn group_stats(
    frame: &Frame,
    features: &[String],
    by: &[String],
    zero_mad: ZeroMad,
) -> Result<RecordBatch> {
    if frame.num_rows() == 0 {
        return Err(EcomkitError::Empty {
            argument: "frame".into(),
        });
    }
    check_features(features.iter().map(String::as_str), "features")?;
    const OUTPUT: [&str; 6] = ["feature", "count", "n_nan", "median", "mad", "scale"];
    if let Some(clash) = by.iter().find(|b| OUTPUT.contains(&b.as_str())) {
        return Err(EcomkitError::invalid_value(
            "by",
            format!("column '{clash}' has the name of an output column of group_stats {OUTPUT:?}"),
        ));
    }
    let groups = frame.groups(by, "by")?;
    let partition = groups.partition();
    let mut per_feature = Vec::with_capacity(features.len());
    let mut keys = Vec::new();
    for name in features {
        let values = frame.column(name, "features")?.to_f64("features")?;
        per_feature.push(group_robust_stats_reusing(
            &values, &partition, zero_mad, &mut keys,
        ));
    }
    // Rows: groups in order of first appearance, features in the order given within each.
    let n_features = features.len();
    let first_rows = groups.first_rows();
    let key_rows: Vec<u32> = first_rows
        .iter()
        .flat_map(|&row| std::iter::repeat_n(row as u32, n_features))
        .collect();
    let stat = |f: &dyn Fn(&RobustStats) -> f64| -> ArrayRef {
        let values = (0..groups.n_groups()).flat_map(|g| per_feature.iter().map(move |s| f(&s[g])));
        Arc::new(Float64Array::from_iter_values(values))
    };
    let count = |f: &dyn Fn(&RobustStats) -> usize| -> ArrayRef {
        let values =
            (0..groups.n_groups()).flat_map(|g| per_feature.iter().map(move |s| f(&s[g]) as i64));
        Arc::new(Int64Array::from_iter_values(values))
    };
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for name in by {
        let (field, array) = frame.take(name, &key_rows, "by")?;
        fields.push(field.as_ref().clone());
        columns.push(array);
    }
    let feature_names: Vec<&str> = (0..groups.n_groups())
        .flat_map(|_| features.iter().map(String::as_str))
        .collect();
    let outputs: [(&str, DataType, ArrayRef); 6] = [
        (
            "feature",
            DataType::Utf8,
            Arc::new(StringArray::from_iter_values(feature_names)),
        ),
        ("count", DataType::Int64, count(&|s| s.count)),
        ("n_nan", DataType::Int64, count(&|s| s.n_nan)),
        ("median", DataType::Float64, stat(&|s| s.median)),
        ("mad", DataType::Float64, stat(&|s| s.mad)),
        ("scale", DataType::Float64, stat(&|s| s.scale)),
    ];
    for (name, data_type, array) in outputs {
        fields.push(Field::new(name, data_type, false));
        columns.push(array);
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// At least one feature, none twice.
fn check_features<'a>(names: impl Iterator<Item = &'a str>, argument: &str) -> Result<()> {
    let mut seen = HashSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(EcomkitError::invalid_value(
                argument,
                format!("feature '{name}' is given twice"),
            ));
        }
    }
    if seen.is_empty() {
        return Err(EcomkitError::invalid_value(
            argument,
            "expected at least one feature, got none",
        ));
    }
    Ok(())
}
