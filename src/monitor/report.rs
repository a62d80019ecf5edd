//! Drift of whole frames: one [`drift_test`] per column (and per group of `by`), with the
//! method Evidently's `DataDriftPreset` would pick, gathered into one table.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, UInt64Array};
use rayon::prelude::*;

use super::drift::{drift_test, DriftOptions, Method};
use super::{frame_columns, numbers_as_categories, Column, Values};
use crate::error::{EcomkitError, Result};
use crate::frame::{id_texts, Frame};

/// Integer columns with at most this many distinct current values are categorical, as
/// Evidently infers column types (`INTEGER_CARDINALITY_LIMIT`).
pub const INTEGER_CATEGORY_LIMIT: usize = 10;

/// Up to this many reference values, `auto` picks tests (KS, chi-squared, z); above it,
/// distances (Wasserstein, Jensen–Shannon).
pub const SMALL_REFERENCE: usize = 1000;

/// Whether a column is read as numbers or as categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Numeric,
    Categorical,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Numeric => "numeric",
            Kind::Categorical => "categorical",
        }
    }
}

/// The method Evidently's `DataDriftPreset` picks for a column: with at most
/// [`SMALL_REFERENCE`] reference values, KS for numeric columns of more than 5 distinct
/// values (over both samples), else chi-squared (more than 2 values) or the z test; with
/// more, normed Wasserstein for numeric columns of more than 5 distinct values, else
/// Jensen–Shannon.
pub fn auto_method(kind: Kind, n_reference: usize, n_distinct: usize) -> Method {
    let many_numbers = kind == Kind::Numeric && n_distinct > 5;
    match (n_reference <= SMALL_REFERENCE, many_numbers) {
        (true, true) => Method::Ks,
        (true, false) if n_distinct > 2 => Method::ChiSquare,
        (true, false) => Method::ZTest,
        (false, true) => Method::Wasserstein,
        (false, false) => Method::JensenShannon,
    }
}

/// One column to compare: its method (`None`: [`auto_method`]) and threshold (`None`: the
/// method's default).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub column: String,
    pub method: Option<Method>,
    pub threshold: Option<f64>,
}

/// The drift of one column (in one group).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDrift {
    pub column: String,
    pub kind: Kind,
    /// `None` when a side has no values (then the statistic is NaN and `message` says why).
    pub method: Option<Method>,
    pub statistic: f64,
    pub pvalue: f64,
    pub threshold: f64,
    pub drifted: bool,
    pub n_reference: usize,
    pub n_current: usize,
    pub n_missing_reference: usize,
    pub n_missing_current: usize,
    pub message: String,
}

/// The drift of every requested column; columns in parallel, results in request order.
pub fn drift_columns(
    reference: &Frame,
    current: &Frame,
    requests: &[Request],
    options: &DriftOptions,
) -> Result<Vec<ColumnDrift>> {
    if reference.num_rows() == 0 {
        return Err(EcomkitError::Empty {
            argument: "reference".into(),
        });
    }
    requests
        .par_iter()
        .map(|request| column_drift(reference, current, request, options))
        .collect()
}

/// The columns of `columns` a default report compares: all but times (timestamps, dates,
/// times of day, durations), which Evidently's `DataDriftPreset` leaves out too.
pub fn default_columns(frame: &Frame, columns: &[String]) -> Result<Vec<String>> {
    let mut kept = Vec::with_capacity(columns.len());
    for name in columns {
        if !frame.column(name, "reference")?.data_type().is_temporal() {
            kept.push(name.clone());
        }
    }
    Ok(kept)
}

fn column_drift(
    reference: &Frame,
    current: &Frame,
    request: &Request,
    options: &DriftOptions,
) -> Result<ColumnDrift> {
    let name = request.column.as_str();
    let (mut r, mut c) = frame_columns(reference, current, name, false)?;
    let mut kind = match (&r.values, &c.values) {
        (Values::Numeric(_), Values::Numeric(_)) => Kind::Numeric,
        _ => Kind::Categorical,
    };
    let current_type = current.column(name, "current")?.data_type().clone();
    if kind == Kind::Numeric
        && current_type.is_integer()
        && distinct_numbers(&c) <= INTEGER_CATEGORY_LIMIT
    {
        (r, c) = numbers_as_categories((r, c));
        kind = Kind::Categorical;
    }
    let mut row = ColumnDrift {
        column: name.to_string(),
        kind,
        method: None,
        statistic: f64::NAN,
        pvalue: f64::NAN,
        threshold: f64::NAN,
        drifted: false,
        n_reference: r.sample().len(),
        n_current: c.sample().len(),
        n_missing_reference: r.missing,
        n_missing_current: c.missing,
        message: String::new(),
    };
    let empty: Vec<&str> = [("reference", &r), ("current", &c)]
        .iter()
        .filter(|(_, column)| column.sample().is_empty())
        .map(|(side, _)| *side)
        .collect();
    if !empty.is_empty() {
        row.message = format!("no values in {}", empty.join(" and "));
        return Ok(row);
    }
    let method = request
        .method
        .unwrap_or_else(|| auto_method(kind, row.n_reference, distinct_values(&r, &c)));
    let options = DriftOptions {
        threshold: request.threshold,
        ..*options
    };
    let test = drift_test(method, &r.sample(), &c.sample(), &options).map_err(|error| {
        EcomkitError::invalid_value("method", format!("column '{name}': {error}"))
    })?;
    row.method = Some(method);
    (row.statistic, row.pvalue) = (test.statistic, test.pvalue);
    (row.threshold, row.drifted) = (test.threshold, test.drifted);
    Ok(row)
}

fn distinct_numbers(column: &Column) -> usize {
    match &column.values {
        Values::Numeric(values) => {
            let mut sorted = values.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            sorted.dedup();
            sorted.len()
        }
        Values::Categorical { .. } => unreachable!("numeric column"),
    }
}

/// Distinct values over both samples (pandas' `nunique` of the two together).
fn distinct_values(reference: &Column, current: &Column) -> usize {
    match (&reference.values, &current.values) {
        (Values::Numeric(r), Values::Numeric(c)) => {
            let mut all: Vec<f64> = r.iter().chain(c).copied().collect();
            all.sort_unstable_by(f64::total_cmp);
            all.dedup();
            all.len()
        }
        (
            Values::Categorical {
                codes: r,
                n_categories,
            },
            Values::Categorical { codes: c, .. },
        ) => {
            let mut seen = vec![false; *n_categories];
            r.iter()
                .chain(c)
                .for_each(|&code| seen[code as usize] = true);
            seen.iter().filter(|&&s| s).count()
        }
        _ => unreachable!("both samples have one kind"),
    }
}

/// A whole-frame drift report: one row per column (per group of `by`) and the verdict.
#[derive(Debug, Clone)]
pub struct DriftReport {
    /// `by` columns, then `column`, `kind`, `method`, `statistic`, `p_value`, `threshold`,
    /// `drifted`, `n_reference`, `n_current`, `n_missing_reference`, `n_missing_current`,
    /// `message`.
    pub table: RecordBatch,
    /// Drifted rows / rows with a statistic.
    pub share_drifted: f64,
    /// `share_drifted >= drift_share`.
    pub dataset_drift: bool,
}

/// The drift of `requests` between the frames, per group of the `by` columns when given
/// (groups in order of first appearance, reference first; a group one side lacks gives rows
/// that say so), and `dataset_drift` when the share of drifted rows is at least
/// `drift_share`.
pub fn drift_report(
    reference: &Frame,
    current: &Frame,
    requests: &[Request],
    by: &[String],
    options: &DriftOptions,
    drift_share: f64,
) -> Result<DriftReport> {
    check_drift_share(drift_share)?;
    if let Some(request) = requests.iter().find(|r| by.contains(&r.column)) {
        return Err(EcomkitError::invalid_value(
            "columns",
            format!("'{}' is a `by` column", request.column),
        ));
    }
    let (rows, keys) = if by.is_empty() {
        let rows = drift_columns(reference, current, requests, options)?;
        (rows, Vec::new())
    } else {
        grouped(reference, current, requests, by, options)?
    };
    let keys = by.iter().cloned().zip(keys).collect();
    report_of_rows(&rows, keys, drift_share)
}

/// `drift_share` is a share.
pub(super) fn check_drift_share(drift_share: f64) -> Result<()> {
    if (0.0..=1.0).contains(&drift_share) {
        Ok(())
    } else {
        Err(EcomkitError::invalid_value(
            "drift_share",
            format!("a share between 0 and 1, got {drift_share}"),
        ))
    }
}

/// The report of drift rows: the key columns, then one column per [`ColumnDrift`] field,
/// and the verdict.
pub(super) fn report_of_rows(
    rows: &[ColumnDrift],
    keys: Vec<(String, ArrayRef)>,
    drift_share: f64,
) -> Result<DriftReport> {
    let measured: Vec<&ColumnDrift> = rows.iter().filter(|r| r.method.is_some()).collect();
    let n_drifted = measured.iter().filter(|r| r.drifted).count();
    let share_drifted = if measured.is_empty() {
        0.0
    } else {
        n_drifted as f64 / measured.len() as f64
    };
    let mut columns = keys;
    let text = |f: &dyn Fn(&ColumnDrift) -> Option<String>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    let float = |f: &dyn Fn(&ColumnDrift) -> f64| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<Float64Array>())
    };
    let count = |f: &dyn Fn(&ColumnDrift) -> usize| -> ArrayRef {
        Arc::new(rows.iter().map(|r| f(r) as u64).collect::<UInt64Array>())
    };
    columns.extend([
        ("column".into(), text(&|r| Some(r.column.clone()))),
        ("kind".into(), text(&|r| Some(r.kind.name().into()))),
        (
            "method".into(),
            text(&|r| r.method.map(|m| m.name().into())),
        ),
        ("statistic".into(), float(&|r| r.statistic)),
        ("p_value".into(), float(&|r| r.pvalue)),
        ("threshold".into(), float(&|r| r.threshold)),
        (
            "drifted".into(),
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.drifted))
                    .collect::<BooleanArray>(),
            ),
        ),
        ("n_reference".into(), count(&|r| r.n_reference)),
        ("n_current".into(), count(&|r| r.n_current)),
        (
            "n_missing_reference".into(),
            count(&|r| r.n_missing_reference),
        ),
        ("n_missing_current".into(), count(&|r| r.n_missing_current)),
        ("message".into(), text(&|r| Some(r.message.clone()))),
    ]);
    Ok(DriftReport {
        table: RecordBatch::try_from_iter(columns)?,
        share_drifted,
        dataset_drift: !measured.is_empty() && share_drifted >= drift_share,
    })
}

/// Rows of each group of the `by` columns, both frames, and the key columns of the report
/// (each group's key repeated once per requested column).
fn grouped(
    reference: &Frame,
    current: &Frame,
    requests: &[Request],
    by: &[String],
    options: &DriftOptions,
) -> Result<(Vec<ColumnDrift>, Vec<ArrayRef>)> {
    let keys = |frame: &Frame| -> Result<Vec<Vec<Option<String>>>> {
        let columns = by
            .iter()
            .map(|name| {
                let column = frame.column(name, "by")?;
                let mut texts = Vec::with_capacity(frame.num_rows());
                for chunk in column.chunks() {
                    texts.extend(id_texts(chunk.as_ref(), "by")?);
                }
                Ok(texts)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((0..frame.num_rows())
            .map(|row| columns.iter().map(|c| c[row].clone()).collect())
            .collect())
    };
    let (r_keys, c_keys) = (keys(reference)?, keys(current)?);
    // Each group: its rows on either side, and where its key is first seen.
    let mut index: HashMap<&[Option<String>], usize> = HashMap::new();
    let mut groups: Vec<[Vec<u32>; 2]> = Vec::new();
    let mut first_seen: Vec<(usize, u32)> = Vec::new();
    for (side, side_keys) in [&r_keys, &c_keys].into_iter().enumerate() {
        for (row, key) in side_keys.iter().enumerate() {
            let group = *index.entry(key.as_slice()).or_insert_with(|| {
                groups.push([Vec::new(), Vec::new()]);
                first_seen.push((side, row as u32));
                groups.len() - 1
            });
            groups[group][side].push(row as u32);
        }
    }
    let sub_frame = |frame: &Frame, rows: &[u32]| -> Result<Frame> {
        let columns = requests
            .iter()
            .map(|r| frame.take(&r.column, rows, "columns"))
            .collect::<Result<Vec<_>>>()?;
        let (fields, arrays): (Vec<_>, Vec<_>) = columns.into_iter().unzip();
        let schema = Arc::new(arrow_schema::Schema::new(fields));
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(rows.len()));
        Ok(Frame::from(RecordBatch::try_new_with_options(
            schema, arrays, &options,
        )?))
    };
    let mut rows = Vec::with_capacity(groups.len() * requests.len());
    for [r_rows, c_rows] in &groups {
        let (r_frame, c_frame) = (sub_frame(reference, r_rows)?, sub_frame(current, c_rows)?);
        rows.extend(group_drift(&r_frame, &c_frame, requests, options)?);
    }
    // The key of each report row: the group's first row, taken from the side it came from.
    let mut key_columns = Vec::with_capacity(by.len());
    for name in by {
        let pieces = [reference, current]
            .iter()
            .enumerate()
            .map(|(side, frame)| {
                let firsts: Vec<u32> = first_seen
                    .iter()
                    .filter(|(s, _)| *s == side)
                    .map(|&(_, row)| row)
                    .collect();
                Ok(frame.take(name, &firsts, "by")?.1)
            })
            .collect::<Result<Vec<_>>>()?;
        if pieces[0].data_type() != pieces[1].data_type() && !pieces[1].is_empty() {
            return Err(EcomkitError::invalid_type(
                "by",
                format!("'{name}' of the type it has in reference"),
                pieces[1].data_type(),
            ));
        }
        let keys = arrow_select::concat::concat(&[pieces[0].as_ref(), pieces[1].as_ref()])?;
        let repeat: Vec<u32> = (0..groups.len() as u32)
            .flat_map(|g| std::iter::repeat_n(g, requests.len()))
            .collect();
        key_columns.push(arrow_select::take::take(
            keys.as_ref(),
            &arrow_array::UInt32Array::from(repeat),
            None,
        )?);
    }
    Ok((rows, key_columns))
}

/// The drift of one group: an empty side gives rows that say so.
fn group_drift(
    reference: &Frame,
    current: &Frame,
    requests: &[Request],
    options: &DriftOptions,
) -> Result<Vec<ColumnDrift>> {
    if reference.num_rows() > 0 {
        return drift_columns(reference, current, requests, options);
    }
    let mut rows = drift_columns(current, current, requests, options)?;
    for row in &mut rows {
        row.n_current = row.n_reference;
        row.n_missing_current = row.n_missing_reference;
        (row.n_reference, row.n_missing_reference) = (0, 0);
        (row.method, row.statistic, row.pvalue) = (None, f64::NAN, f64::NAN);
        (row.threshold, row.drifted) = (f64::NAN, false);
        row.message = "no rows of this group in reference".into();
    }
    Ok(rows)
}
