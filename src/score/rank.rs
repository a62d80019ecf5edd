//! Ranks within groups: 1 = highest score; ties keep input order; NaN ranks last.

use rayon::prelude::*;

use crate::error::{EcomkitError, Result};
use crate::groups::{Groups, Partition};

/// The rank of every row within its group, as pandas'
/// `groupby(...).rank(method="first", ascending=False, na_option="bottom")`.
///
/// ```
/// use ecomkit::groups::Groups;
/// use ecomkit::score::rank_within_groups;
/// let groups = Groups::from_keys(&["a", "a", "b", "a"]).unwrap();
/// let rank = rank_within_groups(&[1.0, 3.0, 0.0, 1.0], &groups).unwrap();
/// assert_eq!(rank, vec![2, 1, 1, 3]);
/// ```
pub fn rank_within_groups(scores: &[f64], groups: &Groups) -> Result<Vec<u32>> {
    EcomkitError::check_length("groups", "scores", scores.len(), groups.len())?;
    Ok(rank_partition(scores, &groups.partition()))
}

/// Ranks from a partition of the rows by group.
pub(crate) fn rank_partition(scores: &[f64], partition: &Partition) -> Vec<u32> {
    rank_partition_reusing(scores, partition, &mut Vec::new())
}

/// [`rank_partition`] with the sort keys (one per row) in `keys`, a buffer the caller may
/// have faulted in already, and the ranks as any integer type that holds a `u32` (Python
/// wants i64: made in the pass that puts the ranks back in row order).
pub(crate) fn rank_partition_reusing<R: From<u32> + Send>(
    scores: &[f64],
    partition: &Partition,
    keys: &mut Vec<u64>,
) -> Vec<R> {
    partition.arrange_into(scores, keys, descending_key);
    // Each group sorts its keys and then overwrites them with its ranks, so the ranks in
    // partition order need no memory of their own.
    partition.split_mut(keys).into_par_iter().for_each_init(
        || (Vec::new(), Vec::new()),
        |(packed, order), group| {
            sort_group(group, packed, order);
            for (position, &index) in order.iter().enumerate() {
                group[index as usize] = position as u64 + 1;
            }
        },
    );
    // A rank is at most the number of rows, which is a u32.
    partition.unarrange_with(keys, |rank| R::from(rank as u32))
}

/// In-group indices of the [`descending_key`]s `keys` from best to worst, ties in index
/// order, into `order`.
///
/// Sorting one `u64` per row (the key's high bits with the index in the low bits) is about
/// twice as fast as sorting (key, index) pairs. Keys that agree in their high bits form
/// runs that are then sorted by the full key, so the order is exact.
fn sort_group(keys: &[u64], packed: &mut Vec<u64>, order: &mut Vec<u32>) {
    let index_bits = usize::BITS - keys.len().saturating_sub(1).leading_zeros();
    let index_mask = (1u64 << index_bits) - 1;
    packed.clear();
    packed.extend(
        keys.iter()
            .enumerate()
            .map(|(i, &key)| (key >> index_bits << index_bits) | i as u64),
    );
    packed.sort_unstable();
    order.clear();
    order.extend(packed.iter().map(|&p| (p & index_mask) as u32));
    let full_key = |i: u32| keys[i as usize];
    let mut start = 0;
    while start < packed.len() {
        let high = packed[start] >> index_bits;
        let mut end = start + 1;
        while end < packed.len() && packed[end] >> index_bits == high {
            end += 1;
        }
        if end - start > 1 {
            let run = &mut order[start..end];
            let first = full_key(run[0]);
            if run.iter().any(|&i| full_key(i) != first) {
                run.sort_unstable_by_key(|&i| (full_key(i), i));
            }
        }
        start = end;
    }
}

/// An integer that sorts scores from highest to lowest, NaN last, -0.0 equal to 0.0.
fn descending_key(score: f64) -> u64 {
    if score.is_nan() {
        return u64::MAX;
    }
    let bits = (score + 0.0).to_bits();
    let ascending = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    !ascending
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_scores_descending() {
        let scores = [
            f64::INFINITY,
            2.0,
            0.0,
            -0.0,
            -1.0,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let keys: Vec<u64> = scores.iter().map(|&s| descending_key(s)).collect();
        assert!(keys[..3].windows(2).all(|w| w[0] < w[1]));
        assert_eq!(keys[2], keys[3]);
        assert!(keys[3..].windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn packed_sort_is_exact_for_keys_that_share_high_bits() {
        // Scores one ulp apart share every high bit of the packed key.
        let base = 1.0f64;
        let next = f64::from_bits(base.to_bits() + 1);
        let scores = [base, next, base, next, 0.5, f64::NAN, next];
        let keys: Vec<u64> = scores.iter().map(|&s| descending_key(s)).collect();
        let (mut packed, mut order) = (Vec::new(), Vec::new());
        sort_group(&keys, &mut packed, &mut order);
        assert_eq!(order, vec![1, 3, 6, 0, 2, 4, 5]);
    }

    #[test]
    fn nan_ranks_last_and_ties_keep_input_order() {
        let groups = Groups::single(4).unwrap();
        let rank = rank_within_groups(&[f64::NAN, 1.0, 1.0, 2.0], &groups).unwrap();
        assert_eq!(rank, vec![4, 2, 3, 1]);
    }
}
