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
    if scores.len() != groups.len() {
        return Err(EcomkitError::LengthMismatch {
            argument: "groups".into(),
            other: "scores".into(),
            expected: scores.len(),
            got: groups.len(),
        });
    }
    Ok(rank_partition(scores, groups.partition()))
}

/// Ranks from a partition of the rows by group (which this sorts in place).
pub(crate) fn rank_partition(scores: &[f64], mut partition: Partition) -> Vec<u32> {
    partition.rows_mut().into_par_iter().for_each_init(
        Vec::new,
        |keyed: &mut Vec<(u64, u32)>, rows| {
            // Gather the keys once, then sort plain integer pairs: far fewer cache misses than
            // looking scores up inside the comparisons. (key, row) is unique, so an unstable
            // sort gives one answer whatever the threads.
            keyed.clear();
            keyed.extend(
                rows.iter()
                    .map(|&row| (descending_key(scores[row as usize]), row)),
            );
            keyed.sort_unstable();
            for (slot, &(_, row)) in rows.iter_mut().zip(keyed.iter()) {
                *slot = row;
            }
        },
    );
    let mut rank = vec![0u32; scores.len()];
    for g in 0..partition.n_groups() {
        for (position, &row) in partition.rows(g).iter().enumerate() {
            rank[row as usize] = position as u32 + 1;
        }
    }
    rank
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
    fn nan_ranks_last_and_ties_keep_input_order() {
        let groups = Groups::single(4).unwrap();
        let rank = rank_within_groups(&[f64::NAN, 1.0, 1.0, 2.0], &groups).unwrap();
        assert_eq!(rank, vec![4, 2, 3, 1]);
    }
}
