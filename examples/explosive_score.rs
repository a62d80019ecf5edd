//! The explosive score from plain Rust: no Python anywhere.
//!
//! Run with `cargo run --release --example explosive_score`.

use ecomkit::datasets::{asin_daily, DEFAULT_START};
use ecomkit::frame::Frame;
use ecomkit::score::{explosive_score, ScoreOptions};

fn main() -> ecomkit::Result<()> {
    let frame = Frame::from(asin_daily(1000, 60, 0, DEFAULT_START)?);
    let weights = [
        ("bsr".to_string(), -1.0),
        ("review_count".to_string(), 1.0),
        ("rating".to_string(), 0.25),
    ];
    let by = ["site".to_string(), "category".to_string()];
    let options = ScoreOptions {
        top_n: Some(3),
        clip: Some(10.0),
        ..Default::default()
    };
    let result = explosive_score(&frame, &weights, &by, &options)?;
    let top = result.top_rows.as_deref().unwrap_or_default();
    println!(
        "{} rows in {} groups; {} top candidates",
        frame.num_rows(),
        result.groups.n_groups(),
        top.len()
    );
    for &row in top.iter().take(5) {
        let row = row as usize;
        println!(
            "row {row}: score {:.3}, rank {}",
            result.score[row], result.rank[row]
        );
    }
    Ok(())
}
