//! Integration tests of the public Rust API, with no Python involved.

mod experiment;
#[cfg(feature = "lightgbm")]
mod lightgbm;
mod rank;
mod score;
