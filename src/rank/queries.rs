//! Query groups for learning to rank: one query id per row in, LightGBM's group sizes and
//! the row order that brings each query's rows together out.

use arrow_array::Array;

use crate::error::{EcomkitError, Result};
use crate::frame::factorize;

/// Query groups from one query id per row, for rows in any order: LightGBM's `group`
/// sizes (queries numbered by first appearance, as `pandas.factorize` numbers them) and the
/// row order that puts each query's rows together, keeping their input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryGroups {
    /// Rows of each query.
    pub sizes: Vec<i32>,
    /// `order[i]` is the input row at position `i` once the rows are grouped.
    pub order: Vec<u32>,
}

impl QueryGroups {
    /// The queries of `ids` (strings, integers, floats or categories; no missing ids).
    ///
    /// ```
    /// use ecomkit::arrow::array::StringArray;
    /// use ecomkit::rank::QueryGroups;
    /// let ids = StringArray::from(vec!["q2", "q1", "q2", "q3"]);
    /// let groups = QueryGroups::new(&ids, "groups")?;
    /// assert_eq!(groups.sizes, [2, 1, 1]);
    /// assert_eq!(groups.order, [0, 2, 1, 3]);
    /// # Ok::<(), ecomkit::EcomkitError>(())
    /// ```
    pub fn new(ids: &dyn Array, argument: &str) -> Result<Self> {
        let missing = ids.logical_null_count();
        if missing > 0 {
            return Err(EcomkitError::invalid_value(
                argument,
                format!("{missing} missing values; expected none"),
            ));
        }
        let partition = factorize([ids], ids.len(), argument)?.into_partition();
        let sizes = (0..partition.n_groups())
            .map(|g| partition.range(g).len() as i32)
            .collect();
        Ok(Self {
            sizes,
            order: partition.rows(),
        })
    }
}
