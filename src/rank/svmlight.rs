//! LibSVM / SVMlight text files, with LightGBM's `.query` file of group sizes beside them.

use std::path::Path;

use crate::error::{EcomkitError, Result};

/// A dense feature matrix read from a LibSVM file.
#[derive(Debug, Clone, PartialEq)]
pub struct Svmlight {
    /// Row-major `labels.len() × n_features` values; absent entries are 0.
    pub x: Vec<f64>,
    /// The largest feature index + 1: index `j` is column `j`, as LightGBM reads the file.
    pub n_features: usize,
    pub labels: Vec<f64>,
    /// Group sizes from `<path>.query`, when that file exists.
    pub group: Option<Vec<i32>>,
}

/// The most values a dense matrix read from a LibSVM file may hold (2³¹, 16 GiB of f64):
/// a feature index far beyond the others would otherwise size a matrix no machine holds.
pub const MAX_DENSE_VALUES: usize = 1 << 31;

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
    let mut entries: Vec<Vec<(usize, f64)>> = Vec::new();
    let (mut n_features, mut widest_line) = (0, 0);
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
        let mut row = Vec::new();
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
            let index: usize = index
                .parse()
                .ok()
                .filter(|&i: &usize| i < i32::MAX as usize)
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
            if index + 1 > n_features {
                (n_features, widest_line) = (index + 1, number + 1);
            }
            row.push((index, value));
        }
        labels.push(label);
        entries.push(row);
    }
    if labels.is_empty() {
        return Err(EcomkitError::Empty {
            argument: "path".into(),
        });
    }
    let cells = labels.len().saturating_mul(n_features);
    if cells > MAX_DENSE_VALUES {
        return Err(parse_error(
            path,
            widest_line,
            format!(
                "feature index {} makes a dense matrix of {} rows × {n_features} columns, over \
                 the {MAX_DENSE_VALUES} values ecomkit reads densely; renumber the features \
                 from 0",
                n_features - 1,
                labels.len()
            ),
        ));
    }
    let mut x = vec![0.0; cells];
    for (r, row) in entries.iter().enumerate() {
        for &(j, v) in row {
            x[r * n_features + j] = v;
        }
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
        x,
        n_features,
        labels,
        group,
    })
}
