//! Group-wise ranking metrics: NDCG, precision, recall, average precision, MRR, hit rate,
//! at many cut-offs in one pass per group. "Relevant" means label > 0.

use rayon::prelude::*;

use crate::error::{parse_enum, EcomkitError, Result};
use crate::groups::Groups;

/// A ranking metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankingMetric {
    Ndcg,
    Precision,
    Recall,
    AveragePrecision,
    Mrr,
    HitRate,
}

/// The gain of a label in DCG.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Gain {
    /// 2^label − 1 (Burges; LightGBM, ranx `ndcg_burges`).
    #[default]
    Exponential,
    /// label (Järvelin; ranx `ndcg`, scikit-learn `ndcg_score`).
    Linear,
}

/// How equal scores are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Ties {
    /// Equal scores keep their input order (as LightGBM's stable sort).
    #[default]
    Stable,
    /// The expectation over all orders of the tied items (scikit-learn's `ndcg_score`).
    Average,
}

/// What a group without a relevant item scores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NoRelevant {
    /// 0 (trec_eval, ranx).
    #[default]
    Zero,
    /// 1 (LightGBM's NDCG).
    One,
    /// Left out of the mean.
    Skip,
}

/// The denominator of average precision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ApDenominator {
    /// The number of relevant items of the group (trec_eval, ranx).
    #[default]
    Relevant,
    /// min(k, number of relevant items) (LightGBM's MAP).
    MinK,
}

/// Options of [`ranking_metric`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RankingOptions {
    pub gain: Gain,
    pub ties: Ties,
    pub no_relevant: NoRelevant,
    pub ap_denominator: ApDenominator,
}

parse_enum!(Gain, "gain", { "exponential" => Gain::Exponential, "linear" => Gain::Linear });
parse_enum!(Ties, "ties", { "stable" => Ties::Stable, "average" => Ties::Average });
parse_enum!(NoRelevant, "no_relevant", {
    "zero" => NoRelevant::Zero, "one" => NoRelevant::One, "skip" => NoRelevant::Skip,
});
parse_enum!(ApDenominator, "ap_denominator", {
    "relevant" => ApDenominator::Relevant, "min_k" => ApDenominator::MinK,
});
parse_enum!(RankingMetric, "metric", {
    "ndcg" => RankingMetric::Ndcg, "precision" => RankingMetric::Precision,
    "recall" => RankingMetric::Recall, "average_precision" => RankingMetric::AveragePrecision,
    "mrr" => RankingMetric::Mrr, "hit_rate" => RankingMetric::HitRate,
});

/// `values[cut][group]` of `metric` at each cut-off (`None`: the whole group), NaN for a
/// group left out (`NoRelevant::Skip`); groups in parallel.
///
/// ```
/// use ecomkit::groups::Groups;
/// use ecomkit::metrics::{ranking_metric, RankingMetric, RankingOptions};
/// let groups = Groups::from_keys(&["q1", "q1", "q1"]).unwrap();
/// let ndcg = ranking_metric(RankingMetric::Ndcg, &[0.0, 1.0, 0.0], &[0.9, 0.8, 0.1], &groups,
///                           &[Some(2)], &RankingOptions::default()).unwrap();
/// assert!((ndcg[0][0] - 1.0 / 3f64.log2()).abs() < 1e-15); // the relevant item is second
/// ```
pub fn ranking_metric(
    metric: RankingMetric,
    labels: &[f64],
    scores: &[f64],
    groups: &Groups,
    cuts: &[Option<usize>],
    options: &RankingOptions,
) -> Result<Vec<Vec<f64>>> {
    Ok(ranking_metrics(&[metric], labels, scores, groups, cuts, options)?.remove(0))
}

/// `values[metric][cut][group]` of several metrics at once: each group is sorted once.
pub fn ranking_metrics(
    metrics: &[RankingMetric],
    labels: &[f64],
    scores: &[f64],
    groups: &Groups,
    cuts: &[Option<usize>],
    options: &RankingOptions,
) -> Result<Vec<Vec<Vec<f64>>>> {
    let values = ranking_values(metrics, labels, scores, groups, cuts, options)?;
    let width = metrics.len() * cuts.len();
    Ok((0..metrics.len())
        .map(|m| {
            (0..cuts.len())
                .map(|c| {
                    values
                        .iter()
                        .skip(m * cuts.len() + c)
                        .step_by(width)
                        .copied()
                        .collect()
                })
                .collect()
        })
        .collect())
}

/// The values of [`ranking_metrics`] as one row per group, `[metric][cut]` within a row:
/// the layout the kernel writes, handed on without a copy.
pub fn ranking_values(
    metrics: &[RankingMetric],
    labels: &[f64],
    scores: &[f64],
    groups: &Groups,
    cuts: &[Option<usize>],
    options: &RankingOptions,
) -> Result<Vec<f64>> {
    EcomkitError::check_length("y_true", "groups", groups.len(), labels.len())?;
    EcomkitError::check_length("y_score", "groups", groups.len(), scores.len())?;
    if labels.is_empty() {
        return Err(EcomkitError::Empty {
            argument: "y_true".into(),
        });
    }
    if let Some(bad) = labels.iter().find(|l| !l.is_finite() || **l < 0.0) {
        return Err(EcomkitError::invalid_value(
            "y_true",
            format!("expected finite relevance labels >= 0, got {bad}"),
        ));
    }
    if cuts.contains(&Some(0)) {
        return Err(EcomkitError::invalid_value("k", "expected cut-offs >= 1"));
    }
    if metrics.is_empty() {
        return Err(EcomkitError::invalid_value(
            "metrics",
            "expected at least one metric",
        ));
    }
    if cuts.is_empty() {
        return Err(EcomkitError::invalid_value(
            "k",
            "expected at least one cut-off",
        ));
    }
    if options.ties == Ties::Average
        && metrics.iter().any(|m| {
            !matches!(
                m,
                RankingMetric::Ndcg | RankingMetric::Precision | RankingMetric::Recall
            )
        })
    {
        return Err(EcomkitError::invalid_value(
            "ties",
            "'average' is defined for ndcg, precision and recall; use 'stable'",
        ));
    }
    let partition = groups.partition();
    // Rows of each group together, in row order (so ties keep the input order).
    let (scores, labels) = (partition.arrange(scores), partition.arrange(labels));
    // One row of values per group, `[metric][cut]` flattened, written in place.
    let width = metrics.len() * cuts.len();
    let mut values = vec![0.0; partition.n_groups() * width];
    values.par_chunks_mut(width).enumerate().for_each_init(
        || (Vec::new(), Vec::new()),
        |(items, ideal): &mut (Vec<(f64, f64)>, Vec<f64>), (g, out)| {
            let range = partition.range(g);
            items.clear();
            items.extend(
                scores[range.clone()]
                    .iter()
                    .copied()
                    .zip(labels[range].iter().copied()),
            );
            group_values(metrics, items, ideal, cuts, options, out);
        },
    );
    Ok(values)
}

/// Scores from best to worst: descending, NaN last, ties in input order (a stable sort).
fn sort_descending(items: &mut [(f64, f64)]) {
    items.sort_by(|a, b| match (a.0.is_nan(), b.0.is_nan()) {
        (false, false) => b.0.total_cmp(&a.0).then(std::cmp::Ordering::Equal),
        (a_nan, b_nan) => a_nan.cmp(&b_nan),
    });
}

fn discount(position: usize) -> f64 {
    1.0 / ((position + 2) as f64).log2()
}

fn gain(label: f64, kind: Gain) -> f64 {
    match kind {
        Gain::Exponential => label.exp2() - 1.0,
        Gain::Linear => label,
    }
}

/// Every metric of one group at every cut (`[metric][cut]`, flattened); `items` are
/// (score, label) in row order, `ideal` a scratch buffer.
fn group_values(
    metrics: &[RankingMetric],
    items: &mut [(f64, f64)],
    ideal: &mut Vec<f64>,
    cuts: &[Option<usize>],
    options: &RankingOptions,
    out: &mut [f64],
) {
    let n = items.len();
    let n_relevant = items.iter().filter(|(_, l)| *l > 0.0).count();
    // -0.0 and 0.0 are one score.
    for item in items.iter_mut() {
        item.0 += 0.0;
    }
    sort_descending(items);
    let no_relevant = match options.no_relevant {
        NoRelevant::Zero => 0.0,
        NoRelevant::One => 1.0,
        NoRelevant::Skip => f64::NAN,
    };
    // Tie blocks (start, end) of equal scores, for `Ties::Average`; none for stable ties.
    let blocks: Option<Vec<(usize, usize)>> = (options.ties == Ties::Average).then(|| {
        let mut blocks = Vec::new();
        let mut start = 0;
        for i in 1..=n {
            if i == n || !same_score(items[i].0, items[start].0) {
                blocks.push((start, i));
                start = i;
            }
        }
        blocks
    });
    let blocks = blocks.as_deref();
    if metrics.contains(&RankingMetric::Ndcg) {
        ideal.clear();
        ideal.extend(items.iter().map(|(_, l)| *l));
        ideal.sort_by(|a, b| b.total_cmp(a));
    }
    let mut slots = out.iter_mut();
    for &metric in metrics {
        for cut in cuts {
            let slot = slots.next().expect("one slot per metric and cut");
            let k = cut.unwrap_or(n);
            if n_relevant == 0 {
                *slot = no_relevant;
                continue;
            }
            *slot = match metric {
                RankingMetric::Ndcg => {
                    let dcg = blocked_sum(items, blocks, k, discount, |l| gain(l, options.gain));
                    let idcg: f64 = ideal
                        .iter()
                        .take(k)
                        .enumerate()
                        .map(|(p, &l)| gain(l, options.gain) * discount(p))
                        .sum();
                    if idcg > 0.0 {
                        dcg / idcg
                    } else {
                        no_relevant
                    }
                }
                RankingMetric::Precision => {
                    blocked_sum(items, blocks, k, |_| 1.0, relevant) / k as f64
                }
                RankingMetric::Recall => {
                    blocked_sum(items, blocks, k, |_| 1.0, relevant) / n_relevant as f64
                }
                RankingMetric::AveragePrecision => {
                    let mut hits = 0.0;
                    let mut sum = 0.0;
                    for (p, (_, l)) in items.iter().take(k).enumerate() {
                        if *l > 0.0 {
                            hits += 1.0;
                            sum += hits / (p + 1) as f64;
                        }
                    }
                    let denominator = match options.ap_denominator {
                        ApDenominator::Relevant => n_relevant,
                        ApDenominator::MinK => n_relevant.min(k),
                    };
                    sum / denominator as f64
                }
                RankingMetric::Mrr => items
                    .iter()
                    .take(k)
                    .position(|(_, l)| *l > 0.0)
                    .map_or(0.0, |p| 1.0 / (p + 1) as f64),
                RankingMetric::HitRate => {
                    f64::from(u8::from(items.iter().take(k).any(|(_, l)| *l > 0.0)))
                }
            };
        }
    }
}

fn relevant(label: f64) -> f64 {
    f64::from(u8::from(label > 0.0))
}

fn same_score(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// Σ over the first `k` positions of weight(position) × value(label); with tie `blocks`,
/// each block of tied items shares the mean of its values.
fn blocked_sum(
    items: &[(f64, f64)],
    blocks: Option<&[(usize, usize)]>,
    k: usize,
    weight: impl Fn(usize) -> f64,
    value: impl Fn(f64) -> f64,
) -> f64 {
    let Some(blocks) = blocks else {
        return items
            .iter()
            .take(k)
            .enumerate()
            .map(|(p, (_, l))| weight(p) * value(*l))
            .sum();
    };
    let mut total = 0.0;
    for &(start, end) in blocks {
        if start >= k {
            break;
        }
        let mean = items[start..end]
            .iter()
            .map(|(_, l)| value(*l))
            .sum::<f64>()
            / (end - start) as f64;
        let weights: f64 = (start..end.min(k)).map(&weight).sum();
        total += mean * weights;
    }
    total
}
