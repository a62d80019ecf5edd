//! Classification and calibration metrics of a binary label `y` ∈ {0, 1} and a score or
//! probability `p`, computed as scikit-learn does, with optional sample weights.

use crate::error::{EcomkitError, Result};

/// Checked inputs: labels 0/1, finite scores, positive finite weights (1 when absent).
/// `score` is the scores' argument name (`y_score`, or `y_prob` for probabilities).
fn check<'a>(
    y: &[f64],
    p: &[f64],
    weights: Option<&'a [f64]>,
    score: &str,
) -> Result<std::borrow::Cow<'a, [f64]>> {
    EcomkitError::check_length(score, "y_true", y.len(), p.len())?;
    if y.is_empty() {
        return Err(EcomkitError::Empty {
            argument: "y_true".into(),
        });
    }
    if let Some(bad) = y.iter().find(|&&v| v != 0.0 && v != 1.0) {
        return Err(EcomkitError::invalid_value(
            "y_true",
            format!("expected binary labels 0 or 1, got {bad}"),
        ));
    }
    if let Some(bad) = p.iter().find(|v| !v.is_finite()) {
        return Err(EcomkitError::invalid_value(
            score,
            format!("expected finite scores, got {bad}"),
        ));
    }
    match weights {
        None => Ok(std::borrow::Cow::Owned(vec![1.0; y.len()])),
        Some(w) => {
            EcomkitError::check_length("sample_weight", "y_true", y.len(), w.len())?;
            if let Some(bad) = w.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
                return Err(EcomkitError::invalid_value(
                    "sample_weight",
                    format!("expected finite weights >= 0, got {bad}"),
                ));
            }
            Ok(std::borrow::Cow::Borrowed(w))
        }
    }
}

/// Cumulative (weighted) true and false positives at each distinct score, from the highest
/// score down: scikit-learn's `_binary_clf_curve`.
fn binary_clf_curve(y: &[f64], p: &[f64], w: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut order: Vec<usize> = (0..y.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let (mut tps, mut fps, mut thresholds) = (Vec::new(), Vec::new(), Vec::new());
    let (mut tp, mut fp) = (0.0, 0.0);
    for (i, &row) in order.iter().enumerate() {
        tp += y[row] * w[row];
        fp += (1.0 - y[row]) * w[row];
        let last_of_score = i + 1 == order.len() || p[order[i + 1]] != p[row];
        if last_of_score {
            tps.push(tp);
            fps.push(fp);
            thresholds.push(p[row]);
        }
    }
    (tps, fps, thresholds)
}

/// Area under the ROC curve, as scikit-learn `roc_auc_score` (ties count one half).
///
/// The trapezoids of the ROC curve add up to the Mann–Whitney statistic: the weight of
/// (positive, negative) pairs ranked correctly, plus half of the tied pairs. Positives and
/// negatives are sorted apart (in parallel, on integer keys) and then merged once, which
/// is much faster than sorting all rows by score.
pub fn roc_auc(y: &[f64], p: &[f64], weights: Option<&[f64]>) -> Result<f64> {
    use rayon::prelude::*;
    let w = check(y, p, weights, "y_score")?;
    let key = |x: f64| {
        let bits = (x + 0.0).to_bits();
        if bits >> 63 == 1 {
            !bits
        } else {
            bits | (1 << 63)
        }
    };
    let split = |class: f64| -> Vec<(u64, f64)> {
        let mut items: Vec<(u64, f64)> = y
            .par_iter()
            .zip(p.par_iter())
            .zip(w.par_iter())
            .filter(|((&label, _), &weight)| label == class && weight > 0.0)
            .map(|((_, &score), &weight)| (key(score), weight))
            .collect();
        items.par_sort_unstable_by_key(|item| item.0);
        items
    };
    let (positives, negatives) = rayon::join(|| split(1.0), || split(0.0));
    let total_pos: f64 = positives.iter().map(|i| i.1).sum();
    let total_neg: f64 = negatives.iter().map(|i| i.1).sum();
    if !(total_pos > 0.0 && total_neg > 0.0) {
        return Err(EcomkitError::invalid_value(
            "y_true",
            "only one class present; ROC AUC is not defined",
        ));
    }
    // Walk distinct scores upwards: each positive beats the negatives below its score and
    // ties with the negatives at it.
    let (mut area, mut below, mut j) = (0.0, 0.0, 0);
    let mut i = 0;
    while i < positives.len() {
        let score = positives[i].0;
        while j < negatives.len() && negatives[j].0 < score {
            below += negatives[j].1;
            j += 1;
        }
        let mut tied = 0.0;
        let mut k = j;
        while k < negatives.len() && negatives[k].0 == score {
            tied += negatives[k].1;
            k += 1;
        }
        let mut weight = 0.0;
        while i < positives.len() && positives[i].0 == score {
            weight += positives[i].1;
            i += 1;
        }
        area += weight * (below + 0.5 * tied);
    }
    Ok(area / (total_pos * total_neg))
}

/// Average precision, Σ (Rₙ − Rₙ₋₁) Pₙ over distinct thresholds (scikit-learn
/// `average_precision_score`, no interpolation).
pub fn average_precision_score(y: &[f64], p: &[f64], weights: Option<&[f64]>) -> Result<f64> {
    let w = check(y, p, weights, "y_score")?;
    let (tps, fps, _) = binary_clf_curve(y, p, &w);
    let tp_total = *tps.last().unwrap();
    if tp_total <= 0.0 {
        return Err(EcomkitError::invalid_value(
            "y_true",
            "no positive label; average precision is not defined",
        ));
    }
    let mut ap = 0.0;
    let mut prev_recall = 0.0;
    for (tp, fp) in tps.iter().zip(&fps) {
        let predicted = tp + fp;
        let precision = if predicted > 0.0 { tp / predicted } else { 0.0 };
        let recall = tp / tp_total;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
    }
    Ok(ap)
}

/// Mean negative log-likelihood, probabilities clipped to [ε, 1 − ε] with ε the f64
/// machine epsilon (scikit-learn `log_loss`).
pub fn log_loss(y: &[f64], p: &[f64], weights: Option<&[f64]>) -> Result<f64> {
    let w = check(y, p, weights, "y_prob")?;
    check_probabilities(p)?;
    let eps = f64::EPSILON;
    let (mut total, mut weight) = (0.0, 0.0);
    for ((&y, &p), &w) in y.iter().zip(p).zip(w.iter()) {
        let p = p.clamp(eps, 1.0 - eps);
        total -= w * if y == 1.0 { p.ln() } else { (1.0 - p).ln() };
        weight += w;
    }
    Ok(total / weight)
}

/// Mean squared difference between probability and label (scikit-learn
/// `brier_score_loss`).
pub fn brier_score(y: &[f64], p: &[f64], weights: Option<&[f64]>) -> Result<f64> {
    let w = check(y, p, weights, "y_prob")?;
    check_probabilities(p)?;
    let (mut total, mut weight) = (0.0, 0.0);
    for ((&y, &p), &w) in y.iter().zip(p).zip(w.iter()) {
        total += w * (p - y) * (p - y);
        weight += w;
    }
    Ok(total / weight)
}

fn check_probabilities(p: &[f64]) -> Result<()> {
    match p.iter().find(|v| !(0.0..=1.0).contains(*v)) {
        Some(bad) => Err(EcomkitError::invalid_value(
            "y_prob",
            format!("expected probabilities in [0, 1], got {bad}"),
        )),
        None => Ok(()),
    }
}

/// Precision and recall of the rule "positive when p ≥ threshold" (0 when undefined, as
/// scikit-learn's `zero_division=0`).
pub fn precision_recall_at(
    y: &[f64],
    p: &[f64],
    threshold: f64,
    weights: Option<&[f64]>,
) -> Result<(f64, f64)> {
    let w = check(y, p, weights, "y_score")?;
    let (mut tp, mut predicted, mut positive) = (0.0, 0.0, 0.0);
    for ((&y, &p), &w) in y.iter().zip(p).zip(w.iter()) {
        let hit = p >= threshold;
        tp += w * y * f64::from(u8::from(hit));
        predicted += w * f64::from(u8::from(hit));
        positive += w * y;
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    Ok((ratio(tp, predicted), ratio(tp, positive)))
}

/// How [`calibration_curve`] cuts [0, 1] into bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinStrategy {
    /// Equal widths.
    Uniform,
    /// Equal counts: edges at quantiles of `p` (numpy's linear interpolation).
    Quantile,
}

/// One bin of a reliability curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrationBin {
    /// Fraction of positives in the bin.
    pub prob_true: f64,
    /// Mean predicted probability in the bin.
    pub prob_pred: f64,
    pub count: usize,
}

/// Reliability curve: the non-empty bins, as scikit-learn `calibration_curve` (bin of `p`
/// = number of inner edges strictly below it).
pub fn calibration_curve(
    y: &[f64],
    p: &[f64],
    n_bins: usize,
    strategy: BinStrategy,
) -> Result<Vec<CalibrationBin>> {
    check(y, p, None, "y_prob")?;
    check_probabilities(p)?;
    if n_bins == 0 {
        return Err(EcomkitError::invalid_value(
            "n_bins",
            "expected at least 1 bin",
        ));
    }
    let edges: Vec<f64> = match strategy {
        BinStrategy::Uniform => linspace(0.0, 1.0, n_bins + 1),
        BinStrategy::Quantile => {
            let mut sorted = p.to_vec();
            sorted.sort_by(f64::total_cmp);
            linspace(0.0, 1.0, n_bins + 1)
                .iter()
                .map(|q| percentile(&sorted, q * 100.0))
                .collect()
        }
    };
    let inner = &edges[1..edges.len() - 1];
    let mut sums = vec![(0.0, 0.0, 0usize); edges.len()];
    for (&y, &p) in y.iter().zip(p) {
        let bin = inner.partition_point(|&e| e < p);
        sums[bin].0 += y;
        sums[bin].1 += p;
        sums[bin].2 += 1;
    }
    Ok(sums
        .into_iter()
        .filter(|s| s.2 > 0)
        .map(|(t, s, n)| CalibrationBin {
            prob_true: t / n as f64,
            prob_pred: s / n as f64,
            count: n,
        })
        .collect())
}

/// numpy's `linspace(start, stop, num)`: `i × step + start`, the last value exactly `stop`.
fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let step = (stop - start) / (num - 1) as f64;
    let mut values: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    values[num - 1] = stop;
    values
}

/// numpy's `percentile(sorted, q)` with linear interpolation.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let position = q / 100.0 * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let fraction = position - below as f64;
    // numpy's _lerp: a + (b - a) * t, or b - (b - a) * (1 - t) for t >= 0.5.
    let (a, b) = (sorted[below], sorted[above]);
    let diff = b - a;
    if fraction >= 0.5 {
        b - diff * (1.0 - fraction)
    } else {
        a + diff * fraction
    }
}

/// A monotone increasing map from scores to probabilities, fitted by pool-adjacent-
/// violators (scikit-learn `IsotonicRegression(out_of_bounds="clip")`).
#[derive(Debug, Clone, PartialEq)]
pub struct Isotonic {
    /// Distinct fitted scores, increasing.
    pub x: Vec<f64>,
    /// Fitted values at `x`, non-decreasing.
    pub y: Vec<f64>,
}

impl Isotonic {
    /// Fit to scores `x` and targets `y` (weights optional): equal scores are pooled first
    /// (weighted mean), then adjacent violators are pooled until the fit is monotone.
    pub fn fit(x: &[f64], y: &[f64], weights: Option<&[f64]>) -> Result<Self> {
        EcomkitError::check_length("y", "x", x.len(), y.len())?;
        if x.is_empty() {
            return Err(EcomkitError::Empty {
                argument: "x".into(),
            });
        }
        if x.iter().chain(y).any(|v| !v.is_finite()) {
            return Err(EcomkitError::invalid_value(
                "x",
                "expected finite scores and targets",
            ));
        }
        let w: Vec<f64> = match weights {
            Some(w) => {
                EcomkitError::check_length("sample_weight", "x", x.len(), w.len())?;
                w.to_vec()
            }
            None => vec![1.0; x.len()],
        };
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.sort_by(|&a, &b| x[a].total_cmp(&x[b]).then(y[a].total_cmp(&y[b])));
        // Pool equal scores.
        let mut xs: Vec<f64> = Vec::new();
        let mut blocks: Vec<(f64, f64)> = Vec::new(); // (weighted sum of y, weight)
        for &i in &order {
            if xs.last() == Some(&x[i]) {
                let last = blocks.last_mut().unwrap();
                last.0 += w[i] * y[i];
                last.1 += w[i];
            } else {
                xs.push(x[i]);
                blocks.push((w[i] * y[i], w[i]));
            }
        }
        // Pool adjacent violators, on blocks of consecutive points.
        let mut pooled: Vec<(f64, f64, usize)> = Vec::with_capacity(blocks.len()); // sum, weight, points
        for (sum, weight) in blocks {
            pooled.push((sum, weight, 1));
            while pooled.len() > 1 {
                let (s2, w2, n2) = pooled[pooled.len() - 1];
                let (s1, w1, n1) = pooled[pooled.len() - 2];
                if s1 / w1 <= s2 / w2 {
                    break;
                }
                pooled.pop();
                *pooled.last_mut().unwrap() = (s1 + s2, w1 + w2, n1 + n2);
            }
        }
        let mut ys = Vec::with_capacity(xs.len());
        for (sum, weight, n) in pooled {
            ys.extend(std::iter::repeat_n(sum / weight, n));
        }
        Ok(Self { x: xs, y: ys })
    }

    /// The fitted map at `value`: linear between fitted scores, clipped outside them.
    pub fn transform(&self, value: f64) -> f64 {
        let (x, y) = (&self.x, &self.y);
        if value.is_nan() {
            return f64::NAN;
        }
        if value <= x[0] {
            return y[0];
        }
        if value >= x[x.len() - 1] {
            return y[y.len() - 1];
        }
        let right = x.partition_point(|&v| v <= value);
        let left = right - 1;
        if x[left] == value {
            return y[left];
        }
        let slope = (y[right] - y[left]) / (x[right] - x[left]);
        y[left] + slope * (value - x[left])
    }
}
