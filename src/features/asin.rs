//! The ASIN pipeline's daily product features, built on [`rolling`](mod@super::rolling): BSR
//! trend, price volatility, review velocity, rating change and a listing-quality score —
//! the inputs of the explosive score.

use std::borrow::Cow;

use super::rolling::{rolling_by, ColumnInput, RollingOutput, Stat, Window};
use super::time::EpochTimes;
use crate::error::{EcomkitError, Result};
use crate::frame::Frame;

/// Column names of the input that [`asin_daily_features`] reads.
#[derive(Debug, Clone)]
pub struct AsinColumns {
    /// The product key columns (default `["asin"]`).
    pub by: Vec<String>,
    /// The day or timestamp column (default `"date"`).
    pub time: String,
    /// Best-seller rank (lower is better).
    pub bsr: String,
    /// Price.
    pub price: String,
    /// Cumulative review count.
    pub review_count: String,
    /// Average star rating, 1–5.
    pub rating: String,
}

impl Default for AsinColumns {
    fn default() -> Self {
        Self {
            by: vec!["asin".into()],
            time: "date".into(),
            bsr: "bsr".into(),
            price: "price".into(),
            review_count: "review_count".into(),
            rating: "rating".into(),
        }
    }
}

/// Reviews at which the review part of the listing-quality score saturates.
pub const QUALITY_REVIEWS_SATURATION: f64 = 1000.0;

/// Per row and window `w`: `bsr_trend_w` (least-squares slope of ln BSR per day: negative =
/// climbing the ranks), `price_volatility_w` (std / mean of price), `review_velocity_w`
/// (reviews gained per day, first to last day of the window), `rating_change_w` (last −
/// first rating); and once per row `listing_quality` (see [`listing_quality`]).
pub fn asin_daily_features(
    frame: &Frame,
    columns: &AsinColumns,
    windows: &[String],
    min_periods: usize,
) -> Result<RollingOutput> {
    let windows = windows
        .iter()
        .map(|w| Window::parse(w))
        .collect::<Result<Vec<_>>>()?;
    if windows.is_empty() {
        return Err(EcomkitError::invalid_value(
            "windows",
            "expected at least one window",
        ));
    }
    let time_column = frame.column(&columns.time, "time")?;
    let times = EpochTimes::new(&time_column, "time")?;
    // ln BSR in a fresh column (over the converted one when BSR is not float).
    let mut log_bsr = frame
        .column(&columns.bsr, "bsr")?
        .to_f64("bsr")?
        .into_owned();
    for b in &mut log_bsr {
        *b = if *b > 0.0 { b.ln() } else { f64::NAN };
    }
    // Float columns are read as they lie, 64-bit integers too (converted as read).
    let inputs = [
        ColumnInput::of_floats(Cow::Owned(log_bsr), &[Stat::Slope]),
        ColumnInput::of_column(frame, &columns.price, "price", &[Stat::Std, Stat::Mean])?,
        ColumnInput::of_column(
            frame,
            &columns.review_count,
            "review_count",
            &[Stat::Velocity],
        )?,
        ColumnInput::of_column(frame, &columns.rating, "rating", &[Stat::Change])?,
    ];
    let min_periods = min_periods.max(1);
    let mut out = rolling_by(frame, &columns.by, &times, &inputs, &windows, min_periods)?;
    let n_windows = windows.len();
    // Layout of `out`: column, then window, then stat.
    let at = |column_offset: usize, per_window: usize, w: usize, stat: usize| {
        column_offset + w * per_window + stat
    };
    let mut names = Vec::new();
    let mut values = Vec::new();
    for (w, window) in windows.iter().enumerate() {
        let label = &window.label;
        names.push(format!("bsr_trend_{label}"));
        values.push(std::mem::take(&mut out[at(0, 1, w, 0)]));
        // std / mean, written over the std (no fresh memory).
        let mut volatility = std::mem::take(&mut out[at(n_windows, 2, w, 0)]);
        let mean = &out[at(n_windows, 2, w, 1)];
        for (v, &m) in volatility.iter_mut().zip(mean) {
            *v = if m != 0.0 { *v / m } else { f64::NAN };
        }
        names.push(format!("price_volatility_{label}"));
        values.push(volatility);
        names.push(format!("review_velocity_{label}"));
        values.push(std::mem::take(&mut out[at(3 * n_windows, 1, w, 0)]));
        names.push(format!("rating_change_{label}"));
        values.push(std::mem::take(&mut out[at(4 * n_windows, 1, w, 0)]));
    }
    names.push("listing_quality".into());
    let (reviews, rating) = (&inputs[2], &inputs[3]);
    values.push(
        (0..frame.num_rows())
            .map(|i| listing_quality(rating.get(i), reviews.get(i)))
            .collect(),
    );
    Ok(RollingOutput { names, values })
}

/// A listing-quality score in [0, 1]: 0.6 × (rating − 1) / 4 + 0.4 × ln(1 + reviews) /
/// ln(1 + 1000), each part clipped to [0, 1]. A listing with a good rating backed by many
/// reviews scores high; NaN when the rating or review count is missing.
///
/// ```
/// use ecomkit::features::listing_quality;
/// assert_eq!(listing_quality(5.0, 1000.0), 1.0);
/// assert_eq!(listing_quality(1.0, 0.0), 0.0);
/// assert!(listing_quality(f64::NAN, 10.0).is_nan());
/// ```
pub fn listing_quality(rating: f64, reviews: f64) -> f64 {
    let rating_part = ((rating - 1.0) / 4.0).clamp(0.0, 1.0);
    let review_part =
        (reviews.max(0.0).ln_1p() / QUALITY_REVIEWS_SATURATION.ln_1p()).clamp(0.0, 1.0);
    if rating.is_nan() || reviews.is_nan() {
        return f64::NAN;
    }
    0.6 * rating_part + 0.4 * review_part
}
