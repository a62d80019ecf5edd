//! `ecomkit.abtest` kernels: hashing, splitting, aggregates and the uplift report.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, StringArray};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::input::{AnyArray, AnyRecordBatch};
use pyo3_arrow::PyTable;

use super::errors::run;
use super::{columns_table, one_array, to_frame};
use crate::abtest::stats::{self, Correction};
use crate::abtest::uplift::{self, Aggregates, MetricCell, Moments};
use crate::abtest::{
    bucket_ranges as gb_bucket_ranges, choose_variation as gb_choose, hash_array, in_namespace,
    Encoding, EvaluateOptions, HashVersion, Hasher, MetricKind, MetricSpec, Namespace, Split,
};
use crate::error::{EcomkitError, Result};

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(hash_ids, module)?)?;
    module.add_function(wrap_pyfunction!(hash_one, module)?)?;
    module.add_function(wrap_pyfunction!(bucket_ranges, module)?)?;
    module.add_function(wrap_pyfunction!(choose_variation, module)?)?;
    module.add_function(wrap_pyfunction!(namespace_membership, module)?)?;
    module.add_function(wrap_pyfunction!(assign_variations, module)?)?;
    module.add_function(wrap_pyfunction!(aggregate_units, module)?)?;
    module.add_function(wrap_pyfunction!(aggregate_summary, module)?)?;
    module.add_function(wrap_pyfunction!(evaluate_aggregates, module)?)?;
    module.add_function(wrap_pyfunction!(adjust_p_values, module)?)?;
    module.add_function(wrap_pyfunction!(chi_square_gof, module)?)?;
    module.add_function(wrap_pyfunction!(normal_power, module)?)?;
    module.add_function(wrap_pyfunction!(sample_size, module)?)?;
    module.add_function(wrap_pyfunction!(minimum_detectable_effect, module)?)?;
    module.add_class::<PyAggregates>()?;
    Ok(())
}

fn parse_encoding(encoding: &str) -> PyResult<Encoding> {
    encoding.parse().map_err(PyErr::from)
}

fn parse_version(version: i64, argument: &str) -> PyResult<HashVersion> {
    HashVersion::new(version, argument).map_err(PyErr::from)
}

#[pyfunction]
#[pyo3(signature = (seed, values, version, encoding))]
fn hash_ids<'py>(
    py: Python<'py>,
    seed: &str,
    values: AnyArray,
    version: i64,
    encoding: &str,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let hasher = Hasher::new(
        seed,
        parse_version(version, "version")?,
        parse_encoding(encoding)?,
    );
    let array = one_array(values)?;
    let buckets = run(py, || hash_array(array.as_ref(), &hasher, "values"))?;
    Ok(buckets.into_pyarray(py))
}

#[pyfunction]
#[pyo3(signature = (seed, value, version, encoding))]
fn hash_one(seed: &str, value: &str, version: i64, encoding: &str) -> PyResult<f64> {
    let hasher = Hasher::new(
        seed,
        parse_version(version, "version")?,
        parse_encoding(encoding)?,
    );
    Ok(hasher.bucket(value))
}

#[pyfunction]
#[pyo3(signature = (num_variations, coverage, weights))]
fn bucket_ranges(
    num_variations: usize,
    coverage: f64,
    weights: Option<Vec<f64>>,
) -> Vec<(f64, f64)> {
    gb_bucket_ranges(num_variations, coverage, weights.as_deref())
}

#[pyfunction]
#[pyo3(signature = (buckets, ranges))]
fn choose_variation<'py>(
    py: Python<'py>,
    buckets: PyReadonlyArray1<'py, f64>,
    ranges: Vec<(f64, f64)>,
) -> PyResult<Bound<'py, PyArray1<i32>>> {
    let buckets = buckets.as_slice()?;
    let chosen = run(py, || {
        Ok(buckets
            .iter()
            .map(|&b| gb_choose(b, &ranges))
            .collect::<Vec<_>>())
    })?;
    Ok(chosen.into_pyarray(py))
}

#[pyfunction]
#[pyo3(signature = (ids, namespace_id, start, end, encoding))]
fn namespace_membership<'py>(
    py: Python<'py>,
    ids: AnyArray,
    namespace_id: String,
    start: f64,
    end: f64,
    encoding: &str,
) -> PyResult<Bound<'py, PyArray1<bool>>> {
    let encoding = parse_encoding(encoding)?;
    let array = one_array(ids)?;
    let namespace = Namespace {
        id: namespace_id,
        start,
        end,
    };
    let inside = run(py, || in_namespace(array.as_ref(), &namespace, encoding))?;
    Ok(inside.into_pyarray(py))
}

#[pyfunction]
#[pyo3(signature = (ids, categories, *, seed, num_variations, coverage, weights, hash_version,
                    encoding, namespace, per_category))]
#[allow(clippy::too_many_arguments)]
fn assign_variations<'py>(
    py: Python<'py>,
    ids: AnyArray,
    categories: Option<AnyArray>,
    seed: String,
    num_variations: usize,
    coverage: f64,
    weights: Option<Vec<f64>>,
    hash_version: i64,
    encoding: &str,
    namespace: Option<(String, f64, f64)>,
    per_category: Vec<(String, Vec<f64>)>,
) -> PyResult<Bound<'py, PyArray1<i32>>> {
    let split = Split {
        seed,
        num_variations,
        coverage,
        weights,
        hash_version: parse_version(hash_version, "hash_version")?,
        encoding: parse_encoding(encoding)?,
        namespace: namespace.map(|(id, start, end)| Namespace { id, start, end }),
        per_category,
    };
    let ids = one_array(ids)?;
    let categories = categories.map(one_array).transpose()?;
    let assigned = run(py, || split.assign(ids.as_ref(), categories.as_deref()))?;
    Ok(assigned.into_pyarray(py))
}

/// Mergeable experiment aggregates (see `ecomkit.abtest.ExperimentAggregates`).
#[pyclass(name = "Aggregates", module = "ecomkit._ecomkit", frozen)]
struct PyAggregates(Aggregates);

/// A metric as `(name, kind, first column, second column or None)`, kind `"mean"` (second:
/// the CUPED covariate) or `"ratio"` (numerator, denominator).
type MetricTuple = (String, String, String, Option<String>);
/// A sample-ratio check as `(segment, observed, expected, statistic, p_value)`.
type SampleRatioTuple = (String, Vec<f64>, Vec<f64>, f64, f64);
/// A cell as `(n, means, co-moments, binary, missing)`.
type CellTuple = (f64, [f64; 3], [[f64; 3]; 3], bool, f64);

fn metric_spec(metric: MetricTuple) -> Result<MetricSpec> {
    let (name, kind, first, second) = metric;
    let kind = match (kind.as_str(), second) {
        ("mean", covariate) => MetricKind::Mean { column: first, covariate },
        ("ratio", Some(denominator)) => MetricKind::Ratio { numerator: first, denominator },
        (other, _) => {
            return Err(EcomkitError::invalid_value(
                "metrics",
                format!("metric '{name}': expected kind 'mean' or 'ratio' with a denominator, got '{other}'"),
            ))
        }
    };
    Ok(MetricSpec { name, kind })
}

fn metric_tuple(metric: &MetricSpec) -> MetricTuple {
    match &metric.kind {
        MetricKind::Mean { column, covariate } => (
            metric.name.clone(),
            "mean".into(),
            column.clone(),
            covariate.clone(),
        ),
        MetricKind::Ratio {
            numerator,
            denominator,
        } => (
            metric.name.clone(),
            "ratio".into(),
            numerator.clone(),
            Some(denominator.clone()),
        ),
    }
}

#[pymethods]
impl PyAggregates {
    /// Combine with aggregates of other units; variants and segments matched by name.
    fn merge(&self, other: &PyAggregates) -> PyResult<Self> {
        Ok(Self(self.0.merge(&other.0)?))
    }

    /// All segments merged into one.
    fn total(&self) -> Self {
        Self(self.0.total())
    }

    #[getter]
    fn variants(&self) -> Vec<String> {
        self.0.variants.clone()
    }

    #[getter]
    fn segments(&self) -> Vec<String> {
        self.0.segments.clone()
    }

    #[getter]
    fn metrics(&self) -> Vec<MetricTuple> {
        self.0.metrics.iter().map(metric_tuple).collect()
    }

    #[getter]
    fn units(&self) -> Vec<Vec<f64>> {
        self.0.units.clone()
    }

    /// The whole state as plain Python values (JSON-able), for `from_state`.
    fn to_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let a = &self.0;
        let state = PyDict::new(py);
        state.set_item("metrics", self.metrics())?;
        state.set_item("segments", &a.segments)?;
        state.set_item("variants", &a.variants)?;
        state.set_item("units", &a.units)?;
        let cells: Vec<Vec<Vec<CellTuple>>> = a
            .cells
            .iter()
            .map(|s| {
                s.iter()
                    .map(|v| {
                        v.iter()
                            .map(|c| {
                                (
                                    c.moments.n,
                                    c.moments.mean,
                                    c.moments.comoment,
                                    c.binary,
                                    c.missing,
                                )
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        state.set_item("cells", cells)?;
        state.set_item("notes", &a.notes)?;
        Ok(state)
    }

    #[staticmethod]
    #[allow(clippy::type_complexity)]
    fn from_state(
        metrics: Vec<MetricTuple>,
        segments: Vec<String>,
        variants: Vec<String>,
        units: Vec<Vec<f64>>,
        cells: Vec<Vec<Vec<CellTuple>>>,
        notes: Vec<(String, String)>,
    ) -> PyResult<Self> {
        let metrics = metrics
            .into_iter()
            .map(metric_spec)
            .collect::<Result<Vec<_>>>()?;
        let shape_ok = cells.len() == segments.len()
            && units.len() == segments.len()
            && units.iter().all(|u| u.len() == variants.len())
            && cells
                .iter()
                .all(|s| s.len() == variants.len() && s.iter().all(|v| v.len() == metrics.len()));
        if !shape_ok {
            return Err(EcomkitError::invalid_value(
                "state",
                "cells and units must be [segment][variant][metric]",
            )
            .into());
        }
        let cells = cells
            .into_iter()
            .map(|s| {
                s.into_iter()
                    .map(|v| {
                        v.into_iter()
                            .map(|(n, mean, comoment, binary, missing)| MetricCell {
                                moments: Moments { n, mean, comoment },
                                binary,
                                missing,
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Ok(Self(Aggregates {
            metrics,
            segments,
            variants,
            units,
            cells,
            notes,
        }))
    }
}

#[pyfunction]
#[pyo3(signature = (frame, variant, segment, metrics))]
fn aggregate_units(
    py: Python<'_>,
    frame: AnyRecordBatch,
    variant: String,
    segment: Option<String>,
    metrics: Vec<MetricTuple>,
) -> PyResult<PyAggregates> {
    let frame = to_frame(frame)?;
    let aggregates = run(py, || {
        let metrics = metrics
            .into_iter()
            .map(metric_spec)
            .collect::<Result<Vec<_>>>()?;
        Aggregates::from_units(&frame, &variant, segment.as_deref(), &metrics)
    })?;
    Ok(PyAggregates(aggregates))
}

#[pyfunction]
#[pyo3(signature = (frame, variant))]
fn aggregate_summary(
    py: Python<'_>,
    frame: AnyRecordBatch,
    variant: String,
) -> PyResult<PyAggregates> {
    let frame = to_frame(frame)?;
    let aggregates = run(py, || Aggregates::from_summary(&frame, &variant))?;
    Ok(PyAggregates(aggregates))
}

/// The report as `(table of rows, sample-ratio list)`.
#[pyfunction]
#[pyo3(signature = (aggregates, control, alpha, correction, expected_weights))]
fn evaluate_aggregates<'py>(
    py: Python<'py>,
    aggregates: &PyAggregates,
    control: String,
    alpha: f64,
    correction: Option<String>,
    expected_weights: Option<Vec<f64>>,
) -> PyResult<(PyTable, Vec<SampleRatioTuple>)> {
    let correction: Option<Correction> = correction.map(|c| c.parse()).transpose()?;
    let options = EvaluateOptions {
        control,
        alpha,
        correction,
        expected_weights,
    };
    let report = run(py, || uplift::evaluate(&aggregates.0, &options))?;
    let rows = &report.rows;
    // One column per field of the report's rows, named as the field.
    macro_rules! report_columns {
        ($($field:ident: $array:ident),* $(,)?) => {
            vec![$((
                stringify!($field).to_string(),
                Arc::new($array::from_iter_values(rows.iter().map(|r| r.$field.clone())))
                    as ArrayRef,
            )),*]
        };
    }
    let columns = columns_table(report_columns!(
        segment: StringArray, variant: StringArray, metric: StringArray, n: Float64Array,
        control_n: Float64Array, value: Float64Array, control_value: Float64Array,
        abs_lift: Float64Array, rel_lift: Float64Array, p_value: Float64Array,
        p_value_adjusted: Float64Array, ci_low: Float64Array, ci_high: Float64Array,
        rel_ci_low: Float64Array, rel_ci_high: Float64Array, test: StringArray,
        variance_reduction: Float64Array, note: StringArray,
    ))?;
    let srm = report
        .sample_ratio
        .into_iter()
        .map(|s| (s.segment, s.observed, s.expected, s.statistic, s.p_value))
        .collect();
    Ok((columns, srm))
}

#[pyfunction]
#[pyo3(signature = (p_values, correction))]
fn adjust_p_values(p_values: Vec<f64>, correction: Option<String>) -> PyResult<Vec<f64>> {
    let correction: Option<Correction> = correction.map(|c| c.parse()).transpose()?;
    Ok(stats::adjust_p_values(&p_values, correction))
}

#[pyfunction]
#[pyo3(signature = (observed, weights))]
fn chi_square_gof(observed: Vec<f64>, weights: Vec<f64>) -> PyResult<(f64, f64)> {
    stats::chi_square_gof(&observed, &weights).map_err(PyErr::from)
}

#[pyfunction]
#[pyo3(signature = (effect, n1, alpha, ratio))]
fn normal_power(effect: f64, n1: f64, alpha: f64, ratio: f64) -> f64 {
    stats::normal_power(effect, n1, alpha, ratio)
}

#[pyfunction]
#[pyo3(signature = (effect, alpha, power, ratio))]
fn sample_size(effect: f64, alpha: f64, power: f64, ratio: f64) -> PyResult<f64> {
    stats::sample_size(effect, alpha, power, ratio).map_err(PyErr::from)
}

#[pyfunction]
#[pyo3(signature = (n1, alpha, power, ratio))]
fn minimum_detectable_effect(n1: f64, alpha: f64, power: f64, ratio: f64) -> PyResult<f64> {
    stats::minimum_detectable_effect(n1, alpha, power, ratio).map_err(PyErr::from)
}
