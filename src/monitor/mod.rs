//! Monitoring: drift statistics between a reference and a current sample (Python:
//! `ecomkit.monitor`).
//!
//! - [`drift`]: PSI, chi-squared, Jensen–Shannon, normed Wasserstein and the two-proportion
//!   z test, as Evidently and scipy compute them; the two-sample KS test as
//!   `scipy.stats.ks_2samp` (in `ks`).
//! - [`Column`]: an Arrow column read as a drift sample: numbers (nulls and NaN left out and
//!   counted) or categories (strings, dictionaries, booleans, integers; codes in sorted order
//!   of the categories, shared with the other sample).
//! - [`mod@profile`]: a reference profile with fixed bins, current pieces counted against it and
//!   merged, and drift from the merged counts.
//! - [`clean`]: exact duplicate events and bots dropped, times in UTC ([`clean_events`]).
//! - [`quality`]: data-quality rules ([`Rule`], read from the nested shape by
//!   [`parse_rules`]) checked by [`validate`] into a [`QualityReport`].

pub mod clean;
pub mod drift;
mod ks;
pub mod profile;
pub mod quality;
pub mod report;

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

use crate::error::{EcomkitError, Result};
use crate::frame::{extend_f64, labels, Column as FrameColumn, Frame};
pub use clean::{clean_events, CleanOptions, Cleaned};
pub use drift::{drift_test, Binning, DriftOptions, DriftTest, Method, Sample};
pub use profile::{count, profile, profile_drift, BinCounts, ColumnProfile, Profile};
pub use quality::{parse_rules, validate, Check, QualityReport, Rule, RuleValue};
pub use report::{auto_method, default_columns, drift_report, DriftReport, Kind, Request};

/// The values of one column, numeric or categorical.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Finite values only.
    Numeric(Vec<f64>),
    /// Codes `< n_categories`, in the sorted order of the categories.
    Categorical {
        codes: Vec<u32>,
        n_categories: usize,
    },
}

/// One column of a reference or current sample, with the count of missing values.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub values: Values,
    /// Nulls (and NaN in numeric columns), left out of `values`.
    pub missing: usize,
}

impl Column {
    /// The sample the drift statistics read.
    pub fn sample(&self) -> Sample<'_> {
        match &self.values {
            Values::Numeric(values) => Sample::Numeric(values),
            Values::Categorical {
                codes,
                n_categories,
            } => Sample::Categorical {
                codes,
                n_categories: *n_categories,
            },
        }
    }
}

/// The reference and current columns as samples of the same kind: numeric when the
/// reference is numeric (integers, floats, decimals), else categorical with codes shared by
/// both, in sorted order of the category texts. `categorical` forces categories (integer
/// codes, say).
pub fn columns(
    reference: &dyn Array,
    current: &dyn Array,
    categorical: bool,
) -> Result<(Column, Column)> {
    let frame = |array: &dyn Array| {
        let array = arrow_array::make_array(array.to_data());
        Frame::from(RecordBatch::try_from_iter([("values", array)]).expect("one column"))
    };
    frame_columns(&frame(reference), &frame(current), "values", categorical)
}

/// The column `name` of both frames as samples of the same kind, as [`columns`]; errors name
/// `reference` or `current`.
pub fn frame_columns(
    reference: &Frame,
    current: &Frame,
    name: &str,
    categorical: bool,
) -> Result<(Column, Column)> {
    let (r_column, c_column) = (
        reference.column(name, "reference")?,
        current.column(name, "current")?,
    );
    // An all-null column (an empty list, say) takes the kind of the other one.
    let (r_type, c_type) = (r_column.data_type(), c_column.data_type());
    if r_type.is_numeric() || (r_type == &DataType::Null && c_type.is_numeric()) {
        if !(c_type.is_numeric() || c_type == &DataType::Null) {
            return Err(EcomkitError::invalid_type(
                "current",
                "numbers, as the reference column",
                c_type,
            ));
        }
        let columns = (
            numeric_column(&r_column, "reference")?,
            numeric_column(&c_column, "current")?,
        );
        return Ok(if categorical {
            numbers_as_categories(columns)
        } else {
            columns
        });
    }
    let (r_codes, r_names) = category_codes(reference, &r_column, "reference")?;
    let (c_codes, c_names) = category_codes(current, &c_column, "current")?;
    let mut distinct: Vec<&str> = r_names.iter().chain(&c_names).map(String::as_str).collect();
    distinct.sort_unstable();
    distinct.dedup();
    // Integer categories in numeric order (as Evidently sorts them), others as text.
    if let Some(numbers) = distinct
        .iter()
        .map(|t| t.parse::<i64>().ok())
        .collect::<Option<Vec<_>>>()
    {
        let mut order: Vec<usize> = (0..distinct.len()).collect();
        order.sort_by_key(|&i| numbers[i]);
        distinct = order.into_iter().map(|i| distinct[i]).collect();
    }
    let sorted_code: HashMap<&str, u32> = distinct
        .iter()
        .enumerate()
        .map(|(code, &text)| (text, code as u32))
        .collect();
    let column = |codes: Vec<u32>, names: &[String]| {
        let remap: Vec<u32> = names.iter().map(|n| sorted_code[n.as_str()]).collect();
        let n_rows = codes.len();
        let codes: Vec<u32> = codes
            .into_iter()
            .filter(|&c| c != u32::MAX)
            .map(|c| remap[c as usize])
            .collect();
        Column {
            missing: n_rows - codes.len(),
            values: Values::Categorical {
                codes,
                n_categories: distinct.len(),
            },
        }
    };
    Ok((column(r_codes, &r_names), column(c_codes, &c_names)))
}

/// Dense codes of a categorical column (`u32::MAX` for null) and each code's text.
pub(super) fn category_codes(
    frame: &Frame,
    column: &FrameColumn,
    argument: &str,
) -> Result<(Vec<u32>, Vec<String>)> {
    match column.data_type() {
        _ if frame.num_rows() == 0 => Ok((Vec::new(), Vec::new())),
        DataType::Null => Ok((vec![u32::MAX; frame.num_rows()], Vec::new())),
        DataType::Boolean => {
            let codes = column
                .chunks()
                .iter()
                .flat_map(|chunk| chunk.as_boolean().iter())
                .map(|b| b.map_or(u32::MAX, u32::from))
                .collect();
            Ok((codes, vec!["false".to_string(), "true".to_string()]))
        }
        text if text.is_integer()
            || matches!(
                text,
                DataType::Utf8
                    | DataType::LargeUtf8
                    | DataType::Utf8View
                    | DataType::Dictionary(..)
            ) =>
        {
            labels(frame, column.name(), argument)
        }
        other => Err(EcomkitError::invalid_type(
            EcomkitError::column_argument(argument, column.name()),
            "numbers, strings, booleans or a dictionary (categorical) column",
            other,
        )),
    }
}

/// Numeric columns recoded as categories, one per distinct value, in numeric order.
pub(super) fn numbers_as_categories((reference, current): (Column, Column)) -> (Column, Column) {
    let into_values = |column: Column| match column.values {
        Values::Numeric(values) => (values, column.missing),
        Values::Categorical { .. } => unreachable!("numeric columns"),
    };
    let ((r, r_missing), (c, c_missing)) = (into_values(reference), into_values(current));
    let mut distinct: Vec<f64> = r.iter().chain(&c).copied().collect();
    distinct.sort_unstable_by(f64::total_cmp);
    distinct.dedup();
    let recode = |values: Vec<f64>, missing: usize| {
        let codes = values
            .iter()
            .map(|v| distinct.partition_point(|d| d < v) as u32)
            .collect();
        Column {
            values: Values::Categorical {
                codes,
                n_categories: distinct.len(),
            },
            missing,
        }
    };
    (recode(r, r_missing), recode(c, c_missing))
}

pub(super) fn numeric_column(column: &FrameColumn, argument: &str) -> Result<Column> {
    let mut values = Vec::with_capacity(column.len());
    for chunk in column.chunks() {
        extend_f64(&mut values, chunk.as_ref(), argument)?;
    }
    let n = values.len();
    values.retain(|v| v.is_finite());
    Ok(Column {
        missing: n - values.len(),
        values: Values::Numeric(values),
    })
}
