//! The ASIN pipeline's daily product features, built on [`rolling`](super::rolling): BSR
//! trend, price volatility, review velocity, rating change and a listing-quality score —
//! the inputs of the explosive score.

use super::rolling::{rolling, RollingColumn, RollingOutput, Stat, Window};
use super::time::epoch_nanos;
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
    let groups = frame.groups(&columns.by, "by")?;
    let times = epoch_nanos(&frame.column(&columns.time, "time")?, "time")?;
    let read = |name: &str, argument: &str| -> Result<Vec<f64>> {
        Ok(frame.column(name, argument)?.to_f64(argument)?.into_owned())
    };
    let log_bsr: Vec<f64> = read(&columns.bsr, "bsr")?
        .iter()
        .map(|&b| if b > 0.0 { b.ln() } else { f64::NAN })
        .collect();
    let price = read(&columns.price, "price")?;
    let reviews = read(&columns.review_count, "review_count")?;
    let rating = read(&columns.rating, "rating")?;
    let specs = [
        RollingColumn {
            values: &log_bsr,
            stats: vec![Stat::Slope],
        },
        RollingColumn {
            values: &price,
            stats: vec![Stat::Std, Stat::Mean],
        },
        RollingColumn {
            values: &reviews,
            stats: vec![Stat::Velocity],
        },
        RollingColumn {
            values: &rating,
            stats: vec![Stat::Change],
        },
    ];
    let min_periods = min_periods.max(1);
    let out = rolling(&groups, &times, &specs, &windows, min_periods)?;
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
        values.push(out[at(0, 1, w, 0)].clone());
        let std = &out[at(n_windows, 2, w, 0)];
        let mean = &out[at(n_windows, 2, w, 1)];
        names.push(format!("price_volatility_{label}"));
        values.push(
            std.iter()
                .zip(mean)
                .map(|(&s, &m)| if m != 0.0 { s / m } else { f64::NAN })
                .collect(),
        );
        names.push(format!("review_velocity_{label}"));
        values.push(out[at(3 * n_windows, 1, w, 0)].clone());
        names.push(format!("rating_change_{label}"));
        values.push(out[at(4 * n_windows, 1, w, 0)].clone());
    }
    names.push("listing_quality".into());
    values.push(
        rating
            .iter()
            .zip(reviews.iter())
            .map(|(&r, &c)| listing_quality(r, c))
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
