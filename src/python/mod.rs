//! The PyO3 layer: converts Python inputs, runs a kernel with the GIL released, converts the
//! result back. No logic lives here; the kernels are in the crate's other modules.

mod abtest;
mod alloc;
mod datasets;
mod errors;
mod features;
mod rank;
mod score;

use arrow_array::ArrayRef;
use pyo3::prelude::*;
use pyo3_arrow::input::AnyArray;

use crate::error::EcomkitError;

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
