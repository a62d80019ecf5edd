//! The two-sample Kolmogorov–Smirnov test, two-sided, as `scipy.stats.ks_2samp` computes
//! it with `method="auto"`: the exact distribution when neither sample has more than 10,000
//! values, else the one-sample Kolmogorov distribution of `D_n` at n = round(m·n / (m + n)),
//! evaluated as scipy's `kstwo.sf` chooses (Simard & L'Ecuyer, 2011).

/// Above this many values in either sample, scipy's `auto` uses the asymptotic p-value.
const MAX_EXACT_N: usize = 10_000;

/// The statistic D = sup |F_ref − F_cur| and its p-value, of two sorted samples.
pub(crate) fn ks_2samp(reference: &[f64], current: &[f64]) -> (f64, f64) {
    let (n1, n2) = (reference.len(), current.len());
    let (mut above, mut below) = (f64::NEG_INFINITY, f64::INFINITY);
    super::drift::for_each_value(reference, current, |_, _, (i, j)| {
        let gap = i as f64 / n1 as f64 - j as f64 / n2 as f64;
        above = above.max(gap);
        below = below.min(gap);
    });
    let below = (-below).clamp(0.0, 1.0);
    let d = if below > above { below } else { above };
    if n1.max(n2) <= MAX_EXACT_N {
        if let Some((d, pvalue)) = exact(n1, n2, d) {
            return (d, pvalue);
        }
    }
    let (m, n) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let en = (m * n / (m + n)).round_ties_even() as usize;
    (d, kolmogorov_sf(en, d).clamp(0.0, 1.0))
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The exact two-sided p-value, with D rounded to a multiple of 1 / lcm(n1, n2); `None` when
/// rounding put the probability outside [0, 1] (scipy then falls back to the asymptotic one).
fn exact(n1: usize, n2: usize, d: f64) -> Option<(f64, f64)> {
    let g = gcd(n1, n2);
    let lcm = (n1 / g) * n2;
    let h = (d * lcm as f64).round_ties_even() as usize;
    let d = h as f64 / lcm as f64;
    if h == 0 {
        return Some((d, 1.0));
    }
    let pvalue = if n1 == n2 {
        prob_outside_square(n1, h)
    } else {
        prob_outside_band(n1, n2, g, h)
    };
    (0.0..=1.0).contains(&pvalue).then_some((d, pvalue))
}

/// P(D_{n,n} ≥ h / n) = 2 · Σ_k (−1)^{k+1} C(2n, n − k·h) / C(2n, n), in Horner form.
fn prob_outside_square(n: usize, h: usize) -> f64 {
    let (n, h) = (n as i64, h as i64);
    let mut p = 0.0;
    for k in (0..=n / h).rev() {
        let mut term = 1.0;
        for j in 0..h {
            term = (n - k * h - j) as f64 * term / (n + k * h + j + 1) as f64;
        }
        p = term * (1.0 - p);
    }
    2.0 * p
}

/// The share of lattice paths from (0, 0) to (m, n) that leave the band |x/m − y/n| <
/// h / lcm(m, n): Hodges' inside method, with Viehmann's recursion for 1 − p (2021).
fn prob_outside_band(m: usize, n: usize, g: usize, h: usize) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (m, n, g, h) = (m as i64, n as i64, g as i64, h as i64);
    let (mg, ng) = (m / g, n / g);
    let ceil_div = |a: i64, b: i64| (a as f64 / b as f64).ceil() as i64;
    let floor_div = |a: i64, b: i64| (a as f64 / b as f64).floor() as i64;
    let (mut min_j, mut max_j) = (0, ceil_div(h, mg).min(n + 1));
    let mut len = max_j - min_j;
    let mut column = vec![1.0; (2 * max_j + 2).min(n + 1) as usize];
    column[min_j as usize..max_j as usize].fill(0.0);
    for i in 1..=m {
        let (last_min_j, last_len) = (min_j, len);
        min_j = (floor_div(ng * i - h, mg) + 1).max(0).min(n);
        max_j = ceil_div(ng * i + h, mg).min(n + 1);
        if max_j <= min_j {
            return 1.0;
        }
        let mut value = if min_j == 0 { 0.0 } else { 1.0 };
        for jj in 0..max_j - min_j {
            let j = jj + min_j;
            value =
                (column[(j - last_min_j) as usize] * i as f64 + value * j as f64) / (i + j) as f64;
            column[jj as usize] = value;
        }
        len = max_j - min_j;
        if last_len > len {
            column[len as usize..(len + last_len - len) as usize].fill(1.0);
        }
    }
    column[(max_j - min_j - 1) as usize]
}

const SCALE_EXPONENT: i32 = 128;

/// P(D_n > d) for the one-sample two-sided statistic: `scipy.stats.kstwo.sf(d, n)`, with
/// scipy's choice among the Ruben–Gambino forms, the Durbin matrix, Pelz–Good and 2 · the
/// one-sided Smirnov tail.
pub(crate) fn kolmogorov_sf(n: usize, d: f64) -> f64 {
    if d >= 1.0 {
        return 0.0;
    }
    if d <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    let t = nf * d;
    if t <= 1.0 {
        if t <= 0.5 {
            return 1.0;
        }
        let cdf = if n <= 140 {
            (1..=n)
                .map(|i| i as f64 * (1.0 / nf) * (2.0 * t - 1.0))
                .product()
        } else {
            (log_factorial_over_power(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return (1.0 - cdf).clamp(0.0, 1.0);
    }
    if t >= nf - 1.0 {
        return (2.0 * (1.0 - d).powi(n as i32)).clamp(0.0, 1.0);
    }
    if d >= 0.5 {
        return (2.0 * smirnov_sf(n, d)).clamp(0.0, 1.0);
    }
    let nxx = t * d;
    let cdf = if n <= 140 {
        if nxx <= 4.0 {
            durbin_cdf(n, d)
        } else {
            return (2.0 * smirnov_sf(n, d)).clamp(0.0, 1.0);
        }
    } else if nxx >= 370.0 {
        return 0.0;
    } else if nxx >= 2.2 {
        return (2.0 * smirnov_sf(n, d)).clamp(0.0, 1.0);
    } else if n <= 100_000 && nf * d.powf(1.5) <= 1.4 {
        durbin_cdf(n, d)
    } else {
        pelz_good_cdf(n, d)
    };
    (1.0 - cdf.clamp(0.0, 1.0)).clamp(0.0, 1.0)
}

/// ln of the smallest positive normal f64 (cephes' MINLOG): below it exp(·) is 0.
const MIN_LOG: f64 = -7.083_964_185_322_641e2;

/// ln(n! / nⁿ) by Stirling's series.
fn log_factorial_over_power(n: f64) -> f64 {
    // scipy's (cephes') constants digit for digit, so they can be compared with its source.
    #[allow(clippy::excessive_precision)]
    const COEFFICIENTS: [f64; 8] = [
        -2.955065359477124183e-2,
        6.4102564102564102564e-3,
        -1.9175269175269175269e-3,
        8.4175084175084175084e-4,
        -5.952380952380952381e-4,
        7.9365079365079365079e-4,
        -2.7777777777777777778e-3,
        8.3333333333333333333e-2,
    ];
    let r = 1.0 / n;
    let series = COEFFICIENTS.iter().fold(0.0, |acc, &c| acc * (r / n) + c);
    n.ln() / 2.0 - n + (2.0 * std::f64::consts::PI).ln() / 2.0 + r * series
}

/// P(D_n ≤ d) by the Durbin matrix (Marsaglia, Tsang & Wang, 2003), exact.
fn durbin_cdf(n: usize, d: f64) -> f64 {
    let nd = n as f64 * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut w = vec![0.0; m];
    let mut v: Vec<f64> = (1..=m).map(|i| 1.0 - h.powi(i as i32)).collect();
    let mut factorial_inverse = 1.0;
    for j in 1..=m {
        w[j - 1] = factorial_inverse;
        factorial_inverse /= j as f64;
        v[j - 1] *= factorial_inverse;
    }
    let tail = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + tail) * factorial_inverse;
    let mut matrix = vec![0.0; m * m];
    for i in 1..m {
        for row in i - 1..m {
            matrix[row * m + i] = w[row + 1 - i];
        }
    }
    for row in 0..m {
        matrix[row * m] = v[row];
    }
    for col in 0..m {
        matrix[(m - 1) * m + col] = v[m - 1 - col];
    }
    let multiply = |a: &[f64], b: &[f64]| {
        let mut product = vec![0.0; m * m];
        for i in 0..m {
            for l in 0..m {
                let a_il = a[i * m + l];
                for j in 0..m {
                    product[i * m + j] += a_il * b[l * m + j];
                }
            }
        }
        product
    };
    let mut power: Vec<f64> = (0..m * m)
        .map(|i| if i / m == i % m { 1.0 } else { 0.0 })
        .collect();
    let (mut exponent, mut matrix_exponent) = (0i32, 0i32);
    let mut remaining = n;
    let big = 2f64.powi(SCALE_EXPONENT);
    while remaining > 0 {
        if remaining % 2 == 1 {
            power = multiply(&power, &matrix);
            exponent += matrix_exponent;
        }
        matrix = multiply(&matrix, &matrix);
        matrix_exponent *= 2;
        if matrix[(k - 1) * m + k - 1].abs() > big {
            matrix.iter_mut().for_each(|x| *x /= big);
            matrix_exponent += SCALE_EXPONENT;
        }
        remaining /= 2;
    }
    let mut p = power[(k - 1) * m + k - 1];
    for i in 1..=n {
        p = i as f64 * p / n as f64;
        if p.abs() < 1.0 / big {
            p *= big;
            exponent -= SCALE_EXPONENT;
        }
    }
    p * 2f64.powi(exponent)
}

/// P(D_n ≤ d) by the Pelz–Good asymptotic series (1976), as scipy sums it.
fn pelz_good_cdf(n: usize, x: f64) -> f64 {
    use std::f64::consts::PI;
    let (pi2, pi4, pi6) = (PI * PI, PI.powi(4), PI.powi(6));
    let sqrt_2pi = (2.0 * PI).sqrt();
    let nf = n as f64;
    let z = nf.sqrt() * x;
    let (z2, z3, z4, z6) = (z * z, z.powi(3), z.powi(4), z.powi(6));
    let q_log = -pi2 / 8.0 / z2;
    if q_log < -708.0 {
        return 0.0;
    }
    let q = q_log.exp();
    let (k1a, k1b) = (-z2, pi2 / 4.0);
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * z2) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * z2) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);
    let mut sums = [0.0; 4];
    let max_k = (16.0 * z / PI).ceil() as i64;
    for k in (1..=max_k).rev() {
        let m = (2 * k - 1) as f64;
        let (m2, m4, m6) = (m * m, m.powi(4), m.powi(6));
        let q_power = q.powf(8.0 * k as f64);
        let coefficients = [
            1.0,
            k1a + k1b * m2,
            k2a + k2b * m2 + k2c * m4,
            k3a + k3b * m2 + k3c * m4 + k3d * m6,
        ];
        for (sum, c) in sums.iter_mut().zip(coefficients) {
            *sum = *sum * q_power + c;
        }
    }
    let divisors = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (sum, divisor) in sums.iter_mut().zip(divisors) {
        *sum = *sum * q * sqrt_2pi / divisor;
    }
    let q = (-pi2 / 2.0 / z2).exp();
    let (mut k2_extra, mut k3_extra) = (0.0, 0.0);
    let sqrt3z = 3f64.sqrt() * z;
    for k in (1..=max_k).rev() {
        let k2 = (k * k) as f64;
        let q_power = q.powf(k2);
        let kpi = PI * k as f64;
        k2_extra += k2 * q_power;
        k3_extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * q_power;
    }
    sums[2] += k2_extra * pi2 * sqrt_2pi / (-36.0 * z3);
    sums[3] += k3_extra * pi2 * sqrt_2pi / (216.0 * z6);
    sums.iter()
        .enumerate()
        .map(|(i, sum)| sum / nf.powf(i as f64 / 2.0))
        .sum()
}

/// P(D⁺_n > x), the one-sided Smirnov tail: x · Σ_{v < n − ⌊nx⌋} C(n, v) (x + v/n)^{v−1}
/// (1 − x − v/n)^{n−v} (Birnbaum & Tingey, 1951), its terms summed in logs.
fn smirnov_sf(n: usize, x: f64) -> f64 {
    if n == 1 {
        return 1.0 - x;
    }
    let nf = n as f64;
    // ⌊n·x⌋ and the remainder, with the rounding error of the product kept.
    let product = nf * x;
    let error = nf.mul_add(x, -product);
    let mut floor = product.floor();
    let mut alpha = (product - floor) + error;
    if alpha < 0.0 {
        floor -= 1.0;
        alpha += 1.0;
    } else if alpha >= 1.0 {
        floor += 1.0;
        alpha -= 1.0;
    }
    let nx_floor = floor as usize;
    if nx_floor == 0 || (nx_floor == 1 && alpha == 0.0) {
        return 1.0 - x * (1.0 + x).powi(n as i32 - 1);
    }
    if -2.0 * nf * x * x < MIN_LOG {
        return 0.0;
    }
    if nx_floor >= n - 1 {
        return (1.0 - x).powi(n as i32);
    }
    if n > 1_000_000 {
        let log_p = -(6.0 * nf * x + 1.0).powi(2) / 18.0 / nf;
        // Large n: p ≈ exp(−(6nx + 1)² / 18n), through expm1 near 1 as xsf does.
        return if log_p < -std::f64::consts::LN_2 {
            log_p.exp()
        } else {
            1.0 + log_p.exp_m1()
        };
    }
    let n_terms = n - nx_floor;
    let mut log_binomial = 0.0;
    let mut sum = 0.0;
    for v in 0..n_terms {
        let vf = v as f64;
        // x + v/n and 1 − x − v/n, from the exact split n·x = ⌊n·x⌋ + α.
        let up = (floor + vf + alpha) / nf;
        let down = ((nf - floor - vf) - alpha) / nf;
        let term = (log_binomial + (vf - 1.0) * up.ln() + (nf - vf) * down.ln()).exp();
        sum += term;
        if term != 0.0 {
            if 4.0 * (n_terms - v) as f64 * term < f64::EPSILON * sum && v != n_terms - 1 {
                break;
            }
        } else if v > n / 2 {
            break;
        }
        log_binomial += ((nf - vf) / (vf + 1.0)).ln();
    }
    x * sum
}
