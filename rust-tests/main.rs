//! Integration tests of the public Rust API, with no Python involved.

mod experiment;
mod features;
#[cfg(feature = "lightgbm")]
mod lightgbm;
mod rank;
mod score;
