//! LibSVM / SVMlight text files, with LightGBM's `.query` file of group sizes beside them.

use std::path::Path;

use crate::error::{EcomkitError, Result};

/// A LibSVM file as a sparse matrix in CSR form (what LightGBM takes): the entries of row
/// `r` are `indices[indptr[r]..indptr[r + 1]]` (ascending) and the values beside them.
/// Absent entries are 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Svmlight {
    /// `labels.len() + 1` row offsets into `indices` and `values`, from 0.
    pub indptr: Vec<i64>,
    pub indices: Vec<i32>,
    pub values: Vec<f64>,
    /// The largest feature index + 1: index `j` is column `j`, as LightGBM reads the file.
    pub n_features: usize,
    pub labels: Vec<f64>,
    /// Group sizes from `<path>.query`, when that file exists.
    pub group: Option<Vec<i32>>,
}

/// The most values a dense matrix made from a LibSVM file may hold (2³¹, 16 GiB of f64): a
/// feature index far beyond the others would otherwise size a matrix no machine holds. The
/// sparse form has no such limit.
pub const MAX_DENSE_VALUES: usize = 1 << 31;

impl Svmlight {
    /// The matrix as row-major `labels.len() × n_features` values, refused (with the
    /// remedy) when it would hold more than [`MAX_DENSE_VALUES`].
    pub fn to_dense(&self) -> Result<Vec<f64>> {
        let rows = self.labels.len();
        let cells = rows.saturating_mul(self.n_features);
        if cells > MAX_DENSE_VALUES {
            return Err(EcomkitError::invalid_value(
                "path",
                format!(
                    "feature index {} makes a dense matrix of {rows} rows × {} columns, over \
                     the {MAX_DENSE_VALUES} values ecomkit holds densely; use the sparse \
                     matrix (sparse=True in Python) or renumber the features from 0",
                    self.n_features - 1,
                    self.n_features
                ),
            ));
        }
        let mut x = vec![0.0; cells];
        for (r, range) in self.indptr.windows(2).enumerate() {
            let range = range[0] as usize..range[1] as usize;
            for (&j, &v) in self.indices[range.clone()].iter().zip(&self.values[range]) {
                x[r * self.n_features + j as usize] = v;
            }
        }
        Ok(x)
    }
}

fn parse_error(path: &Path, line: usize, message: impl std::fmt::Display) -> EcomkitError {
    EcomkitError::invalid_value(
        "path",
        format!("{}, line {line}: {message}", path.display()),
    )
}

/// Read `path` (`label index:value ...` per line; `#` comments and a `qid:` field are
/// ignored) and its `.query` file if present.
pub fn load_svmlight(path: &Path) -> Result<Svmlight> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        EcomkitError::invalid_value("path", format!("cannot read {}: {e}", path.display()))
    })?;
    let mut labels = Vec::new();
    let (mut indptr, mut indices, mut values) = (vec![0i64], Vec::new(), Vec::new());
    let mut row: Vec<(i32, f64)> = Vec::new();
    let mut n_features = 0;
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut fields = line.split_whitespace();
        let label: f64 = fields
            .next()
            .and_then(|l| l.parse().ok())
            .ok_or_else(|| parse_error(path, number + 1, "expected a numeric label first"))?;
        row.clear();
        for field in fields {
            let (index, value) = field.split_once(':').ok_or_else(|| {
                parse_error(
                    path,
                    number + 1,
                    format!("expected index:value, got '{field}'"),
                )
            })?;
            if index == "qid" {
                continue;
            }
            let index: i32 = index
                .parse()
                .ok()
                .filter(|&i: &i32| (0..i32::MAX).contains(&i))
                .ok_or_else(|| {
                    parse_error(
                        path,
                        number + 1,
                        format!(
                            "bad feature index '{index}' (expected 0 to {})",
                            i32::MAX - 1
                        ),
                    )
                })?;
            let value: f64 = value
                .parse()
                .map_err(|_| parse_error(path, number + 1, format!("bad value '{value}'")))?;
            row.push((index, value));
        }
        row.sort_by_key(|&(index, _)| index);
        if let Some(pair) = row.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(parse_error(
                path,
                number + 1,
                format!("feature index {} appears twice", pair[0].0),
            ));
        }
        if let Some(&(last, _)) = row.last() {
            n_features = n_features.max(last as usize + 1);
        }
        indices.extend(row.iter().map(|&(index, _)| index));
        values.extend(row.iter().map(|&(_, value)| value));
        indptr.push(indices.len() as i64);
        labels.push(label);
    }
    if labels.is_empty() {
        return Err(EcomkitError::Empty {
            argument: "path".into(),
        });
    }
    let query = path.with_file_name(format!(
        "{}.query",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let group = if query.is_file() {
        let text = std::fs::read_to_string(&query).map_err(|e| {
            EcomkitError::invalid_value("path", format!("cannot read {}: {e}", query.display()))
        })?;
        let sizes = text
            .split_whitespace()
            .map(|s| {
                s.parse::<i32>()
                    .map_err(|_| parse_error(&query, 0, format!("bad group size '{s}'")))
            })
            .collect::<Result<Vec<_>>>()?;
        let total: i64 = sizes.iter().map(|&s| i64::from(s)).sum();
        if total != labels.len() as i64 {
            return Err(EcomkitError::invalid_value(
                "path",
                format!(
                    "{}: group sizes add up to {total}, the data has {} rows",
                    query.display(),
                    labels.len()
                ),
            ));
        }
        Some(sizes)
    } else {
        None
    };
    Ok(Svmlight {
        indptr,
        indices,
        values,
        n_features,
        labels,
        group,
    })
}
