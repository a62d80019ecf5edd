//! Rolling time-window statistics per entity, with pandas' `rolling("7D")` semantics: the
//! window that ends at a row with time `t` holds the entity's rows with time in
//! `(t − window, t]` that come up to this row in time order (equal times: input order).
//! Missing days are simply absent; NaN and ±inf values are skipped (pandas reads ±inf as
//! missing in rolling windows too).
//!
//! Every window is one pass over the entity's rows in time order with O(1) work per row:
//! sums of deviations from an anchor row inside the window give `sum`, `mean`, `std` and
//! the least-squares `slope`, each window's sums being the suffix sums of its rows up to
//! the anchor plus the sums of the rows after it (no row is ever subtracted); monotone
//! queues give `min` / `max`. Columns with no missing value whose statistics come from the
//! sums alone are scanned together, sharing the window's rows, counts and time sums; each
//! gets exactly the results it would get alone. The scan records each row's window, then
//! each statistic is computed over all rows in one loop of its own.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::mem::MaybeUninit;
use std::ops::Range;
use std::str::FromStr;

use rayon::prelude::*;

use super::layout::{blocks, presorted_offsets, split_lengths, TimeOrder};
use super::time::{parse_duration, span, EpochTimes, DAY};
use crate::cpu::Isa;
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

    /// Whether the statistic is in the values' unit (scaling the values by `c` scales it by
    /// `c`); the count and the percentage change are not.
    fn scales_with_values(self) -> bool {
        !matches!(self, Stat::Count | Stat::PctChange)
    }

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
    let inputs: Vec<ColumnInput<'_>> = columns
        .iter()
        .map(|c| ColumnInput::of_floats(Cow::Borrowed(c.values), &c.stats))
        .collect();
    EcomkitError::check_length("time", "the frame", groups.len(), times.len())?;
    let layout = Layout::new(groups, times);
    rolling_inputs(
        &layout,
        (times, 1),
        &inputs,
        windows,
        min_periods,
        Isa::detect(),
    )
}

/// [`rolling`] over the rows of `frame` grouped by `by`, laid out as [`rolling_frame`]
/// lays them out (an entity's rows read in place when they come together in time order).
pub(crate) fn rolling_by(
    frame: &Frame,
    by: &[String],
    times: &EpochTimes<'_>,
    columns: &[ColumnInput<'_>],
    windows: &[Window],
    min_periods: usize,
) -> Result<Vec<Vec<f64>>> {
    EcomkitError::check_length("time", "the frame", frame.num_rows(), times.len())?;
    let layout = Layout::of_frame(frame, by, times.parts().0)?;
    rolling_inputs(
        &layout,
        times.parts(),
        columns,
        windows,
        min_periods,
        Isa::detect(),
    )
}

/// A value column as the kernel takes it: its values and the statistics wanted of it.
pub(crate) struct ColumnInput<'a> {
    values: Values<'a>,
    stats: &'a [Stat],
}

impl<'a> ColumnInput<'a> {
    /// Column `name` of `frame`: 64-bit integers read in place, anything else as `f64`.
    pub(crate) fn of_column(
        frame: &'a Frame,
        name: &'a str,
        argument: &str,
        stats: &'a [Stat],
    ) -> Result<Self> {
        let column = frame.column(name, argument)?;
        let values = match column.int64_values() {
            Some(integers) => Values::Integers(Cow::Borrowed(integers)),
            None => Values::Floats(column.to_f64(argument)?),
        };
        Ok(Self { values, stats })
    }

    /// The value at `row` as `f64`.
    #[inline]
    pub(crate) fn get(&self, row: usize) -> f64 {
        match &self.values {
            Values::Floats(values) => values[row],
            Values::Integers(values) => values[row] as f64,
        }
    }

    /// Values already as `f64`.
    pub(crate) fn of_floats(values: Cow<'a, [f64]>, stats: &'a [Stat]) -> Self {
        Self {
            values: Values::Floats(values),
            stats,
        }
    }
}

/// Values as `f64`, or as 64-bit integers that the kernel converts entity by entity as it
/// reads them (no converted copy of the column to allocate and fault in).
enum Values<'a> {
    Floats(Cow<'a, [f64]>),
    Integers(Cow<'a, [i64]>),
}

/// Float columns whose largest magnitude is outside [2⁻⁴⁸⁰, 2⁴⁸⁰] are scanned scaled by a
/// power of two (exact) that brings it to [2⁴⁷⁹, 2⁴⁸⁰): the squares and products of the sums
/// then neither overflow (std of [1e160, 3e160] would be inf − inf) nor vanish below the
/// smallest double. Other columns, integers included, are scanned as they are.
const SCALE_EXPONENT: i32 = 480;

impl Values<'_> {
    fn len(&self) -> usize {
        match self {
            Values::Floats(values) => values.len(),
            Values::Integers(values) => values.len(),
        }
    }

    /// Scales a float column out of range (see [`SCALE_EXPONENT`]) in place; returns the
    /// power of two it was multiplied by (0: left as it is).
    fn rescale(&mut self) -> i32 {
        let Values::Floats(values) = self else {
            return 0;
        };
        let largest = values
            .iter()
            .map(|v| v.abs())
            .filter(|v| *v < f64::INFINITY)
            .fold(0.0f64, f64::max);
        let exponent = libm::ilogb(largest);
        if largest == 0.0 || (-SCALE_EXPONENT..SCALE_EXPONENT).contains(&exponent) {
            return 0;
        }
        let shift = SCALE_EXPONENT - 1 - exponent;
        values
            .to_mut()
            .iter_mut()
            .for_each(|v| *v = libm::scalbn(*v, shift));
        shift
    }
}

/// [`rolling`] on the rows laid out by `layout`, and times counted in units of
/// `time_factor` nanoseconds (every product fitting in an `i64`), which are scaled entity
/// by entity as the kernel reads them; with the copy of the kernel compiled for `isa`.
fn rolling_inputs(
    layout: &Layout,
    (times, time_factor): (&[i64], i64),
    columns: &[ColumnInput<'_>],
    windows: &[Window],
    min_periods: usize,
    isa: Isa,
) -> Result<Vec<Vec<f64>>> {
    let n = times.len();
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
    let (offsets, sorted_times) = layout.offsets_and_times(times);
    let mut arranged_columns: Vec<Values<'_>> =
        columns.iter().map(|c| layout.arrange(&c.values)).collect();
    let shifts: Vec<i32> = arranged_columns.iter_mut().map(Values::rescale).collect();

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

    let kernel = Kernel {
        offsets,
        times: sorted_times,
        time_factor,
        columns: &arranged_columns,
        stats: columns.iter().map(|c| c.stats).collect(),
        needs: columns.iter().map(|c| Needs::of(c.stats)).collect(),
        windows,
        first_output: &first_output,
        min_periods,
        isa,
    };
    per_block
        .into_par_iter()
        .enumerate()
        .for_each(|(b, mut outs)| kernel.block(blocks[b].clone(), &mut outs));
    for out in arranged.iter_mut() {
        // SAFETY: the blocks cover every entity, hence every row, and `Kernel::block` writes
        // each of its outputs at every row of its entity.
        unsafe { out.set_len(n) };
    }
    for ((column, &first), &shift) in columns.iter().zip(&first_output).zip(&shifts) {
        if shift == 0 {
            continue;
        }
        for w in 0..windows.len() {
            for (s, stat) in column.stats.iter().enumerate() {
                if stat.scales_with_values() {
                    let out = &mut arranged[first + w * column.stats.len() + s];
                    out.iter_mut().for_each(|v| *v = libm::scalbn(*v, -shift));
                }
            }
        }
    }

    Ok(layout.unarrange(arranged))
}

/// What the blocks of entities read: the rows in the layout and what to compute.
struct Kernel<'a> {
    offsets: &'a [usize],
    /// Times in the layout, in units of `time_factor` nanoseconds.
    times: &'a [i64],
    time_factor: i64,
    /// Each column's values in the layout, and its statistics.
    columns: &'a [Values<'a>],
    stats: Vec<&'a [Stat]>,
    /// What each column's statistics need (the same for every entity and window).
    needs: Vec<Needs>,
    windows: &'a [Window],
    /// Output (column c, window w, stat s) is number `first_output[c] + w · stats + s`.
    first_output: &'a [usize],
    min_periods: usize,
    /// The copy of the kernel to run.
    isa: Isa,
}

impl Kernel<'_> {
    /// Writes every statistic of the `entities` (consecutive) to `outs`, each output's
    /// rows of these entities, with the copy of the kernel compiled for `self.isa`.
    fn block(&self, entities: Range<usize>, outs: &mut [&mut [MaybeUninit<f64>]]) {
        match self.isa {
            // SAFETY: the CPU has the copy's features (checked in the guard).
            #[cfg(target_arch = "x86_64")]
            Isa::V4 if Isa::V4.runs_here() => unsafe { self.block_v4(entities, outs) },
            _ => self.block_any(entities, outs),
        }
    }

    /// [`Kernel::block`] compiled for x86-64-v4 (AVX-512).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma,bmi1,bmi2,lzcnt,popcnt")]
    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx512cd")]
    unsafe fn block_v4(&self, entities: Range<usize>, outs: &mut [&mut [MaybeUninit<f64>]]) {
        self.block_any(entities, outs)
    }

    /// [`Kernel::block`] for any CPU; inlined, with all it calls, into each copy.
    #[inline(always)]
    fn block_any(&self, entities: Range<usize>, outs: &mut [&mut [MaybeUninit<f64>]]) {
        let mut days = Vec::new();
        // An entity's times in nanoseconds and integer columns as f64, where converted.
        let mut scaled_times = Vec::new();
        let mut converted: Vec<Vec<f64>> = self.columns.iter().map(|_| Vec::new()).collect();
        let mut rows = WindowRows::default();
        let mut column_rows: Vec<ColumnRows> =
            (0..TOGETHER).map(|_| ColumnRows::default()).collect();
        let mut queues = Queues::default();
        // Per entity: groups of columns scanned together (same needs, no missing value),
        // and the columns scanned alone.
        let mut together: Vec<(Needs, Vec<usize>)> = Vec::new();
        let mut alone: Vec<usize> = Vec::new();
        let block_start = self.offsets[entities.start];
        for g in entities {
            let range = self.offsets[g]..self.offsets[g + 1];
            let base = range.start - block_start;
            let t = &self.times[range.clone()];
            let t = match self.time_factor {
                1 => t,
                factor => {
                    scaled_times.clear();
                    scaled_times.extend(t.iter().map(|&ti| ti * factor));
                    &scaled_times[..]
                }
            };
            let Some(&t0) = t.first() else { continue };
            for (values, converted) in self.columns.iter().zip(&mut converted) {
                if let Values::Integers(integers) = values {
                    converted.clear();
                    converted.extend(integers[range.clone()].iter().map(|&v| v as f64));
                }
            }
            let xs: Vec<&[f64]> = (self.columns.iter().zip(&converted))
                .map(|(values, converted)| match values {
                    Values::Floats(floats) => &floats[range.clone()],
                    Values::Integers(_) => &converted[..],
                })
                .collect();
            let x_of = |c: usize| xs[c];
            days.clear();
            days.extend(t.iter().map(|&ti| (ti - t0) as f64 / DAY as f64));
            together.clear();
            alone.clear();
            for (c, &needs) in self.needs.iter().enumerate() {
                if needs.sums_suffice() && x_of(c).iter().all(|v| v.is_finite()) {
                    match together
                        .iter_mut()
                        .find(|(n, cs)| *n == needs && cs.len() < TOGETHER)
                    {
                        Some((_, cs)) => cs.push(c),
                        None => together.push((needs, vec![c])),
                    }
                } else {
                    alone.push(c);
                }
            }
            for (w, window) in self.windows.iter().enumerate() {
                let pass = Pass {
                    t,
                    days: &days,
                    window: window.nanos,
                    min_periods: self.min_periods,
                };
                let at = (w, base);
                for (needs, group) in &together {
                    let xs: Vec<&[f64]> = group.iter().map(|&c| x_of(c)).collect();
                    pass.scan_together(&xs, *needs, &mut rows, &mut column_rows);
                    for (&c, column) in group.iter().zip(&column_rows) {
                        self.write(&pass, (c, x_of(c)), at, (&rows, column), outs);
                    }
                }
                for &c in &alone {
                    let column = &mut column_rows[0];
                    pass.scan(x_of(c), self.needs[c], &mut rows, column, &mut queues);
                    self.write(&pass, (c, x_of(c)), at, (&rows, column), outs);
                }
            }
        }
    }

    /// Writes the statistics of column `c` (values `x`) in window `w` of the entity whose
    /// rows start at `base` in the block: statistic s goes to output
    /// `first_output[c] + w · stats + s`.
    #[inline(always)]
    fn write(
        &self,
        pass: &Pass<'_>,
        (c, x): (usize, &[f64]),
        (w, base): (usize, usize),
        (rows, column_rows): (&WindowRows, &ColumnRows),
        outs: &mut [&mut [MaybeUninit<f64>]],
    ) {
        let stats = self.stats[c];
        let first = self.first_output[c] + w * stats.len();
        for (s, &stat) in stats.iter().enumerate() {
            let out = &mut outs[first + s][base..base + pass.t.len()];
            pass.write(stat, x, rows, column_rows, out);
        }
    }
}

/// The rows entity by entity in time order: the input itself when it comes so (a daily
/// table sorted by product and date, say), else laid out (and put back) by [`TimeOrder`]
/// (which then always moves some row: its sort is stable).
enum Layout {
    Presorted { offsets: Vec<usize> },
    Arranged(TimeOrder),
}

impl Layout {
    /// The layout of the rows grouped by `groups`, in the order of `times` (in any unit:
    /// they order the rows alike).
    fn new(groups: &Groups, times: &[i64]) -> Self {
        match presorted_offsets(groups, times) {
            Some(offsets) => Layout::Presorted { offsets },
            None => Layout::Arranged(TimeOrder::new(groups, times)),
        }
    }

    /// The layout of the rows of `frame` grouped by `by`: straight from the runs of the
    /// rows when each entity's come together in time order (no group ids to code; see
    /// [`Frame::contiguous_groups`]), else from the groups.
    fn of_frame(frame: &Frame, by: &[String], times: &[i64]) -> Result<Self> {
        if let Some(offsets) = frame.contiguous_groups(by, "by")? {
            let in_time_order = offsets
                .par_windows(2)
                .all(|run| times[run[0]..run[1]].is_sorted());
            if in_time_order {
                return Ok(Layout::Presorted { offsets });
            }
        }
        // Otherwise the coded groups (one group when `by` is empty).
        Ok(Layout::new(&frame.groups(by, "by")?, times))
    }

    /// Where each entity starts, and the times in the layout (`times` in row order).
    fn offsets_and_times<'a>(&'a self, times: &'a [i64]) -> (&'a [usize], &'a [i64]) {
        match self {
            Layout::Presorted { offsets } => (offsets, times),
            Layout::Arranged(order) => (&order.offsets, &order.times),
        }
    }

    fn arrange<'a>(&self, values: &'a Values<'_>) -> Values<'a> {
        match (self, values) {
            (Layout::Presorted { .. }, Values::Floats(v)) => Values::Floats(Cow::Borrowed(v)),
            (Layout::Presorted { .. }, Values::Integers(v)) => Values::Integers(Cow::Borrowed(v)),
            (Layout::Arranged(order), Values::Floats(v)) => Values::Floats(order.arrange(v).into()),
            (Layout::Arranged(order), Values::Integers(v)) => {
                Values::Integers(order.arrange(v).into())
            }
        }
    }

    /// Outputs in the layout back in row order.
    fn unarrange(&self, outputs: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
        match self {
            Layout::Presorted { .. } => outputs,
            // Each arranged output is freed once put back.
            Layout::Arranged(order) => outputs.into_iter().map(|a| order.unarrange(&a)).collect(),
        }
    }
}

/// Sums of days as deviations dx = day − the anchor's day: Σ dx and Σ dx². They depend on
/// the rows only, so the columns scanned together share them.
#[derive(Debug, Default, Clone, Copy)]
struct TimeSums {
    sx: f64,
    sxx: f64,
}

/// Sums of one column's values as deviations dy = value − the anchor's value: Σ dy, and for
/// the moments Σ dy² and Σ dx·dy. With the anchor inside the window there is no division
/// per row and none of the cancellation of raw power sums.
#[derive(Debug, Default, Clone, Copy)]
struct ValueSums {
    sy: f64,
    syy: f64,
    sxy: f64,
}

/// The sums over some rows of `K` columns that have values at the same rows: the time sums,
/// shared, and each column's value sums.
#[derive(Debug, Clone, Copy)]
struct Sums<const K: usize> {
    time: TimeSums,
    values: [ValueSums; K],
}

impl<const K: usize> Default for Sums<K> {
    fn default() -> Self {
        Self {
            time: TimeSums::default(),
            values: [ValueSums::default(); K],
        }
    }
}

impl<const K: usize> Sums<K> {
    /// Adds row `row`'s deviations from `anchor`.
    #[inline(always)]
    fn add(
        &mut self,
        anchor: &Anchor<K>,
        (days, xs): (&[f64], [&[f64]; K]),
        row: usize,
        moments: bool,
    ) {
        let dx = days[row] - anchor.day;
        if moments {
            self.time.sx += dx;
            self.time.sxx += dx * dx;
        }
        for ((sums, x), a) in self.values.iter_mut().zip(xs).zip(anchor.values) {
            let dy = x[row] - a;
            sums.sy += dy;
            if moments {
                sums.syy += dy * dy;
                sums.sxy += dx * dy;
            }
        }
    }

    /// The sums over the rows of both.
    #[inline(always)]
    fn plus(&self, other: &Self, moments: bool) -> Self {
        let mut sums = *self;
        if moments {
            sums.time.sx += other.time.sx;
            sums.time.sxx += other.time.sxx;
        }
        for (sums, other) in sums.values.iter_mut().zip(&other.values) {
            sums.sy += other.sy;
            if moments {
                sums.syy += other.syy;
                sums.sxy += other.sxy;
            }
        }
        sums
    }
}

/// The row the sums are taken about: its day and its values.
#[derive(Debug, Clone, Copy)]
struct Anchor<const K: usize> {
    day: f64,
    values: [f64; K],
}

impl<const K: usize> Default for Anchor<K> {
    fn default() -> Self {
        Self {
            day: 0.0,
            values: [0.0; K],
        }
    }
}

/// The sums of each row's window, built without subtracting anything: the window's rows
/// up to the anchor row come from suffix sums (built backward from the anchor when it is
/// set), the rows after it from sums they are added to as they enter. The anchor is the
/// window's latest valid row when set, and is set anew once it has left the window, so
/// it always lies inside the window; each row is added about twice overall. Every window
/// sum is thus a plain sum of its own rows' deviations from one of its own values: no
/// rounding left behind by rows that left (an outlier, a level that drifted), and a window
/// of equal values has sums of exactly 0. `COMPLETE`: every row has all `K` values.
#[derive(Debug, Default)]
struct WindowSums<const K: usize, const COMPLETE: bool> {
    /// The anchor's row (none before the first window).
    anchor_row: Option<usize>,
    anchor: Anchor<K>,
    /// `suffix[k]`: the sums of the valid rows from `anchor_row − k` through `anchor_row`.
    suffix: Vec<Sums<K>>,
    /// The sums of the valid rows after `anchor_row`.
    entered: Sums<K>,
}

impl<const K: usize, const COMPLETE: bool> WindowSums<K, COMPLETE> {
    /// The sums of the window whose valid rows run from `first` to `last`, at row `i`
    /// (whose values are valid if `i_valid`; the rows are visited in order, once each).
    #[inline(always)]
    fn of_window(
        &mut self,
        columns: (&[f64], [&[f64]; K]),
        (first, last): (usize, usize),
        (i, i_valid): (usize, bool),
        moments: bool,
    ) -> Sums<K> {
        match self.anchor_row {
            Some(anchor_row) if first <= anchor_row => {
                if i_valid {
                    self.entered.add(&self.anchor, columns, i, moments);
                }
                self.suffix[anchor_row - first].plus(&self.entered, moments)
            }
            _ => {
                self.anchor_at(columns, first, last, moments);
                self.suffix[last - first]
            }
        }
    }

    /// Anchors the sums at row `last` and builds the suffix sums back to row `first`.
    #[cold]
    #[inline(never)]
    fn anchor_at(
        &mut self,
        (days, xs): (&[f64], [&[f64]; K]),
        first: usize,
        last: usize,
        moments: bool,
    ) {
        self.anchor = Anchor {
            day: days[last],
            values: xs.map(|x| x[last]),
        };
        self.anchor_row = Some(last);
        self.entered = Sums::default();
        self.suffix.clear();
        let mut sums = Sums::default();
        for j in (first..=last).rev() {
            if COMPLETE || xs.iter().all(|x| x[j].is_finite()) {
                sums.add(&self.anchor, (days, xs), j, moments);
            }
            self.suffix.push(sums);
        }
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

/// The window ending at each row of one entity: filled row by row by a scan, then read
/// statistic by statistic by [`Pass::write`] (where the divisions and square roots, free
/// of the scan's running sums, overlap). Kept between passes for its memory; only what the
/// statistics need is filled. These are the window's own quantities, shared by the columns
/// scanned together; [`ColumnRows`] holds each column's.
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
    /// Σ dx and Σ dx² (dx = day − the anchor day); Σ dx² is NaN where the window's valid
    /// values do not span more than one time (no slope), so the slope's loop reads no
    /// flag (and vectorizes).
    sx: Vec<f64>,
    sxx: Vec<f64>,
    /// Rows of the window's first and latest valid values.
    first: Vec<usize>,
    last: Vec<usize>,
    /// 1 / k at k (divisions are the scan's slowest operations).
    reciprocals: Vec<f64>,
}

impl WindowRows {
    /// The first `m` rows to fill, for a scan whose statistics need `needs` (growing and
    /// shrinking to similar entity sizes costs next to nothing; every row is then
    /// overwritten). Inlined so that the scan knows every slot's length and drops the
    /// bounds checks of its stores.
    #[inline(always)]
    fn slots(&mut self, m: usize, needs: Needs, min_periods: usize) -> WindowSlots<'_> {
        for column in [
            &mut self.rows,
            &mut self.count,
            &mut self.inv_n,
            &mut self.inv_n1,
            &mut self.sx,
            &mut self.sxx,
        ] {
            column.resize(m, 0.0);
        }
        self.first.resize(m, 0);
        self.last.resize(m, 0);
        self.reciprocals_up_to(m);
        WindowSlots {
            needs,
            min_periods,
            rows: &mut self.rows[..m],
            count: &mut self.count[..m],
            inv_n: &mut self.inv_n[..m],
            inv_n1: &mut self.inv_n1[..m],
            sx: &mut self.sx[..m],
            sxx: &mut self.sxx[..m],
            first: &mut self.first[..m],
            last: &mut self.last[..m],
            reciprocals: &self.reciprocals[..=m],
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

/// One entity's rows of [`WindowRows`], as the scans fill them (slices rather than
/// vectors, so their addresses stay in registers through the scan).
struct WindowSlots<'a> {
    needs: Needs,
    min_periods: usize,
    rows: &'a mut [f64],
    count: &'a mut [f64],
    inv_n: &'a mut [f64],
    inv_n1: &'a mut [f64],
    sx: &'a mut [f64],
    sxx: &'a mut [f64],
    first: &'a mut [usize],
    last: &'a mut [usize],
    reciprocals: &'a [f64],
}

impl WindowSlots<'_> {
    /// The window ending at row `i`: `count` valid values among `window_rows` rows, the
    /// first and latest at rows `first` and `last`, with time sums `time`.
    #[inline(always)]
    fn record(
        &mut self,
        i: usize,
        time: &TimeSums,
        (count, window_rows): (usize, usize),
        (first, last): (usize, usize),
        spans_time: bool,
    ) {
        self.count[i] = count as f64;
        let enough = count >= self.min_periods;
        self.inv_n[i] = if enough {
            self.reciprocals[count]
        } else {
            f64::NAN
        };
        if self.needs.rows {
            self.rows[i] = window_rows as f64;
        }
        if self.needs.moments {
            let two = enough && count >= 2;
            self.inv_n1[i] = if two {
                self.reciprocals[count - 1]
            } else {
                f64::NAN
            };
            self.sx[i] = time.sx;
            self.sxx[i] = if spans_time { time.sxx } else { f64::NAN };
        }
        if self.needs.ends {
            self.first[i] = first;
            self.last[i] = last;
        }
    }
}

/// One column's part of the window ending at each row (see [`WindowRows`]).
#[derive(Debug, Default)]
struct ColumnRows {
    /// The sums' anchor value, Σ dy, Σ dy² and Σ dx·dy (dy = value − anchor).
    anchor: Vec<f64>,
    sy: Vec<f64>,
    syy: Vec<f64>,
    sxy: Vec<f64>,
    min: Vec<f64>,
    max: Vec<f64>,
    /// The exponentially weighted mean (NaN before `min_periods` values).
    ewm: Vec<f64>,
}

impl ColumnRows {
    /// The first `m` rows to fill (as [`WindowRows::slots`]).
    #[inline(always)]
    fn slots(&mut self, m: usize) -> ColumnSlots<'_> {
        for column in [
            &mut self.anchor,
            &mut self.sy,
            &mut self.syy,
            &mut self.sxy,
            &mut self.min,
            &mut self.max,
            &mut self.ewm,
        ] {
            column.resize(m, 0.0);
        }
        ColumnSlots {
            anchor: &mut self.anchor[..m],
            sy: &mut self.sy[..m],
            syy: &mut self.syy[..m],
            sxy: &mut self.sxy[..m],
            min: &mut self.min[..m],
            max: &mut self.max[..m],
            ewm: &mut self.ewm[..m],
        }
    }
}

/// One entity's rows of [`ColumnRows`] (as [`WindowSlots`]).
struct ColumnSlots<'a> {
    anchor: &'a mut [f64],
    sy: &'a mut [f64],
    syy: &'a mut [f64],
    sxy: &'a mut [f64],
    min: &'a mut [f64],
    max: &'a mut [f64],
    ewm: &'a mut [f64],
}

impl ColumnSlots<'_> {
    #[inline(always)]
    fn record(&mut self, i: usize, anchor: f64, sums: &ValueSums, moments: bool) {
        self.anchor[i] = anchor;
        self.sy[i] = sums.sy;
        if moments {
            self.syy[i] = sums.syy;
            self.sxy[i] = sums.sxy;
        }
    }
}

/// Which parts of [`WindowRows`] and [`ColumnRows`] the statistics of a column need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
            ends: any(&[Stat::PctChange, Stat::Velocity, Stat::Change]),
            min: any(&[Stat::Min]),
            max: any(&[Stat::Max]),
            ewm: any(&[Stat::EwmMean]),
        }
    }

    /// Whether the statistics come from the sums and the window's ends alone (no queue
    /// or weights), so that columns can be scanned together.
    fn sums_suffice(self) -> bool {
        !(self.min || self.max || self.ewm)
    }
}

/// Columns scanned together at most (their sums stay in registers).
const TOGETHER: usize = 4;

/// The scans over one entity's rows (in time order) and one window.
struct Pass<'a> {
    t: &'a [i64],
    days: &'a [f64],
    /// The window's length (ns), also the half-life of `ewm_mean`.
    window: i64,
    min_periods: usize,
}

impl Pass<'_> {
    /// Fills `rows` and `columns[k]` with the windows of the columns `xs` (at most
    /// [`TOGETHER`]), which have no missing value and statistics that need neither queues
    /// nor weights: one scan for all of them, sharing the window's own quantities and time
    /// sums; a column's results are those it gets alone.
    #[inline(always)]
    fn scan_together(
        &self,
        xs: &[&[f64]],
        needs: Needs,
        rows: &mut WindowRows,
        columns: &mut [ColumnRows],
    ) {
        match (xs.len(), needs.moments) {
            (1, false) => self.scan_columns::<1, false>(xs, needs, rows, columns),
            (1, true) => self.scan_columns::<1, true>(xs, needs, rows, columns),
            (2, false) => self.scan_columns::<2, false>(xs, needs, rows, columns),
            (2, true) => self.scan_columns::<2, true>(xs, needs, rows, columns),
            (3, false) => self.scan_columns::<3, false>(xs, needs, rows, columns),
            (3, true) => self.scan_columns::<3, true>(xs, needs, rows, columns),
            (4, false) => self.scan_columns::<4, false>(xs, needs, rows, columns),
            (4, true) => self.scan_columns::<4, true>(xs, needs, rows, columns),
            (k, _) => unreachable!("{k} columns scanned together; at most {TOGETHER}"),
        }
    }

    /// [`Pass::scan_together`] for `K` columns: with no missing value the window is just
    /// its first row, which keeps the running sums in registers.
    #[inline(always)]
    fn scan_columns<const K: usize, const MOMENTS: bool>(
        &self,
        xs: &[&[f64]],
        needs: Needs,
        rows: &mut WindowRows,
        columns: &mut [ColumnRows],
    ) {
        let xs: [&[f64]; K] = xs.try_into().expect("K columns");
        let (t, days) = (self.t, self.days);
        let m = t.len();
        let mut window_slots = rows.slots(m, needs, self.min_periods);
        let mut columns = columns.iter_mut();
        let mut column_slots: [ColumnSlots<'_>; K] =
            std::array::from_fn(|_| columns.next().expect("K column rows").slots(m));
        let mut window = WindowSums::<K, true>::default();
        let mut left = 0;
        for i in 0..m {
            // The window (t − window, t] always holds row i.
            let start = t[i].saturating_sub(self.window);
            while left < i && t[left] <= start {
                left += 1;
            }
            let count = i + 1 - left;
            let sums = window.of_window((days, xs), (left, i), (i, true), MOMENTS);
            let spans_time = t[left] != t[i];
            window_slots.record(i, &sums.time, (count, count), (left, i), spans_time);
            let columns = column_slots.iter_mut().zip(&sums.values);
            for ((column, values), anchor) in columns.zip(window.anchor.values) {
                column.record(i, anchor, values, MOMENTS);
            }
        }
    }

    /// Fills `rows` and `column` with the windows of column `x`, which may have missing
    /// values and may want any statistic (the same sums in the same order as
    /// [`Pass::scan_together`] where it has none, so the same results).
    #[inline(always)]
    fn scan(
        &self,
        x: &[f64],
        needs: Needs,
        rows: &mut WindowRows,
        column: &mut ColumnRows,
        queues: &mut Queues,
    ) {
        let (t, days) = (self.t, self.days);
        let xs = [x];
        let moments = needs.moments;
        let m = x.len();
        let mut window_slots = rows.slots(m, needs, self.min_periods);
        let mut column = column.slots(m);
        queues.min.clear();
        queues.max.clear();
        let mut window = WindowState::default();
        let mut window_sums = WindowSums::<1, false>::default();
        // The latest window's sums (a window with no value keeps them: its statistics
        // are NaN).
        let mut sums = Sums::<1>::default();
        let mut ewm = Ewm::default();
        for i in 0..m {
            let value = x[i];
            if needs.ewm && i > 0 && t[i] != t[i - 1] {
                let decay = (-(span(t[i - 1], t[i]) as f64) / self.window as f64).exp2();
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
                }
                window.count += 1;
                window.last = i;
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
            let start = t[i].saturating_sub(self.window);
            while window.left < i && t[window.left] <= start {
                let left = window.left;
                if x[left].is_finite() {
                    window.count -= 1;
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
                let valid_rows = (window.first, window.last);
                let row = (i, value.is_finite());
                sums = window_sums.of_window((days, xs), valid_rows, row, moments);
            }
            let spans_time = t[window.first] != t[window.last];
            let ends = (window.first, window.last);
            let window_rows = i + 1 - window.left;
            let counts = (window.count, window_rows);
            window_slots.record(i, &sums.time, counts, ends, spans_time);
            column.record(i, window_sums.anchor.values[0], &sums.values[0], moments);
            if needs.min {
                column.min[i] = queues.min.front().map_or(f64::NAN, |&j| x[j]);
            }
            if needs.max {
                column.max[i] = queues.max.front().map_or(f64::NAN, |&j| x[j]);
            }
            if needs.ewm {
                let defined = ewm.count >= self.min_periods;
                column.ewm[i] = if defined {
                    ewm.sum / ewm.weight
                } else {
                    f64::NAN
                };
            }
        }
    }

    /// Writes `stat` of every row's window of column `x` to `out`.
    #[inline(always)]
    fn write(
        &self,
        stat: Stat,
        x: &[f64],
        rows: &WindowRows,
        column: &ColumnRows,
        out: &mut [MaybeUninit<f64>],
    ) {
        let m = out.len();
        let (x, t) = (&x[..m], &self.t[..m]);
        let min_periods = self.min_periods as f64;
        let (count, inv_n) = (&rows.count[..m], &rows.inv_n[..m]);
        let (anchor, sy) = (&column.anchor[..m], &column.sy[..m]);
        // Where a window has too few values, `inv_n` (and `inv_n1`) is NaN, and so is
        // every statistic made from it.
        match stat {
            // As pandas: min_periods counts the window's rows, NaN or not.
            Stat::Count => fill(out, |i| match rows.rows[i] >= min_periods {
                true => count[i],
                false => f64::NAN,
            }),
            Stat::EwmMean => fill(out, |i| column.ewm[i]),
            Stat::Mean => fill(out, |i| anchor[i] + sy[i] * inv_n[i]),
            Stat::Sum => fill(out, |i| match inv_n[i].is_nan() {
                false => sy[i] + count[i] * anchor[i],
                true => f64::NAN,
            }),
            Stat::Std => {
                let (syy, inv_n1) = (&column.syy[..m], &rows.inv_n1[..m]);
                fill(out, |i| {
                    let cyy = syy[i] - sy[i] * (sy[i] * inv_n[i]);
                    (cyy.max(0.0) * inv_n1[i]).sqrt()
                })
            }
            Stat::Slope => {
                let (sx, sxx, sxy) = (&rows.sx[..m], &rows.sxx[..m], &column.sxy[..m]);
                fill(out, |i| {
                    let cxx = sxx[i] - sx[i] * (sx[i] * inv_n[i]);
                    let cxy = sxy[i] - sx[i] * (sy[i] * inv_n[i]);
                    // Divided before the test: a select, so the loop vectorizes.
                    let slope = cxy / cxx;
                    if cxx > 0.0 {
                        slope
                    } else {
                        f64::NAN
                    }
                })
            }
            Stat::Min => fill(out, |i| {
                if inv_n[i].is_nan() {
                    f64::NAN
                } else {
                    column.min[i]
                }
            }),
            Stat::Max => fill(out, |i| {
                if inv_n[i].is_nan() {
                    f64::NAN
                } else {
                    column.max[i]
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
#[inline(always)]
fn fill(out: &mut [MaybeUninit<f64>], value: impl Fn(usize) -> f64) {
    for (i, slot) in out.iter_mut().enumerate() {
        slot.write(value(i));
    }
}

/// The rows of [`Pass::scan`]'s window: `left..=i`, with `count` valid values, the first
/// and the latest at rows `first` and `last`.
#[derive(Debug, Default, Clone, Copy)]
struct WindowState {
    left: usize,
    count: usize,
    first: usize,
    last: usize,
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
    let time_column = frame.column(time, "time")?;
    let times = EpochTimes::new(&time_column, "time")?;
    // 64-bit integers are read in place; anything else converted to f64.
    let inputs = columns
        .iter()
        .map(|c| ColumnInput::of_column(frame, c, "columns", stats))
        .collect::<Result<Vec<_>>>()?;
    let out = rolling_by(frame, by, &times, &inputs, &windows, min_periods)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Every copy of the kernel this CPU runs gives the same bits as the baseline one, on
    /// unsorted entities with duplicate times, missing values, integer columns and every
    /// statistic.
    #[test]
    fn every_copy_of_the_kernel_gives_the_same_bits() {
        let isas = Isa::available();
        if isas.len() == 1 {
            eprintln!("only the baseline kernel runs on this CPU: nothing to compare");
        }
        let mut rng = Rng::new(7);
        let n = 20_000;
        let keys: Vec<u64> = (0..n).map(|_| rng.below(40)).collect();
        let day = 86_400_000_000_000_i64;
        let times: Vec<i64> = (0..n).map(|_| rng.below(400) as i64 * day / 2).collect();
        let with_nan: Vec<f64> = (0..n)
            .map(|_| match rng.chance(0.1) {
                true => f64::NAN,
                false => 1e6 + rng.normal() * 1e3,
            })
            .collect();
        let complete: Vec<f64> = (0..n).map(|_| rng.uniform_in(-5.0, 5.0)).collect();
        let integers: Vec<i64> = (0..n).map(|_| rng.below(1000) as i64).collect();
        let all = Stat::ALL;
        let moments = [Stat::Mean, Stat::Std, Stat::Slope];
        let columns = [
            ColumnInput::of_floats(Cow::Borrowed(&with_nan), &all),
            ColumnInput::of_floats(Cow::Borrowed(&complete), &moments),
            ColumnInput::of_floats(Cow::Borrowed(&complete), &all),
            ColumnInput {
                values: Values::Integers(Cow::Borrowed(&integers)),
                stats: &moments,
            },
        ];
        let windows: Vec<Window> = ["1d", "7d", "30d"]
            .iter()
            .map(|w| Window::parse(w).unwrap())
            .collect();
        let layout = Layout::new(&Groups::from_keys(&keys).unwrap(), &times);
        let run = |isa| rolling_inputs(&layout, (&times, 1), &columns, &windows, 2, isa).unwrap();
        let baseline = run(Isa::Baseline);
        for isa in isas {
            let out = run(isa);
            for (a, b) in baseline.iter().zip(&out) {
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(a), bits(b), "{isa:?}");
            }
        }
    }
}
