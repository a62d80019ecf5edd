//! One struct per rolling statistic. Each writes its value in the window ending at every
//! row of one entity from what [`Column`] offers: the windows' bounds and counts, the
//! values and times, the anchored sums and a queue. A new statistic is one struct here, one
//! line in [`Stat`](super::Stat) and a test.

use std::collections::VecDeque;
use std::mem::MaybeUninit;

use super::windows::{ColumnSums, Windows};
use crate::features::time::{span, DAY};

/// What a statistic reads beyond the windows' bounds; each level includes the ones before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Reads {
    /// The bounds, counts, values and times.
    Bounds,
    /// The anchored sums of the values ([`Column::sums`]) and times ([`Windows::sx`], [`Windows::sxx`]).
    Sums,
}

/// A rolling statistic.
pub(super) trait Statistic: Sync {
    /// What it reads.
    fn reads(&self) -> Reads {
        Reads::Bounds
    }

    /// Whether it is in the values' unit (scaling the values by `c` scales it by `c`).
    fn scales_with_values(&self) -> bool {
        true
    }

    /// Writes its value in the window ending at each row to `out` (one slot per row).
    fn write(&self, column: &mut Column<'_>, out: &mut [MaybeUninit<f64>]);
}

/// One column of one entity in one window length, as the statistics read it.
pub(super) struct Column<'a> {
    /// Values (NaN and ±inf are missing) and times (ns), in time order.
    pub x: &'a [f64],
    pub t: &'a [i64],
    pub windows: &'a Windows,
    /// The anchored sums of each row's window and the anchor's value (filled when a
    /// statistic reads [`Reads::Sums`]).
    pub sums: &'a ColumnSums,
    /// The window's length (ns), also the half-life of `ewm_mean`.
    pub window: i64,
    pub min_periods: usize,
    /// A queue of rows to reuse.
    pub queue: &'a mut VecDeque<usize>,
}

/// `out[i] = value(i)` for every row.
#[inline(always)]
fn fill(out: &mut [MaybeUninit<f64>], value: impl Fn(usize) -> f64) {
    for (i, slot) in out.iter_mut().enumerate() {
        slot.write(value(i));
    }
}

/// Number of (finite) values; as pandas, NaN only when the window has fewer than
/// `min_periods` rows (NaN or not).
pub(super) struct Count;

impl Statistic for Count {
    fn scales_with_values(&self) -> bool {
        false
    }

    fn write(&self, c: &mut Column<'_>, out: &mut [MaybeUninit<f64>]) {
        let bounds = &c.windows.bounds;
        fill(out, |i| match i + 1 - bounds[i].left >= c.min_periods {
            true => bounds[i].count as f64,
            false => f64::NAN,
        })
    }
}

/// Mean of the values.
pub(super) struct Mean;

impl Statistic for Mean {
    fn reads(&self) -> Reads {
        Reads::Sums
    }

    fn write(&self, c: &mut Column<'_>, out: &mut [MaybeUninit<f64>]) {
        let m = out.len();
        let (inv_n, ColumnSums { anchor, sy, .. }) = (&c.windows.inv_n[..m], c.sums);
        let (anchor, sy) = (&anchor[..m], &sy[..m]);
        fill(out, |i| anchor[i] + sy[i] * inv_n[i])
    }
}

/// Sum of the values.
pub(super) struct Sum;

impl Statistic for Sum {
    fn reads(&self) -> Reads {
        Reads::Sums
    }

    fn write(&self, c: &mut Column<'_>, out: &mut [MaybeUninit<f64>]) {
        let (w, ColumnSums { anchor, sy, .. }) = (c.windows, c.sums);
        fill(out, |i| match w.inv_n[i].is_nan() {
            false => sy[i] + w.bounds[i].count as f64 * anchor[i],
            true => f64::NAN,
        })
    }
}

/// Sample standard deviation (ddof = 1); NaN with fewer than two values.
pub(super) struct Std;

impl Statistic for Std {
    fn reads(&self) -> Reads {
        Reads::Sums
    }

    fn write(&self, c: &mut Column<'_>, out: &mut [MaybeUninit<f64>]) {
        let m = out.len();
        let (w, ColumnSums { sy, syy, .. }) = (c.windows, c.sums);
        let (sy, syy, inv_n, inv_n1) = (&sy[..m], &syy[..m], &w.inv_n[..m], &w.inv_n1[..m]);
        fill(out, |i| {
            let cyy = syy[i] - sy[i] * (sy[i] * inv_n[i]);
            (cyy.max(0.0) * inv_n1[i]).sqrt()
        })
    }
}

/// Least-squares slope of value on time, per day; NaN when all times are equal.
pub(super) struct Slope;

impl Statistic for Slope {
    fn reads(&self) -> Reads {
        Reads::Sums
    }

    fn write(&self, c: &mut Column<'_>, out: &mut [MaybeUninit<f64>]) {
        let m = out.len();
        let (w, ColumnSums { sy, sxy, .. }) = (c.windows, c.sums);
        let (sy, sxy, inv_n) = (&sy[..m], &sxy[..m], &w.inv_n[..m]);
        let (sx, sxx) = (&w.sx[..m], &w.sxx[..m]);
        fill(out, |i| {
            let (sx, inv_n) = (sx[i], inv_n[i]);
            let cxx = sxx[i] - sx * (sx * inv_n);
            let cxy = sxy[i] - sx * (sy[i] * inv_n);
            // Divided before the test: a select, so the loop vectorizes.
            let slope = cxy / cxx;
            if cxx > 0.0 {
                slope
            } else {
                f64::NAN
            }
        })
    }
}

/// Smallest value.
pub(super) struct Min;

impl Statistic for Min {
    fn write(&self, c: &mut Column<'_>, out: &mut [MaybeUninit<f64>]) {
        extreme(c, out, |kept, new| kept >= new)
    }
}

/// Largest value.
pub(super) struct Max;

impl Statistic for Max {
    fn write(&self, c: &mut Column<'_>, out: &mut [MaybeUninit<f64>]) {
        extreme(c, out, |kept, new| kept <= new)
    }
}

/// The window's extreme value from a monotone queue of rows: a row is dropped from the
/// back when `beaten(its value, the new value)`, and from the front when it leaves.
fn extreme(c: &mut Column<'_>, out: &mut [MaybeUninit<f64>], beaten: impl Fn(f64, f64) -> bool) {
    let (x, w, queue) = (c.x, c.windows, &mut *c.queue);
    queue.clear();
    for (i, slot) in out.iter_mut().enumerate() {
        if x[i].is_finite() {
            while queue.back().is_some_and(|&j| beaten(x[j], x[i])) {
                queue.pop_back();
            }
            queue.push_back(i);
        }
        while queue.front().is_some_and(|&j| j < w.bounds[i].left) {
            queue.pop_front();
        }
        slot.write(match (w.inv_n[i].is_nan(), queue.front()) {
            (false, Some(&j)) => x[j],
            _ => f64::NAN,
        });
    }
}

/// (last − first) / first; NaN when first is 0.
pub(super) struct PctChange;

impl Statistic for PctChange {
    fn scales_with_values(&self) -> bool {
        false
    }

    fn write(&self, c: &mut Column<'_>, out: &mut [MaybeUninit<f64>]) {
        let x = c.x;
        ends(c, out, |a, b| match x[a] != 0.0 {
            true => (x[b] - x[a]) / x[a],
            false => f64::NAN,
        })
    }
}

/// (last − first) / days between them; NaN when both are at the same time.
pub(super) struct Velocity;

impl Statistic for Velocity {
    fn write(&self, c: &mut Column<'_>, out: &mut [MaybeUninit<f64>]) {
        let (x, t) = (c.x, c.t);
        ends(c, out, |a, b| match t[a] != t[b] {
            true => (x[b] - x[a]) / ((t[b] - t[a]) as f64 / DAY as f64),
            false => f64::NAN,
        })
    }
}

/// last − first.
pub(super) struct Change;

impl Statistic for Change {
    fn write(&self, c: &mut Column<'_>, out: &mut [MaybeUninit<f64>]) {
        let x = c.x;
        ends(c, out, |a, b| x[b] - x[a])
    }
}

/// `value(first, last)` of the rows of each window's first and latest values.
fn ends(c: &Column<'_>, out: &mut [MaybeUninit<f64>], value: impl Fn(usize, usize) -> f64) {
    let w = c.windows;
    fill(out, |i| match w.inv_n[i].is_nan() {
        false => value(w.bounds[i].first, w.bounds[i].last),
        true => f64::NAN,
    })
}

/// Exponentially weighted mean with half-life = the window, over the whole history
/// (pandas `ewm(halflife=window, times=time).mean()`).
pub(super) struct EwmMean;

impl Statistic for EwmMean {
    fn write(&self, c: &mut Column<'_>, out: &mut [MaybeUninit<f64>]) {
        let (x, t) = (c.x, c.t);
        let (mut sum, mut weight, mut count) = (0.0, 0.0, 0);
        for (i, slot) in out.iter_mut().enumerate() {
            if i > 0 && t[i] != t[i - 1] {
                let decay = (-(span(t[i - 1], t[i]) as f64) / c.window as f64).exp2();
                sum *= decay;
                weight *= decay;
            }
            if x[i].is_finite() {
                sum += x[i];
                weight += 1.0;
                count += 1;
            }
            slot.write(match count >= c.min_periods {
                true => sum / weight,
                false => f64::NAN,
            });
        }
    }
}
