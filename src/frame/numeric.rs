//! Numeric columns as `f64`: whole, or one range of rows at a time, nulls as NaN.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{downcast_integer, Array, ArrayRef, ArrowPrimitiveType};
use arrow_schema::DataType;
use num_traits::AsPrimitive;
use rayon::prelude::*;

use crate::error::{EcomkitError, Result};
use crate::groups::split_lengths;

use super::{ChunkRows, Column};

impl<'a> Column<'a> {
    /// The values of a column of one chunk of 64-bit integers without nulls, as they lie.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{Int32Array, Int64Array, RecordBatch};
    /// use ecomkit::frame::Frame;
    /// let frame = Frame::from(RecordBatch::try_from_iter([
    ///     ("wide", Arc::new(Int64Array::from(vec![3, -1])) as _),
    ///     ("nulls", Arc::new(Int64Array::from(vec![Some(3), None])) as _),
    ///     ("narrow", Arc::new(Int32Array::from(vec![3, -1])) as _),
    /// ])?);
    /// assert_eq!(frame.column("wide", "columns")?.int64_values(), Some(&[3, -1][..]));
    /// assert_eq!(frame.column("nulls", "columns")?.int64_values(), None);
    /// assert_eq!(frame.column("narrow", "columns")?.int64_values(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn int64_values(&self) -> Option<&'a [i64]> {
        match self.chunks.as_slice() {
            [chunk] if chunk.null_count() == 0 => {
                Some(chunk.as_primitive_opt::<Int64Type>()?.values())
            }
            _ => None,
        }
    }

    /// The values as `f64`, nulls as NaN. Borrowed without a copy when the column is one
    /// chunk of `float64` with no nulls.
    pub fn to_f64(&self, argument: &str) -> Result<Cow<'a, [f64]>> {
        let argument = EcomkitError::column_argument(argument, self.name);
        if let [chunk] = self.chunks.as_slice() {
            if let Some(values) = chunk.as_primitive_opt::<Float64Type>() {
                if values.null_count() == 0 {
                    return Ok(Cow::Borrowed(values.values()));
                }
            }
        }
        // Convert pieces of rows on all threads, then join them in order.
        const PIECE: usize = 1 << 18;
        let pieces: Vec<ArrayRef> = self
            .chunks
            .iter()
            .flat_map(|chunk| {
                (0..chunk.len())
                    .step_by(PIECE)
                    .map(move |start| chunk.slice(start, PIECE.min(chunk.len() - start)))
            })
            .collect();
        // Each piece writes its own stretch of the result (no joining copy).
        let total: usize = pieces.iter().map(|piece| piece.len()).sum();
        let mut out = Vec::with_capacity(total);
        let slots = &mut out.spare_capacity_mut()[..total];
        split_lengths(slots, pieces.iter().map(|piece| piece.len()))
            .into_par_iter()
            .zip(&pieces)
            .try_for_each(|(slots, piece)| write_f64(slots, piece.as_ref(), &argument))?;
        // SAFETY: the pieces cover the column, and `write_f64` wrote every slot of each.
        unsafe { out.set_len(total) };
        Ok(Cow::Owned(out))
    }

    /// The column read as `f64` piece by piece (see [`F64Pieces`]); checks the type now.
    pub fn f64_pieces(&self, argument: &str) -> Result<F64Pieces<'a>> {
        let argument = EcomkitError::column_argument(argument, self.name);
        if let [chunk] = self.chunks.as_slice() {
            if let Some(values) = chunk.as_primitive_opt::<Float64Type>() {
                if values.null_count() == 0 {
                    return Ok(F64Pieces {
                        borrowed: Some(values.values()),
                        chunks: ChunkRows::default(),
                    });
                }
            }
        }
        for chunk in &self.chunks {
            // Converting no rows checks the type.
            extend_f64(&mut Vec::new(), chunk.slice(0, 0).as_ref(), &argument)?;
        }
        Ok(F64Pieces {
            borrowed: None,
            chunks: ChunkRows::new(&self.chunks),
        })
    }
}

/// A numeric column read as `f64` one range of rows at a time: float64 without nulls is
/// borrowed as it is; other types are converted range by range into a caller's buffer,
/// so a kernel never materializes a converted copy of the whole column.
#[derive(Debug, Clone)]
pub struct F64Pieces<'a> {
    borrowed: Option<&'a [f64]>,
    chunks: ChunkRows<'a>,
}

impl<'a> F64Pieces<'a> {
    /// The values of `rows` (nulls as NaN), borrowed or converted into `buffer`.
    pub fn get<'b>(&'b self, rows: std::ops::Range<usize>, buffer: &'b mut Vec<f64>) -> &'b [f64]
    where
        'a: 'b,
    {
        if let Some(values) = self.borrowed {
            return &values[rows];
        }
        buffer.clear();
        for (_, chunk, piece) in self.chunks.pieces(rows) {
            // The type was checked when the pieces were made.
            let _ = extend_f64(buffer, chunk.slice(piece.start, piece.len()).as_ref(), "");
        }
        buffer
    }
}

/// The values of a numeric array as `f64` (nulls as NaN), appended to `out`.
pub fn extend_f64(out: &mut Vec<f64>, array: &dyn Array, argument: &str) -> Result<()> {
    let start = out.len();
    out.reserve(array.len());
    write_f64(
        &mut out.spare_capacity_mut()[..array.len()],
        array,
        argument,
    )?;
    // SAFETY: `write_f64` wrote all `array.len()` slots after `start`.
    unsafe { out.set_len(start + array.len()) };
    Ok(())
}

/// The values of a numeric array as `f64` (nulls as NaN), written to `slots` (one per
/// value; all of them are written unless the type is not numeric).
pub(super) fn write_f64(
    slots: &mut [MaybeUninit<f64>],
    array: &dyn Array,
    argument: &str,
) -> Result<()> {
    fn convert<T: ArrowPrimitiveType>(
        slots: &mut [MaybeUninit<f64>],
        array: &dyn Array,
        f: impl Fn(T::Native) -> f64,
    ) {
        let values = array.as_primitive::<T>();
        // Convert every slot (a tight loop the compiler vectorizes), then mark the nulls.
        for (slot, &v) in slots.iter_mut().zip(values.values().iter()) {
            slot.write(f(v));
        }
        if let Some(nulls) = values.logical_nulls() {
            for row in nulls
                .iter()
                .enumerate()
                .filter(|(_, valid)| !valid)
                .map(|(i, _)| i)
            {
                slots[row].write(f64::NAN);
            }
        }
    }
    debug_assert_eq!(slots.len(), array.len());
    macro_rules! integers {
        ($t:ty, $slots:ident, $array:ident) => {
            convert::<$t>($slots, $array, AsPrimitive::<f64>::as_)
        };
    }
    downcast_integer! {
        array.data_type() => (integers, slots, array),
        DataType::Float64 => convert::<Float64Type>(slots, array, |v| v),
        DataType::Float32 => convert::<Float32Type>(slots, array, f64::from),
        DataType::Float16 => convert::<Float16Type>(slots, array, f64::from),
        DataType::Decimal128(_, scale) => {
            let divisor = 10f64.powi(i32::from(*scale));
            convert::<Decimal128Type>(slots, array, |v| v as f64 / divisor)
        }
        DataType::Null => slots.fill(MaybeUninit::new(f64::NAN)),
        other => {
            return Err(EcomkitError::invalid_type(
                argument,
                "a numeric column (float, integer or decimal)",
                other,
            ))
        }
    }
    Ok(())
}
