//! Key columns into dense ids: the one place that codes strings, dictionaries, integers,
//! floats and several columns together, for scoring, features, sessions and uplift alike.

use std::borrow::Cow;
use std::hash::BuildHasher;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{downcast_integer, AnyDictionaryArray, Array, ArrayRef, ArrowPrimitiveType};
use arrow_buffer::{ArrowNativeType, NullBuffer};
use arrow_schema::{DataType, TimeUnit};
use num_traits::AsPrimitive;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::{ChunkRows, Column, Frame};
use crate::error::{EcomkitError, Result};
use crate::groups::{check_row_count, pair_codes, split_lengths, Groups};

/// One key value, whatever the column's type; a column holds one kind only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Key<'a> {
    Null,
    Str(&'a str),
    Int(i64),
}

/// Codes keys in order of first sight.
#[derive(Default)]
struct Coder<'a> {
    seen: FxHashMap<Key<'a>, u32>,
    keys: Vec<Key<'a>>,
}

impl<'a> Coder<'a> {
    fn code(&mut self, key: Key<'a>) -> u32 {
        let next = self.keys.len() as u32;
        let code = *self.seen.entry(key).or_insert(next);
        if code == next {
            self.keys.push(key);
        }
        code
    }
}

/// Strings to codes by open addressing, tuned for the short keys group columns hold (sites,
/// categories, ids): a string of up to 16 bytes is hashed and compared as two machine words
/// and its length, which is exact (the two words cover every byte) and avoids both a
/// general-purpose hasher and a call to memcmp. This is most of the cost of grouping by
/// string columns.
struct StrTable<'a> {
    slots: Vec<u32>,
    shift: u32,
    keys: Vec<Key<'a>>,
    /// (first word, last word, length) of each key; the length of the null key is
    /// `usize::MAX`, which no string has.
    words: Vec<(u64, u64, usize)>,
    hashes: Vec<u64>,
    null: Option<u32>,
    /// The words, length and code of the latest string coded: key columns often come in
    /// runs of one value (a table sorted by product), which then skip the hash table.
    latest: (u64, u64, usize, u32),
}

impl<'a> StrTable<'a> {
    const INITIAL_BITS: u32 = 6;

    fn new() -> Self {
        Self {
            slots: vec![0; 1 << Self::INITIAL_BITS],
            shift: 64 - Self::INITIAL_BITS,
            keys: Vec::new(),
            words: Vec::new(),
            hashes: Vec::new(),
            null: None,
            latest: (0, 0, usize::MAX, 0),
        }
    }

    fn code(&mut self, value: Option<&'a str>) -> u32 {
        let Some(s) = value else {
            return *self.null.get_or_insert_with(|| {
                self.keys.push(Key::Null);
                self.words.push((0, 0, usize::MAX));
                self.hashes.push(0);
                self.keys.len() as u32 - 1
            });
        };
        let bytes = s.as_bytes();
        let (w0, w1) = words(bytes);
        let n = bytes.len();
        let (l0, l1, ln, latest) = self.latest;
        if (ln, l0, l1) == (n, w0, w1) && (n <= 16 || self.keys[latest as usize] == Key::Str(s)) {
            return latest;
        }
        let code = self.code_in_table(s, (w0, w1, n));
        self.latest = (w0, w1, n, code);
        code
    }

    /// The code of string `s`, whose words and length are `(w0, w1, n)`, from the table.
    fn code_in_table(&mut self, s: &'a str, (w0, w1, n): (u64, u64, usize)) -> u32 {
        let bytes = s.as_bytes();
        let mut hash = folded_multiply(
            w0 ^ 0x243F_6A88_85A3_08D3,
            w1 ^ (n as u64) ^ 0x1319_8A2E_0370_7344,
        );
        if n > 16 {
            hash = folded_multiply(
                hash ^ rustc_hash::FxBuildHasher.hash_one(bytes),
                0x9E37_79B9_7F4A_7C15,
            );
        }
        let mask = self.slots.len() - 1;
        let mut i = (hash >> self.shift) as usize;
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                let code = self.keys.len() as u32;
                self.slots[i] = code + 1;
                self.keys.push(Key::Str(s));
                self.words.push((w0, w1, n));
                self.hashes.push(hash);
                if self.keys.len() * 2 > self.slots.len() {
                    self.grow();
                }
                return code;
            }
            let code = slot - 1;
            let (k0, k1, kn) = self.words[code as usize];
            if kn == n && k0 == w0 && k1 == w1 {
                let same = n <= 16 || matches!(self.keys[code as usize], Key::Str(k) if k == s);
                if same {
                    return code;
                }
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let bits = 64 - self.shift + 1;
        self.shift = 64 - bits;
        self.slots = vec![0; 1 << bits];
        let mask = self.slots.len() - 1;
        for (code, (&hash, &(_, _, n))) in self.hashes.iter().zip(&self.words).enumerate() {
            if n == usize::MAX {
                continue;
            }
            let mut i = (hash >> self.shift) as usize;
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = code as u32 + 1;
        }
    }
}

/// Two words that, with the length, identify a string of up to 16 bytes exactly (and hash
/// a longer one): the first and last 8 bytes, 4 bytes, or the first, middle and last byte.
#[inline(always)]
fn words(bytes: &[u8]) -> (u64, u64) {
    let n = bytes.len();
    let load8 = |b: &[u8]| u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
    let load4 = |b: &[u8]| u64::from(u32::from_le_bytes(b[..4].try_into().expect("4 bytes")));
    if n >= 8 {
        (load8(bytes), load8(&bytes[n - 8..]))
    } else if n >= 4 {
        (load4(bytes), load4(&bytes[n - 4..]))
    } else if n > 0 {
        let b = |i: usize| u64::from(bytes[i]);
        (b(0) | b(n / 2) << 8 | b(n - 1) << 16, 0)
    } else {
        (0, 0)
    }
}

/// The high and low halves of a 128-bit product, folded: a fast, well-mixing hash step.
fn folded_multiply(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Rows per group, on average, below which [`Frame::contiguous_groups`] leaves the rows to
/// [`Frame::groups`] (a table sorted by some other column has runs of about one row).
pub const MIN_RUN: usize = 8;

/// The start of every run of equal keys and then `n`, when no key has two runs and the
/// runs average at least [`MIN_RUN`] rows; pieces of rows are compared on all threads.
pub(super) fn contiguous_runs<'a>(
    n: usize,
    key: impl Fn(usize) -> &'a str + Sync,
) -> Option<Vec<usize>> {
    let piece_starts: Vec<Vec<usize>> = (0..n.div_ceil(PIECE_ROWS))
        .into_par_iter()
        .map(|p| {
            let rows = (p * PIECE_ROWS).max(1)..((p + 1) * PIECE_ROWS).min(n);
            let mut starts = Vec::new();
            let mut previous = key(rows.start.saturating_sub(1));
            for i in rows {
                let current = key(i);
                if !same_bytes(current.as_bytes(), previous.as_bytes()) {
                    previous = current;
                    starts.push(i);
                    // Too many runs for a whole piece: give up early.
                    if starts.len() * MIN_RUN > PIECE_ROWS {
                        return None;
                    }
                }
            }
            Some(starts)
        })
        .collect::<Option<_>>()?;
    let n_runs = piece_starts.iter().map(Vec::len).sum::<usize>() + usize::from(n > 0);
    if n_runs * MIN_RUN > n {
        return None;
    }
    let mut starts = Vec::with_capacity(n_runs + 1);
    if n > 0 {
        starts.push(0);
    }
    starts.extend(piece_starts.into_iter().flatten());
    let mut seen = rustc_hash::FxHashSet::default();
    if !starts.iter().all(|&start| seen.insert(key(start))) {
        return None;
    }
    starts.push(n);
    Some(starts)
}

/// `a == b`, inlined: a key of up to 16 bytes (an ASIN has 10) is identified by its length
/// and [`words`], with no call to `memcmp` per row.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && words(a) == words(b) && (a.len() <= 16 || a == b)
}

/// Rows per piece when keys are coded on several threads.
const PIECE_ROWS: usize = 1 << 18;

/// One piece of rows coded on its own: per key column the local codes and keys, and the
/// local code of the columns together. Every local code follows first appearance in the
/// piece.
struct CodedPiece<'a> {
    column_codes: Vec<Vec<u32>>,
    column_keys: Vec<Vec<Key<'a>>>,
    /// With several key columns: the code of each row's tuple, and the first row of each.
    tuples: Option<(Vec<u32>, Vec<u32>)>,
}

impl<'a> CodedPiece<'a> {
    /// The local group of every row.
    fn codes(&self) -> &[u32] {
        match &self.tuples {
            Some((codes, _)) => codes,
            None => &self.column_codes[0],
        }
    }
}

/// Dense groups of the rows of chunked key arrays; nulls form one group of their own.
pub fn factorize<'a>(
    chunks: impl IntoIterator<Item = &'a dyn Array>,
    n_rows: usize,
    argument: &str,
) -> Result<Groups> {
    let columns = [chunks.into_iter().collect::<Vec<_>>()];
    factorize_columns(&columns, n_rows, &[argument.to_string()])
}

/// Dense groups of the rows by several key columns together; each column is given as its
/// chunks, and all columns must share chunk boundaries (as the columns of record batches do).
/// `arguments` names each column in error messages, one per column.
///
/// Pieces of rows are coded on all threads with coders of their own, then merged in row
/// order; the final ids are renumbered by first appearance, so they do not depend on the
/// number of threads.
pub fn factorize_columns(
    columns: &[Vec<&dyn Array>],
    n_rows: usize,
    arguments: &[String],
) -> Result<Groups> {
    check_row_count(n_rows)?;
    EcomkitError::check_length("arguments", "columns", columns.len(), arguments.len())?;
    let Some(first) = columns.first() else {
        return Groups::single(n_rows);
    };
    if let [only] = columns {
        if let Some(groups) = narrow_int_groups(only, n_rows) {
            return Ok(groups);
        }
    }
    let pieces: Vec<Vec<ArrayRef>> = (0..first.len())
        .flat_map(|chunk| {
            let len = first[chunk].len();
            (0..len).step_by(PIECE_ROWS).map(move |start| {
                let piece_len = PIECE_ROWS.min(len - start);
                columns
                    .iter()
                    .map(|c| c[chunk].slice(start, piece_len))
                    .collect()
            })
        })
        .collect();
    let coded = pieces
        .par_iter()
        .map(|piece| code_piece(piece, arguments))
        .collect::<Result<Vec<_>>>()?;
    // Merge in row order: column keys → global column codes → global code of the tuple. A
    // piece's local codes follow first appearance, so the global ones do too.
    let mut column_coders: Vec<Coder> = columns.iter().map(|_| Coder::default()).collect();
    let mut tuples: FxHashMap<Box<[u32]>, u32> = FxHashMap::default();
    // Two key columns (the common case): the pair of global codes packed into one u64,
    // which saves an allocation per distinct tuple.
    let mut pairs: FxHashMap<u64, u32> = FxHashMap::default();
    let mut tuple = Vec::with_capacity(columns.len());
    let remaps: Vec<Vec<u32>> = coded
        .iter()
        .map(|piece| {
            // Each of the piece's keys is looked up once, not once per tuple it is part of.
            let mut global: Vec<Vec<u32>> = column_coders
                .iter_mut()
                .zip(&piece.column_keys)
                .map(|(coder, keys)| keys.iter().map(|&key| coder.code(key)).collect())
                .collect();
            if let [_] = columns {
                // One key column: its coder's codes are the group ids.
                return global.pop().expect("one column");
            }
            let (_, first_rows) = piece.tuples.as_ref().expect("several key columns");
            first_rows
                .iter()
                .map(|&row| {
                    // The tuple's keys are those of its first row.
                    if let ([first, second], [first_local, second_local]) =
                        (global.as_slice(), piece.column_codes.as_slice())
                    {
                        let key = u64::from(first[first_local[row as usize] as usize]) << 32
                            | u64::from(second[second_local[row as usize] as usize]);
                        let next = pairs.len() as u32;
                        return *pairs.entry(key).or_insert(next);
                    }
                    tuple.clear();
                    tuple.extend(
                        global
                            .iter()
                            .zip(&piece.column_codes)
                            .map(|(global, local)| global[local[row as usize] as usize]),
                    );
                    if let Some(&id) = tuples.get(tuple.as_slice()) {
                        return id;
                    }
                    let id = tuples.len() as u32;
                    tuples.insert(tuple.as_slice().into(), id);
                    id
                })
                .collect()
        })
        .collect();
    let n_groups = match columns {
        [_] => column_coders[0].keys.len(),
        [_, _] => pairs.len(),
        _ => tuples.len(),
    };
    let mut ids = vec![0u32; n_rows];
    split_lengths(&mut ids, coded.iter().map(|piece| piece.codes().len()))
        .into_par_iter()
        .zip(&coded)
        .zip(&remaps)
        .for_each(|((ids, piece), remap)| {
            for (id, &code) in ids.iter_mut().zip(piece.codes()) {
                *id = remap[code as usize];
            }
        });
    Ok(Groups::from_first_appearance(ids, n_groups))
}

/// Groups of one integer key column without nulls whose values span a narrow range (user,
/// item and query ids): one pass over a direct table instead of hashing. Ids in random
/// order (event logs) make the piece-by-piece hash coding merge nearly every row.
fn narrow_int_groups(chunks: &[&dyn Array], n_rows: usize) -> Option<Groups> {
    match chunks.first()?.data_type() {
        DataType::Int64 => narrow_groups::<Int64Type>(chunks, n_rows),
        DataType::Int32 => narrow_groups::<Int32Type>(chunks, n_rows),
        DataType::Int16 => narrow_groups::<Int16Type>(chunks, n_rows),
        DataType::UInt64 => narrow_groups::<UInt64Type>(chunks, n_rows),
        DataType::UInt32 => narrow_groups::<UInt32Type>(chunks, n_rows),
        DataType::UInt16 => narrow_groups::<UInt16Type>(chunks, n_rows),
        _ => None,
    }
}

/// Integer keys without nulls in a narrow range (user ids, category codes): a direct table
/// from key to id instead of hashing, read straight from the column's chunks.
fn narrow_groups<T>(chunks: &[&dyn Array], n_rows: usize) -> Option<Groups>
where
    T: ArrowPrimitiveType,
    T::Native: Ord,
{
    let arrays: Vec<&[T::Native]> = chunks
        .iter()
        .map(|chunk| {
            let array = chunk.as_primitive_opt::<T>()?;
            (array.null_count() == 0).then(|| array.values().as_ref())
        })
        .collect::<Option<_>>()?;
    let (min, max) = extremes(&arrays)?;
    // `as_usize` sign-extends narrow types and keeps 64-bit ones: the wrapping difference is
    // the key's offset from `min` in every case.
    let span = max.as_usize().wrapping_sub(min.as_usize());
    if span as u128 > 4 * n_rows as u128 + 4096 {
        return None;
    }
    let origin = min.as_usize();
    let slot = |key: T::Native| key.as_usize().wrapping_sub(origin);
    let threads = rayon::current_num_threads();
    if threads > 1 && (span + 1) * 16 <= n_rows {
        return Some(narrow_groups_in_pieces(
            &arrays, n_rows, span, threads, slot,
        ));
    }
    let mut table = vec![u32::MAX; span + 1];
    let mut next = 0u32;
    let mut ids = Vec::with_capacity(n_rows);
    for array in &arrays {
        ids.extend(array.iter().map(|&key| {
            let slot = &mut table[slot(key)];
            if *slot == u32::MAX {
                *slot = next;
                next += 1;
            }
            *slot
        }));
    }
    Some(Groups::from_first_appearance(ids, next as usize))
}

/// The smallest and largest of all `slices`' values (`None` when there is none), in one
/// pass on all threads.
pub(crate) fn extremes<T: Ord + Copy + Send + Sync>(slices: &[&[T]]) -> Option<(T, T)> {
    (slices.par_iter())
        .flat_map(|slice| slice.par_chunks(1 << 16))
        .map(|chunk| Some((*chunk.iter().min()?, *chunk.iter().max()?)))
        .reduce(
            || None,
            |a, b| match (a, b) {
                (Some((a_low, a_high)), Some((b_low, b_high))) => {
                    Some((a_low.min(b_low), a_high.max(b_high)))
                }
                (one, None) | (None, one) => one,
            },
        )
}

/// [`narrow_groups`] on all threads, when the key table is small next to the rows: each
/// piece of rows numbers its keys by first appearance in a table of its own; the pieces'
/// keys are then numbered in row order, and each piece's ids renumbered in place.
fn narrow_groups_in_pieces<N: Copy + Sync>(
    arrays: &[&[N]],
    n_rows: usize,
    span: usize,
    n_pieces: usize,
    slot: impl Fn(N) -> usize + Sync,
) -> Groups {
    let piece_rows = n_rows.div_ceil(n_pieces).max(1);
    let pieces: Vec<&[N]> = arrays.iter().flat_map(|a| a.chunks(piece_rows)).collect();
    let mut ids: Vec<u32> = Vec::with_capacity(n_rows);
    let slices = split_lengths(
        &mut ids.spare_capacity_mut()[..n_rows],
        pieces.iter().map(|piece| piece.len()),
    );
    // Each piece's keys (as table slots) in order of first appearance in the piece.
    let firsts: Vec<Vec<u32>> = (pieces.par_iter().zip(slices))
        .map(|(piece, out)| {
            let mut table = vec![u32::MAX; span + 1];
            let mut firsts = Vec::new();
            for (&key, id) in piece.iter().zip(out.iter_mut()) {
                let slot = slot(key);
                if table[slot] == u32::MAX {
                    table[slot] = firsts.len() as u32;
                    firsts.push(slot as u32);
                }
                id.write(table[slot]);
            }
            firsts
        })
        .collect();
    // SAFETY: the pieces cover the rows and each wrote an id for every one of its rows.
    unsafe { ids.set_len(n_rows) };
    let mut table = vec![u32::MAX; span + 1];
    let mut next = 0u32;
    let renumbering: Vec<Vec<u32>> = (firsts.iter())
        .map(|firsts| {
            (firsts.iter())
                .map(|&slot| {
                    let id = &mut table[slot as usize];
                    if *id == u32::MAX {
                        *id = next;
                        next += 1;
                    }
                    *id
                })
                .collect()
        })
        .collect();
    let slices = split_lengths(&mut ids, pieces.iter().map(|piece| piece.len()));
    (slices.into_par_iter().zip(&renumbering)).for_each(|(ids, renumbering)| {
        for id in ids.iter_mut() {
            *id = renumbering[*id as usize];
        }
    });
    Groups::from_first_appearance(ids, next as usize)
}

fn code_piece<'a>(piece: &'a [ArrayRef], arguments: &[String]) -> Result<CodedPiece<'a>> {
    let mut column_codes = Vec::with_capacity(piece.len());
    let mut column_keys = Vec::with_capacity(piece.len());
    for (array, argument) in piece.iter().zip(arguments) {
        let mut coder = Coder::default();
        column_codes.push(piece_codes(array.as_ref(), &mut coder, argument)?);
        column_keys.push(coder.keys);
    }
    let tuples = match (column_codes.as_slice(), column_keys.as_slice()) {
        ([first, second, rest @ ..], [first_keys, second_keys, rest_keys @ ..]) => {
            let (mut codes, mut n_codes) =
                pair_codes(first, first_keys.len(), second, second_keys.len());
            for (column, keys) in rest.iter().zip(rest_keys) {
                (codes, n_codes) = pair_codes(&codes, n_codes, column, keys.len());
            }
            let mut first_rows = Vec::with_capacity(n_codes);
            for (row, &code) in (0u32..).zip(&codes) {
                if code as usize == first_rows.len() {
                    first_rows.push(row);
                }
            }
            Some((codes, first_rows))
        }
        _ => None,
    };
    Ok(CodedPiece {
        column_codes,
        column_keys,
        tuples,
    })
}

/// A dictionary array's rows as indices into its values, `None` for a null row. Unlike
/// arrow's `normalized_keys`, which panics there, an all-null column with an empty
/// dictionary is fine (pyarrow's `dictionary_encode` of nulls gives one).
pub(crate) struct DictionaryRows {
    keys: Vec<usize>,
    nulls: Option<NullBuffer>,
    len: usize,
}

impl DictionaryRows {
    pub(crate) fn new(dictionary: &dyn AnyDictionaryArray) -> Self {
        let len = dictionary.keys().len();
        if dictionary.values().is_empty() {
            // No value to point at: every row is missing.
            let nulls = Some(NullBuffer::new_null(len));
            return Self {
                keys: Vec::new(),
                nulls,
                len,
            };
        }
        Self {
            keys: dictionary.normalized_keys(),
            nulls: dictionary.keys().logical_nulls(),
            len,
        }
    }

    /// The value index of `row`, `None` where the row is null.
    pub(crate) fn get(&self, row: usize) -> Option<usize> {
        match &self.nulls {
            Some(nulls) if nulls.is_null(row) => None,
            _ => Some(self.keys[row]),
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = Option<usize>> + '_ {
        (0..self.len).map(|row| self.get(row))
    }
}

/// Codes of one piece, plain or dictionary-encoded.
fn piece_codes<'a>(
    array: &'a dyn Array,
    coder: &mut Coder<'a>,
    argument: &str,
) -> Result<Vec<u32>> {
    let Some(dict) = array.as_any_dictionary_opt() else {
        return key_codes(array, coder, argument);
    };
    // The dictionary's values are coded apart, and enter `coder` at their first row: local
    // codes follow the rows, not the dictionary.
    let mut values = Coder::default();
    let value_codes = key_codes(dict.values().as_ref(), &mut values, argument)?;
    let null_slot = values.keys.len();
    let mut local = vec![u32::MAX; null_slot + 1];
    Ok(DictionaryRows::new(dict)
        .iter()
        .map(|row| {
            let slot = row.map_or(null_slot, |k| value_codes[k] as usize);
            if local[slot] == u32::MAX {
                local[slot] = coder.code(values.keys.get(slot).copied().unwrap_or(Key::Null));
            }
            local[slot]
        })
        .collect())
}

/// Floats group by value: -0.0 joins 0.0 and every NaN is one key, as in pandas.
pub(super) fn float_key(v: f64) -> i64 {
    if v.is_nan() {
        f64::NAN.to_bits() as i64
    } else {
        (v + 0.0).to_bits() as i64
    }
}

/// Provisional codes of a plain (not dictionary) key array.
fn key_codes<'a>(array: &'a dyn Array, coder: &mut Coder<'a>, argument: &str) -> Result<Vec<u32>> {
    fn ints<'a, T: ArrowPrimitiveType>(
        array: &'a dyn Array,
        coder: &mut Coder<'a>,
        as_i64: impl Fn(T::Native) -> i64,
    ) -> Vec<u32> {
        let values = array.as_primitive::<T>();
        if values.null_count() == 0 && !values.is_empty() {
            // Keys in a narrow range (query ids, category codes): a direct table instead
            // of hashing; the coder still sees each key once, in order of first sight.
            let (min, max) = values
                .values()
                .iter()
                .fold((i64::MAX, i64::MIN), |(lo, hi), &v| {
                    let k = as_i64(v);
                    (lo.min(k), hi.max(k))
                });
            let span = (i128::from(max) - i128::from(min)) as u128;
            if span < 4 * values.len() as u128 + 1024 {
                let mut table = vec![u32::MAX; span as usize + 1];
                return values
                    .values()
                    .iter()
                    .map(|&v| {
                        let k = as_i64(v);
                        let slot = &mut table[(i128::from(k) - i128::from(min)) as usize];
                        if *slot == u32::MAX {
                            *slot = coder.code(Key::Int(k));
                        }
                        *slot
                    })
                    .collect();
            }
        }
        values
            .iter()
            .map(|v| coder.code(v.map_or(Key::Null, |v| Key::Int(as_i64(v)))))
            .collect()
    }
    fn strs<'a>(values: impl Iterator<Item = Option<&'a str>>, coder: &mut Coder<'a>) -> Vec<u32> {
        let mut table = StrTable::new();
        let codes: Vec<u32> = values.map(|v| table.code(v)).collect();
        // Hand the keys to the column's coder; it is fresh here, so the codes stay as they are.
        let remap: Vec<u32> = table.keys.iter().map(|&key| coder.code(key)).collect();
        if remap.iter().enumerate().all(|(i, &c)| c as usize == i) {
            codes
        } else {
            codes.into_iter().map(|c| remap[c as usize]).collect()
        }
    }
    // Integers as i64 (a u64 above i64::MAX wraps: still one key per value).
    macro_rules! integers {
        ($t:ty, $array:ident, $coder:ident) => {
            ints::<$t>($array, $coder, AsPrimitive::<i64>::as_)
        };
    }
    let codes = downcast_integer! {
        array.data_type() => (integers, array, coder),
        DataType::Utf8 => strs(array.as_string::<i32>().iter(), coder),
        DataType::LargeUtf8 => strs(array.as_string::<i64>().iter(), coder),
        DataType::Utf8View => strs(array.as_string_view().iter(), coder),
        DataType::Boolean => array
            .as_boolean()
            .iter()
            .map(|v| coder.code(v.map_or(Key::Null, |b| Key::Int(i64::from(b)))))
            .collect(),
        DataType::Float32 => ints::<Float32Type>(array, coder, |v| float_key(f64::from(v))),
        DataType::Float64 => ints::<Float64Type>(array, coder, float_key),
        DataType::Date32 => ints::<Date32Type>(array, coder, i64::from),
        DataType::Date64 => ints::<Date64Type>(array, coder, |v| v),
        DataType::Timestamp(TimeUnit::Second, _) => {
            ints::<TimestampSecondType>(array, coder, |v| v)
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            ints::<TimestampMillisecondType>(array, coder, |v| v)
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            ints::<TimestampMicrosecondType>(array, coder, |v| v)
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            ints::<TimestampNanosecondType>(array, coder, |v| v)
        }
        DataType::Null => vec![coder.code(Key::Null); array.len()],
        other => return Err(not_a_key(argument, other)),
    };
    Ok(codes)
}

/// Rows per piece when labelled codes are read or materialized (any size gives the same
/// codes).
const LABEL_PIECE: usize = 1 << 13;

/// Dense codes of `column` (u32::MAX for a null) and the label of each code, in order of
/// first appearance.
pub(crate) fn labels(
    frame: &Frame,
    column: &str,
    argument: &str,
) -> Result<(Vec<u32>, Vec<String>)> {
    let (source, names) = labelled_codes(frame, column, argument)?;
    Ok((source.materialize(frame.num_rows()), names))
}

/// Where each row's code comes from: codes worked out in full, or the keys of a dictionary
/// column (pandas / polars categoricals) mapped piece by piece, with no hashing per row.
pub(crate) enum LabelledCodes<'a> {
    Codes(Vec<u32>),
    Dictionary {
        chunks: ChunkRows<'a>,
        /// Per chunk, the label of each dictionary value (u32::MAX: null or unused).
        label_of: Vec<Vec<u32>>,
    },
}

impl LabelledCodes<'_> {
    /// The codes of `rows`, borrowed or mapped into `buffer`.
    pub(crate) fn get<'b>(
        &'b self,
        rows: std::ops::Range<usize>,
        buffer: &'b mut Vec<u32>,
    ) -> &'b [u32] {
        match self {
            Self::Codes(codes) => &codes[rows],
            Self::Dictionary { chunks, label_of } => {
                buffer.clear();
                for (k, chunk, piece) in chunks.pieces(rows) {
                    let keys = chunk.as_any_dictionary().keys();
                    push_labels(keys, piece, &label_of[k], buffer);
                }
                buffer
            }
        }
    }

    pub(crate) fn materialize(self, n_rows: usize) -> Vec<u32> {
        match self {
            Self::Codes(codes) => codes,
            dictionary => {
                let mut codes = vec![0u32; n_rows];
                codes.par_chunks_mut(LABEL_PIECE).enumerate().for_each_init(
                    Vec::new,
                    |buffer, (piece, out)| {
                        let start = piece * LABEL_PIECE;
                        out.copy_from_slice(dictionary.get(start..start + out.len(), buffer));
                    },
                );
                codes
            }
        }
    }
}

/// The codes of `column` and their labels: a dictionary column is read through its keys,
/// anything else is factorized.
pub(crate) fn labelled_codes<'a>(
    frame: &'a Frame,
    column: &'a str,
    argument: &str,
) -> Result<(LabelledCodes<'a>, Vec<String>)> {
    if frame.num_rows() == 0 {
        return Err(EcomkitError::Empty {
            argument: "frame".into(),
        });
    }
    let col = frame.column(column, argument)?;
    if col
        .chunks()
        .iter()
        .all(|c| c.as_any_dictionary_opt().is_some())
    {
        return dictionary_labels(col.chunks(), argument);
    }
    let groups = col.groups(argument)?;
    let first_rows: Vec<u32> = groups.first_rows().iter().map(|&r| r as u32).collect();
    let (_, firsts) = frame.take(column, &first_rows, argument)?;
    let texts = id_texts(firsts.as_ref(), argument)?;
    // Nulls are left out; the other groups keep their first-appearance order.
    let mut remap = vec![u32::MAX; texts.len()];
    let mut names = Vec::new();
    for (g, text) in texts.into_iter().enumerate() {
        if let Some(text) = text {
            remap[g] = names.len() as u32;
            names.push(text);
        }
    }
    let codes = groups
        .ids()
        .par_iter()
        .map(|&g| remap[g as usize])
        .collect();
    Ok((LabelledCodes::Codes(codes), names))
}

/// Labels of dictionary chunks, numbered by first appearance in the rows: a serial scan of
/// the keys that stops once every value of the chunk's dictionary has been seen.
fn dictionary_labels<'a>(
    chunks: &[&'a ArrayRef],
    argument: &str,
) -> Result<(LabelledCodes<'a>, Vec<String>)> {
    let mut names: Vec<String> = Vec::new();
    let mut label_of = Vec::with_capacity(chunks.len());
    let mut keys = Vec::new();
    for chunk in chunks {
        let dictionary = chunk.as_any_dictionary();
        let texts = id_texts(dictionary.values().as_ref(), argument)?;
        let mut labels = vec![u32::MAX; texts.len()];
        let mut unseen: Vec<bool> = texts.iter().map(Option::is_some).collect();
        let mut n_unseen = unseen.iter().filter(|&&u| u).count();
        let identity: Vec<u32> = (0..texts.len() as u32).collect();
        for piece in (0..chunk.len()).step_by(LABEL_PIECE) {
            if n_unseen == 0 {
                break;
            }
            keys.clear();
            let rows = piece..(piece + LABEL_PIECE).min(chunk.len());
            push_labels(dictionary.keys(), rows, &identity, &mut keys);
            for &key in keys.iter().filter(|&&k| k != u32::MAX) {
                let key = key as usize;
                if !unseen[key] {
                    continue;
                }
                unseen[key] = false;
                n_unseen -= 1;
                let text = texts[key].as_ref().expect("unseen values have text");
                labels[key] = match names.iter().position(|n| n == text) {
                    Some(i) => i as u32,
                    None => {
                        names.push(text.clone());
                        names.len() as u32 - 1
                    }
                };
            }
        }
        label_of.push(labels);
    }
    let source = LabelledCodes::Dictionary {
        chunks: ChunkRows::new(chunks),
        label_of,
    };
    Ok((source, names))
}

/// `label_of[key]` for the keys of `rows` (u32::MAX for a null key), appended to `out`.
fn push_labels(
    keys: &dyn Array,
    rows: std::ops::Range<usize>,
    label_of: &[u32],
    out: &mut Vec<u32>,
) {
    fn typed<K: ArrowPrimitiveType>(
        keys: &dyn Array,
        rows: std::ops::Range<usize>,
        label_of: &[u32],
        out: &mut Vec<u32>,
    ) {
        let keys = keys.as_primitive::<K>();
        let from = rows.start;
        let values = &keys.values()[rows];
        match keys.nulls() {
            None => out.extend(values.iter().map(|k| label_of[k.as_usize()])),
            Some(nulls) => out.extend(values.iter().enumerate().map(|(i, k)| {
                if nulls.is_null(from + i) {
                    u32::MAX
                } else {
                    label_of[k.as_usize()]
                }
            })),
        }
    }
    /// 8-bit keys index a full table of 256 labels: no bounds checks in the loop.
    fn byte_keys<K: ArrowPrimitiveType>(
        keys: &dyn Array,
        rows: std::ops::Range<usize>,
        label_of: &[u32],
        out: &mut Vec<u32>,
    ) where
        K::Native: Into<i16>,
    {
        let mut table = [u32::MAX; 256];
        for (key, &label) in label_of.iter().enumerate().take(256) {
            table[key] = label;
        }
        let keys = keys.as_primitive::<K>();
        let from = rows.start;
        let values = &keys.values()[rows];
        let index = |k: K::Native| usize::from(k.into() as u8);
        match keys.nulls() {
            None => out.extend(values.iter().map(|&k| table[index(k)])),
            Some(nulls) => out.extend(values.iter().enumerate().map(|(i, &k)| {
                if nulls.is_null(from + i) {
                    u32::MAX
                } else {
                    table[index(k)]
                }
            })),
        }
    }
    match keys.data_type() {
        DataType::Int8 => byte_keys::<Int8Type>(keys, rows, label_of, out),
        DataType::UInt8 => byte_keys::<UInt8Type>(keys, rows, label_of, out),
        DataType::Int16 => typed::<Int16Type>(keys, rows, label_of, out),
        DataType::Int32 => typed::<Int32Type>(keys, rows, label_of, out),
        DataType::Int64 => typed::<Int64Type>(keys, rows, label_of, out),
        DataType::UInt16 => typed::<UInt16Type>(keys, rows, label_of, out),
        DataType::UInt32 => typed::<UInt32Type>(keys, rows, label_of, out),
        // Arrow allows no other key types.
        _ => typed::<UInt64Type>(keys, rows, label_of, out),
    }
}

/// The item of each row as a key the session loop can hash: integer ids as they are, float
/// ids as the integers they hold when they all do (pandas turns integer ids with a missing
/// one into floats) and else by their bits, anything else (strings, categoricals) by a dense
/// code; and the rows without an item (null, or NaN). Keys that fit 32 bits let the loop
/// take the compact records.
pub(crate) fn item_keys<'a>(column: &Column<'a>) -> Result<(Cow<'a, [i64]>, Vec<usize>)> {
    use arrow_array::types::*;
    let missing = column.missing_rows();
    if let [chunk] = column.chunks() {
        if let Some(ids) = chunk.as_primitive_opt::<Int64Type>() {
            return Ok((Cow::Borrowed(ids.values()), missing));
        }
    }
    fn integers<T: ArrowPrimitiveType>(array: &dyn Array, keys: &mut Vec<i64>) {
        // `as_usize` keeps every bit of a 64-bit value and sign-extends narrower ones: one
        // key per distinct id.
        keys.extend(
            array
                .as_primitive::<T>()
                .values()
                .iter()
                .map(|v| v.as_usize() as i64),
        );
    }
    /// Keys by their bits for now; `integral` stays true while every id is a whole number
    /// below 2^63 in size (NaN rows have no item).
    fn floats(values: impl Iterator<Item = f64>, keys: &mut Vec<i64>, integral: &mut bool) {
        keys.extend(values.map(|v| {
            *integral &= v.is_nan() || (v.trunc() == v && v.abs() < TWO_POW_63);
            (v + 0.0).to_bits() as i64 // -0.0 and 0.0 are one id
        }));
    }
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    let mut keys = Vec::with_capacity(column.len());
    let mut integral = true;
    for chunk in column.chunks() {
        let chunk = chunk.as_ref();
        macro_rules! integer_keys {
            ($t:ty, $chunk:ident, $keys:ident) => {
                integers::<$t>($chunk, &mut $keys)
            };
        }
        arrow_array::downcast_integer! {
            chunk.data_type() => (integer_keys, chunk, keys),
            DataType::Float32 => floats(
                chunk
                    .as_primitive::<Float32Type>()
                    .values()
                    .iter()
                    .map(|&v| f64::from(v)),
                &mut keys,
                &mut integral,
            ),
            DataType::Float64 => floats(
                chunk.as_primitive::<Float64Type>().values().iter().copied(),
                &mut keys,
                &mut integral,
            ),
            _ => {
                let codes = column.groups("item")?;
                let keys = codes.ids().iter().map(|&code| i64::from(code)).collect();
                return Ok((Cow::Owned(keys), missing));
            }
        }
    }
    if integral && matches!(column.data_type(), DataType::Float32 | DataType::Float64) {
        // Whole numbers as themselves: one key per id still, and small ids fit 32 bits.
        (keys.par_iter_mut()).for_each(|key| *key = f64::from_bits(*key as u64) as i64);
    }
    Ok((Cow::Owned(keys), missing))
}

/// Whether ids of this type can be read as text (strings, integers, or dictionaries of
/// them); `argument` names the column in the error.
pub(crate) fn check_id_type(data_type: &DataType, argument: &str) -> Result<()> {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => Ok(()),
        integer if integer.is_integer() => Ok(()),
        DataType::Dictionary(_, values) => check_id_type(values, argument),
        other => Err(EcomkitError::invalid_type(
            argument,
            "strings or integers (ids are hashed as text)",
            other,
        )),
    }
}

/// `f(id)` for every row of a non-dictionary id array, in order.
/// Generic over `F` so that the per-id work inlines into the loop.
pub(crate) fn for_each_id<F: FnMut(Option<&str>)>(array: &dyn Array, mut f: F) {
    fn ints<T: ArrowPrimitiveType, F: FnMut(Option<&str>)>(array: &dyn Array, f: &mut F)
    where
        T::Native: std::fmt::Display,
    {
        use std::fmt::Write;
        let mut text = String::with_capacity(24);
        for value in array.as_primitive::<T>().iter() {
            match value {
                Some(v) => {
                    text.clear();
                    let _ = write!(text, "{v}");
                    f(Some(&text));
                }
                None => f(None),
            }
        }
    }
    macro_rules! integers {
        ($t:ty, $array:ident, $f:ident) => {
            ints::<$t, F>($array, &mut $f)
        };
    }
    downcast_integer! {
        array.data_type() => (integers, array, f),
        DataType::Utf8 => array.as_string::<i32>().iter().for_each(f),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().for_each(f),
        DataType::Utf8View => array.as_string_view().iter().for_each(f),
        _ => (0..array.len()).for_each(|_| f(None)),
    }
}

/// The text of every id of a (small) array, as hashed: strings as they are, integers in
/// decimal; `None` for a null. Used for variant and segment labels.
pub(crate) fn id_texts(array: &dyn Array, argument: &str) -> Result<Vec<Option<String>>> {
    check_id_type(array.data_type(), argument)?;
    if let DataType::Dictionary(_, _) = array.data_type() {
        let dictionary = array.as_any_dictionary();
        let values = id_texts(dictionary.values().as_ref(), argument)?;
        return Ok(crate::frame::DictionaryRows::new(dictionary)
            .iter()
            .map(|row| row.and_then(|key| values[key].clone()))
            .collect());
    }
    let mut texts = Vec::with_capacity(array.len());
    for_each_id(array, |id| texts.push(id.map(str::to_owned)));
    Ok(texts)
}

/// The error for a key column of a type that cannot be grouped on.
pub(super) fn not_a_key(argument: &str, data_type: &DataType) -> EcomkitError {
    EcomkitError::invalid_type(
        argument,
        "a key column of strings, integers, booleans, floats, dates, timestamps or categories",
        data_type,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Frame;
    use arrow_array::RecordBatch;
    use arrow_array::{DictionaryArray, Int64Array, StringArray};
    use std::sync::Arc;

    #[test]
    fn narrow_integer_keys_in_pieces_number_groups_by_first_appearance() {
        // Keys in a range small next to the rows, in two chunks: coded piece by piece on
        // several threads, the ids must be those of one pass in row order.
        let keys: Vec<i64> = (0..300_000i64)
            .map(|i| (i * 7919) % 9_001 - 4_000)
            .collect();
        let chunks = [
            Int64Array::from(keys[..123_457].to_vec()),
            Int64Array::from(keys[123_457..].to_vec()),
        ];
        let arrays: Vec<&dyn Array> = chunks.iter().map(|c| c as &dyn Array).collect();
        let expected = Groups::from_keys(&keys).unwrap();
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let groups = pool
                .install(|| narrow_int_groups(&arrays, keys.len()))
                .unwrap();
            assert_eq!(groups, expected, "{threads} threads");
        }
    }

    #[test]
    fn same_bytes_is_slice_equality() {
        // Every length up to three words, equal and differing at each byte.
        for n in 0..24 {
            let a: Vec<u8> = (0..n as u8).map(|b| b.wrapping_mul(37)).collect();
            assert!(same_bytes(&a, &a.clone()));
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 0x80;
                assert!(!same_bytes(&a, &b), "{n} bytes, differing at {i}");
            }
            if n > 0 {
                assert!(!same_bytes(&a, &a[..n - 1]), "{n} bytes against {}", n - 1);
            }
        }
    }

    #[test]
    fn contiguous_groups_are_runs_of_distinct_strings() {
        let rows = |keys: &[&str], ty: &DataType| -> Frame {
            let plain: ArrayRef = Arc::new(StringArray::from(keys.to_vec()));
            let array = arrow_cast_string(&plain, ty);
            Frame::from(RecordBatch::try_from_iter([("k", array)]).unwrap())
        };
        let runs = |n: usize, key: &'static str| std::iter::repeat_n(key, n);
        let sorted: Vec<&str> = runs(8, "b")
            .chain(runs(9, "a"))
            .chain(runs(8, "c"))
            .collect();
        for ty in [DataType::Utf8, DataType::LargeUtf8, DataType::Utf8View] {
            let frame = rows(&sorted, &ty);
            let offsets = frame.contiguous_groups(&["k"], "by").unwrap();
            assert_eq!(offsets, Some(vec![0, 8, 17, 25]), "{ty}");
            // The groups agree with the coded ones.
            let groups = frame.groups(&["k"], "by").unwrap();
            let mut first = groups.first_rows();
            first.push(sorted.len());
            assert_eq!(offsets.unwrap(), first, "{ty}");
            // A key with two runs, or runs too short on average: left to `groups`.
            let split: Vec<&str> = runs(8, "b")
                .chain(runs(9, "a"))
                .chain(runs(8, "b"))
                .collect();
            assert_eq!(
                rows(&split, &ty).contiguous_groups(&["k"], "by").unwrap(),
                None
            );
            let short = ["a", "a", "b", "b", "c", "c", "d", "d"];
            assert_eq!(
                rows(&short, &ty).contiguous_groups(&["k"], "by").unwrap(),
                None
            );
        }
        // Past one piece of rows, runs across the pieces' edges.
        let long: Vec<&str> = (0..3 * PIECE_ROWS + 7)
            .map(|i| ["x", "y", "z", "w"][i * 4 / (3 * PIECE_ROWS + 7)])
            .collect();
        let offsets = rows(&long, &DataType::Utf8)
            .contiguous_groups(&["k"], "by")
            .unwrap();
        let starts: Vec<usize> = (0..long.len())
            .filter(|&i| i == 0 || long[i] != long[i - 1])
            .chain([long.len()])
            .collect();
        assert_eq!(offsets, Some(starts));
        // Nulls, other types, several columns or chunks: not for this path.
        let with_null = StringArray::from(
            vec![Some("a"); 8]
                .into_iter()
                .chain([None])
                .collect::<Vec<_>>(),
        );
        let frame = Frame::from(
            RecordBatch::try_from_iter([("k", Arc::new(with_null) as ArrayRef)]).unwrap(),
        );
        assert_eq!(frame.contiguous_groups(&["k"], "by").unwrap(), None);
        let ints = Int64Array::from(vec![1; 16]);
        let frame =
            Frame::from(RecordBatch::try_from_iter([("k", Arc::new(ints) as ArrayRef)]).unwrap());
        assert_eq!(frame.contiguous_groups(&["k"], "by").unwrap(), None);
        let frame = rows(&sorted, &DataType::Utf8);
        assert_eq!(frame.contiguous_groups(&["k", "k"], "by").unwrap(), None);
        let batch = frame.batches()[0].clone();
        let chunked = Frame::new(
            frame.schema().clone(),
            vec![batch.slice(0, 10), batch.slice(10, 15)],
        )
        .unwrap();
        assert_eq!(chunked.contiguous_groups(&["k"], "by").unwrap(), None);
        assert!(frame.contiguous_groups(&["nope"], "by").is_err());
    }

    /// `array` (strings) as type `ty`: Utf8, LargeUtf8 or Utf8View.
    fn arrow_cast_string(array: &ArrayRef, ty: &DataType) -> ArrayRef {
        let strings = array.as_string::<i32>();
        match ty {
            DataType::Utf8 => array.clone(),
            DataType::LargeUtf8 => {
                Arc::new(arrow_array::LargeStringArray::from_iter(strings.iter()))
            }
            DataType::Utf8View => Arc::new(arrow_array::StringViewArray::from_iter(strings.iter())),
            other => unreachable!("{other}"),
        }
    }

    #[test]
    fn dictionary_and_plain_strings_group_alike() {
        let plain = StringArray::from(vec![Some("b"), None, Some("a"), Some("b"), None]);
        let dict: DictionaryArray<Int32Type> = vec![Some("b"), None, Some("a"), Some("b"), None]
            .into_iter()
            .collect();
        let g1 = factorize([&plain as &dyn Array], 5, "by").unwrap();
        let g2 = factorize([&dict as &dyn Array], 5, "by").unwrap();
        assert_eq!(g1, g2);
        assert_eq!(g1.ids(), &[0, 1, 2, 0, 1]);
    }

    #[test]
    fn dictionaries_with_unused_values_combine_with_other_keys() {
        let values = StringArray::from(vec!["unused", "b", "a"]);
        let keys = arrow_array::Int32Array::from(vec![1, 2, 1, 2]);
        let dict = DictionaryArray::<Int32Type>::try_new(keys, Arc::new(values)).unwrap();
        let other = Int64Array::from(vec![7, 7, 8, 7]);
        let columns = [vec![&dict as &dyn Array], vec![&other as &dyn Array]];
        let arguments = ["by".to_string(), "by".to_string()];
        let groups = factorize_columns(&columns, 4, &arguments).unwrap();
        assert_eq!(groups.ids(), &[0, 1, 2, 1]);
    }

    /// Ids by first appearance of the rows' key tuples, the plain way.
    fn reference_ids<K: std::hash::Hash + Eq + Clone>(keys: &[K]) -> Vec<u32> {
        let mut seen = std::collections::HashMap::new();
        keys.iter()
            .map(|key| {
                let next = seen.len() as u32;
                *seen.entry(key.clone()).or_insert(next)
            })
            .collect()
    }

    #[test]
    fn many_pieces_merge_into_first_appearance_ids() {
        // Rows over several pieces; the dictionary lists its values in an order unrelated
        // to the rows (and one it never uses), and keys first seen in a later piece get
        // later ids.
        let n = 3 * PIECE_ROWS + 1234;
        let mut rng = crate::rng::Rng::new(5);
        let letters: Vec<Option<u32>> = (0..n)
            .map(|row| {
                let span = 3 + (row / PIECE_ROWS) as u64 * 5;
                let k = rng.below(span + 1);
                (k != span).then_some(k as u32)
            })
            .collect();
        let numbers: Vec<i64> = (0..n).map(|_| rng.below(4) as i64).collect();
        let values: Vec<String> = (0..30).rev().map(|i| format!("value {i}")).collect();
        let keys = arrow_array::Int32Array::from(
            letters
                .iter()
                .map(|k| k.map(|k| 29 - k as i32))
                .collect::<Vec<_>>(),
        );
        let dict = DictionaryArray::<Int32Type>::try_new(keys, Arc::new(StringArray::from(values)))
            .unwrap();
        let plain = StringArray::from(
            letters
                .iter()
                .map(|k| k.map(|k| format!("value {k}")))
                .collect::<Vec<_>>(),
        );
        let number = Int64Array::from(numbers.clone());
        let one = factorize([&dict as &dyn Array], n, "by").unwrap();
        assert_eq!(one.ids(), reference_ids(&letters));
        assert_eq!(one, factorize([&plain as &dyn Array], n, "by").unwrap());
        let pairs: Vec<(Option<u32>, i64)> = letters.iter().copied().zip(numbers).collect();
        let arguments = ["by".to_string(), "by".to_string()];
        for first in [&dict as &dyn Array, &plain] {
            let columns = [vec![first], vec![&number as &dyn Array]];
            let two = factorize_columns(&columns, n, &arguments).unwrap();
            assert_eq!(two.ids(), reference_ids(&pairs));
            assert_eq!(
                two.n_groups(),
                *two.ids().iter().max().unwrap() as usize + 1
            );
        }
    }

    #[test]
    fn string_table_tells_every_length_apart() {
        let strings: Vec<String> = (0..40)
            .flat_map(|n| ["a", "b"].map(|c| c.repeat(n + 1)))
            .chain((0..300).map(|i| format!("category_{i:03}_with_a_long_tail")))
            .collect();
        let mut table = StrTable::new();
        let codes: Vec<u32> = strings.iter().map(|s| table.code(Some(s))).collect();
        let again: Vec<u32> = strings.iter().map(|s| table.code(Some(s))).collect();
        let null = table.code(None);
        assert_eq!(codes, (0..strings.len() as u32).collect::<Vec<_>>());
        assert_eq!(codes, again);
        assert_eq!(null, strings.len() as u32);
        assert_eq!(table.code(None), null);
        assert_eq!(table.code(Some("")), null + 1);
        assert_eq!(table.code(Some("a")), 0);
    }

    #[test]
    fn string_table_runs_of_one_value_skip_nothing_they_should_not() {
        // Runs of equal strings take the shortcut past the table; long strings that share
        // their first and last 8 bytes and their length must still differ, and a null
        // between equal strings must not join them.
        let long = |middle: &str| format!("prefix__{middle}__suffix");
        let rows = [
            Some(long("a")),
            Some(long("a")),
            Some(long("b")),
            Some(long("b")),
            Some(long("a")),
            None,
            None,
            Some(long("a")),
            Some("".to_string()),
            Some("".to_string()),
            Some("x".to_string()),
            Some(long("b")),
        ];
        let mut table = StrTable::new();
        let codes: Vec<u32> = rows.iter().map(|s| table.code(s.as_deref())).collect();
        assert_eq!(codes, [0, 0, 1, 1, 0, 2, 2, 0, 3, 3, 4, 1]);
    }

    #[test]
    fn labelled_codes_are_the_same_for_dictionary_and_plain_columns_and_leave_nulls_out() {
        let values = vec![
            Some("b"),
            None,
            Some("a"),
            Some("b"),
            Some("c"),
            None,
            Some("a"),
        ];
        let plain: ArrayRef = Arc::new(StringArray::from(values.clone()));
        let dictionary: ArrayRef = Arc::new(
            values
                .iter()
                .copied()
                .collect::<DictionaryArray<arrow_array::types::Int8Type>>(),
        );
        let expected_codes = [0, u32::MAX, 1, 0, 2, u32::MAX, 1];
        for column in [plain, dictionary] {
            let frame = Frame::from(RecordBatch::try_from_iter([("v", column)]).unwrap());
            let (codes, names) = labels(&frame, "v", "variant").unwrap();
            assert_eq!(codes, expected_codes);
            assert_eq!(names, ["b", "a", "c"]);
            // Read a range across the middle, as the uplift pass reads its pieces.
            let (source, _) = labelled_codes(&frame, "v", "variant").unwrap();
            let mut buffer = Vec::new();
            assert_eq!(source.get(2..5, &mut buffer), &expected_codes[2..5]);
        }
    }
}
