//! Drift of data that arrives in pieces: a reference [`Profile`] fixes each column's bins
//! (quantile edges of the reference for numbers, the reference's categories plus one bin
//! for any other), any number of current pieces are counted into those bins
//! ([`count`]) and the counts added ([`BinCounts::merge`]). PSI, chi-squared and
//! Jensen–Shannon from merged counts equal those of the pieces concatenated, because
//! every statistic reads only the counts.

use std::collections::HashMap;

use rayon::prelude::*;

use super::drift::{chi2_of_counts, jensen_shannon_of_weights, psi_of_counts, DriftTest, Method};
use super::report::{check_drift_share, report_of_rows, ColumnDrift, DriftReport, Kind};
use super::{category_codes, numeric_column, Values};
use crate::error::{EcomkitError, Result};
use crate::frame::Frame;

/// One column of a reference profile: its bins and the reference's counts in them.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnProfile {
    pub column: String,
    pub kind: Kind,
    /// Numeric: the inner bin edges (`edges.len() + 1` bins, the first and last
    /// open-ended; a value equal to an edge goes to the bin above it).
    pub edges: Vec<f64>,
    /// Categorical: the reference's categories in sorted order; one more bin, last, holds
    /// every other category.
    pub categories: Vec<String>,
    pub reference: BinCounts,
}

impl ColumnProfile {
    fn n_bins(&self) -> usize {
        match self.kind {
            Kind::Numeric => self.edges.len() + 1,
            Kind::Categorical => self.categories.len() + 1,
        }
    }
}

/// A reference profile: one [`ColumnProfile`] per column.
pub type Profile = Vec<ColumnProfile>;

/// Counts of one column's values in its profile's bins, and of its missing values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinCounts {
    pub counts: Vec<u64>,
    pub missing: u64,
}

impl BinCounts {
    /// The counts of both pieces together.
    pub fn merge(&self, other: &BinCounts) -> Result<BinCounts> {
        if self.counts.len() != other.counts.len() {
            return Err(EcomkitError::invalid_value(
                "other",
                format!(
                    "counts of {} bins cannot be merged with counts of {} bins: they were \
                     counted against different profiles",
                    other.counts.len(),
                    self.counts.len()
                ),
            ));
        }
        Ok(BinCounts {
            counts: self
                .counts
                .iter()
                .zip(&other.counts)
                .map(|(a, b)| a + b)
                .collect(),
            missing: self.missing + other.missing,
        })
    }

    fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// The profile of `columns` of the reference: numbers get `bins` quantile bins (the edges
/// of PSI's [`super::Binning::Quantile`]), anything else one bin per category.
pub fn profile(reference: &Frame, columns: &[String], bins: usize) -> Result<Profile> {
    if bins < 2 {
        return Err(EcomkitError::invalid_value(
            "bins",
            format!("at least 2, got {bins}"),
        ));
    }
    if reference.num_rows() == 0 {
        return Err(EcomkitError::Empty {
            argument: "reference".into(),
        });
    }
    columns
        .par_iter()
        .map(|name| {
            let column = reference.column(name, "columns")?;
            if column.data_type().is_numeric() {
                let read = numeric_column(&column, "reference")?;
                let Values::Numeric(mut values) = read.values else {
                    unreachable!("numeric column")
                };
                if values.is_empty() {
                    return Err(EcomkitError::invalid_value(
                        "reference",
                        format!("column '{name}' has no values to profile"),
                    ));
                }
                values.sort_unstable_by(f64::total_cmp);
                let edges = super::drift::quantile_edges(&values, bins);
                let mut profile = ColumnProfile {
                    column: name.clone(),
                    kind: Kind::Numeric,
                    edges,
                    categories: Vec::new(),
                    reference: BinCounts {
                        counts: Vec::new(),
                        missing: 0,
                    },
                };
                profile.reference = count_column(reference, &profile, "reference")?;
                Ok(profile)
            } else {
                let (_, mut categories) = category_codes(reference, &column, "reference")?;
                categories.sort_unstable();
                let mut profile = ColumnProfile {
                    column: name.clone(),
                    kind: Kind::Categorical,
                    edges: Vec::new(),
                    categories,
                    reference: BinCounts {
                        counts: Vec::new(),
                        missing: 0,
                    },
                };
                profile.reference = count_column(reference, &profile, "reference")?;
                if profile.reference.total() == 0 {
                    return Err(EcomkitError::invalid_value(
                        "reference",
                        format!("column '{name}' has no values to profile"),
                    ));
                }
                Ok(profile)
            }
        })
        .collect()
}

/// The counts of a piece in every column's bins of the profile.
pub fn count(piece: &Frame, profile: &[ColumnProfile]) -> Result<Vec<BinCounts>> {
    profile
        .par_iter()
        .map(|column| count_column(piece, column, "piece"))
        .collect()
}

fn count_column(frame: &Frame, profile: &ColumnProfile, argument: &str) -> Result<BinCounts> {
    let mut counts = vec![0u64; profile.n_bins()];
    let column = frame.column(&profile.column, argument)?;
    let missing = match profile.kind {
        Kind::Numeric => {
            if !column.data_type().is_numeric() && frame.num_rows() > 0 {
                return Err(EcomkitError::invalid_type(
                    EcomkitError::column_argument(argument, &profile.column),
                    "numbers, as in the reference profile",
                    column.data_type(),
                ));
            }
            let read = numeric_column(&column, argument)?;
            let Values::Numeric(values) = read.values else {
                unreachable!("numeric column")
            };
            for v in values {
                counts[profile.edges.partition_point(|&e| e <= v)] += 1;
            }
            read.missing
        }
        Kind::Categorical => {
            let (codes, names) = category_codes(frame, &column, argument)?;
            let index: HashMap<&str, usize> = profile
                .categories
                .iter()
                .enumerate()
                .map(|(i, c)| (c.as_str(), i))
                .collect();
            let other = profile.categories.len();
            let bin: Vec<usize> = names
                .iter()
                .map(|n| index.get(n.as_str()).copied().unwrap_or(other))
                .collect();
            let mut missing = 0;
            for code in codes {
                match code {
                    u32::MAX => missing += 1,
                    code => counts[bin[code as usize]] += 1,
                }
            }
            missing
        }
    };
    Ok(BinCounts {
        counts,
        missing: missing as u64,
    })
}

/// The drift of merged current counts against the profile: one row per column, with
/// `methods` (PSI, chi-squared or Jensen–Shannon; `None`: PSI) and `thresholds` per
/// column, and the dataset verdict at `drift_share`.
pub fn profile_drift(
    profile: &[ColumnProfile],
    current: &[BinCounts],
    methods: &[Option<Method>],
    thresholds: &[Option<f64>],
    drift_share: f64,
) -> Result<DriftReport> {
    check_drift_share(drift_share)?;
    EcomkitError::check_length("counts", "profile", current.len(), profile.len())?;
    EcomkitError::check_length("method", "profile", methods.len(), profile.len())?;
    EcomkitError::check_length("threshold", "profile", thresholds.len(), profile.len())?;
    let mut rows = Vec::with_capacity(profile.len());
    for (((column, counts), method), threshold) in
        profile.iter().zip(current).zip(methods).zip(thresholds)
    {
        if counts.counts.len() != column.n_bins() {
            return Err(EcomkitError::invalid_value(
                "counts",
                format!(
                    "column '{}': {} bins counted, the profile has {}",
                    column.column,
                    counts.counts.len(),
                    column.n_bins()
                ),
            ));
        }
        let method = method.unwrap_or(Method::Psi);
        let as_f64 = |c: &BinCounts| c.counts.iter().map(|&x| x as f64).collect::<Vec<_>>();
        let (r, c) = (as_f64(&column.reference), as_f64(counts));
        let mut row = ColumnDrift {
            column: column.column.clone(),
            kind: column.kind,
            method: None,
            statistic: f64::NAN,
            pvalue: f64::NAN,
            threshold: f64::NAN,
            drifted: false,
            n_reference: column.reference.total() as usize,
            n_current: counts.total() as usize,
            n_missing_reference: column.reference.missing as usize,
            n_missing_current: counts.missing as usize,
            message: String::new(),
        };
        if row.n_current == 0 {
            row.message = "no values in current".into();
            rows.push(row);
            continue;
        }
        let (statistic, pvalue) = match method {
            Method::Psi => (psi_of_counts(&r, &c), f64::NAN),
            Method::ChiSquare => chi2_of_counts(&r, &c),
            Method::JensenShannon => (jensen_shannon_of_weights(&r, &c), f64::NAN),
            other => {
                return Err(EcomkitError::invalid_value(
                    "method",
                    format!(
                        "column '{}': a profile gives 'psi', 'chisquare' or 'jensenshannon' \
                         (they read binned counts), got '{}'",
                        column.column,
                        other.name()
                    ),
                ))
            }
        };
        let test = DriftTest::of(method, statistic, pvalue, *threshold)?;
        row.method = Some(method);
        (row.statistic, row.pvalue) = (test.statistic, test.pvalue);
        (row.threshold, row.drifted) = (test.threshold, test.drifted);
        rows.push(row);
    }
    report_of_rows(&rows, Vec::new(), drift_share)
}
