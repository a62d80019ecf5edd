//! Integration tests of the public Rust API, with no Python involved.

mod experiment;
mod features;
#[cfg(any(feature = "lightgbm", feature = "lightgbm-dynamic"))]
mod lightgbm;
mod properties;
mod rank;
mod score;
