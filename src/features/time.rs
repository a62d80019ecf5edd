//! Time columns and durations: every kernel works on `i64` nanoseconds since the Unix epoch
//! (UTC), whatever unit the column had, and on durations parsed from "30m", "7d", ….

use std::borrow::Cow;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrowPrimitiveType};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, Datelike, Timelike};
use chrono_tz::Tz;

use crate::error::{EcomkitError, Result};
use crate::frame::{extremes, Column};

/// Nanoseconds in one second, minute, hour, day and week.
pub const SECOND: i64 = 1_000_000_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;
pub const WEEK: i64 = 7 * DAY;

/// `later − earlier` in nanoseconds, exact for any two times: two i64 times more than ~292
/// years apart (a 1677 sentinel beside 2024) differ by more than an i64 holds, and a plain
/// subtraction would wrap.
///
/// ```
/// use ecomkit::features::time::span;
/// assert_eq!(span(i64::MIN, i64::MAX), i128::from(u64::MAX));
/// ```
pub fn span(earlier: i64, later: i64) -> i128 {
    i128::from(later) - i128::from(earlier)
}

/// A duration such as "30m", "7d", "1.5h", "90s", "2w" (also pandas' "7D", "30min") in
/// nanoseconds. Calendar-free: a day is always 24 hours.
pub fn parse_duration(text: &str, argument: &str) -> Result<i64> {
    let bad = || {
        EcomkitError::invalid_value(
            argument,
            format!(
                "expected a positive duration such as \"30m\", \"7d\", \"12h\", \"90s\" or \
                 \"2w\", got {text:?}"
            ),
        )
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(bad)?;
    let (number_text, unit) = trimmed.split_at(split);
    let number: f64 = number_text.trim().parse().map_err(|_| bad())?;
    // pandas spells months "M"/"MS"/"ME" (and years, quarters alike), where lower-case "m"
    // and "ms" are minutes and milliseconds here: refuse the calendar spellings outright.
    if matches!(
        unit.trim(),
        "M" | "MS" | "ME" | "BM" | "BMS" | "Y" | "YS" | "YE" | "A" | "AS" | "Q" | "QS" | "QE"
    ) {
        return Err(EcomkitError::invalid_value(
            argument,
            format!(
                "{text:?} is a calendar unit in pandas (months, quarters, years), which has \
                 no fixed length; write a fixed duration such as \"30d\", and \"1min\" or \
                 \"1ms\" for a minute or a millisecond"
            ),
        ));
    }
    let unit = match unit.trim().to_ascii_lowercase().as_str() {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" | "sec" | "second" | "seconds" => SECOND,
        "m" | "min" | "minute" | "minutes" | "t" => MINUTE,
        "h" | "hour" | "hours" => HOUR,
        "d" | "day" | "days" => DAY,
        "w" | "week" | "weeks" => WEEK,
        _ => return Err(bad()),
    };
    if let Ok(count) = number_text.trim().parse::<i64>() {
        // Whole counts are exact (a product in f64 rounds beyond 2^53 nanoseconds).
        return count.checked_mul(unit).filter(|&n| n >= 1).ok_or_else(bad);
    }
    let nanos = number * unit as f64;
    if !(nanos.is_finite() && nanos >= 1.0 && nanos < i64::MAX as f64) {
        return Err(bad());
    }
    Ok(nanos.round() as i64)
}

/// The column as nanoseconds since the epoch (UTC). Timestamps of any unit (with or without
/// a time zone: Arrow stores UTC either way) and dates are accepted; nulls are refused.
pub fn epoch_nanos(column: &Column<'_>, argument: &str) -> Result<Vec<i64>> {
    let argument = EcomkitError::column_argument(argument, column.name());
    let mut out = Vec::with_capacity(column.len());
    for chunk in column.chunks() {
        if chunk.null_count() > 0 {
            let row = out.len() + (0..chunk.len()).find(|&i| chunk.is_null(i)).unwrap_or(0);
            return Err(EcomkitError::invalid_value(
                argument,
                format!("has a null at row {row}; every row needs a time"),
            ));
        }
        extend_epoch_nanos(&mut out, chunk.as_ref(), &argument)?;
    }
    Ok(out)
}

/// The column as nanoseconds since the epoch, `None` for a null: for checks that read
/// times with gaps (data validation) rather than refuse them.
pub fn epoch_nanos_or_null(column: &Column<'_>, argument: &str) -> Result<Vec<Option<i64>>> {
    let argument = EcomkitError::column_argument(argument, column.name());
    let mut out = Vec::with_capacity(column.len());
    let mut nanos = Vec::new();
    for chunk in column.chunks() {
        nanos.clear();
        match chunk.logical_nulls() {
            Some(nulls) => {
                extend_epoch_nanos(&mut nanos, zero_nulls(chunk.as_ref()).as_ref(), &argument)?;
                out.extend(
                    nanos
                        .iter()
                        .zip(nulls.iter())
                        .map(|(&t, valid)| valid.then_some(t)),
                );
            }
            None => {
                extend_epoch_nanos(&mut nanos, chunk.as_ref(), &argument)?;
                out.extend(nanos.iter().map(|&t| Some(t)));
            }
        }
    }
    Ok(out)
}

/// A time array with 0 under its nulls (the values under a null are unspecified, and might
/// not scale to nanoseconds).
fn zero_nulls(array: &dyn Array) -> arrow_array::ArrayRef {
    fn zeroed<T: ArrowPrimitiveType>(array: &dyn Array) -> arrow_array::ArrayRef {
        let array = array.as_primitive::<T>();
        let values = array.iter().map(|v| v.unwrap_or_default());
        std::sync::Arc::new(
            arrow_array::PrimitiveArray::<T>::from_iter_values(values)
                .with_data_type(array.data_type().clone()),
        )
    }
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => zeroed::<TimestampSecondType>(array),
        DataType::Timestamp(TimeUnit::Millisecond, _) => zeroed::<TimestampMillisecondType>(array),
        DataType::Timestamp(TimeUnit::Microsecond, _) => zeroed::<TimestampMicrosecondType>(array),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => zeroed::<TimestampNanosecondType>(array),
        DataType::Date32 => zeroed::<Date32Type>(array),
        DataType::Date64 => zeroed::<Date64Type>(array),
        _ => arrow_array::make_array(array.to_data()),
    }
}

/// One chunk of a time column (no nulls) as nanoseconds, appended to `out`.
fn extend_epoch_nanos(out: &mut Vec<i64>, array: &dyn Array, argument: &str) -> Result<()> {
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            scaled::<TimestampSecondType>(out, array, SECOND, argument)
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            scaled::<TimestampMillisecondType>(out, array, 1_000_000, argument)
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            scaled::<TimestampMicrosecondType>(out, array, 1_000, argument)
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            scaled::<TimestampNanosecondType>(out, array, 1, argument)
        }
        DataType::Date32 => scaled::<Date32Type>(out, array, DAY, argument),
        DataType::Date64 => scaled::<Date64Type>(out, array, 1_000_000, argument),
        other => Err(EcomkitError::invalid_type(
            argument,
            "a timestamp or date column (integers are not read as times: convert them, \
             e.g. pandas.to_datetime(column, unit=\"ms\"))",
            other,
        )),
    }
}

/// A time column as nanoseconds since the epoch, read where it lies when it can be: one
/// chunk of 64-bit timestamps without nulls is kept as it is with its factor to
/// nanoseconds (its extremes checked for overflow, so every value scales), which saves a
/// converted copy of the column; anything else is converted by [`epoch_nanos`].
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{RecordBatch, TimestampMillisecondArray};
/// use ecomkit::features::time::EpochTimes;
/// use ecomkit::frame::Frame;
/// let batch = RecordBatch::try_from_iter([
///     ("t", Arc::new(TimestampMillisecondArray::from(vec![1_500, -2])) as _),
/// ])?;
/// let frame = Frame::from(batch);
/// let times = EpochTimes::new(&frame.column("t", "time")?, "time")?;
/// assert_eq!((times.len(), times.get(0), times.get(1)), (2, 1_500_000_000, -2_000_000));
/// // Read in place: the milliseconds as stored, and their factor to nanoseconds.
/// assert_eq!(times.parts(), (&[1_500, -2][..], 1_000_000));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct EpochTimes<'a> {
    values: Cow<'a, [i64]>,
    factor: i64,
}

impl<'a> EpochTimes<'a> {
    /// The column's times; errors as [`epoch_nanos`].
    pub fn new(column: &Column<'a>, argument: &str) -> Result<Self> {
        if let &[chunk] = column.chunks() {
            let chunk: &'a dyn Array = chunk.as_ref();
            let raw = match chunk.data_type() {
                DataType::Timestamp(TimeUnit::Second, _) => {
                    Some((chunk.as_primitive::<TimestampSecondType>().values(), SECOND))
                }
                DataType::Timestamp(TimeUnit::Millisecond, _) => Some((
                    chunk.as_primitive::<TimestampMillisecondType>().values(),
                    1_000_000,
                )),
                DataType::Timestamp(TimeUnit::Microsecond, _) => Some((
                    chunk.as_primitive::<TimestampMicrosecondType>().values(),
                    1_000,
                )),
                DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                    Some((chunk.as_primitive::<TimestampNanosecondType>().values(), 1))
                }
                DataType::Date64 => Some((chunk.as_primitive::<Date64Type>().values(), 1_000_000)),
                _ => None,
            };
            if let Some((values, factor)) = raw.filter(|_| chunk.null_count() == 0) {
                if let Some((low, high)) = extremes(&[values]) {
                    let argument = EcomkitError::column_argument(argument, column.name());
                    check_scales(low, high, factor, &argument)?;
                }
                return Ok(Self {
                    values: Cow::Borrowed(values),
                    factor,
                });
            }
        }
        Ok(Self {
            values: Cow::Owned(epoch_nanos(column, argument)?),
            factor: 1,
        })
    }

    /// Time of `row` in nanoseconds since the epoch.
    #[inline]
    pub fn get(&self, row: usize) -> i64 {
        self.values[row] * self.factor
    }

    /// The times as stored, and the factor that makes them nanoseconds (every product
    /// fits in an `i64`).
    pub fn parts(&self) -> (&[i64], i64) {
        (&self.values, self.factor)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Checks that every value between `low` and `high` times the (positive) factor fits in an
/// `i64`: it is enough that the extremes do, and then the scaling runs as one tight loop.
fn check_scales(low: i64, high: i64, factor: i64, argument: &str) -> Result<()> {
    for value in [low, high] {
        if value.checked_mul(factor).is_none() {
            return Err(EcomkitError::invalid_value(
                argument,
                format!("time {value} is outside the range of nanosecond timestamps"),
            ));
        }
    }
    Ok(())
}

fn scaled<T>(out: &mut Vec<i64>, array: &dyn Array, factor: i64, argument: &str) -> Result<()>
where
    T: ArrowPrimitiveType,
    T::Native: Into<i64> + Ord,
{
    let values = array.as_primitive::<T>().values();
    if let Some((low, high)) = extremes(&[values]) {
        check_scales(low.into(), high.into(), factor, argument)?;
    }
    out.extend(values.iter().map(|&v| v.into() * factor));
    Ok(())
}

/// An IANA time zone ("UTC", "America/Los_Angeles", "Europe/Berlin").
pub fn parse_time_zone(name: &str, argument: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| {
        EcomkitError::invalid_value(
            argument,
            format!("unknown IANA time zone {name:?}; expected a name such as \"UTC\" or \"America/Los_Angeles\""),
        )
    })
}

/// Local wall-clock facts of an instant in a time zone (DST applied by the tz database).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// Hour of day, 0–23.
    pub hour: u32,
    /// Day of week, Monday = 0 … Sunday = 6.
    pub weekday: u32,
    /// Days since 1970-01-01 of the local calendar date.
    pub local_day: i64,
}

/// The local hour, weekday and calendar day of `nanos` (UTC epoch) in `zone`.
pub fn local_time(nanos: i64, zone: Tz) -> LocalTime {
    if zone == Tz::UTC {
        // No offset to look up: plain arithmetic (1970-01-01 was a Thursday).
        let local_day = nanos.div_euclid(DAY);
        return LocalTime {
            hour: (nanos.rem_euclid(DAY) / HOUR) as u32,
            weekday: (local_day + 3).rem_euclid(7) as u32,
            local_day,
        };
    }
    let utc = DateTime::from_timestamp_nanos(nanos);
    let local = utc.with_timezone(&zone);
    let naive = local.date_naive();
    LocalTime {
        hour: local.hour(),
        weekday: local.weekday().num_days_from_monday(),
        local_day: i64::from(naive.num_days_from_ce()) - 719_163,
    }
}
