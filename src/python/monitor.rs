//! `ecomkit.monitor` kernels: drift statistics.

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use pyo3_arrow::input::{AnyArray, AnyRecordBatch};
use pyo3_arrow::PyTable;

use super::errors::run;
use super::{one_array, to_frame, to_table};
use crate::error::EcomkitError;
use crate::features::time::parse_time_zone;
use crate::monitor::{self, BinCounts, ColumnProfile, DriftOptions, Kind, Request, RuleValue};

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(drift_test, module)?)?;
    module.add_function(wrap_pyfunction!(drift_report, module)?)?;
    module.add_function(wrap_pyfunction!(drift_columns, module)?)?;
    module.add_function(wrap_pyfunction!(validate, module)?)?;
    module.add_function(wrap_pyfunction!(clean_events, module)?)?;
    module.add_function(wrap_pyfunction!(profile_reference, module)?)?;
    module.add_function(wrap_pyfunction!(profile_count, module)?)?;
    module.add_function(wrap_pyfunction!(profile_drift, module)?)?;
    module.add_class::<DriftResult>()?;
    Ok(())
}

/// One drift statistic: scipy's `statistic` and `pvalue` (NaN for distances), the method,
/// its threshold, the verdict, and the values counted on each side.
#[pyclass(module = "ecomkit._ecomkit", frozen, get_all)]
pub(crate) struct DriftResult {
    statistic: f64,
    pvalue: f64,
    method: String,
    threshold: f64,
    drifted: bool,
    n_reference: usize,
    n_current: usize,
    n_missing_reference: usize,
    n_missing_current: usize,
}

#[pymethods]
impl DriftResult {
    fn __repr__(&self) -> String {
        format!(
            "DriftResult(method='{}', statistic={:?}, pvalue={:?}, threshold={:?}, drifted={})",
            self.method,
            self.statistic,
            self.pvalue,
            self.threshold,
            if self.drifted { "True" } else { "False" }
        )
    }
}

#[pyfunction]
#[pyo3(signature = (method, reference, current, bins, binning, threshold, categorical))]
#[allow(clippy::too_many_arguments)]
fn drift_test(
    py: Python<'_>,
    method: &str,
    reference: AnyArray,
    current: AnyArray,
    bins: usize,
    binning: &str,
    threshold: Option<f64>,
    categorical: bool,
) -> PyResult<DriftResult> {
    let method: monitor::Method = method.parse()?;
    let options = DriftOptions {
        bins,
        binning: binning.parse()?,
        threshold,
    };
    let (reference, current) = (one_array(reference)?, one_array(current)?);
    run(py, || {
        let (reference, current) =
            monitor::columns(reference.as_ref(), current.as_ref(), categorical)?;
        let test = monitor::drift_test(method, &reference.sample(), &current.sample(), &options)?;
        Ok(DriftResult {
            statistic: test.statistic,
            pvalue: test.pvalue,
            method: method.name().to_string(),
            threshold: test.threshold,
            drifted: test.drifted,
            n_reference: reference.sample().len(),
            n_current: current.sample().len(),
            n_missing_reference: reference.missing,
            n_missing_current: current.missing,
        })
    })
}

/// The drift report of two frames: (table, share of drifted rows, dataset drift).
/// The columns a default report compares (times left out).
#[pyfunction]
fn drift_columns(reference: AnyRecordBatch, columns: Vec<String>) -> PyResult<Vec<String>> {
    Ok(monitor::default_columns(&to_frame(reference)?, &columns)?)
}

#[pyfunction]
#[pyo3(signature = (reference, current, columns, methods, thresholds, by, bins, binning, drift_share))]
#[allow(clippy::too_many_arguments)]
fn drift_report(
    py: Python<'_>,
    reference: AnyRecordBatch,
    current: AnyRecordBatch,
    columns: Vec<String>,
    methods: Vec<Option<String>>,
    thresholds: Vec<Option<f64>>,
    by: Vec<String>,
    bins: usize,
    binning: &str,
    drift_share: f64,
) -> PyResult<(PyTable, f64, bool)> {
    let requests = columns
        .into_iter()
        .zip(methods)
        .zip(thresholds)
        .map(|((column, method), threshold)| {
            Ok(Request {
                column,
                method: method.map(|m| m.parse()).transpose()?,
                threshold,
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    let options = DriftOptions {
        bins,
        binning: binning.parse()?,
        threshold: None,
    };
    let (reference, current) = (to_frame(reference)?, to_frame(current)?);
    let report = run(py, || {
        monitor::drift_report(&reference, &current, &requests, &by, &options, drift_share)
    })?;
    Ok((
        to_table(report.table)?,
        report.share_drifted,
        report.dataset_drift,
    ))
}

/// A rules value (dict, list, text, number, boolean) as the kernel reads it.
fn rule_value(value: &Bound<'_, PyAny>, path: &str) -> PyResult<RuleValue> {
    if value.is_instance_of::<PyBool>() {
        Ok(RuleValue::Flag(value.extract()?))
    } else if value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>() {
        Ok(RuleValue::Number(value.extract()?))
    } else if value.is_instance_of::<PyString>() {
        Ok(RuleValue::Text(value.extract()?))
    } else if let Ok(dict) = value.cast::<PyDict>() {
        dict.iter()
            .map(|(key, item)| {
                let key: String = key.str()?.extract()?;
                let item = rule_value(&item, &format!("{path}.{key}"))?;
                Ok((key, item))
            })
            .collect::<PyResult<_>>()
            .map(RuleValue::Table)
    } else if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        value
            .try_iter()?
            .enumerate()
            .map(|(i, item)| rule_value(&item?, &format!("{path}[{i}]")))
            .collect::<PyResult<_>>()
            .map(RuleValue::List)
    } else {
        Err(EcomkitError::invalid_type(
            path,
            "a dict, list, text, number or boolean",
            value.get_type().name()?,
        )
        .into())
    }
}

/// Checks the rules on a frame: (report table, passed, failing rows per rule, periods per
/// rule or None).
#[pyfunction]
#[pyo3(signature = (frame, rules, references, as_of))]
#[allow(clippy::type_complexity)]
fn validate<'py>(
    py: Python<'py>,
    frame: AnyRecordBatch,
    rules: &Bound<'py, PyAny>,
    references: Vec<(String, AnyRecordBatch)>,
    as_of: i64,
) -> PyResult<(
    PyTable,
    bool,
    Vec<Bound<'py, PyArray1<u64>>>,
    Vec<Option<PyTable>>,
)> {
    let rules = monitor::parse_rules(&rule_value(rules, "rules")?)?;
    let frame = to_frame(frame)?;
    let references = references
        .into_iter()
        .map(|(name, frame)| Ok((name, to_frame(frame)?)))
        .collect::<PyResult<Vec<_>>>()?;
    let report = run(py, || monitor::validate(&frame, &rules, &references, as_of))?;
    let table = to_table(report.table())?;
    let passed = report.passed();
    let mut rows = Vec::with_capacity(report.checks.len());
    let mut periods = Vec::with_capacity(report.checks.len());
    for check in report.checks {
        rows.push(check.rows.into_pyarray(py));
        periods.push(check.periods.map(to_table).transpose()?);
    }
    Ok((table, passed, rows, periods))
}

#[pyfunction]
#[pyo3(signature = (frame, user, time, duplicates, max_events_per_minute, time_zone))]
fn clean_events(
    py: Python<'_>,
    frame: AnyRecordBatch,
    user: String,
    time: String,
    duplicates: bool,
    max_events_per_minute: Option<f64>,
    time_zone: &str,
) -> PyResult<(PyTable, PyTable)> {
    let options = monitor::CleanOptions {
        duplicates,
        max_events_per_minute,
        time_zone: parse_time_zone(time_zone, "time_zone")?,
    };
    let frame = to_frame(frame)?;
    let cleaned = run(py, || monitor::clean_events(&frame, &user, &time, &options))?;
    Ok((to_table(cleaned.events)?, to_table(cleaned.dropped)?))
}

/// One column of a profile as Python holds it: (column, kind, edges, categories, reference
/// counts, reference missing).
type ColumnSpec = (String, String, Vec<f64>, Vec<String>, Vec<u64>, u64);

fn to_spec(column: ColumnProfile) -> ColumnSpec {
    (
        column.column,
        column.kind.name().to_string(),
        column.edges,
        column.categories,
        column.reference.counts,
        column.reference.missing,
    )
}

fn from_spec(
    (column, kind, edges, categories, counts, missing): ColumnSpec,
) -> PyResult<ColumnProfile> {
    let kind = match kind.as_str() {
        "numeric" => Kind::Numeric,
        "categorical" => Kind::Categorical,
        other => {
            return Err(EcomkitError::invalid_value(
                "profile",
                format!("column '{column}': kind 'numeric' or 'categorical', got '{other}'"),
            )
            .into())
        }
    };
    Ok(ColumnProfile {
        column,
        kind,
        edges,
        categories,
        reference: BinCounts { counts, missing },
    })
}

/// The reference profile of `columns`.
#[pyfunction]
fn profile_reference(
    py: Python<'_>,
    reference: AnyRecordBatch,
    columns: Vec<String>,
    bins: usize,
) -> PyResult<Vec<ColumnSpec>> {
    let reference = to_frame(reference)?;
    let profile = run(py, || monitor::profile(&reference, &columns, bins))?;
    Ok(profile.into_iter().map(to_spec).collect())
}

/// A piece's (counts, missing) per column of the profile.
#[pyfunction]
fn profile_count(
    py: Python<'_>,
    piece: AnyRecordBatch,
    profile: Vec<ColumnSpec>,
) -> PyResult<Vec<(Vec<u64>, u64)>> {
    let profile = profile
        .into_iter()
        .map(from_spec)
        .collect::<PyResult<Vec<_>>>()?;
    let piece = to_frame(piece)?;
    let counts = run(py, || monitor::count(&piece, &profile))?;
    Ok(counts.into_iter().map(|c| (c.counts, c.missing)).collect())
}

/// The drift of merged counts against the profile: (table, share drifted, dataset drift).
#[pyfunction]
fn profile_drift(
    py: Python<'_>,
    profile: Vec<ColumnSpec>,
    counts: Vec<(Vec<u64>, u64)>,
    methods: Vec<Option<String>>,
    thresholds: Vec<Option<f64>>,
    drift_share: f64,
) -> PyResult<(PyTable, f64, bool)> {
    let profile = profile
        .into_iter()
        .map(from_spec)
        .collect::<PyResult<Vec<_>>>()?;
    let counts: Vec<BinCounts> = counts
        .into_iter()
        .map(|(counts, missing)| BinCounts { counts, missing })
        .collect();
    let methods = methods
        .into_iter()
        .map(|m| m.map(|m| m.parse()).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    let report = run(py, || {
        monitor::profile_drift(&profile, &counts, &methods, &thresholds, drift_share)
    })?;
    Ok((
        to_table(report.table)?,
        report.share_drifted,
        report.dataset_drift,
    ))
}
