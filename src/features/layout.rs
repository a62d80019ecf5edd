//! Rows laid out entity by entity in time order, and cut into blocks of whole entities for
//! the threads: the shared plumbing of the rolling and session kernels.

use std::ops::Range;

use rayon::prelude::*;

use crate::groups::{prefetch, Groups, Partition, PREFETCH_DISTANCE};
pub(crate) use crate::groups::{split_lengths, RowWriter};

/// Rows laid out group by group (groups in first-appearance order), sorted by time within
/// each group (stable: equal times keep input order), with where each row went.
///
/// The rows are laid out by the groups' [`Partition`] (which reads them in row order and
/// writes one stream per group: on event logs sorted by time, a user's rows are spread
/// over the whole input); only the groups that were not already in time order are then
/// sorted, and their rows' positions rewritten, so that putting results back in row order
/// is one parallel gather whatever the input order (as for [`Records`]).
pub(crate) struct TimeOrder {
    /// Row numbers in the layout.
    pub rows: Vec<u32>,
    /// Start of each group in the layout, and the number of rows at the end.
    pub offsets: Vec<usize>,
    /// Times in the layout.
    pub times: Vec<i64>,
    /// Where each row stands in the layout.
    positions: Vec<u32>,
}

impl TimeOrder {
    pub(crate) fn new(groups: &Groups, times: &[i64]) -> Self {
        let partition = groups.partition();
        let mut rows = partition.arrange_rows(|row| row as u32);
        let mut arranged_times = partition.arrange(times);
        let offsets = partition.offsets().to_vec();
        let group_rows = partition.split_mut(&mut rows);
        let group_times = partition.split_mut(&mut arranged_times);
        let mut positions = partition.into_positions();
        let writer = RowWriter::new(&mut positions);
        (group_rows.into_par_iter().zip(group_times))
            .zip(&offsets[..offsets.len() - 1])
            .with_min_len(64)
            .for_each(|((rows, group_times), &start)| {
                if group_times.windows(2).all(|w| w[0] <= w[1]) {
                    return;
                }
                rows.sort_by_key(|&r| times[r as usize]);
                for ((k, t), &r) in (start..).zip(group_times.iter_mut()).zip(rows.iter()) {
                    *t = times[r as usize];
                    // SAFETY: a group's rows belong to no other group.
                    unsafe { writer.write(r as usize, k as u32) };
                }
            });
        Self {
            rows,
            offsets,
            times: arranged_times,
            positions,
        }
    }

    /// `values` (one per row) in the layout: a parallel gather.
    pub(crate) fn arrange<T: Copy + Send + Sync>(&self, values: &[T]) -> Vec<T> {
        gather(values, &self.rows)
    }

    /// Values in the layout back in row order: a parallel gather.
    pub(crate) fn unarrange<T: Copy + Send + Sync>(&self, arranged: &[T]) -> Vec<T> {
        gather(arranged, &self.positions)
    }
}

/// `values[at[i]]` for every `i`, by pieces of [`GATHER_PIECE`] on all threads (the reads
/// are at random: each piece fetches a few ahead).
fn gather<T: Copy + Send + Sync>(values: &[T], at: &[u32]) -> Vec<T> {
    let n = at.len();
    let mut out = Vec::with_capacity(n);
    let pieces = out.spare_capacity_mut()[..n].par_chunks_mut(GATHER_PIECE);
    gather_pieces(values, at, pieces, |piece, values| {
        for (i, slot) in piece.iter_mut().enumerate() {
            slot.write(*values.record(i));
        }
    });
    // SAFETY: the pieces cover the first n slots, and each piece wrote all of its own.
    unsafe { out.set_len(n) };
    out
}

/// One record per row, laid out group by group (groups in first-appearance order) and in
/// time order within each group (stable), with where each row went.
///
/// For kernels that compute one result per row in layout order: they store it in the
/// row's record and [`gather_pieces`] puts it back in row order, reading one record per
/// row and writing the outputs in order. Writing the results straight at their rows from
/// the layout order would instead write a random cache line of every output for every row.
pub(crate) struct Records<S> {
    /// The records in the layout.
    pub records: Vec<S>,
    /// Start of each group in the layout, and the number of rows at the end.
    pub offsets: Vec<usize>,
    /// Where each row's record stands in the layout.
    positions: Vec<u32>,
}

impl<S: Copy + Send + Sync> Records<S> {
    /// `make(row)` of every row, laid out by the groups' `partition`; `time` reads a
    /// record's time and `row` its row.
    pub(crate) fn new(
        partition: Partition,
        make: impl Fn(usize) -> S + Sync,
        time: impl Fn(&S) -> i64 + Sync,
        row: impl Fn(&S) -> u32 + Sync,
    ) -> Self {
        let mut records = partition.arrange_rows(make);
        let offsets = partition.offsets().to_vec();
        let groups = partition.split_mut(&mut records);
        let mut positions = partition.into_positions();
        let writer = RowWriter::new(&mut positions);
        // Event logs mostly come in time order: only the other groups are sorted, and
        // their rows' positions follow their records.
        (groups.into_par_iter().zip(&offsets[..offsets.len() - 1]))
            .with_min_len(64)
            .for_each(|(records, &start)| {
                if records.windows(2).all(|w| time(&w[0]) <= time(&w[1])) {
                    return;
                }
                records.sort_by_key(&time);
                for (k, record) in (start..).zip(records.iter()) {
                    // SAFETY: a group's rows belong to no other group.
                    unsafe { writer.write(row(record) as usize, k as u32) };
                }
            });
        Self {
            records,
            offsets,
            positions,
        }
    }

    /// Where each row's record stands in the layout (to gather results back in row
    /// order: see [`gather_pieces`]).
    pub(crate) fn positions(&self) -> &[u32] {
        &self.positions
    }
}

/// Rows gathered back from a layout go by pieces of this many consecutive rows, one piece
/// per task.
pub(crate) const GATHER_PIECE: usize = 1 << 16;

/// For each piece of [`GATHER_PIECE`] consecutive rows, in parallel, calls
/// `gather(piece, rows)`, where `rows.record(i)` is the record of the piece's `i`-th row
/// and `pieces` holds one item per piece (typically the output slices for those rows).
pub(crate) fn gather_pieces<S: Sync, P: Send>(
    records: &[S],
    positions: &[u32],
    pieces: impl IndexedParallelIterator<Item = P>,
    gather: impl Fn(P, PieceRecords<'_, S>) + Sync,
) {
    pieces
        .zip(positions.par_chunks(GATHER_PIECE))
        .for_each(|(piece, positions)| gather(piece, PieceRecords { records, positions }));
}

/// The records of one piece of consecutive rows (see [`gather_pieces`]).
pub(crate) struct PieceRecords<'a, S> {
    records: &'a [S],
    positions: &'a [u32],
}

impl<S> PieceRecords<'_, S> {
    /// The record of the piece's `i`-th row. Records are read at random: the one a few
    /// rows ahead is fetched meanwhile.
    #[inline]
    pub(crate) fn record(&self, i: usize) -> &S {
        if let Some(&ahead) = self.positions.get(i + PREFETCH_DISTANCE) {
            prefetch(self.records.as_ptr().wrapping_add(ahead as usize));
        }
        &self.records[self.positions[i] as usize]
    }
}

/// Where each group's rows start (and, last, the number of rows) when the rows already
/// come group by group in first-appearance order, in time order within each group: the
/// layout is then the input itself. `None` otherwise.
pub(crate) fn presorted_offsets(groups: &Groups, times: &[i64]) -> Option<Vec<usize>> {
    let (ids, n) = (groups.ids(), groups.len());
    // Group ids number first appearances, so a group's rows are contiguous exactly when
    // every id is its predecessor's or the next one.
    let in_layout = (1..n).into_par_iter().with_min_len(1 << 16).all(|i| {
        let (previous, id) = (ids[i - 1], ids[i]);
        id == previous + 1 || (id == previous && times[i - 1] <= times[i])
    });
    if !in_layout {
        return None;
    }
    // Contiguous groups start at their first rows.
    let mut offsets = groups.first_rows();
    offsets.push(n);
    Some(offsets)
}

/// Ranges of groups, a few per thread, cut at group boundaries.
pub(crate) fn blocks(offsets: &[usize]) -> Vec<Range<usize>> {
    let n_groups = offsets.len() - 1;
    let n = offsets[n_groups];
    let target = (n / (8 * rayon::current_num_threads().max(1))).max(4096);
    let mut blocks = Vec::new();
    let mut first = 0;
    for g in 0..n_groups {
        if offsets[g + 1] - offsets[first] >= target || g + 1 == n_groups {
            blocks.push(first..g + 1);
            first = g + 1;
        }
    }
    blocks
}

/// Exclusive prefix sums.
pub(crate) fn prefix_sums(counts: &[i64]) -> Vec<i64> {
    let mut total = 0;
    counts
        .iter()
        .map(|c| {
            let first = total;
            total += c;
            first
        })
        .collect()
}
