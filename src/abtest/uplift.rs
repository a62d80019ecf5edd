//! Uplift statistics: mergeable per-variant aggregates, then one row per (variant, metric)
//! with lifts, p-values and confidence intervals.

use rayon::prelude::*;

use super::cell_sums::{self, CellCodes};
use super::stats::{
    adjust_p_values, chi_square_gof, normal_test, relative_lift, two_proportion_ztest, welch_ttest,
    Correction, TestResult,
};
use crate::cpu::Isa;
use crate::error::{EcomkitError, Result};
use crate::frame::{labelled_codes, labels, F64Pieces, Frame, LabelledCodes};

/// Index of the metric value, the ratio denominator and the covariate in [`Moments`].
const Y: usize = 0;
const D: usize = 1;
const C: usize = 2;

/// Count, means and co-moments (Σ (a − ā)(b − b̄)) of up to three variables per unit:
/// mergeable exactly in the sense of Chan et al., so partial aggregates from several files
/// or partitions combine into what one pass over everything gives (to rounding).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    pub n: f64,
    pub mean: [f64; 3],
    pub comoment: [[f64; 3]; 3],
}

impl Default for Moments {
    fn default() -> Self {
        Self {
            n: 0.0,
            mean: [0.0; 3],
            comoment: [[0.0; 3]; 3],
        }
    }
}

impl Moments {
    /// Combine two disjoint sets of units.
    pub fn merge(&self, other: &Self) -> Self {
        if other.n == 0.0 {
            return *self;
        }
        if self.n == 0.0 {
            return *other;
        }
        let n = self.n + other.n;
        let delta: [f64; 3] = std::array::from_fn(|i| other.mean[i] - self.mean[i]);
        let weight = self.n * other.n / n;
        Self {
            n,
            mean: std::array::from_fn(|i| self.mean[i] + delta[i] * other.n / n),
            comoment: std::array::from_fn(|i| {
                std::array::from_fn(|j| {
                    self.comoment[i][j] + other.comoment[i][j] + delta[i] * delta[j] * weight
                })
            }),
        }
    }

    /// Sample covariance (ddof = 1) of variables `i` and `j`.
    pub fn cov(&self, i: usize, j: usize) -> f64 {
        self.comoment[i][j] / (self.n - 1.0)
    }
}

/// How a metric is computed from a unit's columns.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricKind {
    /// The mean of a column over units; 0/1 columns get the two-proportion z-test, others
    /// Welch's t. An optional pre-period covariate turns on CUPED.
    Mean {
        column: String,
        covariate: Option<String>,
    },
    /// Σ numerator / Σ denominator over units (e.g. clicks per impression), tested with
    /// the delta method.
    Ratio {
        numerator: String,
        denominator: String,
    },
}

/// A named metric.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSpec {
    pub name: String,
    pub kind: MetricKind,
}

/// One variant's (and segment's) aggregate of one metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricCell {
    pub moments: Moments,
    /// Every value seen is 0 or 1.
    pub binary: bool,
    /// Units left out because a value was NaN / null.
    pub missing: f64,
}

impl Default for MetricCell {
    fn default() -> Self {
        Self {
            moments: Moments::default(),
            binary: true,
            missing: 0.0,
        }
    }
}

impl MetricCell {
    fn merge(&self, other: &Self) -> Self {
        Self {
            moments: self.moments.merge(&other.moments),
            binary: self.binary && other.binary,
            missing: self.missing + other.missing,
        }
    }
}

/// Mergeable aggregates of an experiment: per segment (e.g. day; one segment `""` when
/// not split) and variant, the number of units and one [`MetricCell`] per metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregates {
    pub metrics: Vec<MetricSpec>,
    pub segments: Vec<String>,
    pub variants: Vec<String>,
    /// `units[segment][variant]`: rows (units) of the variant, for the sample-ratio check.
    pub units: Vec<Vec<f64>>,
    /// `cells[segment][variant][metric]`.
    pub cells: Vec<Vec<Vec<MetricCell>>>,
    /// Why a metric has no p-value whatever the data (e.g. no squared sums were given).
    pub notes: Vec<(String, String)>,
}

/// Rows per piece of the parallel aggregation. Pieces are fixed, and merged in order, so
/// the result does not depend on the number of threads.
const PIECE: usize = 1 << 13;
/// Pieces per parallel task (a block is aggregated serially).
const BLOCK: usize = 64;

impl Aggregates {
    /// Aggregate unit-level rows (one per user): `variant_col` names the arm, `segment_col`
    /// an optional split (e.g. the day), `metrics` what to measure.
    pub fn from_units(
        frame: &Frame,
        variant_col: &str,
        segment_col: Option<&str>,
        metrics: &[MetricSpec],
    ) -> Result<Self> {
        if metrics.is_empty() {
            return Err(EcomkitError::invalid_value(
                "metrics",
                "expected at least one metric",
            ));
        }
        let mut names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(EcomkitError::invalid_value(
                "metrics",
                format!("metric '{}' is given twice", w[0]),
            ));
        }
        let (variant_source, variants) = labelled_codes(frame, variant_col, "variant")?;
        if variants.is_empty() {
            return Err(EcomkitError::invalid_value(
                "variant",
                format!("column '{variant_col}' has no non-null values"),
            ));
        }
        let n_variants = variants.len();
        // One cell per (segment, variant); u32::MAX for a row left out (null key).
        let (source, segments) = match segment_col {
            None => (variant_source, vec![String::new()]),
            Some(column) => {
                let variant_codes = variant_source.materialize(frame.num_rows());
                let (segment_codes, segments) = labels(frame, column, "segment")?;
                let cells = variant_codes
                    .iter()
                    .zip(&segment_codes)
                    .map(|(&v, &s)| {
                        if v == u32::MAX || s == u32::MAX {
                            u32::MAX
                        } else {
                            s * n_variants as u32 + v
                        }
                    })
                    .collect();
                (LabelledCodes::Codes(cells), segments)
            }
        };
        let n_cells = n_variants * segments.len();
        let columns = metrics
            .iter()
            .map(|metric| MetricColumns::new(frame, metric))
            .collect::<Result<Vec<_>>>()?;
        // One pass over the rows in fixed blocks of pieces: each piece maps its cells once,
        // puts its rows in cell order, and aggregates every metric while it is in cache.
        // Pieces merge in order within a block, and blocks in order, so the result does
        // not depend on the number of threads, and memory does not grow with the rows.
        let n_rows = frame.num_rows();
        let n_pieces = n_rows.div_ceil(PIECE);
        // Few cells: sum each piece's rows under a mask per cell; otherwise (or if a value
        // is not finite) sort the rows by cell.
        let masked = (n_cells <= cell_sums::MAX_CELLS).then(Isa::detect);
        let blocks: Vec<CellTotals> = (0..n_pieces.div_ceil(BLOCK))
            .into_par_iter()
            .map_init(PieceBuffers::default, |buffers, block| {
                let mut totals = CellTotals::new(n_cells, columns.len());
                for piece in block * BLOCK..((block + 1) * BLOCK).min(n_pieces) {
                    let rows = piece * PIECE..((piece + 1) * PIECE).min(n_rows);
                    let PieceBuffers {
                        cells,
                        order,
                        codes,
                        metric,
                    } = buffers;
                    let cells = source.get(rows.clone(), cells);
                    if let Some(isa) = masked {
                        let codes = CellCodes::new(isa, cells, n_cells, codes);
                        let mut per_metric = Vec::with_capacity(columns.len());
                        for (column, so_far) in columns.iter().zip(&totals.per_metric) {
                            let cells =
                                match column.aggregate_masked(&codes, so_far, rows.clone(), metric)
                                {
                                    Some(cells) => cells,
                                    None => {
                                        // A value is not finite: sort the rows after all.
                                        let piece = CellOrder::new(cells, n_cells, order);
                                        column.aggregate(&piece, rows.clone(), metric)
                                    }
                                };
                            per_metric.push(cells);
                        }
                        totals.add(&CellTotals {
                            counts: codes.counts,
                            per_metric,
                        });
                        continue;
                    }
                    let piece = CellOrder::new(cells, n_cells, order);
                    totals.add(&CellTotals {
                        counts: (0..n_cells).map(|g| piece.len(g) as u64).collect(),
                        per_metric: columns
                            .iter()
                            .map(|c| c.aggregate(&piece, rows.clone(), metric))
                            .collect(),
                    });
                }
                totals
            })
            .collect();
        let mut totals = CellTotals::new(n_cells, metrics.len());
        for block in &blocks {
            totals.add(block);
        }
        let CellTotals { counts, per_metric } = totals;
        let units: Vec<Vec<f64>> = counts
            .chunks(n_variants)
            .map(|segment| segment.iter().map(|&c| c as f64).collect())
            .collect();
        let cells = (0..segments.len())
            .map(|s| {
                (0..n_variants)
                    .map(|v| per_metric.iter().map(|m| m[s * n_variants + v]).collect())
                    .collect()
            })
            .collect();
        Ok(Self {
            metrics: metrics.to_vec(),
            segments,
            variants,
            units,
            cells,
            notes: Vec::new(),
        })
    }

    /// Aggregates from the seed's summary frame: rows of `variant_col` with `impressions`,
    /// `clicks`, `conversions`, `gmv`, `spend` and optionally `gmv_sq`, `roas`, `roas_sq`
    /// (sums over impressions; several rows per variant are added up). Metrics: `ctr`
    /// (clicks / impressions), `cr` (conversions / clicks), `gmv_per_impression`, `roas`.
    pub fn from_summary(frame: &Frame, variant_col: &str) -> Result<Self> {
        let (codes, variants) = labels(frame, variant_col, "variant")?;
        let has = |name: &str| frame.schema().index_of(name).is_ok();
        let sums = |name: &str| -> Result<Vec<f64>> {
            let values = frame.column(name, "frame")?.to_f64("frame")?;
            let mut sums = vec![0.0; variants.len()];
            for (&code, &x) in codes.iter().zip(values.iter()) {
                if code != u32::MAX {
                    if !x.is_finite() {
                        return Err(EcomkitError::invalid_value(
                            "frame",
                            format!(
                                "column '{name}' has a missing or infinite value ({x}); a \
                                 summary needs every sum, each a finite number"
                            ),
                        ));
                    }
                    sums[code as usize] += x;
                }
            }
            Ok(sums)
        };
        let optional = |name: &str| -> Result<Option<Vec<f64>>> {
            if has(name) {
                sums(name).map(Some)
            } else {
                Ok(None)
            }
        };
        let impressions = sums("impressions")?;
        let clicks = sums("clicks")?;
        let conversions = sums("conversions")?;
        let gmv = sums("gmv")?;
        let spend = sums("spend")?;
        let gmv_sq = optional("gmv_sq")?;
        let roas = optional("roas")?;
        let roas_sq = optional("roas_sq")?;
        for (name, counts) in [
            ("impressions", &impressions),
            ("clicks", &clicks),
            ("conversions", &conversions),
        ] {
            if counts.iter().any(|&c| c < 0.0) {
                return Err(EcomkitError::invalid_value(
                    "frame",
                    format!("column '{name}' must not be negative"),
                ));
            }
        }
        for (v, variant) in variants.iter().enumerate() {
            if clicks[v] > impressions[v] || conversions[v] > clicks[v] {
                return Err(EcomkitError::invalid_value(
                    "frame",
                    format!(
                        "variant '{variant}': expected conversions <= clicks <= impressions, got {} <= {} <= {}",
                        conversions[v], clicks[v], impressions[v]
                    ),
                ));
            }
        }
        let proportion = |successes: f64, trials: f64| {
            let p = successes / trials;
            mean_cell(trials, p, successes * (1.0 - p), true)
        };
        let mean_of = |sum: f64, sum_sq: Option<f64>, n: f64| {
            let mean = sum / n;
            let m2 = sum_sq.map_or(f64::NAN, |sq| non_negative(sq - sum * mean));
            mean_cell(n, mean, m2, false)
        };
        let mut notes = Vec::new();
        if gmv_sq.is_none() {
            notes.push((
                "gmv_per_impression".into(),
                "no p-value: the frame has no gmv_sq column (sum of squared GMV per impression)"
                    .into(),
            ));
        }
        let roas_kind = if roas.is_some() {
            if roas_sq.is_none() {
                notes.push((
                    "roas".into(),
                    "no p-value: the frame has a roas column but no roas_sq".into(),
                ));
            }
            "mean"
        } else {
            notes.push(("roas".into(), "no p-value: ROAS is gmv / spend here; a test needs per-impression roas and roas_sq sums".into()));
            "ratio"
        };
        let cells: Vec<Vec<MetricCell>> = (0..variants.len())
            .map(|v| {
                let n = impressions[v];
                let roas_cell = match (&roas, roas_kind) {
                    (Some(roas), _) => mean_of(roas[v], roas_sq.as_ref().map(|s| s[v]), n),
                    _ => {
                        let mut cell = mean_cell(n, gmv[v] / n, f64::NAN, false);
                        cell.moments.mean[D] = spend[v] / n;
                        cell.moments.comoment = [[f64::NAN; 3]; 3];
                        cell
                    }
                };
                vec![
                    proportion(clicks[v], impressions[v]),
                    proportion(conversions[v], clicks[v]),
                    mean_of(gmv[v], gmv_sq.as_ref().map(|s| s[v]), n),
                    roas_cell,
                ]
            })
            .collect();
        let mean = |name: &str, column: &str| MetricSpec {
            name: name.into(),
            kind: MetricKind::Mean {
                column: column.into(),
                covariate: None,
            },
        };
        let ratio = |name: &str, numerator: &str, denominator: &str| MetricSpec {
            name: name.into(),
            kind: MetricKind::Ratio {
                numerator: numerator.into(),
                denominator: denominator.into(),
            },
        };
        let metrics = vec![
            mean("ctr", "clicks"),
            mean("cr", "conversions"),
            mean("gmv_per_impression", "gmv"),
            if roas_kind == "mean" {
                mean("roas", "roas")
            } else {
                ratio("roas", "gmv", "spend")
            },
        ];
        Ok(Self {
            metrics,
            segments: vec![String::new()],
            units: vec![impressions.clone()],
            variants,
            cells: vec![cells],
            notes,
        })
    }

    /// Combine with aggregates of other units (another file, partition or day range).
    /// Variants, segments and metrics are matched by name.
    pub fn merge(&self, other: &Self) -> Result<Self> {
        if self.metrics != other.metrics {
            return Err(EcomkitError::invalid_value(
                "other",
                "aggregates of different metrics cannot be merged",
            ));
        }
        let mut merged = self.clone();
        for (s_other, segment) in other.segments.iter().enumerate() {
            let s = index_or_push(&mut merged.segments, segment);
            if s == merged.cells.len() {
                merged.cells.push(vec![
                    vec![MetricCell::default(); merged.metrics.len()];
                    merged.variants.len()
                ]);
                merged.units.push(vec![0.0; merged.variants.len()]);
            }
            for (v_other, variant) in other.variants.iter().enumerate() {
                let v = index_or_push(&mut merged.variants, variant);
                if v == merged.cells[s].len() {
                    for (cells, units) in merged.cells.iter_mut().zip(merged.units.iter_mut()) {
                        cells.push(vec![MetricCell::default(); merged.metrics.len()]);
                        units.push(0.0);
                    }
                }
                merged.units[s][v] += other.units[s_other][v_other];
                for (m, cell) in other.cells[s_other][v_other].iter().enumerate() {
                    merged.cells[s][v][m] = merged.cells[s][v][m].merge(cell);
                }
            }
        }
        for note in &other.notes {
            if !merged.notes.contains(note) {
                merged.notes.push(note.clone());
            }
        }
        Ok(merged)
    }

    /// All segments merged into one.
    pub fn total(&self) -> Self {
        let n_variants = self.variants.len();
        let mut cells = vec![vec![MetricCell::default(); self.metrics.len()]; n_variants];
        let mut units = vec![0.0; n_variants];
        for (segment_cells, segment_units) in self.cells.iter().zip(&self.units) {
            for v in 0..n_variants {
                units[v] += segment_units[v];
                for (m, cell) in segment_cells[v].iter().enumerate() {
                    cells[v][m] = cells[v][m].merge(cell);
                }
            }
        }
        Self {
            metrics: self.metrics.clone(),
            segments: vec![String::new()],
            variants: self.variants.clone(),
            units: vec![units],
            cells: vec![cells],
            notes: self.notes.clone(),
        }
    }
}

/// Rounding can push a variance a hair below 0; NaN (unknown) stays NaN.
fn non_negative(x: f64) -> f64 {
    if x < 0.0 {
        0.0
    } else {
        x
    }
}

fn index_or_push(names: &mut Vec<String>, name: &str) -> usize {
    match names.iter().position(|n| n == name) {
        Some(i) => i,
        None => {
            names.push(name.to_string());
            names.len() - 1
        }
    }
}

fn mean_cell(n: f64, mean: f64, m2: f64, binary: bool) -> MetricCell {
    let mut moments = Moments {
        n,
        ..Moments::default()
    };
    moments.mean[Y] = mean;
    moments.comoment[Y][Y] = m2;
    MetricCell {
        moments,
        binary,
        missing: 0.0,
    }
}

/// One metric's columns, read piece by piece.
struct MetricColumns<'a> {
    y: F64Pieces<'a>,
    d: Option<F64Pieces<'a>>,
    c: Option<F64Pieces<'a>>,
}

impl<'a> MetricColumns<'a> {
    fn new(frame: &'a Frame, metric: &'a MetricSpec) -> Result<Self> {
        let pieces =
            |name: &'a str, argument: &str| frame.column(name, argument)?.f64_pieces(argument);
        Ok(match &metric.kind {
            MetricKind::Mean { column, covariate } => Self {
                y: pieces(column, "metrics")?,
                d: None,
                c: covariate
                    .as_deref()
                    .map(|c| pieces(c, "covariates"))
                    .transpose()?,
            },
            MetricKind::Ratio {
                numerator,
                denominator,
            } => Self {
                y: pieces(numerator, "metrics")?,
                d: Some(pieces(denominator, "metrics")?),
                c: None,
            },
        })
    }

    /// Each cell's [`MetricCell`] over a piece with few cells, or `None` if a value in the
    /// piece is NaN or infinite.
    fn aggregate_masked(
        &self,
        codes: &CellCodes,
        so_far: &[MetricCell],
        rows: std::ops::Range<usize>,
        scratch: &mut MetricScratch,
    ) -> Option<Vec<MetricCell>> {
        let [y_values, other_values] = &mut scratch.values;
        let y = self.y.get(rows.clone(), y_values);
        match (&self.d, &self.c) {
            (Some(d), _) => {
                masked_moments::<true, false>(codes, [y, d.get(rows, other_values), y], so_far)
            }
            (None, Some(c)) => {
                masked_moments::<false, true>(codes, [y, y, c.get(rows, other_values)], so_far)
            }
            (None, None) => masked_moments::<false, false>(codes, [y, y, y], so_far),
        }
    }

    fn aggregate(
        &self,
        piece: &CellOrder,
        rows: std::ops::Range<usize>,
        scratch: &mut MetricScratch,
    ) -> Vec<MetricCell> {
        let MetricScratch { values, gathered } = scratch;
        let [y_values, other_values] = values;
        let [y_gathered, other_gathered] = gathered;
        let y = piece.gather(self.y.get(rows.clone(), y_values), y_gathered);
        match (&self.d, &self.c) {
            (Some(d), _) => {
                let d = piece.gather(d.get(rows, other_values), other_gathered);
                piece.moments::<true, false>(y, d, y)
            }
            (None, Some(c)) => {
                let c = piece.gather(c.get(rows, other_values), other_gathered);
                piece.moments::<false, true>(y, y, c)
            }
            (None, None) => piece.moments::<false, false>(y, y, y),
        }
    }
}

/// Rows per cell and each metric's [`MetricCell`] per cell, over a piece, a block of
/// pieces, or everything.
struct CellTotals {
    counts: Vec<u64>,
    per_metric: Vec<Vec<MetricCell>>,
}

impl CellTotals {
    fn new(n_cells: usize, n_metrics: usize) -> Self {
        Self {
            counts: vec![0; n_cells],
            per_metric: vec![vec![MetricCell::default(); n_cells]; n_metrics],
        }
    }

    /// Merge in the totals of rows that come after these.
    fn add(&mut self, other: &Self) {
        for (total, count) in self.counts.iter_mut().zip(&other.counts) {
            *total += count;
        }
        for (totals, cells) in self.per_metric.iter_mut().zip(&other.per_metric) {
            for (total, cell) in totals.iter_mut().zip(cells) {
                *total = total.merge(cell);
            }
        }
    }
}

/// Scratch space of one worker, reused from piece to piece.
#[derive(Default)]
struct PieceBuffers {
    cells: Vec<u32>,
    order: Vec<u32>,
    codes: Vec<f64>,
    metric: MetricScratch,
}

/// A metric's columns for one piece: as read, and gathered in cell order.
#[derive(Default)]
struct MetricScratch {
    values: [Vec<f64>; 2],
    gathered: [Vec<f64>; 2],
}

/// A piece's rows grouped by cell (variant × segment) with a stable counting sort, so that
/// each cell's values can be gathered into one contiguous run and summed with plain SIMD
/// arithmetic, with no per-row lookups or branches.
struct CellOrder<'a> {
    /// Row offsets within the piece, cell by cell; rows without a cell are left out.
    rows: &'a [u32],
    /// `starts[g]..starts[g + 1]`: the run of cell `g` in `rows`.
    starts: Vec<usize>,
}

impl<'a> CellOrder<'a> {
    fn new(cells: &[u32], n_cells: usize, buffer: &'a mut Vec<u32>) -> Self {
        let mut starts = vec![0usize; n_cells + 1];
        for &cell in cells.iter().filter(|&&c| c != u32::MAX) {
            starts[cell as usize + 1] += 1;
        }
        for g in 0..n_cells {
            starts[g + 1] += starts[g];
        }
        buffer.clear();
        buffer.resize(starts[n_cells], 0);
        let mut next = starts.clone();
        for (row, &cell) in cells.iter().enumerate() {
            if cell != u32::MAX {
                let at = &mut next[cell as usize];
                buffer[*at] = row as u32;
                *at += 1;
            }
        }
        Self {
            rows: buffer,
            starts,
        }
    }

    /// Rows of `cell` in the piece.
    fn len(&self, cell: usize) -> usize {
        self.starts[cell + 1] - self.starts[cell]
    }

    /// `values` of the piece's rows in cell order, into `out`.
    fn gather<'v>(&self, values: &[f64], out: &'v mut Vec<f64>) -> &'v [f64] {
        out.clear();
        out.extend(self.rows.iter().map(|&row| values[row as usize]));
        out
    }

    /// Each cell's [`MetricCell`] from the gathered columns.
    fn moments<const WITH_D: bool, const WITH_C: bool>(
        &self,
        y: &[f64],
        d: &[f64],
        c: &[f64],
    ) -> Vec<MetricCell> {
        self.starts
            .windows(2)
            .map(|run| {
                let run = run[0]..run[1];
                let (y, d, c) = (&y[run.clone()], &d[run.clone()], &c[run]);
                run_moments::<WITH_D, WITH_C>(y, d, c)
                    .unwrap_or_else(|| run_moments_with_missing::<WITH_D, WITH_C>(y, d, c))
            })
            .collect()
    }
}

/// Each cell's [`MetricCell`] over a piece with few cells, or `None` if a value of the
/// piece is not finite. `so_far` holds the cells of the rows before
/// this piece: their means are the shifts of the one-pass sums (see [`cell_sums`]).
fn masked_moments<const WITH_D: bool, const WITH_C: bool>(
    codes: &CellCodes,
    columns: [&[f64]; 3],
    so_far: &[MetricCell],
) -> Option<Vec<MetricCell>> {
    // Whether a cell is 0/1 only needs checking while it still is so far.
    let check_binary = so_far.iter().any(|cell| cell.binary);
    let mut shift: Vec<[f64; 3]> = so_far.iter().map(|cell| cell.moments.mean).collect();
    let counts = so_far.iter().zip(&codes.counts);
    if counts
        .clone()
        .any(|(cell, &count)| count > 0 && cell.moments.n == 0.0)
    {
        // A cell has no mean to shift by yet: take this piece's means first (two passes).
        let sums = codes.sums::<WITH_D, WITH_C>(columns, &shift, false)?;
        for ((shift, sums), &count) in shift.iter_mut().zip(&sums).zip(&codes.counts) {
            if count > 0 {
                *shift = std::array::from_fn(|i| shift[i] + sums.sum[i] / count as f64);
            }
        }
    }
    let sums = codes.sums::<WITH_D, WITH_C>(columns, &shift, check_binary)?;
    let cells = sums.iter().zip(&shift).zip(&codes.counts).zip(so_far);
    Some(
        cells
            .map(|(((sums, shift), &count), so_far)| {
                if count == 0 {
                    return MetricCell::default();
                }
                let n = count as f64;
                let [sy, sd, sc] = sums.sum;
                let [yy, dd, cc, yd, yc] = sums.products;
                MetricCell {
                    moments: Moments {
                        n,
                        mean: std::array::from_fn(|i| shift[i] + sums.sum[i] / n),
                        comoment: [
                            [yy - sy * sy / n, yd - sy * sd / n, yc - sy * sc / n],
                            [yd - sy * sd / n, dd - sd * sd / n, 0.0],
                            [yc - sy * sc / n, 0.0, cc - sc * sc / n],
                        ],
                    },
                    binary: if check_binary && so_far.binary {
                        sums.odd == 0.0
                    } else {
                        false
                    },
                    missing: 0.0,
                }
            })
            .collect(),
    )
}

/// Accumulators per lane: a run is summed in `LANES` interleaved partial sums (which the
/// compiler turns into SIMD), added up in a fixed order so results repeat exactly.
const LANES: usize = 4;

/// A run's count, means, then co-moments about the means (two passes over data in cache:
/// numerically stable, unlike sums of squares), or `None` if a used value is not finite.
/// Arithmetic only, no branches, so both passes vectorise. `WITH_D` / `WITH_C`: whether
/// the ratio denominator `d` / the covariate `c` take part (otherwise they are ignored).
fn run_moments<const WITH_D: bool, const WITH_C: bool>(
    y: &[f64],
    d: &[f64],
    c: &[f64],
) -> Option<MetricCell> {
    // Pass 1: sums, Σ |y (y − 1)| (0 only for a 0/1 column) and Σ 0·v (NaN once a value
    // is NaN or infinite).
    let mut sums = [[0.0f64; LANES]; 3];
    let mut odd = [0.0f64; LANES];
    let mut poisoned = [0.0f64; LANES];
    for_rows([y, d, c], |k, [y, d, c]| {
        sums[Y][k] += y;
        odd[k] += (y * (y - 1.0)).abs();
        poisoned[k] += y * 0.0;
        if WITH_D {
            sums[D][k] += d;
            poisoned[k] += d * 0.0;
        }
        if WITH_C {
            sums[C][k] += c;
            poisoned[k] += c * 0.0;
        }
    });
    if add_lanes(&poisoned) != 0.0 {
        return None;
    }
    let count = y.len() as f64;
    let mean = if y.is_empty() {
        [0.0; 3]
    } else {
        sums.map(|s| add_lanes(&s) / count)
    };
    // Pass 2: co-moments yy, dd, cc, yd, yc.
    let mut co = [[0.0f64; LANES]; 5];
    for_rows([y, d, c], |k, [y, d, c]| {
        let dy = y - mean[Y];
        co[0][k] += dy * dy;
        if WITH_D {
            let dd = d - mean[D];
            co[1][k] += dd * dd;
            co[3][k] += dy * dd;
        }
        if WITH_C {
            let dc = c - mean[C];
            co[2][k] += dc * dc;
            co[4][k] += dy * dc;
        }
    });
    let [yy, dd, cc, yd, yc] = co.map(|lanes| add_lanes(&lanes));
    Some(MetricCell {
        moments: Moments {
            n: count,
            mean,
            comoment: [[yy, yd, yc], [yd, dd, 0.0], [yc, 0.0, cc]],
        },
        binary: add_lanes(&odd) == 0.0,
        missing: 0.0,
    })
}

/// [`run_moments`] for a run with NaN / infinite values: the units with one are left out
/// of the metric (counted as missing), the others summed as usual. Only runs that have
/// such values come here.
fn run_moments_with_missing<const WITH_D: bool, const WITH_C: bool>(
    y: &[f64],
    d: &[f64],
    c: &[f64],
) -> MetricCell {
    let used = |i: usize| finite(y[i]) && (!WITH_D || finite(d[i])) && (!WITH_C || finite(c[i]));
    let kept: Vec<usize> = (0..y.len()).filter(|&i| used(i)).collect();
    let pick = |column: &[f64]| -> Vec<f64> { kept.iter().map(|&i| column[i]).collect() };
    let y_kept = pick(y);
    let d_kept = WITH_D.then(|| pick(d));
    let c_kept = WITH_C.then(|| pick(c));
    let d_kept = d_kept.as_deref().unwrap_or(&y_kept);
    let c_kept = c_kept.as_deref().unwrap_or(&y_kept);
    let mut cell = run_moments::<WITH_D, WITH_C>(&y_kept, d_kept, c_kept)
        .expect("only finite values were kept");
    cell.missing = (y.len() - kept.len()) as f64;
    cell
}

/// Calls `step(lane, [column[i] for each column])` for every row `i` (as many as the first
/// column has), in blocks of `LANES` rows with the lane fixed, so the compiler can vectorise.
#[inline(always)]
fn for_rows<const N: usize>(columns: [&[f64]; N], mut step: impl FnMut(usize, [f64; N])) {
    let len = columns[0].len();
    let full = len - len % LANES;
    let columns = columns.map(|column| &column[..len]);
    for start in (0..full).step_by(LANES) {
        let blocks = columns.map(|column| &column[start..start + LANES]);
        for k in 0..LANES {
            step(k, blocks.map(|block| block[k]));
        }
    }
    for i in full..len {
        step(i - full, columns.map(|column| column[i]));
    }
}

fn finite(v: f64) -> bool {
    v.abs() < f64::INFINITY
}

fn add_lanes(lanes: &[f64; LANES]) -> f64 {
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
}

/// Options of [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluateOptions {
    pub control: String,
    pub alpha: f64,
    pub correction: Option<Correction>,
    /// Planned traffic share of each variant (in the order of `Aggregates::variants`) for
    /// the sample-ratio check; `None` = equal.
    pub expected_weights: Option<Vec<f64>>,
}

/// One row of the report: a non-control variant against the control on one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct UpliftRow {
    pub segment: String,
    pub variant: String,
    pub metric: String,
    pub n: f64,
    pub control_n: f64,
    pub value: f64,
    pub control_value: f64,
    pub abs_lift: f64,
    pub rel_lift: f64,
    pub p_value: f64,
    pub p_value_adjusted: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub rel_ci_low: f64,
    pub rel_ci_high: f64,
    /// `two_proportion_z`, `welch_t`, `delta_z`, or `welch_t_cuped`.
    pub test: String,
    /// CUPED: 1 − variance of the adjusted lift / variance of the raw lift; NaN otherwise.
    pub variance_reduction: f64,
    /// Why a value is missing, when one is.
    pub note: String,
}

/// The sample-ratio-mismatch check of one segment.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRatio {
    pub segment: String,
    pub observed: Vec<f64>,
    pub expected: Vec<f64>,
    pub statistic: f64,
    pub p_value: f64,
}

/// The whole evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub rows: Vec<UpliftRow>,
    pub sample_ratio: Vec<SampleRatio>,
}

/// Estimate and its standard error for one variant's metric, possibly CUPED-adjusted.
struct Estimate {
    value: f64,
    se: f64,
    n: f64,
    cell: MetricCell,
    /// Adjusted (CUPED) variance of one unit, and the raw one.
    var: f64,
    raw_var: f64,
}

/// Evaluate every segment of `aggregates`: each non-control variant against the control on
/// each metric; p-values corrected across the rows of a segment.
pub fn evaluate(aggregates: &Aggregates, options: &EvaluateOptions) -> Result<Report> {
    if !(options.alpha > 0.0 && options.alpha < 1.0) {
        return Err(EcomkitError::invalid_value(
            "alpha",
            format!("expected 0 < alpha < 1, got {}", options.alpha),
        ));
    }
    let Some(control) = aggregates
        .variants
        .iter()
        .position(|v| *v == options.control)
    else {
        return Err(EcomkitError::invalid_value(
            "control_variant",
            format!(
                "'{}' is not among the variants [{}]",
                options.control,
                aggregates
                    .variants
                    .iter()
                    .map(|v| format!("'{v}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    if aggregates.variants.len() < 2 {
        return Err(EcomkitError::invalid_value(
            "frame",
            "expected at least one variant besides the control",
        ));
    }
    let weights = match &options.expected_weights {
        Some(w) => w.clone(),
        None => vec![1.0; aggregates.variants.len()],
    };
    let mut rows = Vec::new();
    let mut sample_ratio = Vec::new();
    for (s, segment) in aggregates.segments.iter().enumerate() {
        let observed = aggregates.units[s].clone();
        let (statistic, p_value) = chi_square_gof(&observed, &weights)?;
        let total: f64 = observed.iter().sum();
        let weight_sum: f64 = weights.iter().sum();
        sample_ratio.push(SampleRatio {
            segment: segment.clone(),
            expected: weights.iter().map(|w| total * w / weight_sum).collect(),
            observed,
            statistic,
            p_value,
        });
        let first = rows.len();
        for (m, metric) in aggregates.metrics.iter().enumerate() {
            let cells: Vec<MetricCell> = aggregates.cells[s].iter().map(|c| c[m]).collect();
            let theta = cuped_theta(metric, &cells);
            let control_estimate = estimate(metric, &cells[control], &cells, theta);
            for (v, variant) in aggregates.variants.iter().enumerate() {
                if v == control {
                    continue;
                }
                let note = aggregates
                    .notes
                    .iter()
                    .find(|(name, _)| *name == metric.name)
                    .map(|(_, note)| note.clone());
                let treatment = estimate(metric, &cells[v], &cells, theta);
                rows.push(compare(
                    segment,
                    variant,
                    metric,
                    &treatment,
                    &control_estimate,
                    theta,
                    note,
                    options.alpha,
                ));
            }
        }
        let adjusted = adjust_p_values(
            &rows[first..].iter().map(|r| r.p_value).collect::<Vec<_>>(),
            options.correction,
        );
        for (row, p) in rows[first..].iter_mut().zip(adjusted) {
            row.p_value_adjusted = p;
        }
    }
    Ok(Report { rows, sample_ratio })
}

/// CUPED's θ = cov(y, x) / var(x), pooled over all variants; `None` without a covariate.
fn cuped_theta(metric: &MetricSpec, cells: &[MetricCell]) -> Option<f64> {
    let MetricKind::Mean {
        covariate: Some(_), ..
    } = &metric.kind
    else {
        return None;
    };
    let pooled = cells
        .iter()
        .fold(Moments::default(), |acc, c| acc.merge(&c.moments));
    let theta = pooled.comoment[Y][C] / pooled.comoment[C][C];
    Some(if theta.is_finite() { theta } else { 0.0 })
}

fn estimate(
    metric: &MetricSpec,
    cell: &MetricCell,
    all: &[MetricCell],
    theta: Option<f64>,
) -> Estimate {
    let m = &cell.moments;
    let n = m.n;
    let (value, var, raw_var) = match (&metric.kind, theta) {
        _ if n == 0.0 => (f64::NAN, f64::NAN, f64::NAN),
        (MetricKind::Ratio { .. }, _) => {
            let (y, d) = (m.mean[Y], m.mean[D]);
            let var = non_negative(
                m.cov(Y, Y) / (d * d) - 2.0 * y * m.cov(Y, D) / d.powi(3)
                    + y * y * m.cov(D, D) / d.powi(4),
            );
            (y / d, var, var)
        }
        (MetricKind::Mean { .. }, Some(theta)) => {
            let grand = all
                .iter()
                .fold(Moments::default(), |acc, c| acc.merge(&c.moments));
            let value = m.mean[Y] - theta * (m.mean[C] - grand.mean[C]);
            let raw_var = m.cov(Y, Y);
            let var =
                non_negative(raw_var - 2.0 * theta * m.cov(Y, C) + theta * theta * m.cov(C, C));
            (value, var, raw_var)
        }
        (MetricKind::Mean { .. }, None) => {
            let value = m.mean[Y];
            let var = if cell.binary {
                value * (1.0 - value)
            } else {
                m.cov(Y, Y)
            };
            (value, var, var)
        }
    };
    Estimate {
        value,
        se: (var / n).sqrt(),
        n,
        cell: *cell,
        var,
        raw_var,
    }
}

/// Whether a variance `var` (of values around `value`) cannot be trusted in float64: its
/// squares overflowed, or fell into (or below) the subnormal range, where they keep few
/// digits or none. A variance below 1e-290 needs values below about 1e-130 (doubles near
/// `x` differ by at least `x`·2.2e-16), so no variance of values in range is refused.
fn variance_out_of_range(var: f64, value: f64) -> bool {
    var == f64::INFINITY
        || (var > 0.0 && var < 1e-290)
        || (var == 0.0 && value != 0.0 && value.abs() < 1e-145)
}

#[allow(clippy::too_many_arguments)]
fn compare(
    segment: &str,
    variant: &str,
    metric: &MetricSpec,
    t: &Estimate,
    c: &Estimate,
    theta: Option<f64>,
    note: Option<String>,
    alpha: f64,
) -> UpliftRow {
    let binary = t.cell.binary && c.cell.binary;
    let (test, result): (&str, TestResult) = match (&metric.kind, theta) {
        (MetricKind::Ratio { .. }, _) => (
            "delta_z",
            normal_test(t.value - c.value, (t.se * t.se + c.se * c.se).sqrt(), alpha),
        ),
        (MetricKind::Mean { .. }, Some(_)) => (
            "welch_t_cuped",
            welch_ttest(t.value, t.var, t.n, c.value, c.var, c.n, alpha),
        ),
        (MetricKind::Mean { .. }, None) if binary => (
            "two_proportion_z",
            two_proportion_ztest(t.value * t.n, t.n, c.value * c.n, c.n, alpha),
        ),
        (MetricKind::Mean { .. }, None) => (
            "welch_t",
            welch_ttest(t.value, t.var, t.n, c.value, c.var, c.n, alpha),
        ),
    };
    let out_of_range = !binary && [t, c].iter().any(|e| variance_out_of_range(e.var, e.value));
    let result = match out_of_range {
        true => TestResult {
            p_value: f64::NAN,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
            ..result
        },
        false => result,
    };
    let (rel_lift, rel_ci_low, rel_ci_high) = match out_of_range {
        true => (t.value / c.value - 1.0, f64::NAN, f64::NAN),
        false => relative_lift(t.value, t.se, c.value, c.se, alpha),
    };
    let variance_reduction = match theta {
        Some(_) => {
            let adjusted = t.var / t.n + c.var / c.n;
            let raw = t.raw_var / t.n + c.raw_var / c.n;
            1.0 - adjusted / raw
        }
        None => f64::NAN,
    };
    let note = if t.n == 0.0 || c.n == 0.0 {
        format!(
            "no units with a value in {}",
            if c.n == 0.0 {
                "the control"
            } else {
                "this variant"
            }
        )
    } else if let Some(note) = note {
        note
    } else if out_of_range {
        "no p-value: the metric's squared deviations are outside float64's range (spreads \
         of about 1e154 or more, or 1e-145 or less); rescale the metric"
            .into()
    } else if result.p_value.is_nan() {
        if t.n < 2.0 || c.n < 2.0 {
            "no p-value: fewer than 2 units in an arm".into()
        } else if binary && t.value * t.n + c.value * c.n == 0.0 {
            "no p-value: no events in either arm".into()
        } else {
            "no p-value: zero variance in both arms".into()
        }
    } else if rel_lift.is_nan() {
        "no relative lift: the control value is 0".into()
    } else {
        String::new()
    };
    UpliftRow {
        segment: segment.to_string(),
        variant: variant.to_string(),
        metric: metric.name.clone(),
        n: t.n,
        control_n: c.n,
        value: t.value,
        control_value: c.value,
        abs_lift: result.diff,
        rel_lift,
        p_value: result.p_value,
        p_value_adjusted: f64::NAN,
        ci_low: result.ci_low,
        ci_high: result.ci_high,
        rel_ci_low,
        rel_ci_high,
        test: test.to_string(),
        variance_reduction,
        note,
    }
}
