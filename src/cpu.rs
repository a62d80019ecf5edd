//! The CPU's vector extensions, for kernels compiled in more than one copy.
//!
//! A wheel has to run on any x86-64 CPU, so it is compiled for the baseline (SSE2: 16
//! vector registers of two `f64`). A hot kernel can also be compiled for x86-64-v4
//! (AVX-512: 32 registers, which the rolling scan's running sums need to stay out of
//! memory) and pick its copy at run time. The copies do the same operations in the same
//! order (Rust never fuses a multiply and an add, nor reorders floating-point sums), so
//! they give the same bits.

/// The instruction set a copy of a kernel is compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isa {
    /// Any CPU of the target (on x86-64: SSE2).
    Baseline,
    /// x86-64-v4: AVX2, FMA, BMI1, BMI2, LZCNT, POPCNT and AVX-512 F, VL, DQ, BW, CD.
    V4,
}

impl Isa {
    /// The best copy this CPU runs.
    pub(crate) fn detect() -> Self {
        if Isa::V4.runs_here() {
            Isa::V4
        } else {
            Isa::Baseline
        }
    }

    /// Every copy this CPU runs, baseline first (the tests compare them).
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Self> {
        [Isa::Baseline, Isa::V4]
            .into_iter()
            .filter(|isa| isa.runs_here())
            .collect()
    }

    /// Whether this CPU has every feature the copy for `self` is compiled with (the
    /// answers are cached by the standard library: a few loads).
    pub(crate) fn runs_here(self) -> bool {
        match self {
            Isa::Baseline => true,
            #[cfg(target_arch = "x86_64")]
            Isa::V4 => {
                use std::arch::is_x86_feature_detected as has;
                has!("avx2")
                    && has!("fma")
                    && has!("bmi1")
                    && has!("bmi2")
                    && has!("lzcnt")
                    && has!("popcnt")
                    && has!("avx512f")
                    && has!("avx512vl")
                    && has!("avx512dq")
                    && has!("avx512bw")
                    && has!("avx512cd")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Isa::V4 => false,
        }
    }
}
