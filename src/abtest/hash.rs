//! GrowthBook's bucketing hash: FNV-1a 32-bit over an id, turned into a bucket in [0, 1).

use arrow_array::cast::AsArray;
use arrow_array::Array;
use arrow_schema::DataType;
use rayon::prelude::*;

use crate::error::{parse_enum, EcomkitError, Result};
use crate::frame::{check_id_type, for_each_id};

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// Which units of a string are hashed. GrowthBook's SDKs agree on ASCII ids only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// UTF-16 code units: the JavaScript SDK (`charCodeAt`) and the Python SDK 4.x.
    #[default]
    Utf16,
    /// Unicode code points: the Python SDK up to 2.x (`ord` of each character).
    Codepoint,
    /// UTF-8 bytes: the Go, Rust and Java SDKs.
    Utf8,
}

parse_enum!(Encoding, "encoding", {
    "utf-16" => Encoding::Utf16, "codepoint" => Encoding::Codepoint, "utf-8" => Encoding::Utf8,
});

/// GrowthBook's hash versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashVersion {
    /// `fnv(value + seed) % 1000 / 1000`.
    V1,
    /// `fnv(str(fnv(seed + value))) % 10000 / 10000`: no bias between similar seeds.
    V2,
}

impl HashVersion {
    /// Version 1 or 2; anything else is an error naming `argument`.
    pub fn new(version: i64, argument: &str) -> Result<Self> {
        match version {
            1 => Ok(Self::V1),
            2 => Ok(Self::V2),
            other => Err(EcomkitError::invalid_value(
                argument,
                format!("expected hash version 1 or 2, got {other}"),
            )),
        }
    }

    /// The version number.
    pub fn number(self) -> i64 {
        match self {
            Self::V1 => 1,
            Self::V2 => 2,
        }
    }
}

/// FNV-1a state continued over `s` in the given encoding.
#[inline]
fn fnv_continue(state: u32, s: &str, encoding: Encoding) -> u32 {
    // Hash the bytes, noting on the way whether any is beyond ASCII: the common case
    // costs one pass, and only non-ASCII ids are hashed again in their encoding.
    let mut hashed = state;
    let mut high = 0u8;
    for &b in s.as_bytes() {
        high |= b;
        hashed = (hashed ^ u32::from(b)).wrapping_mul(FNV_PRIME);
    }
    if encoding == Encoding::Utf8 || high < 0x80 {
        return hashed;
    }
    fnv_units(state, s, encoding)
}

/// FNV-1a state continued over the UTF-16 code units or code points of `s`.
#[cold]
fn fnv_units(mut state: u32, s: &str, encoding: Encoding) -> u32 {
    if encoding == Encoding::Utf16 {
        for unit in s.encode_utf16() {
            state = (state ^ u32::from(unit)).wrapping_mul(FNV_PRIME);
        }
    } else {
        for c in s.chars() {
            state = (state ^ u32::from(c)).wrapping_mul(FNV_PRIME);
        }
    }
    state
}

/// FNV-1a 32-bit of `s`.
pub fn fnv1a32(s: &str, encoding: Encoding) -> u32 {
    fnv_continue(FNV_OFFSET, s, encoding)
}

/// "00" to "99": two decimal digits per division halves the dependent divisions.
const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// FNV-1a of the decimal digits of `n` (always ASCII).
#[inline]
fn fnv_decimal(n: u32) -> u32 {
    let mut digits = [0u8; 10];
    let mut start = digits.len();
    let mut rest = n;
    while rest >= 100 {
        let pair = (rest % 100) as usize * 2;
        rest /= 100;
        start -= 2;
        digits[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if rest >= 10 {
        let pair = rest as usize * 2;
        start -= 2;
        digits[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        start -= 1;
        digits[start] = b'0' + rest as u8;
    }
    digits[start..].iter().fold(FNV_OFFSET, |state, &b| {
        (state ^ u32::from(b)).wrapping_mul(FNV_PRIME)
    })
}

/// A seed prepared once for hashing many ids.
#[derive(Debug, Clone)]
pub struct Hasher {
    seed: String,
    version: HashVersion,
    encoding: Encoding,
    /// FNV state after the seed (version 2 hashes `seed + value`).
    seed_state: u32,
}

impl Hasher {
    /// A hasher of ids under `seed`.
    pub fn new(seed: &str, version: HashVersion, encoding: Encoding) -> Self {
        Self {
            seed: seed.to_string(),
            version,
            encoding,
            seed_state: fnv1a32(seed, encoding),
        }
    }

    /// The bucket of `value` in [0, 1), as GrowthBook's `hash(seed, value, version)`.
    ///
    /// ```
    /// use ecomkit::abtest::{Encoding, HashVersion, Hasher};
    /// let hasher = Hasher::new("seed", HashVersion::V2, Encoding::Utf16);
    /// assert_eq!(hasher.bucket("a"), 0.0505); // a GrowthBook conformance case
    /// ```
    #[inline]
    pub fn bucket(&self, value: &str) -> f64 {
        match self.version {
            HashVersion::V1 => {
                let state = fnv_continue(FNV_OFFSET, value, self.encoding);
                let n = fnv_continue(state, &self.seed, self.encoding);
                f64::from(n % 1000) / 1000.0
            }
            HashVersion::V2 => {
                let inner = fnv_continue(self.seed_state, value, self.encoding);
                f64::from(fnv_decimal(inner) % 10000) / 10000.0
            }
        }
    }
}

/// Rows per parallel piece when hashing arrays.
const PIECE: usize = 1 << 16;

/// `f(row, id)` for every id of `array` (strings, or integers hashed as their decimal
/// text as GrowthBook does with `str(id)`); `None` for a null. Pieces of rows run in
/// parallel; each output slot is written by exactly one call.
pub fn map_ids<T: Copy + Send + Sync>(
    array: &dyn Array,
    argument: &str,
    out: &mut [T],
    f: impl Fn(Option<&str>) -> T + Sync,
) -> Result<()> {
    EcomkitError::check_length(argument, "the output", out.len(), array.len())?;
    check_id_type(array.data_type(), argument)?;
    if let DataType::Dictionary(_, _) = array.data_type() {
        // Hash each distinct value once, then look the rows up.
        let dictionary = array.as_any_dictionary();
        let mut per_value = Vec::with_capacity(dictionary.values().len());
        for_each_id(dictionary.values().as_ref(), |id| per_value.push(f(id)));
        let null = f(None);
        let rows = crate::frame::DictionaryRows::new(dictionary);
        out.par_chunks_mut(PIECE)
            .enumerate()
            .for_each(|(piece, chunk)| {
                for (i, slot) in chunk.iter_mut().enumerate() {
                    *slot = rows
                        .get(piece * PIECE + i)
                        .map_or(null, |key| per_value[key]);
                }
            });
        return Ok(());
    }
    out.par_chunks_mut(PIECE)
        .enumerate()
        .for_each(|(piece, chunk)| {
            let slice = array.slice(piece * PIECE, chunk.len());
            let mut slots = chunk.iter_mut();
            for_each_id(slice.as_ref(), |id| {
                if let Some(slot) = slots.next() {
                    *slot = f(id);
                }
            });
        });
    Ok(())
}

/// GrowthBook buckets of every id of `array`; NaN for a null id.
pub fn hash_array(array: &dyn Array, hasher: &Hasher, argument: &str) -> Result<Vec<f64>> {
    let mut out = vec![0.0; array.len()];
    map_ids(array, argument, &mut out, |id| {
        id.map_or(f64::NAN, |id| hasher.bucket(id))
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_differ_only_beyond_ascii() {
        for encoding in [Encoding::Utf16, Encoding::Codepoint, Encoding::Utf8] {
            assert_eq!(fnv1a32("abc", encoding), fnv1a32("abc", Encoding::Utf8));
        }
        // U+00E9 is one code unit, one code point and two UTF-8 bytes.
        assert_eq!(
            fnv1a32("é", Encoding::Utf16),
            fnv1a32("é", Encoding::Codepoint)
        );
        assert_ne!(fnv1a32("é", Encoding::Utf16), fnv1a32("é", Encoding::Utf8));
        // U+1F600 is a surrogate pair in UTF-16 but one code point.
        assert_ne!(
            fnv1a32("😀", Encoding::Utf16),
            fnv1a32("😀", Encoding::Codepoint)
        );
    }

    #[test]
    fn decimal_hash_matches_hashing_the_text() {
        for n in [
            0u32,
            7,
            9,
            10,
            99,
            100,
            101,
            12345,
            999_999_999,
            1_000_000_000,
            u32::MAX,
        ] {
            assert_eq!(fnv_decimal(n), fnv1a32(&n.to_string(), Encoding::Utf8));
        }
    }
}
