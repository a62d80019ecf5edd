//! The window ending at each row of one entity: its bounds, computed once per window
//! length (and once more per column with missing values), and the sums of its rows about
//! an anchor row inside it, which the moment statistics read.

use std::ops::{Add, AddAssign};

/// The window ending at one row: its rows `left..=i`, among which `count` valid values,
/// the first and latest at rows `first` and `last` (unspecified when `count` is 0).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Bounds {
    pub left: usize,
    pub first: usize,
    pub last: usize,
    pub count: usize,
    /// The row the window's sums are taken about, and whether it was chosen at this row
    /// (see [`Windows::anchored_sums`]).
    anchor: usize,
    fresh: bool,
}

impl Bounds {
    /// The row the window's sums are taken about.
    pub fn anchor(&self) -> usize {
        self.anchor
    }
}

/// The windows ending at each row of one entity (rows in time order), over the rows whose
/// values are valid. Kept between entities for its memory: every vector is refilled.
#[derive(Debug, Default)]
pub(super) struct Windows {
    pub bounds: Vec<Bounds>,
    /// 1 / count, or NaN with fewer than `min_periods` values (so every statistic made from
    /// it is NaN); 1 / (count − 1) likewise, also NaN below two values.
    pub inv_n: Vec<f64>,
    pub inv_n1: Vec<f64>,
    /// Σ dx and Σ dx² (dx = day − the anchor's day), filled with the value sums; Σ dx²
    /// is NaN where the window's valid values do not span more than one time (no slope),
    /// so that the slope's loop reads no flag.
    pub sx: Vec<f64>,
    pub sxx: Vec<f64>,
    /// 1 / k at k (divisions are the slowest operations of the loops).
    reciprocals: Vec<f64>,
}

impl Windows {
    /// The windows `(t − window, t]` of times `t` over the rows where `valid` holds.
    #[inline(always)]
    pub fn fill(
        &mut self,
        t: &[i64],
        window: i64,
        min_periods: usize,
        valid: impl Fn(usize) -> bool,
    ) {
        let m = t.len();
        self.reciprocals_up_to(m);
        self.bounds.clear();
        self.sx.clear();
        self.sxx.clear();
        let mut b = Bounds::default();
        let mut anchored = false;
        for (i, &ti) in t.iter().enumerate() {
            if valid(i) {
                if b.count == 0 {
                    b.first = i;
                }
                b.count += 1;
                b.last = i;
            }
            let start = ti.saturating_sub(window);
            while b.left < i && t[b.left] <= start {
                if valid(b.left) {
                    b.count -= 1;
                }
                b.left += 1;
            }
            // The anchor is the window's latest valid row when set, and is set anew once it
            // has left the window (a window without values keeps it).
            b.fresh = false;
            if b.count > 0 {
                b.first = b.first.max(b.left);
                while !valid(b.first) {
                    b.first += 1;
                }
                if !anchored || b.first > b.anchor {
                    (b.anchor, b.fresh, anchored) = (b.last, true, true);
                }
            }
            self.bounds.push(b);
        }
        let reciprocal = |count: usize, enough: bool| match enough {
            true => self.reciprocals[count],
            false => f64::NAN,
        };
        self.inv_n.clear();
        self.inv_n1.clear();
        (self.inv_n).extend(
            self.bounds
                .iter()
                .map(|b| reciprocal(b.count, b.count >= min_periods)),
        );
        (self.inv_n1.extend(
            self.bounds
                .iter()
                .map(|b| reciprocal(b.count.max(1) - 1, b.count >= min_periods && b.count >= 2)),
        ));
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.bounds.len()
    }

    /// Each window's sum of `term(row, anchor)` over its valid rows, passed to
    /// `record(row, sums)`, built without subtracting anything: the window's rows up to the
    /// anchor come from suffix sums (built backward from the anchor when it is set), the
    /// rows after it from a sum they are added to as they enter; each row is added about
    /// twice overall. Every window sum is thus a plain sum of its own rows' terms: no
    /// rounding left behind by rows that left (an outlier, a level that drifted), and a
    /// window of equal values has deviations summing to exactly 0. A window without values
    /// repeats the previous sums.
    #[inline(always)]
    pub fn anchored_sums<S: Summand>(
        &self,
        valid: impl Fn(usize) -> bool,
        term: impl Fn(usize, usize) -> S,
        suffix: &mut Vec<S>,
        mut record: impl FnMut(usize, &S),
    ) {
        let mut entered = S::default();
        let mut latest = S::default();
        for (i, b) in self.bounds.iter().enumerate() {
            if b.count > 0 {
                latest = if b.fresh {
                    suffix.clear();
                    entered = S::default();
                    let mut sums = S::default();
                    for j in (b.first..=b.last).rev() {
                        if valid(j) {
                            sums += term(j, b.anchor);
                        }
                        suffix.push(sums);
                    }
                    sums
                } else {
                    if valid(i) {
                        entered += term(i, b.anchor);
                    }
                    suffix[b.anchor - b.first] + entered
                };
            }
            record(i, &latest);
        }
    }

    /// 1 / k for every k up to `n`.
    fn reciprocals_up_to(&mut self, n: usize) {
        if self.reciprocals.is_empty() {
            self.reciprocals.push(f64::NAN);
        }
        for k in self.reciprocals.len()..=n {
            self.reciprocals.push(1.0 / k as f64);
        }
    }
}

/// What [`Windows::anchored_sums`] adds up: sums of several quantities at once.
pub(super) trait Summand: Copy + Default + Add<Output = Self> + AddAssign {}

/// Σ dx and Σ dx² of the days as deviations dx from the anchor's day.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct TimeSums {
    pub sx: f64,
    pub sxx: f64,
}

/// Σ dy, Σ dy² and Σ dx·dy of a column's values as deviations dy from the anchor's value:
/// with the anchor inside the window there is no division per row and none of the
/// cancellation of raw power sums.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct ValueSums {
    pub sy: f64,
    pub syy: f64,
    pub sxy: f64,
}

/// One column's value sums in the window ending at each row, one vector per quantity (so
/// that the statistics' loops vectorize), and the value they are taken about.
#[derive(Debug, Default)]
pub(super) struct ColumnSums {
    pub anchor: Vec<f64>,
    pub sy: Vec<f64>,
    pub syy: Vec<f64>,
    pub sxy: Vec<f64>,
}

impl ColumnSums {
    /// Sized for `m` rows (every row is then overwritten).
    pub fn resize(&mut self, m: usize, value: f64) {
        for column in [&mut self.anchor, &mut self.sy, &mut self.syy, &mut self.sxy] {
            column.resize(m, value);
        }
    }
}

/// The time sums and the value sums of `K` columns with values at the same rows, summed in
/// one pass: their additions are independent, so they overlap instead of waiting on each
/// other (a pass over one column waits on the latency of each addition).
#[derive(Debug, Clone, Copy)]
pub(super) struct Lanes<const K: usize> {
    pub time: TimeSums,
    pub values: [ValueSums; K],
}

impl<const K: usize> Default for Lanes<K> {
    fn default() -> Self {
        Self {
            time: TimeSums::default(),
            values: [ValueSums::default(); K],
        }
    }
}

impl<const K: usize> Summand for Lanes<K> {}

impl<const K: usize> Add for Lanes<K> {
    type Output = Self;
    #[inline(always)]
    fn add(mut self, other: Self) -> Self {
        self += other;
        self
    }
}

impl<const K: usize> AddAssign for Lanes<K> {
    #[inline(always)]
    fn add_assign(&mut self, other: Self) {
        self.time.sx += other.time.sx;
        self.time.sxx += other.time.sxx;
        for k in 0..K {
            self.values[k].sy += other.values[k].sy;
            self.values[k].syy += other.values[k].syy;
            self.values[k].sxy += other.values[k].sxy;
        }
    }
}
