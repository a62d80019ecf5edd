//! Monitoring: drift statistics between a reference and a current sample (Python:
//! `ecomkit.monitor`).
//!
//! - [`drift`]: PSI, chi-squared, Jensen–Shannon, normed Wasserstein and the two-proportion
//!   z test, as Evidently and scipy compute them.
//! - [`Column`]: an Arrow column read as a drift sample: numbers (nulls and NaN left out and
//!   counted) or categories (strings, dictionaries, booleans, integers; codes in sorted order
//!   of the categories, shared with the other sample).

pub mod drift;

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::Array;
use arrow_schema::DataType;

use crate::error::{EcomkitError, Result};
use crate::frame::{extend_f64, id_texts};
pub use drift::{drift_test, Binning, DriftOptions, DriftTest, Method, Sample};

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
/// reference is numeric (integers, floats, decimals), else categorical with codes shared by both, in sorted order of the
/// category texts. `categorical` forces categories (integer codes, say).
pub fn columns(
    reference: &dyn Array,
    current: &dyn Array,
    categorical: bool,
) -> Result<(Column, Column)> {
    // An all-null column (an empty list, say) takes the kind of the other one.
    let (r_type, c_type) = (reference.data_type(), current.data_type());
    if r_type.is_numeric() || (r_type == &DataType::Null && c_type.is_numeric()) {
        if !(c_type.is_numeric() || c_type == &DataType::Null) {
            return Err(EcomkitError::invalid_type(
                "current",
                "numbers, as the reference column",
                current.data_type(),
            ));
        }
        let columns = (
            numeric_column(reference, "reference")?,
            numeric_column(current, "current")?,
        );
        return Ok(if categorical {
            numbers_as_categories(columns)
        } else {
            columns
        });
    }
    let (reference, current) = (texts(reference, "reference")?, texts(current, "current")?);
    let mut distinct: Vec<&str> = reference
        .iter()
        .chain(&current)
        .flatten()
        .map(String::as_str)
        .collect();
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
    let categories: HashMap<&str, u32> = distinct
        .iter()
        .enumerate()
        .map(|(code, &text)| (text, code as u32))
        .collect();
    let column = |texts: &[Option<String>]| {
        let codes: Vec<u32> = texts
            .iter()
            .flatten()
            .map(|t| categories[t.as_str()])
            .collect();
        let missing = texts.len() - codes.len();
        Column {
            values: Values::Categorical {
                codes,
                n_categories: categories.len(),
            },
            missing,
        }
    };
    Ok((column(&reference), column(&current)))
}

/// Numeric columns recoded as categories, one per distinct value, in numeric order.
fn numbers_as_categories((reference, current): (Column, Column)) -> (Column, Column) {
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

fn numeric_column(array: &dyn Array, argument: &str) -> Result<Column> {
    let mut values = Vec::with_capacity(array.len());
    extend_f64(&mut values, array, argument)?;
    let n = values.len();
    values.retain(|v| v.is_finite());
    Ok(Column {
        missing: n - values.len(),
        values: Values::Numeric(values),
    })
}

/// The rows of a categorical column as text (None for null).
fn texts(array: &dyn Array, argument: &str) -> Result<Vec<Option<String>>> {
    match array.data_type() {
        DataType::Boolean => Ok(array
            .as_boolean()
            .iter()
            .map(|b| b.map(|b| b.to_string()))
            .collect()),
        text if text.is_integer()
            || matches!(
                text,
                DataType::Utf8
                    | DataType::LargeUtf8
                    | DataType::Utf8View
                    | DataType::Null
                    | DataType::Dictionary(..)
            ) =>
        {
            id_texts(array, argument)
        }
        other => Err(EcomkitError::invalid_type(
            argument,
            "numbers, strings, booleans or a dictionary (categorical) column",
            other,
        )),
    }
}
