//! Rolling time-window statistics per entity, with pandas' `rolling("7D")` semantics: the
//! window that ends at a row with time `t` holds the entity's rows with time in
//! `(t − window, t]` that come up to this row in time order (equal times: input order).
//! Missing days are simply absent; NaN values are skipped.
//!
//! Every (column, window) is one pass over the entity's rows in time order, with O(1)
//! updates: compensated sums for `sum` / `mean`, Welford's add/remove updates (as pandas)
//! for `std` and the least-squares `slope`, monotone queues for `min` / `max`.

use std::collections::VecDeque;
use std::str::FromStr;

use rayon::prelude::*;

use super::layout::{blocks, split_lengths, TimeOrder};
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
    /// Number of (non-NaN) values; as pandas, NaN only when the window has fewer than
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
    /// Values in row order (NaN = missing).
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
    let layout = TimeOrder::new(groups, times);
    let partition_offsets = &layout.offsets;
    let sorted_times = &layout.times;
    let arranged_columns: Vec<Vec<f64>> =
        columns.iter().map(|c| layout.arrange(c.values)).collect();

    let n_out: usize = columns.iter().map(|c| c.stats.len()).sum::<usize>() * windows.len();
    let mut arranged: Vec<Vec<f64>> = (0..n_out).map(|_| vec![f64::NAN; n]).collect();

    // Blocks of whole groups, a few per thread; every output splits at the same rows.
    let blocks = blocks(partition_offsets);
    let block_rows: Vec<usize> = blocks
        .iter()
        .map(|b| partition_offsets[b.end] - partition_offsets[b.start])
        .collect();
    let mut per_block: Vec<Vec<&mut [f64]>> = blocks.iter().map(|_| Vec::new()).collect();
    for out in arranged.iter_mut() {
        for (slices, slice) in per_block
            .iter_mut()
            .zip(split_lengths(out, block_rows.iter().copied()))
        {
            slices.push(slice);
        }
    }

    per_block
        .into_par_iter()
        .enumerate()
        .for_each(|(b, mut outs)| {
            // One track per (column, window), in output order.
            let mut tracks: Vec<(Track, &[Stat])> = Vec::new();
            for (c, column) in columns.iter().enumerate() {
                for window in windows {
                    tracks.push((Track::new(c, window.nanos, &column.stats), &column.stats));
                }
            }
            let mut days = Vec::new();
            for g in blocks[b].clone() {
                let range = partition_offsets[g]..partition_offsets[g + 1];
                let base = range.start - partition_offsets[blocks[b].start];
                let t = &sorted_times[range.clone()];
                let Some(&t0) = t.first() else { continue };
                days.clear();
                days.extend(t.iter().map(|&ti| (ti - t0) as f64 / DAY as f64));
                let values: Vec<&[f64]> =
                    arranged_columns.iter().map(|c| &c[range.clone()]).collect();
                for (track, _) in tracks.iter_mut() {
                    track.reset();
                }
                for i in 0..t.len() {
                    let mut out_index = 0;
                    for (track, stats) in tracks.iter_mut() {
                        let x = values[track.column];
                        track.advance(i, t, &days, x);
                        for &stat in stats.iter() {
                            outs[out_index][base + i] = track.value(stat, i, t, x, min_periods);
                            out_index += 1;
                        }
                    }
                }
            }
        });

    // Back to row order (nothing to do when the rows came sorted by entity and time).
    if layout.is_identity() {
        return Ok(arranged);
    }
    Ok(arranged.iter().map(|a| layout.unarrange(a)).collect())
}

/// Neumaier-compensated running sum that also subtracts (as pandas' rolling sum).
#[derive(Debug, Default, Clone, Copy)]
struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    fn add(&mut self, value: f64) {
        let y = value - self.compensation;
        let t = self.sum + y;
        self.compensation = (t - self.sum) - y;
        self.sum = t;
    }
}

/// Welford co-moments of (x = day, y = value), with removal.
#[derive(Debug, Default, Clone, Copy)]
struct Moments {
    n: f64,
    mean_x: f64,
    mean_y: f64,
    cxx: f64,
    cxy: f64,
    cyy: f64,
}

impl Moments {
    fn add(&mut self, x: f64, y: f64) {
        self.n += 1.0;
        let dx = x - self.mean_x;
        let dy = y - self.mean_y;
        let inv = 1.0 / self.n;
        self.mean_x += dx * inv;
        self.mean_y += dy * inv;
        self.cxx += dx * (x - self.mean_x);
        self.cxy += dx * (y - self.mean_y);
        self.cyy += dy * (y - self.mean_y);
    }

    fn remove(&mut self, x: f64, y: f64) {
        if self.n <= 1.0 {
            *self = Moments::default();
            return;
        }
        self.n -= 1.0;
        let dx = x - self.mean_x;
        let dy = y - self.mean_y;
        let inv = 1.0 / self.n;
        self.mean_x -= dx * inv;
        self.mean_y -= dy * inv;
        self.cxx -= dx * (x - self.mean_x);
        self.cxy -= dx * (y - self.mean_y);
        self.cyy -= dy * (y - self.mean_y);
    }
}

/// Buffers reused from one window pass to the next.
/// The running state of one (column, window) over one entity's rows in time order.
///
/// All tracks of an entity advance together, row by row: their update chains are
/// independent, so the processor overlaps them (one track alone waits on its own adds).
#[derive(Debug, Clone, Default)]
struct Track {
    /// Window length (ns).
    window: i64,
    /// Which column of the entity's values it reads.
    column: usize,
    needs_moments: bool,
    needs_min: bool,
    needs_max: bool,
    needs_ewm: bool,
    left: usize,
    valid: VecDeque<usize>,
    min_queue: VecDeque<usize>,
    max_queue: VecDeque<usize>,
    sum: CompensatedSum,
    moments: Moments,
    /// Largest co-moments since the moments were last computed exactly: when the spread
    /// falls far below them, the rounding left by earlier removals is no longer small.
    peak_x: f64,
    peak_y: f64,
    /// Exponentially weighted Σ w·x, Σ w and number of values (half-life = window).
    ewm_sum: f64,
    ewm_weight: f64,
    ewm_count: usize,
    /// Latest valid values that are all equal: a window made only of them has std 0
    /// exactly (add/remove updates would leave a rounding residue, √ of which shows).
    previous: f64,
    same_run: usize,
}

impl Track {
    fn new(column: usize, window: i64, stats: &[Stat]) -> Self {
        Self {
            window,
            column,
            needs_moments: stats.iter().any(|s| matches!(s, Stat::Std | Stat::Slope)),
            needs_min: stats.contains(&Stat::Min),
            needs_max: stats.contains(&Stat::Max),
            needs_ewm: stats.contains(&Stat::EwmMean),
            ..Default::default()
        }
    }

    /// Ready for the next entity (keeps the queues' memory).
    fn reset(&mut self) {
        self.left = 0;
        self.valid.clear();
        self.min_queue.clear();
        self.max_queue.clear();
        self.sum = CompensatedSum::default();
        self.moments = Moments::default();
        (self.peak_x, self.peak_y) = (0.0, 0.0);
        (self.ewm_sum, self.ewm_weight, self.ewm_count) = (0.0, 0.0, 0);
        (self.previous, self.same_run) = (f64::NAN, 0);
    }

    /// Add row `i`, drop the rows that left the window.
    fn advance(&mut self, i: usize, t: &[i64], days: &[f64], x: &[f64]) {
        let value = x[i];
        if self.needs_ewm && i > 0 && t[i] != t[i - 1] {
            let decay = (-((t[i] - t[i - 1]) as f64) / self.window as f64).exp2();
            self.ewm_sum *= decay;
            self.ewm_weight *= decay;
        }
        if !value.is_nan() {
            if self.needs_ewm {
                self.ewm_sum += value;
                self.ewm_weight += 1.0;
                self.ewm_count += 1;
            }
            self.same_run = if value == self.previous {
                self.same_run + 1
            } else {
                1
            };
            self.previous = value;
            self.valid.push_back(i);
            self.sum.add(value);
            if self.needs_moments {
                self.moments.add(days[i], value);
                self.peak_x = self.peak_x.max(self.moments.cxx);
                self.peak_y = self.peak_y.max(self.moments.cyy);
            }
            if self.needs_min {
                while self.min_queue.back().is_some_and(|&j| x[j] >= value) {
                    self.min_queue.pop_back();
                }
                self.min_queue.push_back(i);
            }
            if self.needs_max {
                while self.max_queue.back().is_some_and(|&j| x[j] <= value) {
                    self.max_queue.pop_back();
                }
                self.max_queue.push_back(i);
            }
        }
        let start = t[i].saturating_sub(self.window);
        while t[self.left] <= start {
            let left = self.left;
            if !x[left].is_nan() {
                self.valid.pop_front();
                if self.valid.is_empty() {
                    self.sum = CompensatedSum::default();
                    self.moments = Moments::default();
                } else {
                    self.sum.add(-x[left]);
                    if self.needs_moments {
                        self.moments.remove(days[left], x[left]);
                        if self.moments.cyy < 1e-6 * self.peak_y
                            || self.moments.cxx < 1e-6 * self.peak_x
                        {
                            self.moments = Moments::default();
                            for &j in &self.valid {
                                self.moments.add(days[j], x[j]);
                            }
                            (self.peak_x, self.peak_y) = (self.moments.cxx, self.moments.cyy);
                        }
                    }
                }
                if self.min_queue.front() == Some(&left) {
                    self.min_queue.pop_front();
                }
                if self.max_queue.front() == Some(&left) {
                    self.max_queue.pop_front();
                }
            }
            self.left += 1;
        }
    }

    /// The statistic of the window that ends at row `i` (after [`Track::advance`]).
    fn value(&self, stat: Stat, i: usize, t: &[i64], x: &[f64], min_periods: usize) -> f64 {
        let count = self.valid.len();
        match stat {
            // As pandas: min_periods counts the window's rows, NaN or not.
            Stat::Count if i + 1 - self.left >= min_periods => count as f64,
            Stat::EwmMean if self.ewm_count >= min_periods => self.ewm_sum / self.ewm_weight,
            Stat::Count | Stat::EwmMean => f64::NAN,
            _ if count < min_periods || count == 0 => f64::NAN,
            Stat::Mean => self.sum.sum / count as f64,
            Stat::Sum => self.sum.sum,
            Stat::Std if count >= 2 => {
                let m = &self.moments;
                if self.same_run >= count {
                    0.0
                } else if m.cyy <= 1e-9 * count as f64 * m.mean_y * m.mean_y {
                    // Tiny against the mean: updates may have lost it; recount.
                    self.exact_std(x)
                } else {
                    (m.cyy.max(0.0) / (count - 1) as f64).sqrt()
                }
            }
            Stat::Std => f64::NAN,
            Stat::Min => self.min_queue.front().map_or(f64::NAN, |&j| x[j]),
            Stat::Max => self.max_queue.front().map_or(f64::NAN, |&j| x[j]),
            _ => {
                let (first, last) = (self.valid[0], self.valid[count - 1]);
                match stat {
                    Stat::Slope if t[first] != t[last] && self.moments.cxx > 0.0 => {
                        self.moments.cxy / self.moments.cxx
                    }
                    Stat::PctChange if x[first] != 0.0 => (x[last] - x[first]) / x[first],
                    Stat::Velocity if t[first] != t[last] => {
                        (x[last] - x[first]) / ((t[last] - t[first]) as f64 / DAY as f64)
                    }
                    Stat::Change => x[last] - x[first],
                    _ => f64::NAN,
                }
            }
        }
    }

    /// Two-pass standard deviation of the valid values in the window.
    fn exact_std(&self, x: &[f64]) -> f64 {
        let n = self.valid.len() as f64;
        let mean = self.valid.iter().map(|&j| x[j]).sum::<f64>() / n;
        let ss: f64 = self.valid.iter().map(|&j| (x[j] - mean).powi(2)).sum();
        (ss / (n - 1.0)).sqrt()
    }
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
