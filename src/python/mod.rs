//! The PyO3 layer: converts Python inputs, runs a kernel with the GIL released, converts the
//! result back. No logic lives here; the kernels are in the crate's other modules.

mod abtest;
mod alloc;
mod datasets;
mod errors;
mod features;
mod rank;
mod score;

use pyo3::prelude::*;

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
