//! Rolling time-window statistics per entity, with pandas' `rolling("7D")` semantics: the
//! window that ends at a row with time `t` holds the entity's rows with time in
//! `(t − window, t]` that come up to this row in time order (equal times: input order).
//! Missing days are simply absent; NaN and ±inf values are skipped (pandas reads ±inf as
//! missing in rolling windows too).
//!
//! Every (column, window) is one pass over the entity's rows in time order with O(1)
//! updates: sums of deviations from an anchor row inside the window give `sum`, `mean`,
//! `std` and the least-squares `slope`, rebuilt from the window's rows whenever every row
//! they were built from has left (and whenever their rounding could show); monotone
//! queues give `min` / `max`. The scan records each row's window, then each statistic is
//! computed over all rows in one loop of its own.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::mem::MaybeUninit;
use std::str::FromStr;

use rayon::prelude::*;

use super::layout::{blocks, presorted_offsets, split_lengths, TimeOrder};
use super::time::{parse_duration, DAY};
use crate::error::{EcomkitError, Result};
use crate::frame::Frame;
use crate::groups::Groups;

/// One statistic of a rolling window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// Mean of the values.
    Mean,
    /// Sum of the values.
    Sum,
    /// Sample standard deviation (ddof = 1); NaN with fewer than two values.
    Std,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Number of (finite) values; as pandas, NaN only when the window has fewer than
    /// `min_periods` rows (NaN or not).
    Count,
    /// Least-squares slope of value on time, per day; NaN when all times are equal.
    Slope,
    /// (last − first) / first; NaN when first is 0.
    PctChange,
    /// (last − first) / days between them; NaN when both are at the same time.
    Velocity,
    /// last − first.
    Change,
    /// Exponentially weighted mean with half-life = the window, over the whole history
    /// (pandas `ewm(halflife=window, times=time).mean()`).
    EwmMean,
}

impl Stat {
    /// Every statistic, in the order of the docs.
    pub const ALL: [Stat; 11] = [
        Stat::Mean,
        Stat::Sum,
        Stat::Std,
        Stat::Min,
        Stat::Max,
        Stat::Count,
        Stat::Slope,
        Stat::PctChange,
        Stat::Velocity,
        Stat::Change,
        Stat::EwmMean,
    ];

    /// The name used in option lists and output column names.
    pub fn name(self) -> &'static str {
        match self {
            Stat::Mean => "mean",
            Stat::Sum => "sum",
            Stat::Std => "std",
            Stat::Min => "min",
            Stat::Max => "max",
            Stat::Count => "count",
            Stat::Slope => "slope",
            Stat::PctChange => "pct_change",
            Stat::Velocity => "velocity",
            Stat::Change => "change",
            Stat::EwmMean => "ewm_mean",
        }
    }
}

impl FromStr for Stat {
    type Err = EcomkitError;

    fn from_str(text: &str) -> Result<Self> {
        Stat::ALL
            .into_iter()
            .find(|s| s.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Stat::ALL.iter().map(|s| s.name()).collect();
                EcomkitError::invalid_value(
                    "stats",
                    format!("unknown statistic {text:?}; expected one of {names:?}"),
                )
            })
    }
}

/// A window: its label (used in column names) and its length in nanoseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// The text the user gave, lower-cased: "7d".
    pub label: String,
    /// Length in nanoseconds.
    pub nanos: i64,
}

impl Window {
    /// A window from text such as "7d", "12h", "30m".
    pub fn parse(text: &str) -> Result<Self> {
        Ok(Self {
            label: text.trim().to_ascii_lowercase(),
            nanos: parse_duration(text, "windows")?,
        })
    }
}

/// One value column and the statistics wanted of it.
#[derive(Debug, Clone)]
pub struct RollingColumn<'a> {
    /// Values in row order (NaN and ±inf = missing).
    pub values: &'a [f64],
    /// Statistics to compute in every window.
    pub stats: Vec<Stat>,
}

/// Rolling statistics of `columns` per group of `groups`, over time `times` (ns).
///
/// Returns one vector per (column, window, stat), in that nesting order, aligned with the
/// input rows. A window with fewer than `min_periods` values gives NaN.
pub fn rolling(
    groups: &Groups,
    times: &[i64],
    columns: &[RollingColumn<'_>],
    windows: &[Window],
    min_periods: usize,
) -> Result<Vec<Vec<f64>>> {
    let n = groups.len();
    EcomkitError::check_length("time", "the frame", n, times.len())?;
    for column in columns {
        EcomkitError::check_length("columns", "the frame", n, column.values.len())?;
    }
    if windows.is_empty() {
        return Err(EcomkitError::invalid_value(
            "windows",
            "expected at least one window",
        ));
    }
    if let Some(w) = windows.iter().find(|w| w.nanos <= 0) {
        return Err(EcomkitError::invalid_value(
            "windows",
            format!("window {:?} must be positive", w.label),
        ));
    }
    let min_periods = min_periods.max(1);
    let layout = Layout::new(groups, times);
    let (offsets, sorted_times) = layout.offsets_and_times(times);
    let arranged_columns: Vec<Cow<'_, [f64]>> =
        columns.iter().map(|c| layout.arrange(c.values)).collect();

    // Output (column c, window w, stat s) is number first_output[c] + w · stats + s.
    let mut first_output = Vec::with_capacity(columns.len());
    let mut n_out = 0;
    for column in columns {
        first_output.push(n_out);
        n_out += column.stats.len() * windows.len();
    }
    // Every value is written once by the kernel below: no fill pass over fresh memory.
    let mut arranged: Vec<Vec<f64>> = (0..n_out).map(|_| Vec::with_capacity(n)).collect();

    // Blocks of whole entities, a few per thread; every output splits at the same rows.
    let blocks = blocks(offsets);
    let block_rows: Vec<usize> = blocks
        .iter()
        .map(|b| offsets[b.end] - offsets[b.start])
        .collect();
    let mut per_block: Vec<Vec<&mut [MaybeUninit<f64>]>> =
        blocks.iter().map(|_| Vec::new()).collect();
    for out in arranged.iter_mut() {
        let spare = &mut out.spare_capacity_mut()[..n];
        for (slices, slice) in per_block
            .iter_mut()
            .zip(split_lengths(spare, block_rows.iter().copied()))
        {
            slices.push(slice);
        }
    }

    per_block
        .into_par_iter()
        .enumerate()
        .for_each(|(b, mut outs)| {
            let mut days = Vec::new();
            let mut starts = Vec::new();
            let mut scratch = (WindowRows::default(), Queues::default());
            let block_start = offsets[blocks[b].start];
            for g in blocks[b].clone() {
                let range = offsets[g]..offsets[g + 1];
                let base = range.start - block_start;
                let t = &sorted_times[range.clone()];
                let Some(&t0) = t.first() else { continue };
                days.clear();
                days.extend(t.iter().map(|&ti| (ti - t0) as f64 / DAY as f64));
                for (w, window) in windows.iter().enumerate() {
                    window_starts(t, window.nanos, &mut starts);
                    for (c, column) in columns.iter().enumerate() {
                        let first = first_output[c] + w * column.stats.len();
                        let pass = Pass {
                            x: &arranged_columns[c][range.clone()],
                            t,
                            days: &days,
                            starts: &starts,
                            half_life: window.nanos,
                            stats: &column.stats,
                            min_periods,
                        };
                        let mut entity_outs: Vec<&mut [MaybeUninit<f64>]> = outs
                            [first..first + column.stats.len()]
                            .iter_mut()
                            .map(|out| &mut out[base..base + t.len()])
                            .collect();
                        pass.run(&mut entity_outs, &mut scratch);
                    }
                }
            }
        });
    for out in arranged.iter_mut() {
        // SAFETY: the blocks cover every entity, hence every row, and `Pass::run` writes
        // each of its outputs at every row of its entity.
        unsafe { out.set_len(n) };
    }

    Ok(layout.unarrange(arranged))
}

/// The rows entity by entity in time order: the input itself when it comes so (a daily
/// table sorted by product and date, say), else laid out (and put back) by [`TimeOrder`]
/// (which then always moves some row: its sort is stable).
enum Layout {
    Presorted { offsets: Vec<usize> },
    Arranged(TimeOrder),
}

impl Layout {
    fn new(groups: &Groups, times: &[i64]) -> Self {
        match presorted_offsets(groups, times) {
            Some(offsets) => Layout::Presorted { offsets },
            None => Layout::Arranged(TimeOrder::new(groups, times)),
        }
    }

    /// Where each entity starts, and the times in the layout (`times` in row order).
    fn offsets_and_times<'a>(&'a self, times: &'a [i64]) -> (&'a [usize], &'a [i64]) {
        match self {
            Layout::Presorted { offsets } => (offsets, times),
            Layout::Arranged(order) => (&order.offsets, &order.times),
        }
    }

    fn arrange<'a>(&self, values: &'a [f64]) -> Cow<'a, [f64]> {
        match self {
            Layout::Presorted { .. } => Cow::Borrowed(values),
            Layout::Arranged(order) => Cow::Owned(order.arrange(values)),
        }
    }

    /// Outputs in the layout back in row order.
    fn unarrange(&self, outputs: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
        match self {
            Layout::Presorted { .. } => outputs,
            Layout::Arranged(order) => outputs.iter().map(|a| order.unarrange(a)).collect(),
        }
    }
}

/// For each row `i`, the first row of its window `(t[i] − window, t[i]]` (times sorted).
fn window_starts(t: &[i64], window: i64, starts: &mut Vec<usize>) {
    starts.clear();
    let mut left = 0;
    for (i, &ti) in t.iter().enumerate() {
        let start = ti.saturating_sub(window);
        while left < i && t[left] <= start {
            left += 1;
        }
        starts.push(left);
    }
}

/// The sums are rebuilt once the window's spread falls below this fraction of the largest
/// sums seen since the last rebuild: each update rounds by about 1e-16 of that size, so
/// about 2e-12 of the spread, over the at most two windows of updates between rebuilds.
const SPREAD_GUARD: f64 = 1e-4;

/// Sums of deviations of (x = day, y = value) from an anchor row inside the window, added
/// to and removed from as rows enter and leave: no division per update, and, with the
/// anchor near the values, none of the cancellation of raw power sums.
#[derive(Debug, Default, Clone, Copy)]
struct AnchoredSums {
    anchor_x: f64,
    anchor_y: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    sxy: f64,
    syy: f64,
    /// Largest `sxx` and `syy` since the anchor: the size of the rounding they may carry.
    peak_xx: f64,
    peak_yy: f64,
}

impl AnchoredSums {
    fn at(x: f64, y: f64) -> Self {
        Self {
            anchor_x: x,
            anchor_y: y,
            ..Self::default()
        }
    }

    #[inline]
    fn add(&mut self, x: f64, y: f64, moments: bool) {
        let dy = y - self.anchor_y;
        self.sy += dy;
        if moments {
            let dx = x - self.anchor_x;
            self.sx += dx;
            self.sxx += dx * dx;
            self.sxy += dx * dy;
            self.syy += dy * dy;
            self.peak_xx = self.peak_xx.max(self.sxx);
            self.peak_yy = self.peak_yy.max(self.syy);
        }
    }

    #[inline]
    fn remove(&mut self, x: f64, y: f64, moments: bool) {
        let dy = y - self.anchor_y;
        self.sy -= dy;
        if moments {
            let dx = x - self.anchor_x;
            self.sx -= dx;
            self.sxx -= dx * dx;
            self.sxy -= dx * dy;
            self.syy -= dy * dy;
        }
    }

    /// Whether the sums of a window that starts at row `left` and holds `count` values,
    /// last built at row `built_through`, should be rebuilt: when every row they were built
    /// from has left the window (so the anchor stays near the values and the sums hold few
    /// updates), and when their rounding could show. (The scans keep that row: as a field of
    /// the sums it made the scan 3–4% slower.)
    fn due_for_rebuild(
        &self,
        left: usize,
        built_through: usize,
        count: usize,
        moments: bool,
    ) -> bool {
        left > built_through || (moments && self.rounding_could_show(count))
    }

    /// Whether the spread about the mean of these `count` values (n·Σdy² − (Σdy)², and
    /// the same for dx) has fallen so far below the sums' largest size that the rounding
    /// they carry could show.
    fn rounding_could_show(&self, count: usize) -> bool {
        let n = count as f64;
        n * self.syy - self.sy * self.sy < SPREAD_GUARD * n * self.peak_yy
            || n * self.sxx - self.sx * self.sx < SPREAD_GUARD * n * self.peak_xx
    }

    /// The sums of the valid rows `first..=last`, anchored at `first`.
    #[cold]
    #[inline(never)]
    fn rebuild(x: &[f64], days: &[f64], first: usize, last: usize, moments: bool) -> Self {
        let mut sums = Self::at(days[first], x[first]);
        for j in first..=last {
            if x[j].is_finite() {
                sums.add(days[j], x[j], moments);
            }
        }
        sums
    }
}

/// Monotone queues of row numbers for the window's min and max (reused between passes).
#[derive(Debug, Default)]
struct Queues {
    min: VecDeque<usize>,
    max: VecDeque<usize>,
}

/// Exponentially weighted Σ w·x, Σ w and number of values (half-life = the window).
#[derive(Debug, Default, Clone, Copy)]
struct Ewm {
    sum: f64,
    weight: f64,
    count: usize,
}

/// The window ending at each row of one entity, for one column: filled row by row by
/// [`Pass::scan`], then read statistic by statistic by [`Pass::write`] (where the divisions
/// and square roots, free of the scan's running sums, overlap). Kept between passes for
/// its memory; only what the statistics need is filled.
#[derive(Debug, Default)]
struct WindowRows {
    /// Rows in the window, NaN or not (`count`'s `min_periods`).
    rows: Vec<f64>,
    /// Valid values in the window.
    count: Vec<f64>,
    /// 1 / count, or NaN with fewer than `min_periods` values (every statistic made from
    /// it is then NaN); 1 / (count − 1) likewise, also NaN below two values.
    inv_n: Vec<f64>,
    inv_n1: Vec<f64>,
    /// Whether the window's valid values span more than one time (a slope is defined).
    spans_time: Vec<bool>,
    /// The sums' anchor value, Σ dy and Σ dy² (dy = value − anchor).
    anchor: Vec<f64>,
    sy: Vec<f64>,
    syy: Vec<f64>,
    /// Σ dx, Σ dx² and Σ dx·dy (dx = day − the anchor's day).
    sx: Vec<f64>,
    sxx: Vec<f64>,
    sxy: Vec<f64>,
    /// Rows of the window's first and latest valid values.
    first: Vec<usize>,
    last: Vec<usize>,
    min: Vec<f64>,
    max: Vec<f64>,
    /// The exponentially weighted mean (NaN before `min_periods` values).
    ewm: Vec<f64>,
    /// 1 / k at k (divisions are the scan's slowest operations).
    reciprocals: Vec<f64>,
}

impl WindowRows {
    /// Room for `m` rows (every row is then overwritten by the scan; growing and shrinking
    /// to similar entity sizes costs next to nothing).
    fn resize(&mut self, m: usize) {
        for column in [
            &mut self.rows,
            &mut self.count,
            &mut self.inv_n,
            &mut self.inv_n1,
            &mut self.anchor,
            &mut self.sy,
            &mut self.syy,
            &mut self.sx,
            &mut self.sxx,
            &mut self.sxy,
            &mut self.min,
            &mut self.max,
            &mut self.ewm,
        ] {
            column.resize(m, 0.0);
        }
        self.first.resize(m, 0);
        self.last.resize(m, 0);
        self.spans_time.resize(m, false);
    }

    /// The window ending at row `i`: `count` valid values among `window_rows` rows, the
    /// first and latest at rows `first` and `last`, with `sums`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        needs: Needs,
        min_periods: usize,
        i: usize,
        sums: &AnchoredSums,
        count: usize,
        window_rows: usize,
        (first, last): (usize, usize),
        spans_time: bool,
    ) {
        self.count[i] = count as f64;
        let enough = count >= min_periods;
        self.inv_n[i] = if enough {
            self.reciprocals[count]
        } else {
            f64::NAN
        };
        self.anchor[i] = sums.anchor_y;
        self.sy[i] = sums.sy;
        if needs.rows {
            self.rows[i] = window_rows as f64;
        }
        if needs.moments {
            let two = enough && count >= 2;
            self.inv_n1[i] = if two {
                self.reciprocals[count - 1]
            } else {
                f64::NAN
            };
            self.spans_time[i] = spans_time;
            self.syy[i] = sums.syy;
            self.sx[i] = sums.sx;
            self.sxx[i] = sums.sxx;
            self.sxy[i] = sums.sxy;
        }
        if needs.ends {
            self.first[i] = first;
            self.last[i] = last;
        }
    }

    /// 1 / k for every k up to `n`.
    fn reciprocals_up_to(&mut self, n: usize) {
        let have = self.reciprocals.len();
        if have == 0 {
            self.reciprocals.push(f64::NAN);
        }
        for k in have.max(1)..=n {
            self.reciprocals.push(1.0 / k as f64);
        }
    }
}

/// Which parts of [`WindowRows`] the statistics of a pass need.
#[derive(Debug, Clone, Copy)]
struct Needs {
    rows: bool,
    moments: bool,
    ends: bool,
    min: bool,
    max: bool,
    ewm: bool,
}

impl Needs {
    fn of(stats: &[Stat]) -> Self {
        let any = |wanted: &[Stat]| stats.iter().any(|s| wanted.contains(s));
        Self {
            rows: any(&[Stat::Count]),
            moments: any(&[Stat::Std, Stat::Slope]),
            ends: any(&[Stat::Slope, Stat::PctChange, Stat::Velocity, Stat::Change]),
            min: any(&[Stat::Min]),
            max: any(&[Stat::Max]),
            ewm: any(&[Stat::EwmMean]),
        }
    }
}

/// One column's statistics over one entity's rows (in time order) and one window.
struct Pass<'a> {
    x: &'a [f64],
    t: &'a [i64],
    days: &'a [f64],
    starts: &'a [usize],
    /// The window's length (ns), also the half-life of `ewm_mean`.
    half_life: i64,
    stats: &'a [Stat],
    min_periods: usize,
}

impl Pass<'_> {
    /// Writes statistic `s` of the window ending at row `i` to `outs[s][i]`, for every row
    /// `i` of the entity (`scratch` only lends its memory).
    fn run(&self, outs: &mut [&mut [MaybeUninit<f64>]], scratch: &mut (WindowRows, Queues)) {
        let needs = Needs::of(self.stats);
        let (rows, queues) = scratch;
        let has_missing = self
            .x
            .iter()
            .fold(false, |missing, v| missing | !v.is_finite());
        if has_missing || needs.min || needs.max || needs.ewm {
            self.scan(needs, rows, queues);
        } else {
            self.scan_complete(needs, rows);
        }
        for (out, &stat) in outs.iter_mut().zip(self.stats) {
            self.write(stat, rows, out);
        }
    }

    /// Fills `rows` with the window ending at each row.
    fn scan(&self, needs: Needs, rows: &mut WindowRows, queues: &mut Queues) {
        let (x, t, days) = (self.x, self.t, self.days);
        let moments = needs.moments;
        let m = x.len();
        rows.resize(m);
        rows.reciprocals_up_to(m);
        let min_periods = self.min_periods;
        queues.min.clear();
        queues.max.clear();
        let mut window = WindowState::default();
        let mut ewm = Ewm::default();
        for i in 0..m {
            let value = x[i];
            if needs.ewm && i > 0 && t[i] != t[i - 1] {
                let decay = (-((t[i] - t[i - 1]) as f64) / self.half_life as f64).exp2();
                ewm.sum *= decay;
                ewm.weight *= decay;
            }
            if value.is_finite() {
                if needs.ewm {
                    ewm.sum += value;
                    ewm.weight += 1.0;
                    ewm.count += 1;
                }
                if window.count == 0 {
                    window.first = i;
                    window.sums = AnchoredSums::at(days[i], value);
                    window.anchored_through = i;
                }
                window.count += 1;
                window.last = i;
                window.sums.add(days[i], value, moments);
                if needs.min {
                    while queues.min.back().is_some_and(|&j| x[j] >= value) {
                        queues.min.pop_back();
                    }
                    queues.min.push_back(i);
                }
                if needs.max {
                    while queues.max.back().is_some_and(|&j| x[j] <= value) {
                        queues.max.pop_back();
                    }
                    queues.max.push_back(i);
                }
            }
            while window.left < self.starts[i] {
                let left = window.left;
                if x[left].is_finite() {
                    window.count -= 1;
                    window.sums.remove(days[left], x[left], moments);
                    if queues.min.front() == Some(&left) {
                        queues.min.pop_front();
                    }
                    if queues.max.front() == Some(&left) {
                        queues.max.pop_front();
                    }
                }
                window.left += 1;
            }
            if window.count > 0 {
                window.first = window.first.max(window.left);
                while !x[window.first].is_finite() {
                    window.first += 1;
                }
                let (left, count) = (window.left, window.count);
                if window
                    .sums
                    .due_for_rebuild(left, window.anchored_through, count, moments)
                {
                    window.sums = AnchoredSums::rebuild(x, days, window.first, i, moments);
                    window.anchored_through = i;
                }
            }
            let spans_time = t[window.first] != t[window.last];
            let ends = (window.first, window.last);
            let window_rows = i + 1 - window.left;
            rows.record(
                needs,
                min_periods,
                i,
                &window.sums,
                window.count,
                window_rows,
                ends,
                spans_time,
            );
            if needs.min {
                rows.min[i] = queues.min.front().map_or(f64::NAN, |&j| x[j]);
            }
            if needs.max {
                rows.max[i] = queues.max.front().map_or(f64::NAN, |&j| x[j]);
            }
            if needs.ewm {
                let defined = ewm.count >= self.min_periods;
                rows.ewm[i] = if defined {
                    ewm.sum / ewm.weight
                } else {
                    f64::NAN
                };
            }
        }
    }

    /// [`Pass::scan`] for an entity with no missing value and statistics that need no
    /// queue or weights: the same sums in the same order (so the same results), with the
    /// window reduced to its first row, which keeps the running sums in registers.
    fn scan_complete(&self, needs: Needs, rows: &mut WindowRows) {
        let (x, t, days) = (self.x, self.t, self.days);
        let m = x.len();
        rows.resize(m);
        rows.reciprocals_up_to(m);
        let moments = needs.moments;
        let mut sums = AnchoredSums::at(days[0], x[0]);
        let (mut left, mut anchored_through) = (0, 0);
        for i in 0..m {
            sums.add(days[i], x[i], moments);
            while left < self.starts[i] {
                sums.remove(days[left], x[left], moments);
                left += 1;
            }
            let count = i + 1 - left;
            if sums.due_for_rebuild(left, anchored_through, count, moments) {
                sums = AnchoredSums::rebuild(x, days, left, i, moments);
                anchored_through = i;
            }
            let spans_time = t[left] != t[i];
            rows.record(
                needs,
                self.min_periods,
                i,
                &sums,
                count,
                count,
                (left, i),
                spans_time,
            );
        }
    }

    /// Writes `stat` of every row's window to `out`.
    fn write(&self, stat: Stat, rows: &WindowRows, out: &mut [MaybeUninit<f64>]) {
        let m = out.len();
        let (x, t) = (&self.x[..m], &self.t[..m]);
        let min_periods = self.min_periods as f64;
        let (count, inv_n) = (&rows.count[..m], &rows.inv_n[..m]);
        let (anchor, sy) = (&rows.anchor[..m], &rows.sy[..m]);
        // Where a window has too few values, `inv_n` (and `inv_n1`) is NaN, and so is
        // every statistic made from it.
        match stat {
            // As pandas: min_periods counts the window's rows, NaN or not.
            Stat::Count => fill(out, |i| match rows.rows[i] >= min_periods {
                true => count[i],
                false => f64::NAN,
            }),
            Stat::EwmMean => fill(out, |i| rows.ewm[i]),
            Stat::Mean => fill(out, |i| anchor[i] + sy[i] * inv_n[i]),
            Stat::Sum => fill(out, |i| match inv_n[i].is_nan() {
                false => sy[i] + count[i] * anchor[i],
                true => f64::NAN,
            }),
            Stat::Std => {
                let (syy, inv_n1) = (&rows.syy[..m], &rows.inv_n1[..m]);
                fill(out, |i| {
                    let cyy = syy[i] - sy[i] * (sy[i] * inv_n[i]);
                    (cyy.max(0.0) * inv_n1[i]).sqrt()
                })
            }
            Stat::Slope => {
                let (sx, sxx, sxy) = (&rows.sx[..m], &rows.sxx[..m], &rows.sxy[..m]);
                let spans_time = &rows.spans_time[..m];
                fill(out, |i| {
                    let cxx = sxx[i] - sx[i] * (sx[i] * inv_n[i]);
                    let cxy = sxy[i] - sx[i] * (sy[i] * inv_n[i]);
                    match spans_time[i] && cxx > 0.0 {
                        true => cxy / cxx,
                        false => f64::NAN,
                    }
                })
            }
            Stat::Min => fill(out, |i| {
                if inv_n[i].is_nan() {
                    f64::NAN
                } else {
                    rows.min[i]
                }
            }),
            Stat::Max => fill(out, |i| {
                if inv_n[i].is_nan() {
                    f64::NAN
                } else {
                    rows.max[i]
                }
            }),
            Stat::PctChange | Stat::Velocity | Stat::Change => {
                let (first, last) = (&rows.first[..m], &rows.last[..m]);
                fill(out, |i| {
                    let (a, b) = (first[i], last[i]);
                    match stat {
                        _ if inv_n[i].is_nan() => f64::NAN,
                        Stat::PctChange if x[a] != 0.0 => (x[b] - x[a]) / x[a],
                        Stat::Velocity if t[a] != t[b] => {
                            (x[b] - x[a]) / ((t[b] - t[a]) as f64 / DAY as f64)
                        }
                        Stat::Change => x[b] - x[a],
                        _ => f64::NAN,
                    }
                })
            }
        }
    }
}

/// `out[i] = value(i)` for every row.
fn fill(out: &mut [MaybeUninit<f64>], value: impl Fn(usize) -> f64) {
    for (i, slot) in out.iter_mut().enumerate() {
        slot.write(value(i));
    }
}

/// The window of one pass: its rows `left..=i`, its `count` valid values (the first and
/// the latest at rows `first` and `last`), and their sums.
#[derive(Debug, Default, Clone, Copy)]
struct WindowState {
    left: usize,
    count: usize,
    first: usize,
    last: usize,
    sums: AnchoredSums,
    /// The latest row the sums were rebuilt (anchored) at.
    anchored_through: usize,
}

/// Column names and values of a rolling computation on a frame.
#[derive(Debug, Clone)]
pub struct RollingOutput {
    /// `<column>_<stat>_<window>`, one per value vector.
    pub names: Vec<String>,
    /// One vector per name, aligned with the frame's rows.
    pub values: Vec<Vec<f64>>,
}

/// [`rolling`] on a frame: group by `by` (none = one entity), time column `time`, the same
/// `stats` for every column in `columns`; names are `<column>_<stat>_<window>`.
pub fn rolling_frame(
    frame: &Frame,
    by: &[String],
    time: &str,
    columns: &[String],
    windows: &[String],
    stats: &[Stat],
    min_periods: usize,
) -> Result<RollingOutput> {
    if columns.is_empty() {
        return Err(EcomkitError::invalid_value(
            "columns",
            "expected at least one column",
        ));
    }
    if stats.is_empty() {
        return Err(EcomkitError::invalid_value(
            "stats",
            "expected at least one statistic",
        ));
    }
    let windows = windows
        .iter()
        .map(|w| Window::parse(w))
        .collect::<Result<Vec<_>>>()?;
    let groups = if by.is_empty() {
        Groups::single(frame.num_rows())?
    } else {
        frame.groups(by, "by")?
    };
    let times = super::time::epoch_nanos(&frame.column(time, "time")?, "time")?;
    let values = columns
        .iter()
        .map(|c| frame.column(c, "columns")?.to_f64("columns"))
        .collect::<Result<Vec<_>>>()?;
    let specs: Vec<RollingColumn<'_>> = values
        .iter()
        .map(|v| RollingColumn {
            values: v,
            stats: stats.to_vec(),
        })
        .collect();
    let out = rolling(&groups, &times, &specs, &windows, min_periods)?;
    let mut names = Vec::with_capacity(out.len());
    for column in columns {
        for window in &windows {
            for stat in stats {
                names.push(format!("{column}_{}_{}", stat.name(), window.label));
            }
        }
    }
    Ok(RollingOutput { names, values: out })
}
