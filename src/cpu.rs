//! The CPU's vector extensions, for a kernel compiled in more than one copy.
//!
//! A wheel has to run on any x86-64 CPU, so it is compiled for the baseline (SSE2). A hot
//! kernel may also be compiled for AVX2 and AVX-512 and pick its copy at run time with
//! [`Isa::detect`]. The promise every copy keeps: the same operations in the same order on
//! lanes of the same width, so the same bits on every CPU (Rust neither fuses a multiply
//! and an add nor reorders floating-point sums). A copy is kept only where it earns 15% or
//! more (today: the experiment's masked cell sums, `experiment/cell_sums.rs`).

/// The instruction set a copy of a kernel is compiled for; a value other than `Baseline`
/// exists only if the CPU has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isa {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// Any CPU of the target (on x86-64: SSE2).
    Baseline,
}

impl Isa {
    /// The widest the CPU has.
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Self::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Self::Avx2;
            }
        }
        Self::Baseline
    }
}
