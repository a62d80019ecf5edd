//! Rows that repeat an earlier row's keys, found without numbering the groups.
//!
//! Numbering groups by first appearance ([`super::factorize_columns`]) needs one serial pass
//! that merges every row's tuple into one table; a duplicate check only needs to know, for
//! each row, whether an equal tuple came before it. So each row's keys are hashed on all
//! threads, the rows are split by hash into buckets that are checked on all threads (each
//! bucket's table stays small), and a row whose hash was seen is compared key by key, which
//! keeps the answer exact whatever the hashes.

use std::hash::BuildHasher;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{downcast_integer, Array, ArrowPrimitiveType};
use arrow_schema::{DataType, TimeUnit};
use num_traits::AsPrimitive;
use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::keys::{float_key, not_a_key, Key};
use crate::error::{EcomkitError, Result};
use crate::groups::check_row_count;

/// Rows hashed per task.
const PIECE_ROWS: usize = 1 << 16;
/// Buckets the rows are split into by the top bits of their hash.
const BUCKET_BITS: u32 = 8;

/// Reads one row's key of one array (a chunk of a column).
type KeyAt<'a> = Box<dyn Fn(usize) -> Key<'a> + Send + Sync + 'a>;

/// Rows (in order) whose keys in `columns` equal those of an earlier row, as pandas'
/// `duplicated(keep="first")` reads them: keys compare as in [`super::factorize_columns`]
/// (nulls equal nulls; floats by value, every NaN one key). `columns` holds each key
/// column's chunks, the same chunking for every column; `arguments` names each column in
/// error messages.
pub fn duplicate_rows(
    columns: &[Vec<&dyn Array>],
    n_rows: usize,
    arguments: &[String],
) -> Result<Vec<u64>> {
    check_row_count(n_rows)?;
    EcomkitError::check_length("arguments", "columns", columns.len(), arguments.len())?;
    let Some(first) = columns.first() else {
        // No key columns: every row has the same (empty) tuple.
        return Ok((1..n_rows as u64).collect());
    };
    let readers: Vec<Vec<KeyAt<'_>>> = columns
        .iter()
        .zip(arguments)
        .map(|(chunks, argument)| {
            chunks
                .iter()
                .map(|&array| key_reader(array, argument))
                .collect()
        })
        .collect::<Result<_>>()?;
    if let [only] = readers.as_slice() {
        if let Some(rows) = narrow_int_duplicates(first, only) {
            return Ok(rows);
        }
    }
    let chunk_starts: Vec<usize> = first
        .iter()
        .scan(0, |start, chunk| {
            let this = *start;
            *start += chunk.len();
            Some(this)
        })
        .collect();
    let key = |column: usize, row: usize| {
        let chunk = chunk_starts.partition_point(|&start| start <= row) - 1;
        readers[column][chunk](row - chunk_starts[chunk])
    };
    let same = |a: usize, b: usize| (0..columns.len()).all(|c| key(c, a) == key(c, b));

    // Hash every row, piece by piece; each piece splits its rows into buckets, in row order.
    let pieces: Vec<(usize, usize, usize)> = first
        .iter()
        .enumerate()
        .flat_map(|(chunk, array)| {
            (0..array.len())
                .step_by(PIECE_ROWS)
                .map(move |start| (chunk, start, PIECE_ROWS.min(array.len() - start)))
        })
        .collect();
    let hashed: Vec<Vec<Vec<(u32, u32)>>> = pieces
        .par_iter()
        .map(|&(chunk, start, len)| {
            let mut buckets = vec![Vec::new(); 1 << BUCKET_BITS];
            for offset in start..start + len {
                let mut hash = 0u64;
                for column in &readers {
                    let one = FxBuildHasher.hash_one(column[chunk](offset));
                    hash = (hash.rotate_left(26) ^ one).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                }
                let hash = mix(hash);
                let row = (chunk_starts[chunk] + offset) as u32;
                buckets[(hash >> (64 - BUCKET_BITS)) as usize].push((hash as u32, row));
            }
            buckets
        })
        .collect();

    // Each bucket on its own: a row is a duplicate when an earlier row of its bucket with
    // the same hash has the same keys.
    let mut rows: Vec<u64> = (0..1usize << BUCKET_BITS)
        .into_par_iter()
        .flat_map_iter(|bucket| {
            let size = hashed.iter().map(|piece| piece[bucket].len()).sum();
            let mut first_of: FxHashMap<u32, u32> =
                FxHashMap::with_capacity_and_hasher(size, FxBuildHasher);
            // Distinct tuples beyond the first with the same hash (rare).
            let mut others: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
            let mut repeats = Vec::new();
            for &(hash, row) in hashed.iter().flat_map(|piece| &piece[bucket]) {
                let Some(&earlier) = first_of.get(&hash) else {
                    first_of.insert(hash, row);
                    continue;
                };
                if same(earlier as usize, row as usize) {
                    repeats.push(u64::from(row));
                    continue;
                }
                let distinct = others.entry(hash).or_default();
                if distinct.iter().any(|&e| same(e as usize, row as usize)) {
                    repeats.push(u64::from(row));
                } else {
                    distinct.push(row);
                }
            }
            repeats
        })
        .collect();
    rows.par_sort_unstable();
    Ok(rows)
}

/// One integer column without nulls in a narrow range (ids numbered from 0, say): a table
/// of the values seen instead of hashing. `None` for any other column.
fn narrow_int_duplicates(chunks: &[&dyn Array], readers: &[KeyAt<'_>]) -> Option<Vec<u64>> {
    if chunks
        .iter()
        .any(|c| !c.data_type().is_integer() || c.null_count() > 0)
    {
        return None;
    }
    let ints = || {
        chunks.iter().zip(readers).flat_map(|(chunk, read)| {
            (0..chunk.len()).map(move |row| match read(row) {
                Key::Int(v) => v,
                _ => unreachable!("integers without nulls"),
            })
        })
    };
    let (min, max) = ints().fold((i64::MAX, i64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let n_rows: usize = chunks.iter().map(|c| c.len()).sum();
    let span = (i128::from(max) - i128::from(min)).max(0) as u128;
    if span >= 4 * n_rows as u128 + 1024 {
        return None;
    }
    // One bit per value: the table stays in cache for ids in the millions.
    let mut seen = vec![0u64; (span as usize + 1).div_ceil(64)];
    Some(
        ints()
            .zip(0u64..)
            .filter(|&(v, _)| {
                let slot = (i128::from(v) - i128::from(min)) as usize;
                let (word, bit) = (&mut seen[slot / 64], 1u64 << (slot % 64));
                let repeat = *word & bit != 0;
                *word |= bit;
                repeat
            })
            .map(|(_, row)| row)
            .collect(),
    )
}

/// The finalizer of MurmurHash3: spreads every input bit over the top bits the buckets use.
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// How to read a key of `array`, for the key column types grouping accepts.
fn key_reader<'a>(array: &'a dyn Array, argument: &str) -> Result<KeyAt<'a>> {
    fn primitive<'a, T: ArrowPrimitiveType>(
        array: &'a dyn Array,
        as_i64: impl Fn(T::Native) -> i64 + Send + Sync + 'a,
    ) -> KeyAt<'a> {
        let values = array.as_primitive::<T>();
        Box::new(move |row| {
            if values.is_null(row) {
                Key::Null
            } else {
                Key::Int(as_i64(values.value(row)))
            }
        })
    }
    fn text<'a>(
        value: impl Fn(usize) -> &'a str + Send + Sync + 'a,
        array: &'a dyn Array,
    ) -> KeyAt<'a> {
        Box::new(move |row| {
            if array.is_null(row) {
                Key::Null
            } else {
                Key::Str(value(row))
            }
        })
    }
    if let Some(dictionary) = array.as_any_dictionary_opt() {
        let values = key_reader(dictionary.values().as_ref(), argument)?;
        let rows = super::keys::DictionaryRows::new(dictionary);
        return Ok(Box::new(move |row| {
            rows.get(row).map_or(Key::Null, &values)
        }));
    }
    macro_rules! integers {
        ($t:ty) => {
            primitive::<$t>(array, AsPrimitive::<i64>::as_)
        };
    }
    Ok(downcast_integer! {
        array.data_type() => (integers),
        DataType::Utf8 => {
            let strings = array.as_string::<i32>();
            text(move |row| strings.value(row), array)
        }
        DataType::LargeUtf8 => {
            let strings = array.as_string::<i64>();
            text(move |row| strings.value(row), array)
        }
        DataType::Utf8View => {
            let strings = array.as_string_view();
            text(move |row| strings.value(row), array)
        }
        DataType::Boolean => {
            let booleans = array.as_boolean();
            Box::new(move |row| {
                if booleans.is_null(row) {
                    Key::Null
                } else {
                    Key::Int(i64::from(booleans.value(row)))
                }
            })
        }
        DataType::Float32 => primitive::<Float32Type>(array, |v| float_key(f64::from(v))),
        DataType::Float64 => primitive::<Float64Type>(array, float_key),
        DataType::Date32 => primitive::<Date32Type>(array, i64::from),
        DataType::Date64 => primitive::<Date64Type>(array, |v| v),
        DataType::Timestamp(TimeUnit::Second, _) => primitive::<TimestampSecondType>(array, |v| v),
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            primitive::<TimestampMillisecondType>(array, |v| v)
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            primitive::<TimestampMicrosecondType>(array, |v| v)
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            primitive::<TimestampNanosecondType>(array, |v| v)
        }
        DataType::Null => Box::new(|_| Key::Null),
        other => return Err(not_a_key(argument, other)),
    })
}
