//! Time-decayed user–item interaction scores: Σ weight(event type) × 2^(−age / half-life)
//! over the pair's events, at one reference time.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};

use super::session::strings;
use super::time::{epoch_nanos, span};
use crate::error::{EcomkitError, Result};
use crate::frame::Frame;

/// Options of [`interaction_scores`].
#[derive(Debug, Clone)]
pub struct InteractionOptions {
    /// User column.
    pub user: String,
    /// Item column.
    pub item: String,
    /// Time column.
    pub time: String,
    /// Event type column (strings).
    pub event: String,
    /// Weight of each event value; other values weigh 0.
    pub weights: Vec<(String, f64)>,
    /// Half-life in nanoseconds.
    pub half_life: i64,
    /// Reference time (ns): only events strictly before it count. None: all events, and
    /// the latest event time is the reference.
    pub as_of: Option<i64>,
}

/// One row per (user, item) pair with an event before the reference time, in order of
/// first appearance: the user and item columns, `score` (Σ weight × 2^(−(reference − t) /
/// half_life)), `n_events` and `last_time`.
pub fn interaction_scores(frame: &Frame, options: &InteractionOptions) -> Result<RecordBatch> {
    if options.half_life <= 0 {
        return Err(EcomkitError::invalid_value(
            "half_life",
            "expected a positive duration",
        ));
    }
    if let Some((name, w)) = options.weights.iter().find(|(_, w)| !w.is_finite()) {
        return Err(EcomkitError::invalid_value(
            "weights",
            format!("weight of {name:?} is {w}; expected a finite number"),
        ));
    }
    let times = epoch_nanos(&frame.column(&options.time, "time")?, "time")?;
    let event = frame.column(&options.event, "event")?;
    let argument = EcomkitError::column_argument("event", &options.event);
    let mut weights = Vec::with_capacity(times.len());
    for chunk in event.chunks() {
        strings(chunk, &argument, &mut |value| {
            weights.push(value.map_or(0.0, |v| {
                options
                    .weights
                    .iter()
                    .find(|(name, _)| name == v)
                    .map_or(0.0, |(_, w)| *w)
            }))
        })?;
    }
    let pairs = frame.groups(&[options.user.clone(), options.item.clone()], "user, item")?;
    let reference = options
        .as_of
        .unwrap_or_else(|| times.iter().copied().max().unwrap_or(0));
    let counted = |t: i64| options.as_of.is_none_or(|as_of| t < as_of);
    let n_pairs = pairs.n_groups();
    let mut score = vec![0.0f64; n_pairs];
    let mut count = vec![0i64; n_pairs];
    let mut last = vec![i64::MIN; n_pairs];
    let mut first_row = vec![u32::MAX; n_pairs];
    for (row, (&pair, &t)) in pairs.ids().iter().zip(&times).enumerate() {
        if !counted(t) {
            continue;
        }
        let p = pair as usize;
        let age = span(t, reference) as f64 / options.half_life as f64;
        score[p] += weights[row] * (-age).exp2();
        count[p] += 1;
        last[p] = last[p].max(t);
        if first_row[p] == u32::MAX {
            first_row[p] = row as u32;
        }
    }
    let kept: Vec<usize> = (0..n_pairs).filter(|&p| count[p] > 0).collect();
    let mut kept_rows: Vec<(u32, usize)> = kept.iter().map(|&p| (first_row[p], p)).collect();
    kept_rows.sort_unstable();
    let rows: Vec<u32> = kept_rows.iter().map(|&(r, _)| r).collect();
    let (user_field, users) = frame.take(&options.user, &rows, "user")?;
    let (item_field, items) = frame.take(&options.item, &rows, "item")?;
    let zone = match frame.column(&options.time, "time")?.data_type() {
        DataType::Timestamp(_, zone) => zone.clone(),
        _ => None,
    };
    let fields = vec![
        user_field.as_ref().clone(),
        item_field.as_ref().clone(),
        Field::new("score", DataType::Float64, false),
        Field::new("n_events", DataType::Int64, false),
        Field::new(
            "last_time",
            DataType::Timestamp(TimeUnit::Nanosecond, zone.clone()),
            false,
        ),
    ];
    let arrays: Vec<ArrayRef> = vec![
        users,
        items,
        Arc::new(Float64Array::from_iter_values(
            kept_rows.iter().map(|&(_, p)| score[p]),
        )),
        Arc::new(Int64Array::from_iter_values(
            kept_rows.iter().map(|&(_, p)| count[p]),
        )),
        Arc::new(
            TimestampNanosecondArray::from_iter_values(kept_rows.iter().map(|&(_, p)| last[p]))
                .with_timezone_opt(zone),
        ),
    ];
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}
