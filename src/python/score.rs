//! `ecomkit.score` kernels: robust z-scores, the explosive score, group statistics.

use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3_arrow::input::{AnyArray, AnyRecordBatch};
use pyo3_arrow::PyTable;

use super::errors::run;
use super::{columns_table, float_columns, to_frame, to_table};
use crate::frame::factorize;
use crate::groups::Groups;
use crate::score::{self, ScoreOptions, ZeroMad};

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(robust_zscore, module)?)?;
    module.add_function(wrap_pyfunction!(explosive_score, module)?)?;
    module.add_function(wrap_pyfunction!(group_stats, module)?)?;
    Ok(())
}

fn options(clip: Option<f64>, zero_mad: &str, top_n: Option<usize>) -> PyResult<ScoreOptions> {
    let zero_mad: ZeroMad = zero_mad.parse()?;
    Ok(ScoreOptions {
        clip,
        zero_mad,
        top_n,
    })
}

#[pyfunction]
#[pyo3(signature = (values, groups=None, *, clip=None, zero_mad="mean_ad"))]
fn robust_zscore<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, f64>,
    groups: Option<AnyArray>,
    clip: Option<f64>,
    zero_mad: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let options = options(clip, zero_mad, None)?;
    let values = values.as_slice()?;
    let chunks = match groups {
        Some(groups) => Some(groups.into_chunked_array()?.into_inner().0),
        None => None,
    };
    let z = run(py, || {
        let groups = match &chunks {
            Some(chunks) => {
                let n_rows = chunks.iter().map(|c| c.len()).sum();
                factorize(chunks.iter().map(|c| c.as_ref()), n_rows, "groups")?
            }
            None => Groups::single(values.len())?,
        };
        score::robust_zscore(values, &groups, &options)
    })?;
    Ok(z.into_pyarray(py).into_any())
}

#[pyfunction]
#[pyo3(signature = (frame, weights, by, *, top_n=None, clip=None, zero_mad="mean_ad"))]
fn explosive_score<'py>(
    py: Python<'py>,
    frame: AnyRecordBatch,
    weights: Vec<(String, f64)>,
    by: Vec<String>,
    top_n: Option<usize>,
    clip: Option<f64>,
    zero_mad: &str,
) -> PyResult<(PyTable, Option<Bound<'py, PyArray1<i64>>>)> {
    let options = options(clip, zero_mad, top_n)?;
    let frame = to_frame(frame)?;
    // Ranks as numpy's default integer, made by the kernel rather than converted here.
    let result = run(py, || {
        score::explosive_score_ranked::<i64>(&frame, &weights, &by, &options)
    })?;
    // The columns the frame gets: z_<feature> for each feature, the score and the rank.
    let z_names = weights.iter().map(|(name, _)| format!("z_{name}"));
    let mut columns = float_columns(z_names.chain(["explosive_score".into()]), {
        let mut values = result.z;
        values.push(result.score);
        values
    });
    columns.push((
        "rank".into(),
        Arc::new(Int64Array::from(result.rank)) as ArrayRef,
    ));
    let top_rows = result
        .top_rows
        .map(|rows| rows.into_iter().map(i64::from).collect::<Vec<_>>());
    Ok((
        columns_table(columns)?,
        top_rows.map(|rows| rows.into_pyarray(py)),
    ))
}

#[pyfunction]
#[pyo3(signature = (frame, features, by, *, zero_mad="mean_ad"))]
fn group_stats(
    py: Python<'_>,
    frame: AnyRecordBatch,
    features: Vec<String>,
    by: Vec<String>,
    zero_mad: &str,
) -> PyResult<PyTable> {
    let zero_mad: ZeroMad = zero_mad.parse()?;
    let frame = to_frame(frame)?;
    let batch = run(py, || score::group_stats(&frame, &features, &by, zero_mad))?;
    to_table(batch)
}
