//! Dense group ids: the one representation every grouped kernel works on.
//!
//! Keys of any type (strings, integers, several columns) are factorized once into ids
//! `0..n_groups`, numbered in order of first appearance, so that kernels index plain vectors
//! instead of hashing keys again, and so that output order never depends on hash seeds or on
//! the number of threads.

use std::hash::Hash;
use std::marker::PhantomData;
use std::mem::MaybeUninit;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::error::{EcomkitError, Result};

/// Every row's group, as a dense id numbered by first appearance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Groups {
    ids: Vec<u32>,
    n_groups: usize,
}

/// Rows ordered by group (a stable counting sort): group `g` occupies the positions
/// `range(g)`, its rows in input order. Kernels lay their inputs out in this order with
/// [`Partition::arrange`], so each group's values are one contiguous slice.
#[derive(Debug, Clone)]
pub struct Partition {
    offsets: Vec<usize>,
    /// Where each row stands in the partition order.
    positions: Vec<u32>,
}

impl Groups {
    /// All `n_rows` rows in one group (no group at all when there are no rows).
    pub fn single(n_rows: usize) -> Result<Self> {
        check_row_count(n_rows)?;
        Ok(Self {
            ids: vec![0; n_rows],
            n_groups: usize::from(n_rows > 0),
        })
    }

    /// Factorize any hashable keys, one per row.
    ///
    /// ```
    /// use ecomkit::groups::Groups;
    /// let groups = Groups::from_keys(&["b", "a", "b"]).unwrap();
    /// assert_eq!(groups.ids(), &[0, 1, 0]);
    /// assert_eq!(groups.n_groups(), 2);
    /// ```
    pub fn from_keys<K: Hash + Eq>(keys: &[K]) -> Result<Self> {
        check_row_count(keys.len())?;
        let mut seen: FxHashMap<&K, u32> = FxHashMap::default();
        let ids = keys
            .iter()
            .map(|key| {
                let next = seen.len() as u32;
                *seen.entry(key).or_insert(next)
            })
            .collect();
        Ok(Self {
            ids,
            n_groups: seen.len(),
        })
    }

    /// Groups whose ids are already numbered by first appearance.
    pub(crate) fn from_first_appearance(ids: Vec<u32>, n_groups: usize) -> Self {
        debug_assert!(ids.iter().all(|&id| (id as usize) < n_groups));
        Self { ids, n_groups }
    }

    /// Rows that share a group here and in `other` (the groups of two key columns together).
    pub fn combine(&self, other: &Groups) -> Result<Groups> {
        EcomkitError::check_length("groups", "the first key", self.len(), other.len())?;
        let (codes, n_codes) = pair_codes(&self.ids, self.n_groups, &other.ids, other.n_groups);
        Ok(Groups::from_first_appearance(codes, n_codes))
    }

    /// Group id of every row.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// Number of distinct groups.
    pub fn n_groups(&self) -> usize {
        self.n_groups
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The first row of each group, in group order (which is row order).
    pub fn first_rows(&self) -> Vec<usize> {
        let mut first = Vec::with_capacity(self.n_groups);
        for (row, &id) in self.ids.iter().enumerate() {
            if id as usize == first.len() {
                first.push(row);
            }
        }
        first
    }

    /// Rows ordered by group with a counting sort: O(n), stable, blocks of rows in parallel.
    pub fn partition(&self) -> Partition {
        self.clone().into_partition()
    }

    /// [`Groups::partition`], the ids' memory becoming the positions' (no fresh block to
    /// fault in).
    ///
    /// ```
    /// use ecomkit::groups::Groups;
    /// let partition = Groups::from_keys(&["b", "a", "b", "c"])?.into_partition();
    /// assert_eq!((partition.n_groups(), partition.n_rows()), (3, 4));
    /// // Group 0 ("b") first, then "a", then "c"; each group's rows in row order.
    /// assert_eq!(partition.rows(), [0, 2, 1, 3]);
    /// assert_eq!(partition.range(1), 2..3);
    /// # Ok::<(), ecomkit::EcomkitError>(())
    /// ```
    pub fn into_partition(self) -> Partition {
        const BLOCK: usize = 1 << 20;
        let (n, n_groups) = (self.ids.len(), self.n_groups);
        // Per-block counts cost blocks × groups memory: blocks of BLOCK rows with few
        // groups; with many, one block per thread, and at most one count per 8 rows.
        let block = if n_groups <= BLOCK / 8 {
            BLOCK
        } else {
            let n_blocks = rayon::current_num_threads().min(n / (8 * n_groups)).max(1);
            n.div_ceil(n_blocks).max(1)
        };
        let blocks: Vec<&[u32]> = self.ids.chunks(block).collect();
        let parallel = blocks.len() > 1;
        let counts: Vec<Vec<usize>> = if parallel {
            blocks
                .par_iter()
                .map(|block| {
                    let mut counts = vec![0usize; n_groups];
                    for &id in *block {
                        counts[id as usize] += 1;
                    }
                    counts
                })
                .collect()
        } else {
            let mut counts = vec![0usize; n_groups];
            for &id in &self.ids {
                counts[id as usize] += 1;
            }
            vec![counts]
        };
        let mut offsets = vec![0usize; n_groups + 1];
        for g in 0..n_groups {
            offsets[g + 1] = offsets[g] + counts.iter().map(|c| c[g]).sum::<usize>();
        }
        // Each block starts writing a group where the blocks before it stopped.
        let mut cursors = Vec::with_capacity(counts.len());
        let mut next = offsets[..n_groups].to_vec();
        for block_counts in &counts {
            cursors.push(next.clone());
            for (cursor, count) in next.iter_mut().zip(block_counts) {
                *cursor += count;
            }
        }
        drop(blocks);
        // Each id is replaced by its row's position, in place.
        let mut positions = self.ids;
        let fill = |(positions, mut cursor): (&mut [u32], Vec<usize>)| {
            for id_then_position in positions.iter_mut() {
                let id = *id_then_position as usize;
                *id_then_position = cursor[id] as u32;
                cursor[id] += 1;
            }
        };
        if parallel {
            (positions.par_chunks_mut(block))
                .zip(cursors)
                .for_each(|(positions, cursor)| fill((positions, cursor)));
        } else {
            fill((&mut positions, cursors.pop().unwrap_or_default()));
        }
        Partition { offsets, positions }
    }
}

impl Partition {
    /// Number of groups.
    pub fn n_groups(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.positions.len()
    }

    /// Start and end of group `g` in the partition order.
    pub fn range(&self, g: usize) -> std::ops::Range<usize> {
        self.offsets[g]..self.offsets[g + 1]
    }

    /// The row numbers in partition order: `rows()[range(g)]` are the rows of group `g`.
    pub fn rows(&self) -> Vec<u32> {
        let mut rows = vec![0u32; self.positions.len()];
        for (row, &position) in (0u32..).zip(&self.positions) {
            prefetch_ahead(&rows, &self.positions, row as usize);
            rows[position as usize] = row;
        }
        rows
    }

    /// `values` (one per row) laid out in partition order. It reads `values` in order and
    /// writes one stream per group, which is much kinder to the caches than gathering
    /// `values[row]` group by group.
    pub fn arrange<T: Copy + Send + Sync>(&self, values: &[T]) -> Vec<T> {
        let mut out = Vec::new();
        self.arrange_into(values, &mut out, |value| value);
        out
    }

    /// `map(value)` of each of `values` laid out in partition order, into `out` (whose
    /// memory is reused: a fresh block costs more to fault in than to fill on this kind of
    /// machine). Blocks of rows go to different threads: a block's rows of a group land in
    /// their own stretch of the group's slice, after the stretches of the blocks before it,
    /// so threads rarely share a cache line.
    ///
    /// # Panics
    /// If `values` does not hold one value per row.
    pub(crate) fn arrange_into<T, U>(
        &self,
        values: &[T],
        out: &mut Vec<U>,
        map: impl Fn(T) -> U + Sync,
    ) where
        T: Copy + Send + Sync,
        U: Copy + Send + Sync,
    {
        assert_eq!(values.len(), self.positions.len(), "one value per row");
        self.arrange_rows_into(out, |row| map(values[row]));
    }

    /// `make(row)` of every row laid out in partition order (as [`Partition::arrange`]).
    pub(crate) fn arrange_rows<U: Copy + Send>(&self, make: impl Fn(usize) -> U + Sync) -> Vec<U> {
        let mut out = Vec::new();
        self.arrange_rows_into(&mut out, make);
        out
    }

    fn arrange_rows_into<U: Copy + Send>(
        &self,
        out: &mut Vec<U>,
        make: impl Fn(usize) -> U + Sync,
    ) {
        const BLOCK: usize = 1 << 18;
        let n = self.positions.len();
        out.clear();
        out.reserve(n);
        let writer = RowWriter::new(&mut out.spare_capacity_mut()[..n]);
        self.positions
            .par_chunks(BLOCK)
            .enumerate()
            .for_each(|(block, positions)| {
                let first = block * BLOCK;
                for (i, &position) in positions.iter().enumerate() {
                    if let Some(&ahead) = positions.get(i + PREFETCH_DISTANCE) {
                        writer.prefetch(ahead as usize);
                    }
                    // SAFETY: `positions` is a permutation of the rows, and each block
                    // writes the positions of its own rows only.
                    unsafe { writer.write(position as usize, MaybeUninit::new(make(first + i))) };
                }
            });
        // SAFETY: `positions` is a permutation of 0..n, so every one of the first n
        // elements was written above.
        unsafe { out.set_len(n) };
    }

    /// Where each row stands in the partition order.
    pub(crate) fn into_positions(self) -> Vec<u32> {
        self.positions
    }

    /// Start of each group in the partition order, and the number of rows at the end.
    pub(crate) fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// The inverse of [`Partition::arrange`]: values in partition order back in row order.
    pub fn unarrange<T: Copy + Send + Sync>(&self, arranged: &[T]) -> Vec<T> {
        self.unarrange_with(arranged, |value| value)
    }

    /// [`Partition::unarrange`] converting each value on the way, in the same pass.
    pub(crate) fn unarrange_with<T: Copy + Sync, U: Send>(
        &self,
        arranged: &[T],
        map: impl Fn(T) -> U + Sync,
    ) -> Vec<U> {
        self.positions
            .par_iter()
            .with_min_len(1 << 14)
            .map(|&position| map(arranged[position as usize]))
            .collect()
    }

    /// `data` (in partition order) cut into one mutable slice per group.
    pub fn split_mut<'a, T>(&self, data: &'a mut [T]) -> Vec<&'a mut [T]> {
        split_lengths(data, self.offsets.windows(2).map(|w| w[1] - w[0]))
    }
}

/// A slice that several threads fill at once, each writing rows no other thread writes:
/// the kernels walk the rows in layout order and put each result straight at its input row,
/// with no arranged copy to scatter back afterwards.
pub(crate) struct RowWriter<'a, T> {
    data: *mut T,
    len: usize,
    _slice: PhantomData<&'a mut [T]>,
}

// SAFETY: a `RowWriter` is only a `&mut [T]` whose disjoint elements different threads write
// (see `write`): sending `T`s between threads is all it takes.
unsafe impl<T: Send> Send for RowWriter<'_, T> {}
unsafe impl<T: Send> Sync for RowWriter<'_, T> {}

impl<'a, T: Copy> RowWriter<'a, T> {
    pub(crate) fn new(data: &'a mut [T]) -> Self {
        Self {
            data: data.as_mut_ptr(),
            len: data.len(),
            _slice: PhantomData,
        }
    }

    /// Hints the CPU to fetch `row`'s cache line ahead of its write (see [`prefetch_ahead`]).
    #[inline]
    pub(crate) fn prefetch(&self, row: usize) {
        prefetch(self.data.wrapping_add(row));
    }

    /// Writes `value` at `row`.
    ///
    /// # Safety
    /// No other thread may read or write `row` while this writer lives: the callers write
    /// a permutation of the rows (`TimeOrder::rows`, `Partition`'s positions) split
    /// into blocks, one block per thread.
    pub(crate) unsafe fn write(&self, row: usize, value: T) {
        assert!(row < self.len, "row {row} out of {}", self.len);
        // SAFETY: in bounds (checked above); exclusive by the caller's contract.
        unsafe { self.data.add(row).write(value) }
    }
}

/// `data` cut into consecutive slices of the given lengths.
pub(crate) fn split_lengths<T>(
    data: &mut [T],
    lengths: impl IntoIterator<Item = usize>,
) -> Vec<&mut [T]> {
    let mut rest = data;
    lengths
        .into_iter()
        .map(|length| {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(length);
            rest = tail;
            head
        })
        .collect()
}

/// How many writes ahead a scatter prefetches: far enough to hide a miss, near enough that
/// the lines are still cached when written.
pub(crate) const PREFETCH_DISTANCE: usize = 32;

/// Before `out[positions[i]]` is written, hints the CPU to fetch the line that
/// `positions[i + PREFETCH_DISTANCE]` will write: a scatter over a large array then overlaps
/// its cache misses instead of stalling on each one.
#[inline(always)]
pub(crate) fn prefetch_ahead<T>(out: &[T], positions: &[u32], i: usize) {
    if let Some(&ahead) = positions.get(i + PREFETCH_DISTANCE) {
        prefetch(out.as_ptr().wrapping_add(ahead as usize));
    }
}

/// Hints the CPU to bring `pointer`'s cache line in (no effect off x86-64).
#[inline(always)]
pub(crate) fn prefetch<T>(pointer: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it never faults, whatever the address.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(pointer.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = pointer;
}

/// Codes of the pairs `(a[i], b[i])`, numbered by first appearance, and how many there are.
pub(crate) fn pair_codes(a: &[u32], n_a: usize, b: &[u32], n_b: usize) -> (Vec<u32>, usize) {
    let width = n_b as u64;
    let pair = |(a, b): (&u32, &u32)| *a as u64 * width + *b as u64;
    let n_pairs = n_a as u64 * width;
    if n_pairs <= 4 * a.len() as u64 + 4096 {
        // Few possible pairs: a direct table is faster than hashing.
        let mut table = vec![u32::MAX; n_pairs as usize];
        let mut next = 0u32;
        let codes = a
            .iter()
            .zip(b)
            .map(|ab| {
                let slot = &mut table[pair(ab) as usize];
                if *slot == u32::MAX {
                    *slot = next;
                    next += 1;
                }
                *slot
            })
            .collect();
        (codes, next as usize)
    } else {
        let mut seen: FxHashMap<u64, u32> = FxHashMap::default();
        let codes = a
            .iter()
            .zip(b)
            .map(|ab| {
                let next = seen.len() as u32;
                *seen.entry(pair(ab)).or_insert(next)
            })
            .collect();
        (codes, seen.len())
    }
}

/// Row numbers are stored as `u32`: fail clearly instead of wrapping.
pub(crate) fn check_row_count(n_rows: usize) -> Result<()> {
    if n_rows > u32::MAX as usize {
        return Err(EcomkitError::invalid_value(
            "frame",
            format!("has {n_rows} rows; at most {} rows are supported", u32::MAX),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_numbers_pairs_by_first_appearance() {
        let a = Groups::from_keys(&[1, 1, 2, 2, 1]).unwrap();
        let b = Groups::from_keys(&["x", "y", "x", "x", "y"]).unwrap();
        let ab = a.combine(&b).unwrap();
        assert_eq!(ab.ids(), &[0, 1, 2, 2, 1]);
        assert_eq!(ab.n_groups(), 3);
    }

    #[test]
    fn partition_is_stable() {
        let g = Groups::from_keys(&[2, 1, 2, 1, 3]).unwrap();
        let p = g.partition();
        let rows = p.rows();
        assert_eq!(&rows[p.range(0)], &[0, 2]);
        assert_eq!(&rows[p.range(1)], &[1, 3]);
        assert_eq!(&rows[p.range(2)], &[4]);
        assert_eq!(
            p.unarrange(&p.arrange(&[5, 6, 7, 8, 9])),
            vec![5, 6, 7, 8, 9]
        );
        assert_eq!(g.first_rows(), vec![0, 1, 4]);
    }

    #[test]
    fn parallel_partition_matches_a_stable_sort() {
        let keys: Vec<u64> = (0..3_000_000u64).map(|i| (i * 7919) % 1000).collect();
        let groups = Groups::from_keys(&keys).unwrap();
        let rows = groups.partition().rows();
        let mut expected: Vec<u32> = (0..keys.len() as u32).collect();
        expected.sort_by_key(|&r| groups.ids()[r as usize]);
        assert_eq!(rows, expected);
        // Arranging on several threads, block by block, puts every value where the stable
        // sort puts its row, whatever buffer it reuses.
        let partition = groups.partition();
        let values: Vec<u64> = (0..keys.len() as u64).map(|r| r * 3 + 1).collect();
        let mut out = vec![7u64; 10];
        partition.arrange_into(&values, &mut out, |v| v - 1);
        let want: Vec<u64> = expected.iter().map(|&r| values[r as usize] - 1).collect();
        assert_eq!(out, want);
        assert_eq!(partition.unarrange(&partition.arrange(&values)), values);
    }

    #[test]
    fn partition_with_many_groups_matches_a_stable_sort() {
        // More groups than the per-block counts allow with blocks of 2^20 rows: one block
        // per thread (when the rows are many enough), the ids' memory reused in place.
        let keys: Vec<u64> = (0..3_000_000u64).map(|i| (i * 104_729) % 150_000).collect();
        let groups = Groups::from_keys(&keys).unwrap();
        let mut expected: Vec<u32> = (0..keys.len() as u32).collect();
        expected.sort_by_key(|&r| groups.ids()[r as usize]);
        assert_eq!(groups.partition().rows(), expected);
        let partition = groups.clone().into_partition();
        assert_eq!(partition.rows(), expected);
        assert_eq!(partition.n_rows(), keys.len());
        let made = partition.arrange_rows(|row| row as u64 * 2);
        let want: Vec<u64> = expected.iter().map(|&r| u64::from(r) * 2).collect();
        assert_eq!(made, want);
    }

    #[test]
    fn empty_has_no_groups() {
        assert_eq!(Groups::single(0).unwrap().n_groups(), 0);
        assert_eq!(
            Groups::from_keys::<i32>(&[])
                .unwrap()
                .partition()
                .n_groups(),
            0
        );
    }
}
