//! Arrow tables in, plain vectors out: the edge where columns are looked up by name, checked
//! and turned into what the kernels take (`f64` slices and dense [`Groups`]).
//!
//! Frames arrive as a schema plus record batches (one or many chunks), which is what pandas,
//! polars, pyarrow and duckdb hand over through the Arrow C stream interface.

mod duplicates;
mod keys;
mod numeric;

pub use duplicates::duplicate_rows;
use keys::contiguous_runs;
pub(crate) use keys::{
    check_id_type, extremes, for_each_id, id_texts, item_keys, labelled_codes, labels,
    DictionaryRows, LabelledCodes,
};
pub use keys::{factorize, factorize_columns, MIN_RUN};
pub use numeric::{extend_f64, F64Pieces};

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, FieldRef, SchemaRef};
use rayon::prelude::*;

use crate::error::{EcomkitError, Result};
use crate::groups::Groups;

/// A table: a schema and the record batches that hold its rows.
#[derive(Debug, Clone)]
pub struct Frame {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

/// One named column of a [`Frame`], as the chunks of its batches.
#[derive(Debug, Clone)]
pub struct Column<'a> {
    name: &'a str,
    chunks: Vec<&'a ArrayRef>,
    data_type: &'a DataType,
}

impl Frame {
    /// A frame from its schema and batches; every batch must have this schema.
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<Self> {
        if let Some(batch) = batches
            .iter()
            .find(|b| b.schema().fields() != schema.fields())
        {
            return Err(EcomkitError::invalid_value(
                "frame",
                format!(
                    "batches disagree with the schema: {:?} vs {:?}",
                    batch.schema().fields(),
                    schema.fields()
                ),
            ));
        }
        Ok(Self { schema, batches })
    }

    /// Number of rows over all batches.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The record batches.
    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// The column called `name`; `argument` names the parameter that asked for it.
    pub fn column<'a>(&'a self, name: &'a str, argument: &str) -> Result<Column<'a>> {
        let index = self.schema.index_of(name).map_err(|_| {
            let names: Vec<&str> = self
                .schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            EcomkitError::column_not_found(argument, name, &names)
        })?;
        Ok(Column {
            name,
            chunks: self.batches.iter().map(|b| b.column(index)).collect(),
            data_type: self.schema.field(index).data_type(),
        })
    }

    /// Dense groups of the rows by the columns `by` together; one group for an empty `by`.
    pub fn groups<S: AsRef<str>>(&self, by: &[S], argument: &str) -> Result<Groups> {
        let (chunks, arguments) = self.key_columns(by, argument)?;
        factorize_columns(&chunks, self.num_rows(), &arguments)
    }

    /// Rows whose values in the `by` columns repeat an earlier row's (see [`duplicate_rows`]).
    pub fn duplicate_rows<S: AsRef<str>>(&self, by: &[S], argument: &str) -> Result<Vec<u64>> {
        let (chunks, arguments) = self.key_columns(by, argument)?;
        duplicate_rows(&chunks, self.num_rows(), &arguments)
    }

    /// The chunks of each `by` column, and the argument that names each in errors.
    #[allow(clippy::type_complexity)]
    fn key_columns<'a, S: AsRef<str>>(
        &'a self,
        by: &'a [S],
        argument: &str,
    ) -> Result<(Vec<Vec<&'a dyn Array>>, Vec<String>)> {
        let columns = by
            .iter()
            .map(|name| self.column(name.as_ref(), argument))
            .collect::<Result<Vec<_>>>()?;
        let arguments = columns
            .iter()
            .map(|c| EcomkitError::column_argument(argument, c.name))
            .collect();
        let chunks = columns
            .iter()
            .map(|c| c.chunks.iter().map(|&a| a.as_ref()).collect())
            .collect();
        Ok((chunks, arguments))
    }

    /// Where each group of the rows by the one string column in `by` starts, when each
    /// group's rows come together (a daily table sorted by product, say), and the number
    /// of rows last; groups are numbered by first appearance, as by [`Frame::groups`].
    /// `None` when some group's rows are apart, when `by` is not a single string column of
    /// one chunk without nulls, or when groups average fewer than [`MIN_RUN`] rows: then
    /// [`Frame::groups`] is the way. Finding the runs compares each string with the one
    /// before it and hashes one string per group, where coding the groups hashes every
    /// row's and writes and reads back a code per row.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{RecordBatch, StringArray};
    /// use ecomkit::frame::Frame;
    /// let keys = StringArray::from(vec!["b"; 8].into_iter().chain(vec!["a"; 8]).collect::<Vec<_>>());
    /// let batch = RecordBatch::try_from_iter([("asin", Arc::new(keys) as _)]).unwrap();
    /// let frame = Frame::from(batch);
    /// assert_eq!(frame.contiguous_groups(&["asin"], "by")?, Some(vec![0, 8, 16]));
    /// # Ok::<(), ecomkit::EcomkitError>(())
    /// ```
    pub fn contiguous_groups<S: AsRef<str>>(
        &self,
        by: &[S],
        argument: &str,
    ) -> Result<Option<Vec<usize>>> {
        let [name] = by else { return Ok(None) };
        let column = self.column(name.as_ref(), argument)?;
        let [chunk] = column.chunks.as_slice() else {
            return Ok(None);
        };
        if chunk.null_count() > 0 {
            return Ok(None);
        }
        Ok(match chunk.data_type() {
            DataType::Utf8 => {
                let strings = chunk.as_string::<i32>();
                contiguous_runs(chunk.len(), |i| strings.value(i))
            }
            DataType::LargeUtf8 => {
                let strings = chunk.as_string::<i64>();
                contiguous_runs(chunk.len(), |i| strings.value(i))
            }
            DataType::Utf8View => {
                let strings = chunk.as_string_view();
                contiguous_runs(chunk.len(), |i| strings.value(i))
            }
            _ => None,
        })
    }

    /// The rows `rows` of column `name`, keeping its field (type, name, metadata).
    pub fn take(&self, name: &str, rows: &[u32], argument: &str) -> Result<(FieldRef, ArrayRef)> {
        let column = self.column(name, argument)?;
        let field = Arc::new(self.schema.field_with_name(name)?.clone());
        Ok((field, column.take(rows)?))
    }
}

impl From<RecordBatch> for Frame {
    fn from(batch: RecordBatch) -> Self {
        Self {
            schema: batch.schema(),
            batches: vec![batch],
        }
    }
}

impl<'a> Column<'a> {
    /// The column's name.
    pub fn chunks(&self) -> &[&'a ArrayRef] {
        &self.chunks
    }

    /// The column name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The column's Arrow data type.
    pub fn data_type(&self) -> &DataType {
        self.data_type
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(|c| c.len()).sum()
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Dense groups of the rows by this column's values; nulls form one group of their own.
    pub fn groups(&self, argument: &str) -> Result<Groups> {
        let argument = EcomkitError::column_argument(argument, self.name);
        factorize(
            self.chunks.iter().map(|c| c.as_ref()),
            self.len(),
            &argument,
        )
    }

    /// Rows whose value is missing: null, or NaN in a float column (pandas marks a missing
    /// float id with NaN, not null).
    pub fn missing_rows(&self) -> Vec<usize> {
        let mut rows = Vec::new();
        let mut start = 0;
        for chunk in &self.chunks {
            let nulls = chunk.logical_nulls();
            let floats: Option<Vec<bool>> = match chunk.data_type() {
                DataType::Float64 => Some(
                    chunk
                        .as_primitive::<Float64Type>()
                        .values()
                        .iter()
                        .map(|v| v.is_nan())
                        .collect(),
                ),
                DataType::Float32 => Some(
                    chunk
                        .as_primitive::<Float32Type>()
                        .values()
                        .iter()
                        .map(|v| v.is_nan())
                        .collect(),
                ),
                _ => None,
            };
            match (&nulls, &floats) {
                // Neither nulls nor NaN: nothing to look at row by row.
                (None, None) => {}
                (Some(nulls), None) => rows.extend(
                    (0..chunk.len())
                        .filter(|&i| nulls.is_null(i))
                        .map(|i| start + i),
                ),
                (_, Some(nan)) => rows.extend(
                    nan.iter()
                        .enumerate()
                        .filter(|&(i, &nan)| nan || nulls.as_ref().is_some_and(|n| n.is_null(i)))
                        .map(|(i, _)| start + i),
                ),
            }
            start += chunk.len();
        }
        rows
    }

    /// The rows `rows` of this column, as one array of the same type.
    pub fn take(&self, rows: &[u32]) -> Result<ArrayRef> {
        if rows.is_empty() {
            return Ok(arrow_array::new_empty_array(self.data_type));
        }
        if let [chunk] = self.chunks[..] {
            // Pieces of the rows on all threads; the row numbers are the indices.
            const PIECE: usize = 1 << 20;
            let pieces = (rows.par_chunks(PIECE))
                .map(|rows| {
                    let indices = arrow_array::UInt32Array::from(rows.to_vec());
                    arrow_select::take::take(chunk.as_ref(), &indices, None)
                })
                .collect::<std::result::Result<Vec<ArrayRef>, _>>()?;
            if let [piece] = &pieces[..] {
                return Ok(piece.clone());
            }
            let pieces: Vec<&dyn Array> = pieces.iter().map(|p| p.as_ref()).collect();
            return Ok(arrow_select::concat::concat(&pieces)?);
        }
        let arrays: Vec<&dyn Array> = self.chunks.iter().map(|c| c.as_ref()).collect();
        let mut starts = Vec::with_capacity(arrays.len());
        let mut start = 0usize;
        for a in &arrays {
            starts.push(start);
            start += a.len();
        }
        let indices: Vec<(usize, usize)> = rows
            .iter()
            .map(|&row| {
                let chunk = starts.partition_point(|&s| s <= row as usize) - 1;
                (chunk, row as usize - starts[chunk])
            })
            .collect();
        Ok(arrow_select::interleave::interleave(&arrays, &indices)?)
    }
}

/// The chunks of a column and the row where each starts, to read any range of rows as
/// the pieces of chunks that cover it.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChunkRows<'a> {
    chunks: Vec<&'a ArrayRef>,
    starts: Vec<usize>,
}

impl<'a> ChunkRows<'a> {
    pub(crate) fn new(chunks: &[&'a ArrayRef]) -> Self {
        let starts = chunks
            .iter()
            .scan(0, |start, chunk| {
                let this = *start;
                *start += chunk.len();
                Some(this)
            })
            .collect();
        Self {
            chunks: chunks.to_vec(),
            starts,
        }
    }

    /// `(chunk index, chunk, rows of the chunk)` for each chunk that `rows` overlaps, in
    /// order.
    pub(crate) fn pieces(
        &self,
        rows: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (usize, &'a ArrayRef, std::ops::Range<usize>)> + '_ {
        let first = self
            .starts
            .partition_point(|&s| s <= rows.start)
            .saturating_sub(1);
        (first..self.chunks.len())
            .take_while(move |&k| self.starts[k] < rows.end)
            .map(move |k| {
                let (chunk, start) = (self.chunks[k], self.starts[k]);
                let from = rows.start.max(start) - start;
                let to = rows.end.min(start + chunk.len()) - start;
                (k, chunk, from..to)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Float64Array, Int64Array, StringArray};
    use std::borrow::Cow;
    #[test]
    fn numeric_columns_become_f64_with_nan_for_null() {
        let batch = RecordBatch::try_from_iter([
            (
                "x",
                Arc::new(Int64Array::from(vec![Some(1), None])) as ArrayRef,
            ),
            (
                "y",
                Arc::new(Float64Array::from(vec![0.5, 1.5])) as ArrayRef,
            ),
        ])
        .unwrap();
        let frame = Frame::from(batch);
        let x = frame
            .column("x", "features")
            .unwrap()
            .to_f64("features")
            .unwrap();
        assert_eq!(x[0], 1.0);
        assert!(x[1].is_nan());
        let y = frame
            .column("y", "features")
            .unwrap()
            .to_f64("features")
            .unwrap();
        assert!(matches!(y, Cow::Borrowed(_)));
    }

    #[test]
    fn take_of_many_rows_goes_by_pieces_and_keeps_the_type() {
        let n = 3_000_000usize;
        let values: Vec<i64> = (0..n as i64).map(|v| v * 3).collect();
        let names: Vec<String> = (0..n).map(|v| format!("u{}", v % 997)).collect();
        let batch = RecordBatch::try_from_iter([
            ("x", Arc::new(Int64Array::from(values.clone())) as ArrayRef),
            ("s", Arc::new(StringArray::from(names.clone())) as ArrayRef),
        ])
        .unwrap();
        let frame = Frame::from(batch);
        let rows: Vec<u32> = (0..2_500_000u32).map(|i| (i * 7) % n as u32).collect();
        let (field, x) = frame.take("x", &rows, "x").unwrap();
        assert_eq!(field.name(), "x");
        let x = x.as_primitive::<Int64Type>();
        assert!(rows
            .iter()
            .zip(x.values())
            .all(|(&r, &v)| v == values[r as usize]));
        let (_, s) = frame.take("s", &rows, "s").unwrap();
        let s = s.as_string::<i32>();
        assert_eq!(s.len(), rows.len());
        assert!(rows
            .iter()
            .enumerate()
            .all(|(i, &r)| s.value(i) == names[r as usize]));
    }

    #[test]
    fn unknown_column_names_the_argument_and_the_columns() {
        let batch =
            RecordBatch::try_from_iter([("x", Arc::new(Int64Array::from(vec![1])) as ArrayRef)])
                .unwrap();
        let err = Frame::from(batch).column("nope", "weights").unwrap_err();
        assert_eq!(
            err.to_string(),
            "weights: column 'nope' not found; the frame has columns ['x']"
        );
    }

    #[test]
    fn chunk_rows_cover_a_range_with_pieces_of_chunks() {
        let lens = [3usize, 0, 4, 2];
        let arrays: Vec<ArrayRef> = lens
            .iter()
            .map(|&n| Arc::new(Int64Array::from(vec![0i64; n])) as ArrayRef)
            .collect();
        let chunks = ChunkRows::new(&arrays.iter().collect::<Vec<_>>());
        let pieces = |rows| {
            chunks
                .pieces(rows)
                .filter(|(_, _, piece)| !piece.is_empty())
                .map(|(k, _, piece)| (k, piece))
                .collect::<Vec<_>>()
        };
        assert_eq!(pieces(0..9), [(0, 0..3), (2, 0..4), (3, 0..2)]);
        assert_eq!(pieces(2..8), [(0, 2..3), (2, 0..4), (3, 0..1)]);
        assert_eq!(pieces(3..7), [(2, 0..4)]);
        assert_eq!(pieces(8..8), []);
    }
}
