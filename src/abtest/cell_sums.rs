//! Per-cell sums of a piece of unit rows when an experiment has only a few cells
//! (variant × segment): every row is added to every cell under a mask, with no sort, no
//! gather and no branch, in 8 lanes — AVX-512 registers, pairs of AVX2 ones, or (on other
//! CPUs, slower) four SSE2 ones. This is the crate's one kernel compiled in several copies
//! for the CPU's vector extensions, picked at run time ([`Isa::detect`]).
//!
//! The sums are of values minus a shift `K` close to the cell's mean, so the co-moments
//! Σ (a − K)(b − K) − Σ (a − K) Σ (b − K) / n keep their precision (raw sums of squares
//! would cancel). Every copy does the same operations in the same order on the same 8
//! lanes (Rust neither fuses a multiply and an add nor reorders floating-point sums), and
//! the lanes are added up in a fixed order: the results are the same bits on every CPU
//! and for any number of threads.

use crate::cpu::Isa;

/// Up to this many cells, pieces are summed under masks (beyond, sorting the rows by cell
/// costs less than one masked pass per cell).
pub(super) const MAX_CELLS: usize = 4;

/// One cell's sums over a piece: Σ (v − K) of y, d and c, the products yy, dd, cc, yd, yc
/// of the shifted values, and Σ |y (y − 1)| (0 only if y is 0 or 1 throughout).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct ShiftedSums {
    pub sum: [f64; 3],
    pub products: [f64; 5],
    pub odd: f64,
}

/// A piece's cells as `f64` codes (−1 for a row without a cell, so that a cell's mask is
/// one comparison of the same width as the values) and the rows per cell.
pub(super) struct CellCodes<'a> {
    isa: Isa,
    codes: &'a [f64],
    pub counts: Vec<u64>,
}

impl<'a> CellCodes<'a> {
    /// `cells`: each row's cell below `n_cells` (at most [`MAX_CELLS`]), or `u32::MAX`.
    pub fn new(isa: Isa, cells: &[u32], n_cells: usize, buffer: &'a mut Vec<f64>) -> Self {
        let counts = match isa {
            // SAFETY: a `Isa` exists only if the CPU has its instructions.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { cell_codes_avx512(cells, n_cells, buffer) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { cell_codes_avx2(cells, n_cells, buffer) },
            Isa::Baseline => cell_codes(cells, n_cells, buffer),
        };
        Self {
            isa,
            codes: buffer,
            counts,
        }
    }

    /// Each cell's sums of (y, d, c) shifted by `shift[cell]`; `None` if a value of a row
    /// with a cell is not finite. `WITH_D` / `WITH_C`: whether d / c take part (otherwise
    /// their sums are 0). `check_binary`: whether to compute `odd` (0 otherwise).
    pub fn sums<const WITH_D: bool, const WITH_C: bool>(
        &self,
        columns: [&[f64]; 3],
        shift: &[[f64; 3]],
        check_binary: bool,
    ) -> Option<Vec<ShiftedSums>> {
        fn cells<const N: usize, const WITH_D: bool, const WITH_C: bool>(
            isa: Isa,
            codes: &[f64],
            columns: [&[f64]; 3],
            shift: &[[f64; 3]],
            check_binary: bool,
        ) -> Option<Vec<ShiftedSums>> {
            let shift: &[[f64; 3]; N] = shift.try_into().expect("one shift per cell");
            let args = (codes, columns, shift);
            // SAFETY: a `Isa` exists only if the CPU has its instructions.
            let sums = match (isa, check_binary) {
                #[cfg(target_arch = "x86_64")]
                (Isa::Avx512, true) => unsafe { sums_avx512::<N, WITH_D, WITH_C, true>(args) },
                #[cfg(target_arch = "x86_64")]
                (Isa::Avx512, false) => unsafe { sums_avx512::<N, WITH_D, WITH_C, false>(args) },
                #[cfg(target_arch = "x86_64")]
                (Isa::Avx2, true) => unsafe { sums_avx2::<N, WITH_D, WITH_C, true>(args) },
                #[cfg(target_arch = "x86_64")]
                (Isa::Avx2, false) => unsafe { sums_avx2::<N, WITH_D, WITH_C, false>(args) },
                (Isa::Baseline, true) => sums_baseline::<N, WITH_D, WITH_C, true>(args),
                (Isa::Baseline, false) => sums_baseline::<N, WITH_D, WITH_C, false>(args),
            };
            sums.map(Vec::from)
        }
        let (isa, codes) = (self.isa, self.codes);
        match self.counts.len() {
            1 => cells::<1, WITH_D, WITH_C>(isa, codes, columns, shift, check_binary),
            2 => cells::<2, WITH_D, WITH_C>(isa, codes, columns, shift, check_binary),
            3 => cells::<3, WITH_D, WITH_C>(isa, codes, columns, shift, check_binary),
            _ => cells::<4, WITH_D, WITH_C>(isa, codes, columns, shift, check_binary),
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn cell_codes_avx512(cells: &[u32], n_cells: usize, buffer: &mut Vec<f64>) -> Vec<u64> {
    cell_codes(cells, n_cells, buffer)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn cell_codes_avx2(cells: &[u32], n_cells: usize, buffer: &mut Vec<f64>) -> Vec<u64> {
    cell_codes(cells, n_cells, buffer)
}

/// [`CellCodes::new`] in two vectorised passes: the codes into `buffer`, and the counts.
#[inline(always)]
fn cell_codes(cells: &[u32], n_cells: usize, buffer: &mut Vec<f64>) -> Vec<u64> {
    // u32::MAX is −1 as an i32.
    buffer.clear();
    buffer.extend(cells.iter().map(|&cell| cell as i32 as f64));
    // One pass per cell: faster than a histogram, whose increments of the same few
    // counters wait on each other. A piece's count fits in a u32.
    (0..n_cells as u32)
        .map(|g| {
            let count: u32 = cells.iter().map(|&cell| u32::from(cell == g)).sum();
            u64::from(count)
        })
        .collect()
}

/// The lanes of every copy (so that all give the same bits).
const LANES: usize = 8;

/// Arguments of [`masked_sums`]: the cell codes, (y, d, c) and each cell's shift.
type SumsArgs<'a, const N: usize> = (&'a [f64], [&'a [f64]; 3], &'a [[f64; 3]; N]);

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn sums_avx512<const N: usize, const WITH_D: bool, const WITH_C: bool, const CHECK_BINARY: bool>(
    (codes, columns, shift): SumsArgs<N>,
) -> Option<[ShiftedSums; N]> {
    masked_sums::<LANES, N, WITH_D, WITH_C, CHECK_BINARY>(codes, columns, shift)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sums_avx2<const N: usize, const WITH_D: bool, const WITH_C: bool, const CHECK_BINARY: bool>(
    (codes, columns, shift): SumsArgs<N>,
) -> Option<[ShiftedSums; N]> {
    masked_sums::<LANES, N, WITH_D, WITH_C, CHECK_BINARY>(codes, columns, shift)
}

fn sums_baseline<
    const N: usize,
    const WITH_D: bool,
    const WITH_C: bool,
    const CHECK_BINARY: bool,
>(
    (codes, columns, shift): SumsArgs<N>,
) -> Option<[ShiftedSums; N]> {
    masked_sums::<LANES, N, WITH_D, WITH_C, CHECK_BINARY>(codes, columns, shift)
}

/// [`CellCodes::sums`] for `N` cells, `W` lanes.
#[inline(always)]
fn masked_sums<
    const W: usize,
    const N: usize,
    const WITH_D: bool,
    const WITH_C: bool,
    const CHECK_BINARY: bool,
>(
    codes: &[f64],
    [y, d, c]: [&[f64]; 3],
    shift: &[[f64; 3]; N],
) -> Option<[ShiftedSums; N]> {
    let zero = Lanes::<W>::splat(0.0);
    let mut acc = Accumulators::<W, N> {
        shift: shift.map(|s| s.map(Lanes::splat)),
        sum: [[zero; 3]; N],
        products: [[zero; 5]; N],
        odd: [zero; N],
    };
    let len = codes.len();
    let full = len - len % W;
    let columns = [codes, y, d, c].map(|column| &column[..len]);
    for start in (0..full).step_by(W) {
        let rows = columns.map(|column| Lanes::load(&column[start..start + W]));
        acc.add::<WITH_D, WITH_C, CHECK_BINARY>(rows);
    }
    if full < len {
        // The last rows, padded with rows of no cell (code −1) and value 0.
        let pad = |column: &[f64], fill: f64| {
            let mut lanes = [fill; W];
            lanes[..len - full].copy_from_slice(&column[full..]);
            Lanes(lanes)
        };
        let rows = [pad(codes, -1.0), pad(y, 0.0), pad(d, 0.0), pad(c, 0.0)];
        acc.add::<WITH_D, WITH_C, CHECK_BINARY>(rows);
    }
    let sums: [ShiftedSums; N] = std::array::from_fn(|g| ShiftedSums {
        sum: acc.sum[g].map(Lanes::sum),
        products: acc.products[g].map(Lanes::sum),
        odd: acc.odd[g].sum(),
    });
    // A NaN or infinite value makes its cell's sums non-finite.
    let finite = |v: &f64| v.abs() < f64::INFINITY;
    sums.iter()
        .all(|s| s.sum.iter().chain(&s.products).all(finite))
        .then_some(sums)
}

/// Running sums of [`masked_sums`], lane by lane (a local value, so they stay in registers).
///
/// With 4 cells they outnumber the registers, so some live on the stack, stored and loaded
/// every `W` rows. Aligned to 64 bytes, no vector of them straddles two cache lines: left
/// to chance, the alignment followed unrelated edits elsewhere in the crate, and the
/// straddling stores made the 100M-row uplift report 10% slower.
#[repr(align(64))]
struct Accumulators<const W: usize, const N: usize> {
    shift: [[Lanes<W>; 3]; N],
    sum: [[Lanes<W>; 3]; N],
    products: [[Lanes<W>; 5]; N],
    odd: [Lanes<W>; N],
}

impl<const W: usize, const N: usize> Accumulators<W, N> {
    /// Add `W` rows of (cell code, y, d, c).
    #[inline(always)]
    fn add<const WITH_D: bool, const WITH_C: bool, const CHECK_BINARY: bool>(
        &mut self,
        [code, y, d, c]: [Lanes<W>; 4],
    ) {
        const Y: usize = 0;
        const D: usize = 1;
        const C: usize = 2;
        let y_odd = (y * (y - Lanes::splat(1.0))).abs();
        for g in 0..N {
            // The rows of cell g keep their values, the others become 0 (a NaN too).
            let in_cell = code.equals(g as f64);
            let shift = self.shift[g];
            let dy = (y - shift[Y]).keep(in_cell);
            self.sum[g][Y] = self.sum[g][Y] + dy;
            self.products[g][0] = self.products[g][0] + dy * dy;
            if CHECK_BINARY {
                self.odd[g] = self.odd[g] + y_odd.keep(in_cell);
            }
            if WITH_D {
                let dd = (d - shift[D]).keep(in_cell);
                self.sum[g][D] = self.sum[g][D] + dd;
                self.products[g][1] = self.products[g][1] + dd * dd;
                self.products[g][3] = self.products[g][3] + dy * dd;
            }
            if WITH_C {
                let dc = (c - shift[C]).keep(in_cell);
                self.sum[g][C] = self.sum[g][C] + dc;
                self.products[g][2] = self.products[g][2] + dc * dc;
                self.products[g][4] = self.products[g][4] + dy * dc;
            }
        }
    }
}

/// `W` values operated on lane by lane: plain arrays that the compiler turns into SIMD
/// registers. The shape of [`masked_sums`] (the loop in one function, the accumulators
/// in a local struct, no closure in the loop) is what it vectorises: closures, loops over
/// lane indices and accumulators passed by value all stayed scalar, 2–4× slower. Check
/// `benches/compare.py --case uplift_report` after changing it.
#[derive(Clone, Copy)]
struct Lanes<const W: usize>([f64; W]);

impl<const W: usize> Lanes<W> {
    #[inline(always)]
    fn splat(v: f64) -> Self {
        Self([v; W])
    }

    #[inline(always)]
    fn load(values: &[f64]) -> Self {
        Self(values.try_into().expect("W values"))
    }

    /// All bits set in the lanes equal to `code`, none in the others.
    #[inline(always)]
    fn equals(self, code: f64) -> [u64; W] {
        self.0.map(|v| u64::from(v == code).wrapping_neg())
    }

    /// The lanes where `mask` is set; 0.0 in the others.
    #[inline(always)]
    fn keep(self, mask: [u64; W]) -> Self {
        Self(std::array::from_fn(|k| {
            f64::from_bits(self.0[k].to_bits() & mask[k])
        }))
    }

    #[inline(always)]
    fn abs(self) -> Self {
        Self(self.0.map(f64::abs))
    }

    /// The lanes added up pairwise, in a fixed order (`W` is a power of two).
    fn sum(self) -> f64 {
        let mut lanes = self.0;
        let mut width = W;
        while width > 1 {
            width /= 2;
            for k in 0..width {
                lanes[k] = lanes[2 * k] + lanes[2 * k + 1];
            }
        }
        lanes[0]
    }
}

macro_rules! lanewise {
    ($trait:ident, $method:ident, $op:tt) => {
        impl<const W: usize> std::ops::$trait for Lanes<W> {
            type Output = Self;
            #[inline(always)]
            fn $method(self, other: Self) -> Self {
                Self(std::array::from_fn(|k| self.0[k] $op other.0[k]))
            }
        }
    };
}
lanewise!(Add, add, +);
lanewise!(Sub, sub, -);
lanewise!(Mul, mul, *);

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    #[test]
    fn lanes_add_up_pairwise() {
        let lanes = Lanes([1e16, 1.0, -1e16, 1.0]);
        assert_eq!(lanes.sum(), (1e16 + 1.0) + (-1e16 + 1.0));
        let lanes = Lanes([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        assert_eq!(lanes.sum(), 36.0);
    }

    #[test]
    fn codes_count_rows_per_cell_and_skip_rows_without_one() {
        let cells = [0, 2, u32::MAX, 2, 1, 2, 0, u32::MAX, 2, 1, 0];
        let mut buffer = Vec::new();
        let isa = Isa::detect();
        let codes = CellCodes::new(isa, &cells, 3, &mut buffer);
        assert_eq!(codes.counts, vec![3, 2, 4]);
        assert_eq!(codes.codes[2], -1.0);
    }

    /// Every instruction set the CPU has, against sums written out row by row.
    #[test]
    fn masked_sums_match_plain_sums_on_every_instruction_set() {
        let mut isas = vec![Isa::Baseline];
        if std::arch::is_x86_feature_detected!("avx512f") {
            isas.push(Isa::Avx512);
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            isas.push(Isa::Avx2);
        }
        let mut state = 7u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for n_cells in 1..=MAX_CELLS {
            for len in [0, 1, 5, 8, 13, 1000] {
                let cells: Vec<u32> = (0..len)
                    .map(|_| match (next() * (n_cells + 1) as f64) as usize {
                        g if g < n_cells => g as u32,
                        _ => u32::MAX,
                    })
                    .collect();
                let columns: Vec<Vec<f64>> = (0..3)
                    .map(|_| (0..len).map(|_| (next() * 4.0).floor()).collect())
                    .collect();
                let shift: Vec<[f64; 3]> = (0..n_cells).map(|g| [g as f64, 1.0, 2.0]).collect();
                for &isa in &isas {
                    let mut buffer = Vec::new();
                    let codes = CellCodes::new(isa, &cells, n_cells, &mut buffer);
                    let sums = codes
                        .sums::<true, true>([&columns[0], &columns[1], &columns[2]], &shift, true)
                        .unwrap();
                    for (g, (sums, &count)) in sums.iter().zip(&codes.counts).enumerate() {
                        let rows: Vec<usize> = (0..len).filter(|&i| cells[i] == g as u32).collect();
                        assert_eq!(count, rows.len() as u64);
                        let v = |i: usize, j: usize| columns[j][i] - shift[g][j];
                        let total = |f: &dyn Fn(usize) -> f64| rows.iter().map(|&i| f(i)).sum();
                        let expected = ShiftedSums {
                            sum: [0, 1, 2].map(|j| total(&|i| v(i, j))),
                            products: [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2)]
                                .map(|(a, b)| total(&|i| v(i, a) * v(i, b))),
                            odd: total(&|i| (columns[0][i] * (columns[0][i] - 1.0)).abs()),
                        };
                        // Small integers: every sum is exact, whatever the order.
                        assert_eq!(sums.sum, expected.sum, "{isa:?} {n_cells} cells, {len}");
                        assert_eq!(sums.products, expected.products);
                        assert_eq!(sums.odd, expected.odd);
                    }
                }
            }
        }
    }

    #[test]
    fn a_non_finite_value_outside_every_cell_is_ignored() {
        let cells = [0, u32::MAX, 1, 0, 1];
        let y = [1.0, f64::NAN, 2.0, 3.0, 4.0];
        let mut buffer = Vec::new();
        let isa = Isa::detect();
        let codes = CellCodes::new(isa, &cells, 2, &mut buffer);
        let sums = codes
            .sums::<false, false>([&y, &y, &y], &[[2.0; 3], [3.0; 3]], true)
            .unwrap();
        assert_eq!(sums[0].sum[0], 0.0);
        assert_eq!(sums[0].products[0], 2.0);
        assert_eq!(sums[1].sum[0], 0.0);
        assert_eq!(sums[1].products[0], 2.0);
        assert_eq!(sums[0].odd, 6.0);
        let y = [1.0, 0.0, f64::INFINITY, 3.0, 4.0];
        assert!(codes
            .sums::<false, false>([&y, &y, &y], &[[2.0; 3], [3.0; 3]], true)
            .is_none());
    }
}
