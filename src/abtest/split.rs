//! Deterministic traffic splitting with GrowthBook's `run()` semantics: namespace check,
//! hash, bucket ranges from coverage and weights, variation by half-open range.

use arrow_array::Array;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::hash::{map_ids, Encoding, HashVersion, Hasher};
use crate::error::{EcomkitError, Result};

/// `n` equal weights `1 / n` (none for `n < 1`), as GrowthBook's `getEqualWeights`.
pub fn equal_weights(n: i64) -> Vec<f64> {
    if n < 1 {
        return Vec::new();
    }
    vec![1.0 / n as f64; n as usize]
}

/// Whether GrowthBook uses `weights` as given: one finite, non-negative weight per
/// variation, summing (left to right, from 0) to within [0.99, 1.01].
pub fn weights_are_valid(weights: &[f64], num_variations: usize) -> bool {
    weights.len() == num_variations
        && weights.iter().all(|w| w.is_finite() && *w >= 0.0)
        && (0.99..=1.01).contains(&weights.iter().fold(0.0, |sum, w| sum + w))
}

/// Half-open bucket ranges `[start, end)`, exactly GrowthBook's `getBucketRanges`:
/// coverage clamped to [0, 1]; invalid weights replaced by equal weights; ranges start at
/// the running sum of the weights and span `coverage × weight`.
///
/// ```
/// use ecomkit::abtest::bucket_ranges;
/// assert_eq!(bucket_ranges(2, 0.5, None), vec![(0.0, 0.25), (0.5, 0.75)]);
/// ```
pub fn bucket_ranges(
    num_variations: usize,
    coverage: f64,
    weights: Option<&[f64]>,
) -> Vec<(f64, f64)> {
    // NaN coverage fails both comparisons in GrowthBook and stays NaN: nobody is covered.
    let coverage = coverage.clamp(0.0, 1.0);
    let weights = match weights {
        Some(w) if weights_are_valid(w, num_variations) => w.to_vec(),
        _ => equal_weights(num_variations as i64),
    };
    let mut cumulative = 0.0;
    weights
        .iter()
        .map(|&w| {
            let start = cumulative;
            cumulative += w;
            (start, start + coverage * w)
        })
        .collect()
}

/// The index of the range holding `bucket`, or -1, as GrowthBook's `chooseVariation`.
#[inline]
pub fn choose_variation(bucket: f64, ranges: &[(f64, f64)]) -> i32 {
    ranges
        .iter()
        .position(|&(start, end)| bucket >= start && bucket < end)
        .map_or(-1, |i| i as i32)
}

/// A namespace (GrowthBook: mutually exclusive experiments): an id is in it when its
/// version-1 hash under `"__" + id` falls in `[start, end)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Namespace {
    pub id: String,
    pub start: f64,
    pub end: f64,
}

impl Namespace {
    fn hasher(&self, encoding: Encoding) -> Hasher {
        Hasher::new(&format!("__{}", self.id), HashVersion::V1, encoding)
    }
}

/// Whether each id of `ids` is in `namespace`; a null id is in no namespace.
pub fn in_namespace(
    ids: &dyn Array,
    namespace: &Namespace,
    encoding: Encoding,
) -> Result<Vec<bool>> {
    let hasher = namespace.hasher(encoding);
    let mut out = vec![false; ids.len()];
    map_ids(ids, "ids", &mut out, |id| {
        id.is_some_and(|id| {
            let n = hasher.bucket(id);
            n >= namespace.start && n < namespace.end
        })
    })?;
    Ok(out)
}

/// One experiment's split: everything that decides which variation an id gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// The hash seed (GrowthBook: the experiment key unless a seed is set).
    pub seed: String,
    pub num_variations: usize,
    pub coverage: f64,
    /// `None`: equal weights.
    pub weights: Option<Vec<f64>>,
    pub hash_version: HashVersion,
    pub encoding: Encoding,
    pub namespace: Option<Namespace>,
    /// Weights that replace `weights` for the rows of a category.
    pub per_category: Vec<(String, Vec<f64>)>,
}

impl Split {
    /// Check a split before use: GrowthBook silently replaces bad weights by equal ones,
    /// but a misconfigured split should fail loudly before it serves anyone.
    pub fn validate(&self) -> Result<()> {
        if self.num_variations < 2 {
            return Err(EcomkitError::invalid_value(
                "variants",
                format!("expected at least 2 variants, got {}", self.num_variations),
            ));
        }
        if !(0.0..=1.0).contains(&self.coverage) {
            return Err(EcomkitError::invalid_value(
                "coverage",
                format!("expected a number in [0, 1], got {}", self.coverage),
            ));
        }
        let check = |weights: &[f64], argument: &str| -> Result<()> {
            if weights_are_valid(weights, self.num_variations) {
                return Ok(());
            }
            Err(EcomkitError::invalid_value(
                argument,
                format!(
                    "expected {} finite, non-negative weights summing to 1 (within 0.99-1.01), got {weights:?}",
                    self.num_variations
                ),
            ))
        };
        if let Some(weights) = &self.weights {
            check(weights, "weights")?;
        }
        for (category, weights) in &self.per_category {
            check(weights, &format!("per_category['{category}']"))?;
        }
        if let Some(ns) = &self.namespace {
            if !(0.0..=1.0).contains(&ns.start)
                || !(0.0..=1.0).contains(&ns.end)
                || ns.start > ns.end
            {
                return Err(EcomkitError::invalid_value(
                    "namespace",
                    format!(
                        "expected (id, start, end) with 0 <= start <= end <= 1, got ({}, {}, {})",
                        ns.id, ns.start, ns.end
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The bucket ranges of the default weights.
    pub fn ranges(&self) -> Vec<(f64, f64)> {
        bucket_ranges(self.num_variations, self.coverage, self.weights.as_deref())
    }

    /// The variation index of every id (-1: not in the experiment, because the id is null
    /// or empty, outside the namespace, or outside the coverage), rows in parallel.
    /// `categories`, when given, picks `per_category` weights row by row.
    ///
    /// ```
    /// use arrow_array::StringArray;
    /// use ecomkit::abtest::{Encoding, HashVersion, Split};
    /// let split = Split {
    ///     seed: "checkout-button".into(), num_variations: 2, coverage: 1.0, weights: None,
    ///     hash_version: HashVersion::V2, encoding: Encoding::Utf16, namespace: None,
    ///     per_category: vec![],
    /// };
    /// let ids = StringArray::from(vec![Some("user-1"), Some(""), None]);
    /// let assigned = split.assign(&ids, None).unwrap();
    /// assert!(assigned[0] == 0 || assigned[0] == 1);
    /// assert_eq!(&assigned[1..], &[-1, -1]); // empty and null ids are never assigned
    /// ```
    pub fn assign(&self, ids: &dyn Array, categories: Option<&dyn Array>) -> Result<Vec<i32>> {
        self.validate()?;
        let hasher = Hasher::new(&self.seed, self.hash_version, self.encoding);
        let namespace = self
            .namespace
            .as_ref()
            .map(|ns| (ns, ns.hasher(self.encoding)));
        // The bucket of every id, NaN when the id is not in the experiment at all (NaN is
        // in no range).
        let bucket = |id: Option<&str>| -> f64 {
            let Some(id) = id.filter(|id| !id.is_empty()) else {
                return f64::NAN;
            };
            if let Some((ns, ns_hasher)) = &namespace {
                let n = ns_hasher.bucket(id);
                if !(n >= ns.start && n < ns.end) {
                    return f64::NAN;
                }
            }
            hasher.bucket(id)
        };
        let default_ranges = self.ranges();
        let mut out = vec![-1i32; ids.len()];
        match categories {
            None => map_ids(ids, "ids", &mut out, |id| {
                choose_variation(bucket(id), &default_ranges)
            })?,
            Some(categories) => {
                EcomkitError::check_length("categories", "ids", ids.len(), categories.len())?;
                let mut ranges = vec![default_ranges];
                let mut index: FxHashMap<&str, u32> = FxHashMap::default();
                for (category, weights) in &self.per_category {
                    index.insert(category, ranges.len() as u32);
                    ranges.push(bucket_ranges(
                        self.num_variations,
                        self.coverage,
                        Some(weights),
                    ));
                }
                let mut which = vec![0u32; ids.len()];
                map_ids(categories, "categories", &mut which, |category| {
                    category.and_then(|c| index.get(c).copied()).unwrap_or(0)
                })?;
                let mut buckets = vec![f64::NAN; ids.len()];
                map_ids(ids, "ids", &mut buckets, bucket)?;
                out.par_iter_mut()
                    .zip(buckets.par_iter().zip(which.par_iter()))
                    .with_min_len(1 << 14)
                    .for_each(|(slot, (&b, &w))| *slot = choose_variation(b, &ranges[w as usize]));
            }
        }
        Ok(out)
    }
}
