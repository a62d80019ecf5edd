//! Cleaning a click stream, the step after validation: exact duplicate events and the
//! events of bots dropped, times converted to UTC, and a table of what was dropped and why.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_array::{
    Array, ArrayRef, ArrowPrimitiveType, Int64Array, PrimitiveArray, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::{DateTime, Duration, LocalResult, TimeZone};
use chrono_tz::Tz;
use rayon::prelude::*;

use crate::error::{EcomkitError, Result};
use crate::features::time::{epoch_nanos_or_null, MINUTE};
use crate::frame::{Column, Frame};

/// Why a row was dropped: it repeats an earlier row in every column.
pub const DUPLICATE: &str = "duplicate";
/// Why a row was dropped: its user had more events in some minute than the bot limit.
pub const BOT: &str = "bot";

/// What [`clean_events`] drops, and the zone of times written without one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CleanOptions {
    /// Drop every row equal in every column to an earlier row (the first is kept).
    pub duplicates: bool,
    /// Drop every event of a user with more than this many events within some 60 seconds
    /// (counted after duplicates are dropped); `None` keeps every user.
    pub max_events_per_minute: Option<f64>,
    /// The zone in which times without a zone (naive timestamps) are local times.
    pub time_zone: Tz,
}

impl Default for CleanOptions {
    fn default() -> Self {
        Self {
            duplicates: true,
            max_events_per_minute: None,
            time_zone: Tz::UTC,
        }
    }
}

/// The kept rows in input order, with the time column in UTC; and the dropped rows, with
/// `row` (the input row number) and `reason` ([`DUPLICATE`] or [`BOT`]) before the columns.
#[derive(Debug, Clone)]
pub struct Cleaned {
    pub events: RecordBatch,
    pub dropped: RecordBatch,
}

/// Cleans the events of `frame`: the `user` column says whose event a row is, the `time`
/// column (a timestamp) when it happened. Rows with a null user or time are kept and never
/// count towards a rate.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{RecordBatch, StringArray, TimestampSecondArray};
/// use ecomkit::frame::Frame;
/// use ecomkit::monitor::clean::{clean_events, CleanOptions};
/// let batch = RecordBatch::try_from_iter([
///     ("user", Arc::new(StringArray::from(vec!["a", "a", "b", "b", "b"])) as _),
///     ("time", Arc::new(TimestampSecondArray::from(vec![0, 0, 0, 10, 20])) as _),
/// ])?;
/// let options = CleanOptions { max_events_per_minute: Some(2.0), ..CleanOptions::default() };
/// let cleaned = clean_events(&Frame::from(batch), "user", "time", &options)?;
/// assert_eq!(cleaned.events.num_rows(), 1); // a's first event; a's second repeats it
/// assert_eq!(cleaned.dropped.num_rows(), 4); // and b had 3 events within a minute
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn clean_events(
    frame: &Frame,
    user: &str,
    time: &str,
    options: &CleanOptions,
) -> Result<Cleaned> {
    let user_column = frame.column(user, "user")?;
    let time_column = frame.column(time, "time")?;
    if !matches!(time_column.data_type(), DataType::Timestamp(..)) {
        return Err(EcomkitError::invalid_type(
            EcomkitError::column_argument("time", time),
            "a timestamp column",
            time_column.data_type(),
        ));
    }
    if let Some(limit) = options.max_events_per_minute {
        if !(limit.is_finite() && limit > 0.0) {
            return Err(EcomkitError::invalid_value(
                "max_events_per_minute",
                format!("expected a positive number of events, got {limit}"),
            ));
        }
    }
    let n_rows = frame.num_rows();
    let mut reasons: Vec<Option<&'static str>> = vec![None; n_rows];
    if options.duplicates {
        let names: Vec<&str> = frame
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        let groups = frame.groups(&names, "frame")?;
        let mut seen = vec![false; groups.n_groups()];
        for (row, &id) in groups.ids().iter().enumerate() {
            if std::mem::replace(&mut seen[id as usize], true) {
                reasons[row] = Some(DUPLICATE);
            }
        }
    }
    if let Some(limit) = options.max_events_per_minute {
        let bots = bot_users(&user_column, &time_column, &reasons, limit)?;
        let groups = user_column.groups("user")?;
        for (reason, &id) in reasons.iter_mut().zip(groups.ids()) {
            if reason.is_none() && bots[id as usize] {
                *reason = Some(BOT);
            }
        }
    }
    let in_utc = utc_column(&time_column, options.time_zone)?;
    let DataType::Timestamp(unit, _) = time_column.data_type() else {
        unreachable!("checked above")
    };
    let utc_type = DataType::Timestamp(*unit, Some("UTC".into()));
    let (kept, dropped): (Vec<u32>, Vec<u32>) =
        (0..n_rows as u32).partition(|&row| reasons[row as usize].is_none());
    let columns = |rows: &[u32]| -> Result<Vec<(Field, ArrayRef)>> {
        let schema = frame.schema();
        let mut columns = Vec::with_capacity(schema.fields().len());
        for field in schema.fields() {
            let array = if field.name() == time {
                take_chunked(&in_utc, &utc_type, rows)?
            } else {
                frame.column(field.name(), "frame")?.take(rows)?
            };
            let field = field
                .as_ref()
                .clone()
                .with_data_type(array.data_type().clone());
            columns.push((field, array));
        }
        Ok(columns)
    };
    let events = batch(columns(&kept)?, kept.len())?;
    let mut dropped_columns = vec![
        (
            Field::new("row", DataType::Int64, false),
            Arc::new(Int64Array::from_iter_values(
                dropped.iter().map(|&r| r as i64),
            )) as ArrayRef,
        ),
        (
            Field::new("reason", DataType::Utf8, false),
            Arc::new(StringArray::from_iter_values(
                dropped
                    .iter()
                    .map(|&r| reasons[r as usize].unwrap_or_default()),
            )) as ArrayRef,
        ),
    ];
    dropped_columns.extend(columns(&dropped)?);
    let dropped = batch(dropped_columns, dropped.len())?;
    Ok(Cleaned { events, dropped })
}

fn batch(columns: Vec<(Field, ArrayRef)>, n_rows: usize) -> Result<RecordBatch> {
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = columns.into_iter().unzip();
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(n_rows));
    Ok(RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        arrays,
        &options,
    )?)
}

/// Per user group (as [`Column::groups`] numbers them): whether some 60 seconds hold more
/// than `limit` of the user's events not already dropped.
fn bot_users(
    user: &Column<'_>,
    time: &Column<'_>,
    reasons: &[Option<&'static str>],
    limit: f64,
) -> Result<Vec<bool>> {
    let groups = user.groups("user")?;
    let times = epoch_nanos_or_null(time, "time")?;
    let mut null_user = vec![false; reasons.len()];
    for row in user.missing_rows() {
        null_user[row] = true;
    }
    let mut events: Vec<(u32, i64)> = (groups.ids().iter().zip(&times))
        .zip(reasons.iter().zip(&null_user))
        .filter(|(_, (reason, &null))| reason.is_none() && !null)
        .filter_map(|((&id, time), _)| time.map(|t| (id, t)))
        .collect();
    events.par_sort_unstable();
    let mut bots = vec![false; groups.n_groups()];
    // Two pointers over each user's sorted times: the events in (t − 1 minute, t].
    let mut start = 0;
    for end in 0..events.len() {
        let (id, t) = events[end];
        while events[start].0 != id || events[start].1 <= t.saturating_sub(MINUTE) {
            start += 1;
        }
        if (end - start + 1) as f64 > limit {
            bots[id as usize] = true;
        }
    }
    Ok(bots)
}

/// The time column as UTC timestamps of the same unit: a zoned column is relabelled (Arrow
/// stores instants in UTC already); a naive one is read as local times in `zone`, as
/// Python's `datetime` reads them with `fold=0`: an ambiguous time (clocks set back) is its
/// first occurrence, a time skipped by clocks set forward takes the offset before the change.
fn utc_column(time: &Column<'_>, zone: Tz) -> Result<Vec<ArrayRef>> {
    let DataType::Timestamp(unit, stored_zone) = time.data_type() else {
        unreachable!("checked by clean_events")
    };
    let naive = stored_zone.is_none();
    time.chunks()
        .iter()
        .map(|chunk| match unit {
            TimeUnit::Second => in_utc::<TimestampSecondType>(chunk, naive, zone, 1),
            TimeUnit::Millisecond => in_utc::<TimestampMillisecondType>(chunk, naive, zone, 1_000),
            TimeUnit::Microsecond => {
                in_utc::<TimestampMicrosecondType>(chunk, naive, zone, 1_000_000)
            }
            TimeUnit::Nanosecond => {
                in_utc::<TimestampNanosecondType>(chunk, naive, zone, 1_000_000_000)
            }
        })
        .collect()
}

fn in_utc<T>(chunk: &ArrayRef, naive: bool, zone: Tz, per_second: i64) -> Result<ArrayRef>
where
    T: ArrowPrimitiveType<Native = i64>,
{
    let array = chunk.as_primitive::<T>();
    let relabelled = |a: PrimitiveArray<T>| -> ArrayRef {
        let unit = match a.data_type() {
            DataType::Timestamp(unit, _) => *unit,
            _ => unreachable!("a timestamp array"),
        };
        Arc::new(a.with_data_type(DataType::Timestamp(unit, Some("UTC".into()))))
    };
    if !naive || zone == Tz::UTC {
        return Ok(relabelled(array.clone()));
    }
    let converted = (array.iter())
        .map(|value| {
            value
                .map(|local| {
                    local_to_utc(local, per_second, zone).ok_or_else(|| {
                        EcomkitError::invalid_value(
                            "time",
                            format!("local time {local} (in the column's unit) is out of range"),
                        )
                    })
                })
                .transpose()
        })
        .collect::<Result<PrimitiveArray<T>>>()?
        .with_data_type(array.data_type().clone());
    Ok(relabelled(converted))
}

/// A local wall-clock time (`per_second` units per second since 1970-01-01 00:00 local) as
/// a UTC instant in the same unit.
fn local_to_utc(local: i64, per_second: i64, zone: Tz) -> Option<i64> {
    let seconds = local.div_euclid(per_second);
    let naive = DateTime::from_timestamp(seconds, 0)?.naive_utc();
    let offset = match zone.offset_from_local_datetime(&naive) {
        LocalResult::Single(offset) | LocalResult::Ambiguous(offset, _) => offset,
        // In a gap: the offset in force before it (its length is under a day).
        LocalResult::None => zone
            .offset_from_local_datetime(&(naive - Duration::days(1)))
            .earliest()?,
    };
    let offset_seconds = i64::from(chrono::Offset::fix(&offset).local_minus_utc());
    local.checked_sub(offset_seconds.checked_mul(per_second)?)
}

/// Rows `rows` (numbered over all chunks) of chunked arrays, as one array.
fn take_chunked(chunks: &[ArrayRef], data_type: &DataType, rows: &[u32]) -> Result<ArrayRef> {
    let schema = Arc::new(Schema::new(vec![Field::new("t", data_type.clone(), true)]));
    let batches = chunks
        .iter()
        .map(|c| RecordBatch::try_new(schema.clone(), vec![c.clone()]))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Frame::new(schema, batches)?.column("t", "time")?.take(rows)
}
