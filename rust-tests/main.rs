//! Integration tests of the public Rust API, with no Python involved.

mod abtest;
mod features;
#[cfg(any(feature = "lightgbm", feature = "lightgbm-dynamic"))]
mod lightgbm;
mod metrics;
mod monitor;
mod properties;
mod score;
