//! Drift statistics between a reference and a current sample, as Evidently computes them
//! (its `psi`, `chisquare`, `jensenshannon`, `wasserstein`, `z` and `ks` stattests) and as scipy
//! computes the underlying tests.
//!
//! [`drift_test`] computes the one a [`Method`] names. A sample is either numeric (finite
//! `f64` values; the caller leaves NaN out) or categorical (dense category codes shared by
//! both samples). The result, a [`DriftTest`], reads like scipy's: `statistic`, `pvalue`
//! (NaN for distances), with the method, its threshold and the verdict.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

use crate::error::{parse_enum, EcomkitError, Result};

/// One side of a comparison: finite numbers, or category codes `< n_categories`.
#[derive(Debug, Clone, Copy)]
pub enum Sample<'a> {
    /// Finite values (missing values already left out).
    Numeric(&'a [f64]),
    /// Codes into categories shared with the other sample.
    Categorical {
        codes: &'a [u32],
        n_categories: usize,
    },
}

impl Sample<'_> {
    /// The number of values.
    pub fn len(&self) -> usize {
        match self {
            Sample::Numeric(values) => values.len(),
            Sample::Categorical { codes, .. } => codes.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The drift statistics, named as Evidently names its stattests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Psi,
    ChiSquare,
    JensenShannon,
    Wasserstein,
    ZTest,
    Ks,
}

parse_enum!(Method, "method", {
    "psi" => Method::Psi, "chisquare" => Method::ChiSquare,
    "jensenshannon" => Method::JensenShannon, "wasserstein" => Method::Wasserstein,
    "z" => Method::ZTest, "ks" => Method::Ks,
});

impl Method {
    /// Evidently's default threshold: a distance drifts at or above it, a p-value below it.
    pub fn default_threshold(self) -> f64 {
        match self {
            Method::Psi | Method::JensenShannon | Method::Wasserstein => 0.1,
            Method::ChiSquare | Method::ZTest | Method::Ks => 0.05,
        }
    }

    /// Whether the method is a test with a p-value (else a distance).
    pub fn has_pvalue(self) -> bool {
        matches!(self, Method::ChiSquare | Method::ZTest | Method::Ks)
    }
}

/// How PSI ([`Method::Psi`]) bins numeric samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binning {
    /// `bins` quantile bins of the reference, the first and last open-ended; shares floored
    /// at [`PSI_FLOOR`].
    Quantile,
    /// Evidently's bins (Sturges edges over both samples when the reference has more than 20
    /// distinct values, else one bin per value) and its zero-share replacement.
    Evidently,
}

parse_enum!(Binning, "binning", {
    "quantile" => Binning::Quantile, "evidently" => Binning::Evidently,
});

/// The smallest share a bin gets in quantile-binned PSI, so an empty bin gives a large but
/// finite term (the common 1e-4 of credit-risk practice).
pub const PSI_FLOOR: f64 = 1e-4;

/// One drift statistic and its verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriftTest {
    pub method: Method,
    pub statistic: f64,
    /// NaN for distances (PSI, Jensen–Shannon, Wasserstein).
    pub pvalue: f64,
    pub threshold: f64,
    /// Distances: `statistic >= threshold`; tests: `pvalue < threshold` (KS: `<=`, as
    /// Evidently).
    pub drifted: bool,
}

impl DriftTest {
    /// The verdict on a statistic at `threshold` (`None`: the method's default).
    pub(super) fn of(
        method: Method,
        statistic: f64,
        pvalue: f64,
        threshold: Option<f64>,
    ) -> Result<Self> {
        check_threshold(threshold)?;
        let threshold = threshold.unwrap_or(method.default_threshold());
        let drifted = if method == Method::Ks {
            pvalue <= threshold
        } else if method.has_pvalue() {
            pvalue < threshold
        } else {
            statistic >= threshold
        };
        Ok(DriftTest {
            method,
            statistic,
            pvalue,
            threshold,
            drifted,
        })
    }
}

fn check_samples(reference: &Sample, current: &Sample) -> Result<()> {
    match (reference, current) {
        (Sample::Numeric(_), Sample::Numeric(_)) => {}
        (
            Sample::Categorical {
                n_categories: a, ..
            },
            Sample::Categorical {
                n_categories: b, ..
            },
        ) if a == b => {}
        _ => {
            return Err(EcomkitError::invalid_value(
                "current",
                "the same kind of values as reference (both numeric or both categorical)",
            ))
        }
    }
    for (argument, sample) in [("reference", reference), ("current", current)] {
        if sample.is_empty() {
            return Err(EcomkitError::Empty {
                argument: argument.to_string(),
            });
        }
    }
    Ok(())
}

fn numeric<'a>(sample: &Sample<'a>, method: Method) -> Result<&'a [f64]> {
    match sample {
        Sample::Numeric(values) => Ok(values),
        Sample::Categorical { .. } => Err(EcomkitError::invalid_value(
            "method",
            format!(
                "'{}' needs numeric values, got categorical ones",
                method.name()
            ),
        )),
    }
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    sorted
}

fn category_counts(codes: &[u32], n_categories: usize) -> Vec<f64> {
    let mut counts = vec![0.0; n_categories];
    for &code in codes {
        counts[code as usize] += 1.0;
    }
    counts
}

/// Counts of both samples in the same bins: Evidently's `get_binned_data` before shares.
fn evidently_counts(reference: &Sample, current: &Sample) -> (Vec<f64>, Vec<f64>) {
    match (reference, current) {
        (Sample::Numeric(r), Sample::Numeric(c)) => {
            let (r, c) = (sorted(r), sorted(c));
            if distinct_sorted(&r) > 20 {
                let edges = sturges_edges(&r, &c);
                (histogram(&r, &edges), histogram(&c, &edges))
            } else {
                value_counts(&r, &c)
            }
        }
        _ => per_value_counts(reference, current),
    }
}

/// Counts per value (category, or distinct number) seen in either sample, in sorted order.
fn per_value_counts(reference: &Sample, current: &Sample) -> (Vec<f64>, Vec<f64>) {
    match (reference, current) {
        (Sample::Numeric(r), Sample::Numeric(c)) => value_counts(&sorted(r), &sorted(c)),
        (
            Sample::Categorical {
                codes: r,
                n_categories,
            },
            Sample::Categorical { codes: c, .. },
        ) => {
            let (r, c) = (
                category_counts(r, *n_categories),
                category_counts(c, *n_categories),
            );
            r.into_iter().zip(c).filter(|&(a, b)| a + b > 0.0).unzip()
        }
        _ => unreachable!("checked by check_samples"),
    }
}

fn distinct_sorted(sorted: &[f64]) -> usize {
    sorted.chunk_by(|a, b| a == b).count()
}

/// `numpy.histogram_bin_edges(concat(reference, current), "sturges")` of two sorted samples.
fn sturges_edges(reference: &[f64], current: &[f64]) -> Vec<f64> {
    let first = reference[0].min(current[0]);
    let last = reference[reference.len() - 1].max(current[current.len() - 1]);
    let n = (reference.len() + current.len()) as f64;
    let width = (last - first) / (n.log2() + 1.0);
    let n_bins = if width > 0.0 {
        ((last - first) / width).ceil() as usize
    } else {
        1
    };
    let (first, last) = if first == last {
        (first - 0.5, last + 0.5)
    } else {
        (first, last)
    };
    // numpy.linspace: start + i * step, the last edge exactly `last`.
    let step = (last - first) / n_bins as f64;
    let mut edges: Vec<f64> = (0..=n_bins).map(|i| i as f64 * step + first).collect();
    edges[n_bins] = last;
    edges
}

/// `numpy.histogram(sorted, edges)`: `[e_i, e_{i+1})`, the last bin closed.
fn histogram(sorted: &[f64], edges: &[f64]) -> Vec<f64> {
    let n_bins = edges.len() - 1;
    let below = |edge: f64| sorted.partition_point(|&v| v < edge);
    let mut cumulative: Vec<usize> = edges[..n_bins].iter().map(|&e| below(e)).collect();
    cumulative.push(sorted.partition_point(|&v| v <= edges[n_bins]));
    cumulative
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64)
        .collect()
}

/// Walks two sorted samples together: `f(value, before, after)` for each distinct value of
/// either, `before` and `after` the counts of values below / up to it in each sample.
pub(super) fn for_each_value(
    u: &[f64],
    v: &[f64],
    mut f: impl FnMut(f64, (usize, usize), (usize, usize)),
) {
    let (mut i, mut j) = (0, 0);
    while i < u.len() || j < v.len() {
        let value = match (u.get(i), v.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => unreachable!(),
        };
        let before = (i, j);
        while u.get(i) == Some(&value) {
            i += 1;
        }
        while v.get(j) == Some(&value) {
            j += 1;
        }
        f(value, before, (i, j));
    }
}

/// Counts per distinct value over both sorted samples (one bin per value).
fn value_counts(reference: &[f64], current: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (mut r_counts, mut c_counts) = (Vec::new(), Vec::new());
    for_each_value(reference, current, |_, before, after| {
        r_counts.push((after.0 - before.0) as f64);
        c_counts.push((after.1 - before.1) as f64);
    });
    (r_counts, c_counts)
}

fn shares(counts: &[f64], n: usize) -> Vec<f64> {
    counts.iter().map(|&count| count / n as f64).collect()
}

/// Evidently's zero-share replacement: the smallest non-zero share / 10⁶ when that is at
/// most 0.0001, else 0.0001.
fn fill_zeroes(shares: &mut [f64]) {
    let smallest = shares
        .iter()
        .copied()
        .filter(|&s| s != 0.0)
        .fold(f64::INFINITY, f64::min);
    let fill = if smallest <= 0.0001 {
        smallest / 1e6
    } else {
        0.0001
    };
    for share in shares.iter_mut().filter(|s| **s == 0.0) {
        *share = fill;
    }
}

fn psi_of_shares(reference: &[f64], current: &[f64]) -> f64 {
    reference
        .iter()
        .zip(current)
        .map(|(&r, &c)| (r - c) * (r / c).ln())
        .sum()
}

/// Quantile edges of the sorted reference at `i / bins`, deduplicated: `numpy.quantile`'s
/// linear interpolation, computed as numpy computes it (so ties at an edge bin alike).
pub(super) fn quantile_edges(sorted: &[f64], bins: usize) -> Vec<f64> {
    let last = sorted.len() - 1;
    let mut edges: Vec<f64> = (1..bins)
        .map(|i| {
            let position = (i as f64 / bins as f64) * last as f64;
            let low = (position.floor() as usize).min(last);
            let (a, b) = (sorted[low], sorted[(low + 1).min(last)]);
            let t = position - low as f64;
            if t >= 0.5 {
                b - (b - a) * (1.0 - t)
            } else {
                a + (b - a) * t
            }
        })
        .collect();
    edges.dedup();
    edges
}

/// Population stability index: Σ (ref − cur) · ln(ref / cur) over shared bins.
fn psi(reference: &Sample, current: &Sample, bins: usize, binning: Binning) -> Result<f64> {
    if bins < 2 {
        return Err(EcomkitError::invalid_value(
            "bins",
            format!("at least 2, got {bins}"),
        ));
    }
    let (n_ref, n_cur) = (reference.len(), current.len());
    let (r, c) = match (binning, reference, current) {
        (Binning::Quantile, Sample::Numeric(ref_values), Sample::Numeric(cur_values)) => {
            let edges = quantile_edges(&sorted(ref_values), bins);
            let bin_of = |v: f64| edges.partition_point(|&e| e <= v);
            let count = |values: &[f64]| {
                let mut counts = vec![0.0; edges.len() + 1];
                values.iter().for_each(|&v| counts[bin_of(v)] += 1.0);
                counts
            };
            (count(ref_values), count(cur_values))
        }
        _ => evidently_counts(reference, current),
    };
    let statistic = match binning {
        Binning::Evidently => {
            let (mut r_shares, mut c_shares) = (shares(&r, n_ref), shares(&c, n_cur));
            fill_zeroes(&mut r_shares);
            fill_zeroes(&mut c_shares);
            psi_of_shares(&r_shares, &c_shares)
        }
        Binning::Quantile => psi_of_counts(&r, &c),
    };
    Ok(statistic)
}

/// PSI of counts in shared bins, shares floored at [`PSI_FLOOR`] (quantile binning, and
/// reference profiles).
pub(super) fn psi_of_counts(reference: &[f64], current: &[f64]) -> f64 {
    let floored = |counts: &[f64]| {
        let n: f64 = counts.iter().sum();
        counts
            .iter()
            .map(|&x| (x / n).max(PSI_FLOOR))
            .collect::<Vec<_>>()
    };
    psi_of_shares(&floored(reference), &floored(current))
}

/// `scipy.spatial.distance.jensenshannon` (natural log) of the shares on Evidently's bins.
fn jensen_shannon(reference: &Sample, current: &Sample) -> Result<f64> {
    let (r, c) = evidently_counts(reference, current);
    // Shares first, as Evidently hands them to scipy (which normalizes them again).
    let (r, c) = (shares(&r, reference.len()), shares(&c, current.len()));
    Ok(jensen_shannon_of_weights(&r, &c))
}

/// Jensen–Shannon distance (natural log) of two weightings of shared bins (counts or
/// shares), each normalized to sum to 1 as `scipy.spatial.distance.jensenshannon` does.
pub(super) fn jensen_shannon_of_weights(r: &[f64], c: &[f64]) -> f64 {
    let (r_total, c_total): (f64, f64) = (r.iter().sum(), c.iter().sum());
    let relative_entropy = |x: f64, m: f64| if x > 0.0 { x * (x / m).ln() } else { 0.0 };
    let (mut left, mut right) = (0.0, 0.0);
    for (&p, &q) in r.iter().zip(c) {
        let (p, q) = (p / r_total, q / c_total);
        let m = (p + q) / 2.0;
        left += relative_entropy(p, m);
        right += relative_entropy(q, m);
    }
    ((left + right) / 2.0).sqrt()
}

/// `scipy.stats.chisquare(f_obs=current counts, f_exp=reference counts · n_cur / n_ref)` over
/// the categories seen in either sample (Evidently's `chisquare`).
fn chi2_test(reference: &Sample, current: &Sample) -> Result<(f64, f64)> {
    let (r, c) = per_value_counts(reference, current);
    Ok(chi2_of_counts(&r, &c))
}

/// The chi-squared test of current counts against reference counts in shared bins (bins
/// empty on both sides left out), expected = reference · n current / n reference.
pub(super) fn chi2_of_counts(r: &[f64], c: &[f64]) -> (f64, f64) {
    let (r, c): (Vec<f64>, Vec<f64>) = r
        .iter()
        .zip(c)
        .filter(|&(&a, &b)| a + b > 0.0)
        .map(|(&a, &b)| (a, b))
        .unzip();
    let scale = c.iter().sum::<f64>() / r.iter().sum::<f64>();
    let statistic: f64 = r
        .iter()
        .zip(&c)
        .map(|(&r, &observed)| {
            let expected = r * scale;
            (observed - expected).powi(2) / expected
        })
        .sum();
    // scipy's chi2.sf with 0 degrees of freedom (one category): 0 for any statistic > 0
    // (the rounding of `expected` makes one), NaN at 0.
    let pvalue = if r.len() < 2 {
        if statistic > 0.0 {
            0.0
        } else {
            f64::NAN
        }
    } else if statistic == f64::INFINITY {
        0.0
    } else {
        ChiSquared::new((r.len() - 1) as f64)
            .expect("df >= 1")
            .sf(statistic)
    };
    (statistic, pvalue)
}

/// `scipy.stats.wasserstein_distance` divided by max(population std of the reference, 0.001)
/// (Evidently's normed `wasserstein`).
fn wasserstein(reference: &Sample, current: &Sample) -> Result<f64> {
    let (r, c) = (
        numeric(reference, Method::Wasserstein)?,
        numeric(current, Method::Wasserstein)?,
    );
    let (u, v) = (sorted(r), sorted(c));
    // ∫ |U(x) − V(x)| dx over the merged sorted values, U and V right-continuous ECDFs.
    let (mut distance, mut previous) = (0.0, u[0].min(v[0]));
    for_each_value(&u, &v, |x, (i, j), _| {
        let gap = (i as f64 / u.len() as f64 - j as f64 / v.len() as f64).abs();
        distance += gap * (x - previous);
        previous = x;
    });
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    let std = (r.iter().map(|&x| (x - mean).powi(2)).sum::<f64>() / r.len() as f64).sqrt();
    let statistic = distance / std.max(0.001);
    Ok(statistic)
}

/// Evidently's two-proportion z test: the first category (lowest code, or smallest value)
/// of either sample is "0", every other value "1"; two-sided p = 2 · (1 − Φ(|z|)).
fn proportion_z_test(reference: &Sample, current: &Sample) -> Result<(f64, f64)> {
    let (r, c) = per_value_counts(reference, current);
    // Both samples hold the one same value: no difference.
    if r.len() == 1 {
        return Ok((0.0, 1.0));
    }
    let (n1, n2) = (reference.len() as f64, current.len() as f64);
    let (p1, p2) = ((n1 - r[0]) / n1, (n2 - c[0]) / n2);
    let pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
    let z = (p1 - p2) / (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    let pvalue = 2.0 * (1.0 - Normal::standard().cdf(z.abs()));
    Ok((z, pvalue))
}

/// PSI's bins and binning (the other methods ignore them) and the threshold (`None`: the
/// method's default).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriftOptions {
    pub bins: usize,
    pub binning: Binning,
    pub threshold: Option<f64>,
}

impl Default for DriftOptions {
    fn default() -> Self {
        DriftOptions {
            bins: 10,
            binning: Binning::Quantile,
            threshold: None,
        }
    }
}

/// The statistic `method` names.
pub fn drift_test(
    method: Method,
    reference: &Sample,
    current: &Sample,
    options: &DriftOptions,
) -> Result<DriftTest> {
    check_threshold(options.threshold)?;
    check_samples(reference, current)?;
    let distance = |statistic| (statistic, f64::NAN);
    let (statistic, pvalue) = match method {
        Method::Psi => distance(psi(reference, current, options.bins, options.binning)?),
        Method::ChiSquare => chi2_test(reference, current)?,
        Method::JensenShannon => distance(jensen_shannon(reference, current)?),
        Method::Wasserstein => distance(wasserstein(reference, current)?),
        Method::ZTest => proportion_z_test(reference, current)?,
        Method::Ks => super::ks::ks_2samp(
            &sorted(numeric(reference, method)?),
            &sorted(numeric(current, method)?),
        ),
    };
    DriftTest::of(method, statistic, pvalue, options.threshold)
}

fn check_threshold(threshold: Option<f64>) -> Result<()> {
    match threshold.filter(|t| !t.is_finite() || *t < 0.0) {
        Some(t) => Err(EcomkitError::invalid_value(
            "threshold",
            format!("a number >= 0, got {t}"),
        )),
        None => Ok(()),
    }
}
