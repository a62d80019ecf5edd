//! Rolling time-window statistics per entity, with pandas' `rolling("7D")` semantics: the
//! window that ends at a row with time `t` holds the entity's rows with time in
//! `(t − window, t]` that come up to this row in time order (equal times: input order).
//! Missing days are simply absent; NaN and ±inf values are skipped (pandas reads ±inf as
//! missing in rolling windows too).
//!
//! The kernel, per entity (rows in time order) and window length, with O(1) work per row:
//! 1. `windows.rs`: each row's window bounds — its first row, first and latest valid rows
//!    and count — once for the columns without missing values, once per column with them;
//! 2. the sums the moment statistics read, of deviations from an anchor row inside the
//!    window, built without subtracting any row (`Windows::anchored_sums`);
//! 3. `statistics.rs`: one struct per statistic writes its value for every row in a loop of
//!    its own (the divisions and square roots of a loop overlap).
//!
//! A column's results never depend on the other columns, the row layout or the CPU.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::mem::MaybeUninit;
use std::ops::Range;

use rayon::prelude::*;

mod statistics;
mod windows;

use statistics::{Column, Reads, Statistic};
use windows::{ColumnSums, Lanes, TimeSums, ValueSums, Windows};

use super::layout::{blocks, presorted_offsets, split_lengths, TimeOrder};
use super::time::{parse_duration, EpochTimes, DAY};
use crate::error::{parse_enum, EcomkitError, Result};
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

parse_enum!(Stat, "stats", {
    "mean" => Stat::Mean, "sum" => Stat::Sum, "std" => Stat::Std, "min" => Stat::Min,
    "max" => Stat::Max, "count" => Stat::Count, "slope" => Stat::Slope,
    "pct_change" => Stat::PctChange, "velocity" => Stat::Velocity, "change" => Stat::Change,
    "ewm_mean" => Stat::EwmMean,
});

impl Stat {
    /// How the statistic is computed.
    fn statistic(self) -> &'static dyn Statistic {
        match self {
            Stat::Mean => &statistics::Mean,
            Stat::Sum => &statistics::Sum,
            Stat::Std => &statistics::Std,
            Stat::Min => &statistics::Min,
            Stat::Max => &statistics::Max,
            Stat::Count => &statistics::Count,
            Stat::Slope => &statistics::Slope,
            Stat::PctChange => &statistics::PctChange,
            Stat::Velocity => &statistics::Velocity,
            Stat::Change => &statistics::Change,
            Stat::EwmMean => &statistics::EwmMean,
        }
    }
}

/// A window: its label (used in column names) and its length in nanoseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// The text the user gave, lower-cased ("7d"); a length given in nanoseconds (as a
    /// timedelta reaches Rust) in its largest whole unit of days, hours, minutes or seconds
    /// ("604800000000000ns" is "7d", "1500ns" stays so).
    pub label: String,
    /// Length in nanoseconds.
    pub nanos: i64,
}

impl Window {
    /// A window from text such as "7d", "12h", "30m".
    pub fn parse(text: &str) -> Result<Self> {
        let nanos = parse_duration(text, "windows")?;
        let label = text.trim().to_ascii_lowercase();
        let in_nanoseconds = label
            .strip_suffix("ns")
            .is_some_and(|n| n.trim().parse::<i64>().is_ok());
        let label = match in_nanoseconds {
            true => Self::readable(nanos),
            false => label,
        };
        Ok(Self { label, nanos })
    }

    /// `nanos` in its largest whole unit: "7d", "36h", "90m", "5s", else "1500ns".
    fn readable(nanos: i64) -> String {
        const SECOND: i64 = 1_000_000_000;
        let units = [
            ("d", DAY),
            ("h", 3_600 * SECOND),
            ("m", 60 * SECOND),
            ("s", SECOND),
        ];
        match units.iter().find(|(_, size)| nanos % size == 0) {
            Some((unit, size)) => format!("{}{unit}", nanos / size),
            None => format!("{nanos}ns"),
        }
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
    rolling_inputs(&layout, (times, 1), &inputs, windows, min_periods)
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
    rolling_inputs(&layout, times.parts(), columns, windows, min_periods)
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
/// by entity as the kernel reads them.
fn rolling_inputs(
    layout: &Layout,
    (times, time_factor): (&[i64], i64),
    columns: &[ColumnInput<'_>],
    windows: &[Window],
    min_periods: usize,
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
        reads: (columns.iter())
            .map(|c| {
                c.stats
                    .iter()
                    .map(|s| s.statistic().reads())
                    .max()
                    .unwrap_or(Reads::Bounds)
            })
            .collect(),
        windows,
        first_output: &first_output,
        min_periods,
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
                if stat.statistic().scales_with_values() {
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
    /// What each column's statistics read, at most.
    reads: Vec<Reads>,
    windows: &'a [Window],
    /// Output (column c, window w, stat s) is number `first_output[c] + w · stats + s`.
    first_output: &'a [usize],
    min_periods: usize,
}

/// Columns whose sums one pass computes together at most (see [`Lanes`]).
const LANES: usize = 4;

/// Where [`Entity::sums`] puts its sums: the windows (time sums) and each lane's column
/// sums; and where the values are valid.
type LaneOutputs<'a, V> = (&'a mut Windows, V, &'a mut [ColumnSums]);

/// What a block reuses from entity to entity.
#[derive(Default)]
struct Scratch {
    /// The windows over every row (for the columns without missing values), and over one
    /// column's valid rows.
    every_row: Windows,
    valid_rows: Windows,
    /// Each lane's column sums, and none (for the columns that do not read them).
    sums: [ColumnSums; LANES],
    no_sums: ColumnSums,
    queue: VecDeque<usize>,
}

impl Kernel<'_> {
    /// Writes every statistic of the `entities` (consecutive) to `outs`, each output's
    /// rows of these entities.
    fn block(&self, entities: Range<usize>, outs: &mut [&mut [MaybeUninit<f64>]]) {
        let mut days = Vec::new();
        // An entity's times in nanoseconds and integer columns as f64, where converted.
        let mut scaled_times = Vec::new();
        let mut converted: Vec<Vec<f64>> = self.columns.iter().map(|_| Vec::new()).collect();
        let mut scratch = Scratch::default();
        let block_start = self.offsets[entities.start];
        for g in entities {
            let range = self.offsets[g]..self.offsets[g + 1];
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
            days.clear();
            days.extend(t.iter().map(|&ti| (ti - t0) as f64 / DAY as f64));
            // The columns without missing values share their windows; those that read sums
            // are summed in lanes, the others alone.
            let (complete, partial): (Vec<usize>, Vec<usize>) =
                (0..xs.len()).partition(|&c| xs[c].iter().all(|v| v.is_finite()));
            let (laned, plain): (Vec<usize>, Vec<usize>) = complete
                .iter()
                .partition(|&&c| self.reads[c] >= Reads::Sums);
            let rows = range.start - block_start..range.end - block_start;
            let entity = Entity {
                kernel: self,
                xs: &xs,
                t,
                days: &days,
                rows,
            };
            for (w, window) in self.windows.iter().enumerate() {
                let every_row = &mut scratch.every_row;
                every_row.fill(t, window.nanos, self.min_periods, |_| true);
                for lane in laned.chunks(LANES) {
                    let columns: Vec<&[f64]> = lane.iter().map(|&c| xs[c]).collect();
                    entity.sums_of(every_row, (&columns, |_| true), &mut scratch.sums);
                    for (&c, sums) in lane.iter().zip(&scratch.sums) {
                        entity.write(c, w, (every_row, sums), &mut scratch.queue, outs);
                    }
                }
                for &c in &plain {
                    let columns = (&*every_row, &scratch.no_sums);
                    entity.write(c, w, columns, &mut scratch.queue, outs);
                }
                for &c in &partial {
                    let x = xs[c];
                    let valid = |j: usize| x[j].is_finite();
                    let windows = &mut scratch.valid_rows;
                    windows.fill(t, window.nanos, self.min_periods, valid);
                    let sums = &mut scratch.sums[..1];
                    if self.reads[c] >= Reads::Sums {
                        entity.sums::<1>([x], (windows, valid, sums));
                    }
                    entity.write(c, w, (windows, &sums[0]), &mut scratch.queue, outs);
                }
            }
        }
    }
}

/// One entity's rows, as the kernel reads them.
struct Entity<'a> {
    kernel: &'a Kernel<'a>,
    /// The values of each column, times (ns) and days since the first time.
    xs: &'a [&'a [f64]],
    t: &'a [i64],
    days: &'a [f64],
    /// The entity's rows in the block's outputs.
    rows: Range<usize>,
}

impl Entity<'_> {
    /// The sums of the `columns` (at most [`LANES`]), which have values where `valid`
    /// holds, in `windows`: the time sums into `windows`, each column's sums into its lane.
    fn sums_of(
        &self,
        windows: &mut Windows,
        (columns, valid): (&[&[f64]], impl Fn(usize) -> bool + Copy),
        lanes: &mut [ColumnSums],
    ) {
        let outputs = (windows, valid, lanes);
        match columns.len() {
            1 => self.sums::<1>(columns.try_into().expect("1 column"), outputs),
            2 => self.sums::<2>(columns.try_into().expect("2 columns"), outputs),
            3 => self.sums::<3>(columns.try_into().expect("3 columns"), outputs),
            _ => self.sums::<4>(columns.try_into().expect("4 columns"), outputs),
        }
    }

    /// [`Entity::sums_of`] for `K` columns.
    #[inline(always)]
    fn sums<const K: usize>(
        &self,
        xs: [&[f64]; K],
        (windows, valid, lanes): LaneOutputs<'_, impl Fn(usize) -> bool + Copy>,
    ) {
        let days = self.days;
        let term = |j: usize, a: usize| {
            let dx = days[j] - days[a];
            let mut sums = Lanes::<K> {
                time: TimeSums {
                    sx: dx,
                    sxx: dx * dx,
                },
                values: [ValueSums::default(); K],
            };
            for (sums, x) in sums.values.iter_mut().zip(&xs) {
                let dy = x[j] - x[a];
                *sums = ValueSums {
                    sy: dy,
                    syy: dy * dy,
                    sxy: dx * dy,
                };
            }
            sums
        };
        let m = windows.len();
        let (mut sx, mut sxx) = (
            std::mem::take(&mut windows.sx),
            std::mem::take(&mut windows.sxx),
        );
        sx.resize(m, 0.0);
        sxx.resize(m, 0.0);
        let lanes = &mut lanes[..K];
        lanes.iter_mut().for_each(|lane| lane.resize(m, 0.0));
        let (t, bounds) = (self.t, &windows.bounds);
        windows.anchored_sums(valid, term, &mut Vec::new(), |i, sums| {
            let b = &bounds[i];
            sx[i] = sums.time.sx;
            sxx[i] = match t[b.first] == t[b.last] {
                true => f64::NAN,
                false => sums.time.sxx,
            };
            for ((lane, values), x) in lanes.iter_mut().zip(&sums.values).zip(&xs) {
                lane.anchor[i] = if b.count > 0 { x[b.anchor()] } else { 0.0 };
                lane.sy[i] = values.sy;
                lane.syy[i] = values.syy;
                lane.sxy[i] = values.sxy;
            }
        });
        (windows.sx, windows.sxx) = (sx, sxx);
    }

    /// Writes column `c`'s statistics in window `w` to the block's outputs, from its
    /// windows, value sums and anchor values (empty if no statistic reads them).
    #[inline(always)]
    fn write(
        &self,
        c: usize,
        w: usize,
        (windows, sums): (&Windows, &ColumnSums),
        queue: &mut VecDeque<usize>,
        outs: &mut [&mut [MaybeUninit<f64>]],
    ) {
        let kernel = self.kernel;
        let mut column = Column {
            x: self.xs[c],
            t: self.t,
            windows,
            sums,
            window: kernel.windows[w].nanos,
            min_periods: kernel.min_periods,
            queue,
        };
        let stats = kernel.stats[c];
        let first = kernel.first_output[c] + w * stats.len();
        for (s, stat) in stats.iter().enumerate() {
            stat.statistic()
                .write(&mut column, &mut outs[first + s][self.rows.clone()]);
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
    //! The kernel against a brute-force reference, and the paths that must give the same
    //! bits: lanes of one to four columns or a column alone, with or without missing
    //! values, integers or floats, rows in place or laid out.
    use super::*;
    use crate::rng::Rng;

    const DAY_NS: i64 = 86_400_000_000_000;

    struct Case {
        keys: Vec<u64>,
        times: Vec<i64>,
        columns: Vec<Vec<f64>>,
    }

    fn case(rng: &mut Rng, n: usize, entities: u64) -> Case {
        let keys = (0..n).map(|_| rng.below(entities)).collect();
        // Half days, with repeats: equal times and gaps.
        let times = (0..n).map(|_| rng.below(60) as i64 * DAY_NS / 2).collect();
        let with_nan = (0..n)
            .map(|_| match rng.chance(0.15) {
                true => f64::NAN,
                false => 1e6 + rng.normal() * 1e3,
            })
            .collect();
        let complete = (0..n).map(|_| rng.uniform_in(-5.0, 5.0)).collect();
        let small = (0..n).map(|_| rng.below(5) as f64).collect();
        Case {
            keys,
            times,
            columns: vec![with_nan, complete, small],
        }
    }

    fn run(case: &Case, stats: &[Stat], windows: &[&str], min_periods: usize) -> Vec<Vec<f64>> {
        let columns: Vec<RollingColumn<'_>> = (case.columns.iter())
            .map(|values| RollingColumn {
                values,
                stats: stats.to_vec(),
            })
            .collect();
        let windows: Vec<Window> = windows.iter().map(|w| Window::parse(w).unwrap()).collect();
        let groups = Groups::from_keys(&case.keys).unwrap();
        rolling(&groups, &case.times, &columns, &windows, min_periods).unwrap()
    }

    /// Each statistic of the window ending at `i`, from its rows written out.
    fn brute_force(case: &Case, c: usize, window: i64, min_periods: usize, i: usize) -> Vec<f64> {
        let (keys, t, x) = (&case.keys, &case.times, &case.columns[c]);
        // The entity's rows up to row i in time order (equal times: input order).
        let mut rows: Vec<usize> = (0..keys.len()).filter(|&j| keys[j] == keys[i]).collect();
        rows.sort_by_key(|&j| t[j]);
        let upto = &rows[..=rows.iter().position(|&j| j == i).unwrap()];
        let in_window: Vec<usize> = upto
            .iter()
            .copied()
            .filter(|&j| t[j] > t[i] - window)
            .collect();
        let valid: Vec<usize> = in_window
            .iter()
            .copied()
            .filter(|&j| x[j].is_finite())
            .collect();
        let n = valid.len() as f64;
        let nan = f64::NAN;
        let enough = valid.len() >= min_periods;
        let values: Vec<f64> = valid.iter().map(|&j| x[j]).collect();
        let days: Vec<f64> = valid.iter().map(|&j| t[j] as f64 / DAY_NS as f64).collect();
        let mean = values.iter().sum::<f64>() / n;
        let day_mean = days.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let cxx: f64 = days.iter().map(|d| (d - day_mean).powi(2)).sum();
        let cxy: f64 = (days.iter().zip(&values))
            .map(|(d, v)| (d - day_mean) * (v - mean))
            .sum();
        let (first, last) = (valid.first().copied(), valid.last().copied());
        let ends = |f: &dyn Fn(usize, usize) -> f64| match (enough, first, last) {
            (true, Some(a), Some(b)) => f(a, b),
            _ => nan,
        };
        let (mut sum, mut weight, mut count) = (0.0, 0.0, 0);
        for (k, &j) in upto.iter().enumerate() {
            if k > 0 {
                let decay = (-((t[j] - t[upto[k - 1]]) as f64) / window as f64).exp2();
                sum *= decay;
                weight *= decay;
            }
            if x[j].is_finite() {
                sum += x[j];
                weight += 1.0;
                count += 1;
            }
        }
        let when = |v: f64| if enough { v } else { nan };
        Stat::ALL
            .iter()
            .map(|stat| match stat {
                Stat::Mean => when(mean),
                Stat::Sum => when(values.iter().sum()),
                Stat::Std if valid.len() >= 2 => when(var.sqrt()),
                Stat::Std => nan,
                Stat::Min => when(values.iter().copied().fold(f64::INFINITY, f64::min)),
                Stat::Max => when(values.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
                Stat::Count if in_window.len() >= min_periods => n,
                Stat::Count => nan,
                Stat::Slope if cxx > 0.0 => when(cxy / cxx),
                Stat::Slope => nan,
                Stat::PctChange => ends(&|a, b| match x[a] != 0.0 {
                    true => (x[b] - x[a]) / x[a],
                    false => nan,
                }),
                Stat::Velocity => ends(&|a, b| match t[a] != t[b] {
                    true => (x[b] - x[a]) / ((t[b] - t[a]) as f64 / DAY_NS as f64),
                    false => nan,
                }),
                Stat::Change => ends(&|a, b| x[b] - x[a]),
                Stat::EwmMean if count >= min_periods => sum / weight,
                Stat::EwmMean => nan,
            })
            .collect()
    }

    #[test]
    fn windows_given_in_nanoseconds_get_readable_labels() {
        let label = |text: &str| Window::parse(text).unwrap().label;
        assert_eq!(label("604800000000000ns"), "7d");
        assert_eq!(label("129600000000000ns"), "36h");
        assert_eq!(label("5400000000000ns"), "90m");
        assert_eq!(label("1500ns"), "1500ns");
        assert_eq!(label("7D"), "7d");
        assert_eq!(label("1.5h"), "1.5h");
    }

    #[test]
    fn every_statistic_matches_its_windows_written_out() {
        let mut rng = Rng::new(3);
        for round in 0..6 {
            let case = case(&mut rng, 300, 1 + round * 3);
            let min_periods = 1 + round as usize % 3;
            let out = run(&case, Stat::ALL, &["1d", "3.5d", "20d"], min_periods);
            for c in 0..case.columns.len() {
                for (w, window) in [DAY_NS, 7 * DAY_NS / 2, 20 * DAY_NS]
                    .into_iter()
                    .enumerate()
                {
                    for (i, _) in case.keys.iter().enumerate() {
                        let expected = brute_force(&case, c, window, min_periods, i);
                        for (s, stat) in Stat::ALL.iter().enumerate() {
                            let got = out[(c * 3 + w) * Stat::ALL.len() + s][i];
                            let want = expected[s];
                            let close = (got - want).abs() <= 1e-9 * want.abs().max(1.0);
                            assert!(
                                close || (got.is_nan() && want.is_nan()),
                                "{stat:?} column {c} window {w} row {i}: {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
    }

    fn bits(values: &[f64]) -> Vec<u64> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn a_columns_bits_do_not_depend_on_the_columns_beside_it() {
        let mut rng = Rng::new(5);
        let case = case(&mut rng, 5_000, 30);
        let stats = [Stat::Mean, Stat::Std, Stat::Slope, Stat::Sum, Stat::Max];
        let together = run(&case, &stats, &["2d", "9d"], 2);
        // Each column alone, and the complete column in lanes of one to four.
        for c in 0..case.columns.len() {
            let alone = Case {
                columns: vec![case.columns[c].clone()],
                ..clone(&case)
            };
            let out = run(&alone, &stats, &["2d", "9d"], 2);
            for (k, values) in out.iter().enumerate() {
                assert_eq!(
                    bits(values),
                    bits(&together[c * out.len() + k]),
                    "column {c}"
                );
            }
        }
        let complete = &case.columns[1];
        let alone = run(
            &Case {
                columns: vec![complete.clone()],
                ..clone(&case)
            },
            &stats,
            &["2d"],
            1,
        );
        for lanes in 2..=6 {
            let many = Case {
                columns: vec![complete.clone(); lanes],
                ..clone(&case)
            };
            let out = run(&many, &stats, &["2d"], 1);
            for (k, values) in out.iter().enumerate() {
                assert_eq!(
                    bits(values),
                    bits(&alone[k % alone.len()]),
                    "{lanes} columns"
                );
            }
        }
    }

    fn clone(case: &Case) -> Case {
        Case {
            keys: case.keys.clone(),
            times: case.times.clone(),
            columns: case.columns.clone(),
        }
    }

    #[test]
    fn rows_in_place_integers_and_rows_laid_out_give_the_same_bits() {
        let mut rng = Rng::new(9);
        let mut case = case(&mut rng, 4_000, 25);
        let integers: Vec<i64> = (0..4_000).map(|_| rng.below(1_000) as i64 - 500).collect();
        case.columns[2] = integers.iter().map(|&v| v as f64).collect();
        let windows = [Window::parse("3d").unwrap(), Window::parse("10d").unwrap()];
        let stats = Stat::ALL;
        let inputs = |integer: bool| -> Vec<ColumnInput<'_>> {
            let mut inputs: Vec<ColumnInput<'_>> = (case.columns.iter())
                .map(|values| ColumnInput::of_floats(Cow::Borrowed(values), stats))
                .collect();
            if integer {
                inputs[2] = ColumnInput {
                    values: Values::Integers(Cow::Borrowed(&integers)),
                    stats,
                };
            }
            inputs
        };
        let groups = Groups::from_keys(&case.keys).unwrap();
        let laid_out = Layout::new(&groups, &case.times);
        assert!(matches!(laid_out, Layout::Arranged(_)));
        let reference =
            rolling_inputs(&laid_out, (&case.times, 1), &inputs(false), &windows, 1).unwrap();
        let from_integers =
            rolling_inputs(&laid_out, (&case.times, 1), &inputs(true), &windows, 1).unwrap();
        // The same rows sorted by entity and time are read in place.
        let mut order: Vec<usize> = (0..case.keys.len()).collect();
        order.sort_by_key(|&j| (case.keys[j], case.times[j]));
        let sorted = Case {
            keys: order.iter().map(|&j| case.keys[j]).collect(),
            times: order.iter().map(|&j| case.times[j]).collect(),
            columns: case
                .columns
                .iter()
                .map(|c| order.iter().map(|&j| c[j]).collect())
                .collect(),
        };
        let groups = Groups::from_keys(&sorted.keys).unwrap();
        let in_place = Layout::new(&groups, &sorted.times);
        assert!(matches!(in_place, Layout::Presorted { .. }));
        let sorted_inputs: Vec<ColumnInput<'_>> = (sorted.columns.iter())
            .map(|values| ColumnInput::of_floats(Cow::Borrowed(values), stats))
            .collect();
        let read_in_place =
            rolling_inputs(&in_place, (&sorted.times, 1), &sorted_inputs, &windows, 1).unwrap();
        for (k, values) in reference.iter().enumerate() {
            assert_eq!(
                bits(values),
                bits(&from_integers[k]),
                "output {k} from integers"
            );
            let put_back: Vec<f64> = {
                let mut back = vec![0.0; values.len()];
                for (position, &row) in order.iter().enumerate() {
                    back[row] = read_in_place[k][position];
                }
                back
            };
            assert_eq!(bits(values), bits(&put_back), "output {k} read in place");
        }
    }
}
