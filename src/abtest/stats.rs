//! The significance tests, multiple-testing corrections, sample-ratio check and power
//! calculations behind the uplift report. Each follows the named scipy / statsmodels
//! function, which the tests compare against.

use statrs::distribution::{ChiSquared, Continuous, ContinuousCDF, Normal, StudentsT};

use crate::error::{EcomkitError, Result};

/// The result of comparing a treatment with the control on one metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestResult {
    /// Treatment minus control.
    pub diff: f64,
    /// Standard error of `diff` (unpooled), used for the confidence interval.
    pub se: f64,
    pub p_value: f64,
    /// Confidence interval of `diff`.
    pub ci_low: f64,
    pub ci_high: f64,
}

impl TestResult {
    /// The result with the interval `diff ± half` (NaN `half`: no interval).
    fn new(diff: f64, se: f64, p_value: f64, half: f64) -> Self {
        TestResult {
            diff,
            se,
            p_value,
            ci_low: diff - half,
            ci_high: diff + half,
        }
    }
}

/// P(Z > x) for a standard normal Z, from libm's `erfc` (accurate to an ulp or two; statrs'
/// `erfc` is off by ~1e-10 relative).
pub fn normal_sf(x: f64) -> f64 {
    0.5 * libm::erfc(x / std::f64::consts::SQRT_2)
}

/// P(Z ≤ x).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// The `p` quantile of the standard normal: statrs' approximation polished by Newton steps
/// on the accurate cdf.
pub fn normal_quantile(p: f64) -> f64 {
    let mut x = Normal::standard().inverse_cdf(p);
    for _ in 0..3 {
        if !x.is_finite() {
            break;
        }
        let density = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        if density <= 0.0 {
            break;
        }
        // F(x) − p, computed from the tail that keeps its digits.
        let error = if p > 0.5 {
            (1.0 - p) - normal_sf(x)
        } else {
            normal_cdf(x) - p
        };
        x -= error / density;
    }
    x
}

/// The two-sided critical value of the standard normal at level `alpha`.
pub fn z_critical(alpha: f64) -> f64 {
    normal_quantile(1.0 - alpha / 2.0)
}

/// Two-sided p-value of a standard normal statistic; NaN for a NaN statistic.
fn normal_p_value(z: f64) -> f64 {
    if z.is_nan() {
        f64::NAN
    } else {
        (2.0 * normal_sf(z.abs())).min(1.0)
    }
}

/// Two-proportion z-test: p-value with the pooled variance (statsmodels
/// `proportions_ztest`), confidence interval with the unpooled Wald standard error
/// (`confint_proportions_2indep(method="wald", compare="diff")`).
pub fn two_proportion_ztest(
    successes_t: f64,
    n_t: f64,
    successes_c: f64,
    n_c: f64,
    alpha: f64,
) -> TestResult {
    let (p_t, p_c) = (successes_t / n_t, successes_c / n_c);
    let pooled = (successes_t + successes_c) / (n_t + n_c);
    let pooled_se = (pooled * (1.0 - pooled) * (1.0 / n_t + 1.0 / n_c)).sqrt();
    let diff = p_t - p_c;
    let p_value = if pooled_se > 0.0 {
        normal_p_value(diff / pooled_se)
    } else {
        f64::NAN
    };
    let se = (p_t * (1.0 - p_t) / n_t + p_c * (1.0 - p_c) / n_c).sqrt();
    let half = z_critical(alpha) * se;
    TestResult::new(diff, se, p_value, half)
}

/// Welch's t-test from means, sample variances (ddof = 1) and counts, with
/// Welch–Satterthwaite degrees of freedom: scipy `ttest_ind_from_stats(equal_var=False)`,
/// and the t-based interval of `ttest_ind(...).confidence_interval()`.
pub fn welch_ttest(
    mean_t: f64,
    var_t: f64,
    n_t: f64,
    mean_c: f64,
    var_c: f64,
    n_c: f64,
    alpha: f64,
) -> TestResult {
    let (a, b) = (var_t / n_t, var_c / n_c);
    let se = (a + b).sqrt();
    let diff = mean_t - mean_c;
    // (a + b)² / (a² / (n_t − 1) + b² / (n_c − 1)), with a and b scaled by a + b first so
    // that no square overflows (a variance of 1e160 squares to infinity).
    let (share_t, share_c) = (a / (a + b), b / (a + b));
    let df = 1.0 / (share_t * share_t / (n_t - 1.0) + share_c * share_c / (n_c - 1.0));
    if !(se > 0.0 && df.is_finite() && df > 0.0) {
        return TestResult::new(diff, se, f64::NAN, f64::NAN);
    }
    let p_value = (2.0 * student_t_sf((diff / se).abs(), df)).min(1.0);
    let half = student_t_quantile(1.0 - alpha / 2.0, df) * se;
    TestResult::new(diff, se, p_value, half)
}

/// Above this many degrees of freedom the t distribution is computed from the normal by
/// the Cornish–Fisher expansion (error O(df⁻⁵), far below f64 rounding): statrs' incomplete
/// beta loses digits there, and its quantile search fails to converge.
const LARGE_DF: f64 = 1e4;

/// t = z + g₁(z)/ν + g₂(z)/ν² + g₃(z)/ν³ + g₄(z)/ν⁴ (Abramowitz & Stegun 26.7.5), and dt/dz.
fn cornish_fisher(z: f64, df: f64) -> (f64, f64) {
    let z2 = z * z;
    let g = [
        (z2 + 1.0) * z / 4.0,
        ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0,
        (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0,
        ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0,
    ];
    let dg = [
        (3.0 * z2 + 1.0) / 4.0,
        ((25.0 * z2 + 48.0) * z2 + 3.0) / 96.0,
        (((21.0 * z2 + 95.0) * z2 + 51.0) * z2 - 15.0) / 384.0,
        ((((711.0 * z2 + 5432.0) * z2 + 7410.0) * z2 - 5760.0) * z2 - 945.0) / 92160.0,
    ];
    let (mut t, mut slope, mut power) = (z, 1.0, 1.0);
    for (gi, dgi) in g.iter().zip(&dg) {
        power /= df;
        t += gi * power;
        slope += dgi * power;
    }
    (t, slope)
}

/// P(T > t) for Student's t with `df` degrees of freedom.
pub fn student_t_sf(t: f64, df: f64) -> f64 {
    if df < LARGE_DF {
        return StudentsT::new(0.0, 1.0, df).expect("df > 0").sf(t);
    }
    // Solve cornish_fisher(z) = t for z by Newton's method; then P(T > t) = P(Z > z).
    let mut z = t;
    for _ in 0..50 {
        let (value, slope) = cornish_fisher(z, df);
        let step = (value - t) / slope;
        z -= step;
        if step.abs() <= 1e-16 * z.abs().max(1.0) {
            break;
        }
    }
    normal_sf(z)
}

/// The `p` quantile of Student's t with `df` degrees of freedom.
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    let z = normal_quantile(p);
    if df >= LARGE_DF {
        return cornish_fisher(z, df).0;
    }
    let t = StudentsT::new(0.0, 1.0, df).expect("df > 0");
    // statrs' search, polished by Newton steps on its (accurate) cdf.
    let mut x = t.inverse_cdf(p);
    for _ in 0..3 {
        let density = t.pdf(x);
        if density <= 0.0 {
            break;
        }
        x -= (t.cdf(x) - p) / density;
    }
    x
}

/// A z-test of `diff` with standard error `se` (the delta method for ratio metrics).
pub fn normal_test(diff: f64, se: f64, alpha: f64) -> TestResult {
    let p_value = if se > 0.0 {
        normal_p_value(diff / se)
    } else {
        f64::NAN
    };
    let half = z_critical(alpha) * se;
    TestResult::new(diff, se, p_value, half)
}

/// Relative lift `t / c - 1` and its normal interval by the delta method, from the two
/// estimates and their standard errors (independent samples); NaN when `c` is 0.
pub fn relative_lift(t: f64, se_t: f64, c: f64, se_c: f64, alpha: f64) -> (f64, f64, f64) {
    if c == 0.0 || !c.is_finite() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let rel = t / c - 1.0;
    let se = (se_t * se_t / (c * c) + t * t * se_c * se_c / c.powi(4)).sqrt();
    let half = z_critical(alpha) * se;
    (rel, rel - half, rel + half)
}

/// A correction of p-values for testing many metrics × variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    /// Holm's step-down (family-wise error rate).
    Holm,
    /// Benjamini–Hochberg (false discovery rate).
    BenjaminiHochberg,
}

impl std::str::FromStr for Correction {
    type Err = EcomkitError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "holm" => Ok(Self::Holm),
            "bh" | "fdr_bh" | "benjamini-hochberg" => Ok(Self::BenjaminiHochberg),
            other => Err(EcomkitError::invalid_value(
                "correction",
                format!("expected None, 'holm' or 'bh', got '{other}'"),
            )),
        }
    }
}

/// Adjusted p-values as statsmodels `multipletests(method="holm" | "fdr_bh")`. NaN
/// p-values (tests that could not be run) stay NaN and are not counted in the family.
pub fn adjust_p_values(p_values: &[f64], correction: Option<Correction>) -> Vec<f64> {
    let Some(correction) = correction else {
        return p_values.to_vec();
    };
    let mut order: Vec<usize> = (0..p_values.len())
        .filter(|&i| !p_values[i].is_nan())
        .collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]).then(a.cmp(&b)));
    let m = order.len() as f64;
    let mut adjusted = vec![f64::NAN; p_values.len()];
    match correction {
        Correction::Holm => {
            let mut running = 0.0f64;
            for (rank, &i) in order.iter().enumerate() {
                running = running.max(((m - rank as f64) * p_values[i]).min(1.0));
                adjusted[i] = running;
            }
        }
        Correction::BenjaminiHochberg => {
            let mut running = 1.0f64;
            for (rank, &i) in order.iter().enumerate().rev() {
                running = running.min(m / (rank as f64 + 1.0) * p_values[i]);
                adjusted[i] = running.min(1.0);
            }
        }
    }
    adjusted
}

/// Pearson's chi-squared goodness of fit of `observed` counts to the planned `weights`
/// (scipy `chisquare(observed, expected)` with expected = total × weight / Σ weights):
/// `(statistic, p_value)`.
pub fn chi_square_gof(observed: &[f64], weights: &[f64]) -> Result<(f64, f64)> {
    EcomkitError::check_length("weights", "the variants", observed.len(), weights.len())?;
    if observed.len() < 2 || weights.iter().any(|w| !(w.is_finite() && *w > 0.0)) {
        return Err(EcomkitError::invalid_value(
            "weights",
            format!("expected one positive weight per variant (at least 2), got {weights:?}"),
        ));
    }
    let total: f64 = observed.iter().sum();
    let weight_sum: f64 = weights.iter().sum();
    let statistic: f64 = observed
        .iter()
        .zip(weights)
        .map(|(&o, &w)| {
            let e = total * w / weight_sum;
            (o - e).powi(2) / e
        })
        .sum();
    let df = (observed.len() - 1) as f64;
    let p_value = if total > 0.0 {
        ChiSquared::new(df).expect("df >= 1").sf(statistic)
    } else {
        f64::NAN
    };
    Ok((statistic, p_value))
}

/// Power of the two-sided two-sample z-test for standardized effect `effect` with `n1`
/// units in the first arm and `ratio × n1` in the second (statsmodels
/// `NormalIndPower().power`).
pub fn normal_power(effect: f64, n1: f64, alpha: f64, ratio: f64) -> f64 {
    let n = 1.0 / (1.0 / n1 + 1.0 / (n1 * ratio));
    let crit = z_critical(alpha);
    let shift = effect * n.sqrt();
    normal_sf(crit - shift) + normal_cdf(-crit - shift)
}

fn check_design(alpha: f64, power: f64, ratio: f64) -> Result<()> {
    let open_unit = |x: f64| x > 0.0 && x < 1.0;
    if !open_unit(alpha) {
        return Err(EcomkitError::invalid_value(
            "alpha",
            format!("expected 0 < alpha < 1, got {alpha}"),
        ));
    }
    if !open_unit(power) || power <= alpha / 2.0 {
        return Err(EcomkitError::invalid_value(
            "power",
            format!("expected alpha/2 < power < 1, got {power}"),
        ));
    }
    if !(ratio.is_finite() && ratio > 0.0) {
        return Err(EcomkitError::invalid_value(
            "ratio",
            format!("expected a positive number, got {ratio}"),
        ));
    }
    Ok(())
}

/// Increasing `f` above `lo` reaching `target`: an upper bound by doubling from 1, then
/// bisection to machine precision.
fn solve_increasing(f: impl Fn(f64) -> f64, target: f64, mut lo: f64) -> f64 {
    let mut hi = 1.0;
    while f(hi) < target {
        hi *= 2.0;
    }
    for _ in 0..2000 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if f(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Units needed in the first arm to detect standardized effect `effect` with `power`
/// (statsmodels `NormalIndPower().solve_power(nobs1=None)`); not rounded up.
pub fn sample_size(effect: f64, alpha: f64, power: f64, ratio: f64) -> Result<f64> {
    check_design(alpha, power, ratio)?;
    if !(effect.is_finite() && effect != 0.0) {
        return Err(EcomkitError::invalid_value(
            "mde",
            format!("expected a non-zero effect, got {effect}"),
        ));
    }
    let effect = effect.abs();
    Ok(solve_increasing(
        |n| normal_power(effect, n, alpha, ratio),
        power,
        1e-12,
    ))
}

/// The smallest standardized effect detectable with `n1` units in the first arm
/// (statsmodels `NormalIndPower().solve_power(effect_size=None)`).
pub fn minimum_detectable_effect(n1: f64, alpha: f64, power: f64, ratio: f64) -> Result<f64> {
    check_design(alpha, power, ratio)?;
    if !(n1.is_finite() && n1 > 0.0) {
        return Err(EcomkitError::invalid_value(
            "n",
            format!("expected a positive number of units, got {n1}"),
        ));
    }
    Ok(solve_increasing(
        |d| normal_power(d, n1, alpha, ratio),
        power,
        0.0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_matches_scipy_at_every_df() {
        // scipy.stats.t.sf(2.5, df), scipy.stats.t.ppf(0.975, df)
        let cases = [
            (10.0, 0.01572342211830441, 2.228138851986274),
            (1e3, 0.0062892839005454036, 1.9623390808264083),
            (1e5, 0.0062104595962795255, 1.9599877075346095),
            (1e7, 0.006209673268289235, 1.959964221767205),
            (6.6e7, 0.006209666529186958, 1.9599640204835578),
        ];
        for (df, sf, q) in cases {
            let (our_sf, our_q) = (student_t_sf(2.5, df), student_t_quantile(0.975, df));
            assert!(
                (our_sf - sf).abs() < 1e-12 * sf,
                "sf df={df}: {our_sf} vs {sf}"
            );
            assert!(
                (our_q - q).abs() < 1e-12,
                "quantile df={df}: {our_q} vs {q}"
            );
        }
    }

    #[test]
    fn holm_and_bh_by_hand() {
        let p = [0.01, 0.04, 0.03, f64::NAN];
        let holm = adjust_p_values(&p, Some(Correction::Holm));
        assert_eq!(&holm[..3], &[0.03, 0.06, 0.06]);
        assert!(holm[3].is_nan());
        let bh = adjust_p_values(&p, Some(Correction::BenjaminiHochberg));
        assert!((bh[0] - 0.03).abs() < 1e-15 && (bh[1] - 0.04).abs() < 1e-15);
        assert!((bh[2] - 0.04).abs() < 1e-15);
    }

    #[test]
    fn power_at_the_solved_sample_size_is_the_target() {
        let n = sample_size(0.1, 0.05, 0.8, 1.0).unwrap();
        assert!((normal_power(0.1, n, 0.05, 1.0) - 0.8).abs() < 1e-12);
        // The textbook formula 2 (z_{0.975} + z_{0.8})² / d² ignores the far tail.
        assert!((n - 1569.78).abs() < 0.1, "{n}");
    }
}
