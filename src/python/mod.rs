//! The PyO3 layer: converts Python inputs, runs a kernel with the GIL released, converts the
//! result back. No logic lives here; the kernels are in the crate's other modules.

mod abtest;
mod alloc;
mod datasets;
mod errors;
mod features;
mod metrics;
mod monitor;
mod rank;
mod score;

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch};
use pyo3::prelude::*;
use pyo3_arrow::input::{AnyArray, AnyRecordBatch};
use pyo3_arrow::PyTable;

use crate::error::EcomkitError;
use crate::frame::Frame;

#[global_allocator]
static ALLOCATOR: alloc::HugePages = alloc::HugePages;

/// The compiled core of the `ecomkit` Python package.
#[pymodule]
#[pyo3(name = "_ecomkit")]
fn ecomkit_extension(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_function(wrap_pyfunction!(errors::panic_for_tests, module)?)?;
    module.add_function(wrap_pyfunction!(errors::require_columns, module)?)?;
    score::register(module)?;
    datasets::register(module)?;
    abtest::register(module)?;
    metrics::register(module)?;
    monitor::register(module)?;
    rank::register(module)?;
    features::register(module)?;
    Ok(())
}

/// One Arrow array from a possibly chunked input.
pub(crate) fn one_array(values: AnyArray) -> PyResult<ArrayRef> {
    let (chunks, field) = values.into_chunked_array()?.into_inner();
    Ok(match chunks.len() {
        1 => chunks[0].clone(),
        0 => arrow_array::new_empty_array(field.data_type()),
        _ => {
            let refs: Vec<&dyn arrow_array::Array> = chunks.iter().map(|c| c.as_ref()).collect();
            arrow_select::concat::concat(&refs).map_err(EcomkitError::from)?
        }
    })
}

/// A frame from anything with `__arrow_c_stream__` or `__arrow_c_array__`.
pub(crate) fn to_frame(frame: AnyRecordBatch) -> PyResult<Frame> {
    let (batches, schema) = frame.into_table()?.into_inner();
    Ok(Frame::new(schema, batches)?)
}

/// A record batch as a table for Python: the one shape a frame function's result columns
/// cross in (Python adds them to a frame of the input's kind).
pub(crate) fn to_table(batch: RecordBatch) -> PyResult<PyTable> {
    PyTable::try_new(vec![batch.clone()], batch.schema())
}

/// Named result columns, each one row per input row, as a table.
pub(crate) fn columns_table(columns: Vec<(String, ArrayRef)>) -> PyResult<PyTable> {
    to_table(RecordBatch::try_from_iter(columns).map_err(EcomkitError::from)?)
}

/// Float columns under their names, without copying the values.
pub(crate) fn float_columns(
    names: impl IntoIterator<Item = impl Into<String>>,
    values: Vec<Vec<f64>>,
) -> Vec<(String, ArrayRef)> {
    names
        .into_iter()
        .zip(values)
        .map(|(name, values)| {
            (
                name.into(),
                Arc::new(Float64Array::from(values)) as ArrayRef,
            )
        })
        .collect()
}
