//! Integration tests of the public Rust API, with no Python involved.

mod experiment;
mod rank;
mod score;
