//! `ecomkit.score` kernels: robust z-scores, the explosive score, group statistics.

use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::input::{AnyArray, AnyRecordBatch};
use pyo3_arrow::PyTable;

use super::errors::run;
use crate::frame::{factorize, Frame};
use crate::groups::Groups;
use crate::score::{self, ScoreOptions, ZeroMad};

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(robust_zscore, module)?)?;
    module.add_function(wrap_pyfunction!(explosive_score, module)?)?;
    module.add_function(wrap_pyfunction!(group_stats, module)?)?;
    Ok(())
}

/// A frame from anything with `__arrow_c_stream__` or `__arrow_c_array__`.
pub(crate) fn to_frame(frame: AnyRecordBatch) -> PyResult<Frame> {
    let (batches, schema) = frame.into_table()?.into_inner();
    Frame::new(schema, batches).map_err(PyErr::from)
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
) -> PyResult<Bound<'py, PyDict>> {
    let options = options(clip, zero_mad, top_n)?;
    let frame = to_frame(frame)?;
    // Ranks as numpy's default integer, made by the kernel rather than converted here.
    let result = run(py, || {
        score::explosive_score_ranked::<i64>(&frame, &weights, &by, &options)
    })?;
    let out = PyDict::new(py);
    let z: Vec<Bound<'py, PyAny>> = result
        .z
        .into_iter()
        .map(|z| z.into_pyarray(py).into_any())
        .collect();
    out.set_item("z", z)?;
    out.set_item("score", result.score.into_pyarray(py))?;
    out.set_item("rank", result.rank.into_pyarray(py))?;
    let top_rows = result.top_rows.map(|rows| {
        rows.into_iter()
            .map(i64::from)
            .collect::<Vec<_>>()
            .into_pyarray(py)
    });
    out.set_item("top_rows", top_rows)?;
    Ok(out)
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
    PyTable::try_new(vec![batch.clone()], batch.schema())
}
