//! Data-quality rules checked on one frame (Python: `ecomkit.monitor.validate`).
//!
//! A [`Rule`] is one check (a column not null, a key unique, daily rows present per entity…);
//! [`parse_rules`] reads them from the nested dict / TOML shape users write. [`validate`]
//! checks every rule, rules in parallel, reading each column where it lies, and returns one
//! [`Check`] per rule: whether it passed, how many rows (or periods) failed, which ones, and
//! a message a person can read.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow_array::builder::{Int64Builder, ListBuilder};
use arrow_array::cast::AsArray;
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampNanosecondArray, UInt64Array,
};
use arrow_schema::DataType;
use chrono::DateTime;
use rayon::prelude::*;

use crate::error::{EcomkitError, Result};
use crate::features::time::{epoch_nanos_or_null, parse_duration, HOUR};
use crate::frame::{extend_f64, labels, Frame};
use crate::score::{robust_stats, ZeroMad};

/// How many failing row numbers a report shows per rule (all are kept for `failed_rows`).
pub const EXAMPLES: usize = 5;

/// One data-quality rule. Column rules name their column; `Unique` its key columns.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// No null (or NaN) values.
    NotNull { column: String },
    /// The column's type is of the family `dtype` names (see [`DTYPES`]).
    Dtype { column: String, dtype: String },
    /// No value below `bound` (nulls not counted).
    Min { column: String, bound: f64 },
    /// No value above `bound` (nulls not counted).
    Max { column: String, bound: f64 },
    /// At most this share of null rows.
    MaxNullFraction { column: String, fraction: f64 },
    /// Every value is one of `values` (compared as text; integers in decimal).
    In { column: String, values: Vec<String> },
    /// Every value contains a match of the regular expression (anchor it with `^…$` to
    /// match whole values, as `re.search` reads it).
    Pattern { column: String, pattern: String },
    /// No row repeats an earlier row's values of `columns` (nulls equal each other, as
    /// pandas' `duplicated`).
    Unique { columns: Vec<String> },
    /// No row is earlier than the row before it (within its `by` group).
    Ordered { time: String, by: Option<String> },
    /// Every key of `column` is among `key` of the reference frame `table`.
    References {
        column: String,
        table: String,
        key: String,
    },
    /// The newest time is at most `max_age` nanoseconds before `as_of`.
    Freshness {
        time: String,
        max_age: i64,
        max_age_text: String,
    },
    /// The frame has at least `previous · (1 − max_drop)` rows.
    Volume { previous: u64, max_drop: f64 },
    /// Every entity of `by` has rows in every period of `every` nanoseconds between its first
    /// and its last.
    Coverage {
        by: String,
        time: String,
        every: i64,
        every_text: String,
    },
    /// No period of `every` nanoseconds has a robust z of its row count beyond `max_z`.
    Anomaly {
        time: String,
        every: i64,
        every_text: String,
        max_z: f64,
    },
}

/// The `dtype` names a [`Rule::Dtype`] accepts, each a family of Arrow types.
pub const DTYPES: &[&str] = &[
    "string",
    "category",
    "bool",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float",
    "float32",
    "float64",
    "number",
    "timestamp",
    "date",
];

impl Rule {
    /// The rule's key, as written in the rules: `not_null`, `min`, `unique`, ….
    pub fn key(&self) -> &'static str {
        match self {
            Rule::NotNull { .. } => "not_null",
            Rule::Dtype { .. } => "dtype",
            Rule::Min { .. } => "min",
            Rule::Max { .. } => "max",
            Rule::MaxNullFraction { .. } => "max_null_fraction",
            Rule::In { .. } => "in",
            Rule::Pattern { .. } => "pattern",
            Rule::Unique { .. } => "unique",
            Rule::Ordered { .. } => "ordered",
            Rule::References { .. } => "references",
            Rule::Freshness { .. } => "freshness",
            Rule::Volume { .. } => "volume",
            Rule::Coverage { .. } => "coverage",
            Rule::Anomaly { .. } => "anomaly",
        }
    }

    /// The column(s) the rule reads, several joined by `,`; empty for `volume`.
    pub fn column(&self) -> String {
        if let Some(column) = self.checked_column() {
            return column.to_string();
        }
        match self {
            Rule::References { column, .. } => column.clone(),
            Rule::Unique { columns } => columns.join(","),
            Rule::Ordered { time, by } => match by {
                Some(by) => format!("{time},{by}"),
                None => time.clone(),
            },
            Rule::Freshness { time, .. } | Rule::Anomaly { time, .. } => time.clone(),
            Rule::Coverage { by, time, .. } => format!("{by},{time}"),
            _ => String::new(),
        }
    }

    /// The column of a rule written under `columns.<name>`.
    fn checked_column(&self) -> Option<&str> {
        match self {
            Rule::NotNull { column }
            | Rule::Dtype { column, .. }
            | Rule::Min { column, .. }
            | Rule::Max { column, .. }
            | Rule::MaxNullFraction { column, .. }
            | Rule::In { column, .. }
            | Rule::Pattern { column, .. } => Some(column),
            _ => None,
        }
    }

    /// Where the rule sits in the rules, as errors name it: `rules.columns.price.min`.
    fn path(&self) -> String {
        match (self, self.checked_column()) {
            (_, Some(column)) => format!("rules.columns.{column}.{}", self.key()),
            (Rule::References { column, .. }, None) => format!("rules.references.{column}"),
            (other, None) => format!("rules.{}", other.key()),
        }
    }
}

/// A rule value as users write it: in a Python dict, or in TOML / YAML.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleValue {
    Flag(bool),
    Number(f64),
    Text(String),
    List(Vec<RuleValue>),
    /// A dict / table, keys in the order written.
    Table(Vec<(String, RuleValue)>),
}

impl RuleValue {
    fn kind(&self) -> &'static str {
        match self {
            RuleValue::Flag(_) => "a boolean",
            RuleValue::Number(_) => "a number",
            RuleValue::Text(_) => "text",
            RuleValue::List(_) => "a list",
            RuleValue::Table(_) => "a table (dict)",
        }
    }

    fn wrong(&self, path: &str, expected: &str) -> EcomkitError {
        EcomkitError::invalid_type(path, expected, self.kind())
    }

    fn table(&self, path: &str) -> Result<&[(String, RuleValue)]> {
        match self {
            RuleValue::Table(entries) => Ok(entries),
            other => Err(other.wrong(path, "a table (dict)")),
        }
    }

    fn number(&self, path: &str) -> Result<f64> {
        match self {
            RuleValue::Number(x) if x.is_finite() => Ok(*x),
            RuleValue::Number(x) => Err(EcomkitError::invalid_value(
                path,
                format!("expected a finite number, got {x}"),
            )),
            other => Err(other.wrong(path, "a number")),
        }
    }

    fn text(&self, path: &str) -> Result<&str> {
        match self {
            RuleValue::Text(text) => Ok(text),
            other => Err(other.wrong(path, "text")),
        }
    }

    fn flag(&self, path: &str) -> Result<bool> {
        match self {
            RuleValue::Flag(flag) => Ok(*flag),
            other => Err(other.wrong(path, "true or false")),
        }
    }

    /// Text or a number as the text a column's value is compared with (`3.0` → `"3"`).
    fn as_text(&self, path: &str) -> Result<String> {
        match self {
            RuleValue::Text(text) => Ok(text.clone()),
            RuleValue::Flag(flag) => Ok(flag.to_string()),
            RuleValue::Number(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => {
                Ok(format!("{}", *x as i64))
            }
            RuleValue::Number(x) => Ok(x.to_string()),
            other => Err(other.wrong(path, "text or a number")),
        }
    }

    fn texts(&self, path: &str) -> Result<Vec<String>> {
        match self {
            RuleValue::List(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| item.as_text(&format!("{path}[{i}]")))
                .collect(),
            other => Err(other.wrong(path, "a list")),
        }
    }
}

/// The entries of a table, each key one of `known`; the first unknown key is an error.
fn fields<'a>(
    table: &'a [(String, RuleValue)],
    known: &[&str],
    path: &str,
) -> Result<HashMap<&'a str, &'a RuleValue>> {
    for (key, _) in table {
        if !known.contains(&key.as_str()) {
            return Err(EcomkitError::invalid_value(
                path,
                format!("unknown key '{key}'; expected one of {}", known.join(", ")),
            ));
        }
    }
    Ok(table.iter().map(|(k, v)| (k.as_str(), v)).collect())
}

fn required<'a>(
    fields: &HashMap<&str, &'a RuleValue>,
    key: &str,
    path: &str,
) -> Result<&'a RuleValue> {
    fields
        .get(key)
        .copied()
        .ok_or_else(|| EcomkitError::invalid_value(path, format!("needs '{key}'")))
}

fn fraction(value: f64, path: &str) -> Result<f64> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(EcomkitError::invalid_value(
            path,
            format!("expected a fraction in [0, 1], got {value}"),
        ))
    }
}

/// The column rules under `columns`, one table per column: `not_null`, `dtype`, `min`, `max`,
/// `max_null_fraction`, `in`, `pattern`.
fn column_rules(column: &str, table: &RuleValue, rules: &mut Vec<Rule>) -> Result<()> {
    let base = format!("rules.columns.{column}");
    for (key, value) in table.table(&base)? {
        let path = format!("{base}.{key}");
        let column = column.to_string();
        let rule = match key.as_str() {
            "not_null" => match value.flag(&path)? {
                true => Rule::NotNull { column },
                false => continue,
            },
            "dtype" => {
                let dtype = value.text(&path)?.to_ascii_lowercase();
                let dtype = match dtype.as_str() {
                    "str" | "utf8" | "object" => "string".to_string(),
                    "categorical" | "dictionary" => "category".to_string(),
                    "boolean" => "bool".to_string(),
                    "integer" => "int".to_string(),
                    "numeric" => "number".to_string(),
                    "datetime" | "datetime64" => "timestamp".to_string(),
                    _ => dtype,
                };
                if !DTYPES.contains(&dtype.as_str()) {
                    return Err(EcomkitError::invalid_value(
                        path,
                        format!("expected one of {}, got {dtype:?}", DTYPES.join(", ")),
                    ));
                }
                Rule::Dtype { column, dtype }
            }
            "min" => Rule::Min {
                column,
                bound: value.number(&path)?,
            },
            "max" => Rule::Max {
                column,
                bound: value.number(&path)?,
            },
            "max_null_fraction" => Rule::MaxNullFraction {
                column,
                fraction: fraction(value.number(&path)?, &path)?,
            },
            "in" => Rule::In {
                column,
                values: value.texts(&path)?,
            },
            "pattern" => {
                let pattern = value.text(&path)?.to_string();
                compile(&pattern, &path)?;
                Rule::Pattern { column, pattern }
            }
            other => {
                return Err(EcomkitError::invalid_value(
                    base,
                    format!(
                        "unknown rule '{other}'; expected not_null, dtype, min, max, \
                         max_null_fraction, in or pattern"
                    ),
                ))
            }
        };
        rules.push(rule);
    }
    Ok(())
}

fn compile(pattern: &str, path: &str) -> Result<regex::Regex> {
    regex::Regex::new(pattern)
        .map_err(|e| EcomkitError::invalid_value(path, format!("not a regular expression: {e}")))
}

fn duration(value: &RuleValue, path: &str) -> Result<(i64, String)> {
    let text = value.text(path)?;
    Ok((parse_duration(text, path)?, text.to_string()))
}

/// The rules of the nested shape users write (keys in the order written):
///
/// ```text
/// {"columns": {"price": {"min": 0.0, "not_null": true}, ...},
///  "unique": [["interaction_id"]], "ordered": {"time": "ts", "by": "user_id"},
///  "references": {"product_id": "products.product_id"},
///  "freshness": {"time": "ts", "max_age": "6h"}, "volume": {"previous": 250000, "max_drop": 0.2},
///  "coverage": {"by": "asin", "time": "date", "every": "1d"},
///  "anomaly": {"time": "date", "every": "1d", "max_z": 3.5}}
/// ```
///
/// ```
/// use ecomkit::monitor::quality::{parse_rules, Rule, RuleValue};
/// let rules = RuleValue::Table(vec![(
///     "columns".into(),
///     RuleValue::Table(vec![("price".into(), RuleValue::Table(vec![
///         ("min".into(), RuleValue::Number(0.0)),
///     ]))]),
/// )]);
/// let parsed = parse_rules(&rules)?;
/// assert_eq!(parsed, [Rule::Min { column: "price".into(), bound: 0.0 }]);
/// # Ok::<(), ecomkit::error::EcomkitError>(())
/// ```
pub fn parse_rules(rules: &RuleValue) -> Result<Vec<Rule>> {
    const KEYS: &[&str] = &[
        "columns",
        "unique",
        "ordered",
        "references",
        "freshness",
        "volume",
        "coverage",
        "anomaly",
    ];
    let mut parsed = Vec::new();
    for (key, value) in rules.table("rules")? {
        let path = format!("rules.{key}");
        match key.as_str() {
            "columns" => {
                for (column, table) in value.table(&path)? {
                    column_rules(column, table, &mut parsed)?;
                }
            }
            "unique" => {
                let RuleValue::List(keys) = value else {
                    return Err(value.wrong(&path, "a list of column lists"));
                };
                for (i, key) in keys.iter().enumerate() {
                    let item = format!("{path}[{i}]");
                    let columns = match key {
                        RuleValue::Text(column) => vec![column.clone()],
                        other => other.texts(&item)?,
                    };
                    if columns.is_empty() {
                        return Err(EcomkitError::invalid_value(item, "names no column"));
                    }
                    parsed.push(Rule::Unique { columns });
                }
            }
            "ordered" => {
                let fields = fields(value.table(&path)?, &["time", "by"], &path)?;
                parsed.push(Rule::Ordered {
                    time: required(&fields, "time", &path)?.text(&path)?.to_string(),
                    by: match fields.get("by") {
                        Some(by) => Some(by.text(&format!("{path}.by"))?.to_string()),
                        None => None,
                    },
                });
            }
            "references" => {
                for (column, target) in value.table(&path)? {
                    let item = format!("{path}.{column}");
                    let target = target.text(&item)?;
                    let Some((table, key)) = target.split_once('.') else {
                        return Err(EcomkitError::invalid_value(
                            item,
                            format!("expected \"table.column\", got {target:?}"),
                        ));
                    };
                    parsed.push(Rule::References {
                        column: column.clone(),
                        table: table.to_string(),
                        key: key.to_string(),
                    });
                }
            }
            "freshness" => {
                let fields = fields(value.table(&path)?, &["time", "max_age"], &path)?;
                let (max_age, max_age_text) = duration(
                    required(&fields, "max_age", &path)?,
                    &format!("{path}.max_age"),
                )?;
                parsed.push(Rule::Freshness {
                    time: required(&fields, "time", &path)?.text(&path)?.to_string(),
                    max_age,
                    max_age_text,
                });
            }
            "volume" => {
                let fields = fields(value.table(&path)?, &["previous", "max_drop"], &path)?;
                let item = format!("{path}.previous");
                let previous = required(&fields, "previous", &path)?.number(&item)?;
                if previous < 0.0 || previous.fract() != 0.0 {
                    return Err(EcomkitError::invalid_value(
                        item,
                        format!("expected a row count (a whole number >= 0), got {previous}"),
                    ));
                }
                let item = format!("{path}.max_drop");
                let max_drop = required(&fields, "max_drop", &path)?.number(&item)?;
                parsed.push(Rule::Volume {
                    previous: previous as u64,
                    max_drop: fraction(max_drop, &item)?,
                });
            }
            "coverage" => {
                let fields = fields(value.table(&path)?, &["by", "time", "every"], &path)?;
                let (every, every_text) =
                    duration(required(&fields, "every", &path)?, &format!("{path}.every"))?;
                parsed.push(Rule::Coverage {
                    by: required(&fields, "by", &path)?.text(&path)?.to_string(),
                    time: required(&fields, "time", &path)?.text(&path)?.to_string(),
                    every,
                    every_text,
                });
            }
            "anomaly" => {
                let fields = fields(value.table(&path)?, &["time", "every", "max_z"], &path)?;
                let (every, every_text) =
                    duration(required(&fields, "every", &path)?, &format!("{path}.every"))?;
                let item = format!("{path}.max_z");
                let max_z = match fields.get("max_z") {
                    Some(value) => value.number(&item)?,
                    None => 3.5,
                };
                if max_z <= 0.0 {
                    return Err(EcomkitError::invalid_value(
                        item,
                        format!("expected a number > 0, got {max_z}"),
                    ));
                }
                parsed.push(Rule::Anomaly {
                    time: required(&fields, "time", &path)?.text(&path)?.to_string(),
                    every,
                    every_text,
                    max_z,
                });
            }
            other => {
                return Err(EcomkitError::invalid_value(
                    "rules",
                    format!("unknown key '{other}'; expected one of {}", KEYS.join(", ")),
                ))
            }
        }
    }
    Ok(parsed)
}

/// The outcome of one rule.
#[derive(Debug, Clone)]
pub struct Check {
    pub rule: &'static str,
    pub column: String,
    pub passed: bool,
    /// Rows (or periods, for `coverage` and `anomaly`; 1 or 0 for `dtype`, `freshness`,
    /// `volume`) that failed.
    pub n_failed: u64,
    /// `n_failed` over the rows (periods) checked; 0 when there are none.
    pub fraction_failed: f64,
    /// The failing rows, in order (empty for the rules of periods or of the whole frame).
    pub rows: Vec<u64>,
    /// `coverage`: the missing (entity, period start) pairs; `anomaly`: the flagged periods
    /// with their row count and robust z.
    pub periods: Option<RecordBatch>,
    pub message: String,
}

impl Check {
    fn of_rows(rule: &Rule, rows: Vec<u64>, n_rows: usize, message: String) -> Check {
        Check {
            rule: rule.key(),
            column: rule.column(),
            passed: rows.is_empty(),
            n_failed: rows.len() as u64,
            fraction_failed: share(rows.len(), n_rows),
            rows,
            periods: None,
            message,
        }
    }

    fn of_frame(rule: &Rule, passed: bool, message: String) -> Check {
        Check {
            rule: rule.key(),
            column: rule.column(),
            passed,
            n_failed: u64::from(!passed),
            fraction_failed: if passed { 0.0 } else { 1.0 },
            rows: Vec::new(),
            periods: None,
            message,
        }
    }
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Every rule's outcome, in the order of the rules.
#[derive(Debug, Clone)]
pub struct QualityReport {
    pub checks: Vec<Check>,
    pub n_rows: usize,
}

impl QualityReport {
    /// Whether every rule passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|check| check.passed)
    }

    /// One row per rule: `rule`, `column`, `passed`, `n_failed`, `fraction_failed`,
    /// `examples` (the first [`EXAMPLES`] failing row numbers), `message`.
    pub fn table(&self) -> RecordBatch {
        let checks = &self.checks;
        let texts =
            |f: fn(&Check) -> &str| Arc::new(StringArray::from_iter_values(checks.iter().map(f)));
        let mut examples = ListBuilder::new(Int64Builder::new());
        for check in checks {
            let first = check.rows.iter().take(EXAMPLES).map(|&r| Some(r as i64));
            examples.append_value(first);
        }
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("rule", texts(|c| c.rule)),
            ("column", texts(|c| &c.column)),
            (
                "passed",
                Arc::new(BooleanArray::from_iter(
                    checks.iter().map(|c| Some(c.passed)),
                )),
            ),
            (
                "n_failed",
                Arc::new(UInt64Array::from_iter_values(
                    checks.iter().map(|c| c.n_failed),
                )),
            ),
            (
                "fraction_failed",
                Arc::new(Float64Array::from_iter_values(
                    checks.iter().map(|c| c.fraction_failed),
                )),
            ),
            ("examples", Arc::new(examples.finish())),
            ("message", texts(|c| &c.message)),
        ];
        RecordBatch::try_from_iter(columns).expect("columns of one length")
    }
}

/// Checks every rule on `frame`; `references` holds the frames `references` rules name,
/// `as_of` (nanoseconds since the epoch) the time `freshness` measures against.
pub fn validate(
    frame: &Frame,
    rules: &[Rule],
    references: &[(String, Frame)],
    as_of: i64,
) -> Result<QualityReport> {
    let checks = rules
        .par_iter()
        .map(|rule| check(frame, rule, references, as_of))
        .collect::<Result<Vec<_>>>()?;
    Ok(QualityReport {
        checks,
        n_rows: frame.num_rows(),
    })
}

fn check(frame: &Frame, rule: &Rule, references: &[(String, Frame)], as_of: i64) -> Result<Check> {
    let n_rows = frame.num_rows();
    let path = rule.path();
    Ok(match rule {
        Rule::NotNull { column: name } => {
            let rows = missing_rows(&frame.column(name, &path)?);
            let message = format!("{} null rows of {n_rows}", rows.len());
            Check::of_rows(rule, rows, n_rows, message)
        }
        Rule::MaxNullFraction {
            column: name,
            fraction,
        } => {
            let rows = missing_rows(&frame.column(name, &path)?);
            let share = share(rows.len(), n_rows);
            let mut check = Check::of_rows(
                rule,
                rows,
                n_rows,
                format!("null fraction {share:.6} (at most {fraction})"),
            );
            check.passed = share <= *fraction;
            check
        }
        Rule::Dtype {
            column: name,
            dtype,
        } => {
            let got = frame.column(name, &path)?.data_type().clone();
            let passed = dtype_matches(dtype, &got);
            let message = if passed {
                format!("{got} is {dtype}")
            } else {
                format!("expected {dtype}, got {got}")
            };
            Check::of_frame(rule, passed, message)
        }
        Rule::Min {
            column: name,
            bound,
        }
        | Rule::Max {
            column: name,
            bound,
        } => {
            let below = matches!(rule, Rule::Min { .. });
            let rows = rows_where(&frame.column(name, &path)?, &path, |v| {
                if below {
                    v < *bound
                } else {
                    v > *bound
                }
            })?;
            let side = if below { "below" } else { "above" };
            let message = format!("{} rows {side} {bound}", rows.len());
            Check::of_rows(rule, rows, n_rows, message)
        }
        Rule::In {
            column: name,
            values,
        } => {
            let allowed: HashSet<&str> = values.iter().map(String::as_str).collect();
            let (rows, first) = rows_by_text(frame, name, &path, |text| !allowed.contains(text))?;
            let message = format!(
                "{} rows not in [{}]{}",
                rows.len(),
                values.join(", "),
                example(&first)
            );
            Check::of_rows(rule, rows, n_rows, message)
        }
        Rule::Pattern {
            column: name,
            pattern,
        } => {
            let data_type = frame.column(name, &path)?.data_type().clone();
            // A column of nothing but nulls (Arrow's null type: pandas' all-None or empty
            // object columns) has no value to fail.
            if !is_text(&data_type) && data_type != DataType::Null {
                return Err(EcomkitError::invalid_type(
                    EcomkitError::column_argument(&path, name),
                    "a string column",
                    data_type,
                ));
            }
            let regex = compile(pattern, &path)?;
            let column = frame.column(name, &path)?;
            // A regex per piece: one shared by the threads would serialize on its cache pool.
            let per_piece = || {
                let regex = regex.clone();
                move |text: &str| !regex.is_match(text)
            };
            let (rows, first) = match strings_where(&column, per_piece) {
                Some(found) => found,
                None => rows_by_text(frame, name, &path, |text| !regex.is_match(text))?,
            };
            let message = format!(
                "{} rows do not match {pattern:?}{}",
                rows.len(),
                example(&first)
            );
            Check::of_rows(rule, rows, n_rows, message)
        }
        Rule::Unique { columns } => {
            let rows = frame.duplicate_rows(columns, &path)?;
            let message = format!(
                "{} rows repeat an earlier row's {}",
                rows.len(),
                columns.join(", ")
            );
            Check::of_rows(rule, rows, n_rows, message)
        }
        Rule::Ordered { time, by } => {
            let keys = match by {
                Some(by) => Some(codes(frame, by, &path)?.0),
                None => None,
            };
            let rows = match sortable(&frame.column(time, &path)?, &path)? {
                Sortable::Times(times) => out_of_order(&times, keys.as_deref()),
                Sortable::Numbers(numbers) => out_of_order(&numbers, keys.as_deref()),
            };
            let within = by
                .as_ref()
                .map(|by| format!(" within their {by}"))
                .unwrap_or_default();
            let message = format!(
                "{} rows earlier than the row before them{within}",
                rows.len()
            );
            Check::of_rows(rule, rows, n_rows, message)
        }
        Rule::References {
            column: name,
            table,
            key,
        } => {
            let Some((_, other)) = references.iter().find(|(n, _)| n == table) else {
                let names: Vec<&str> = references.iter().map(|(n, _)| n.as_str()).collect();
                return Err(EcomkitError::invalid_value(
                    "references",
                    format!(
                        "{path} names the frame '{table}', but references holds [{}]",
                        names.join(", ")
                    ),
                ));
            };
            let known: HashSet<String> = codes(other, key, &path)?.1.into_iter().collect();
            let (rows, first) = rows_by_text(frame, name, &path, |text| !known.contains(text))?;
            let message = format!(
                "{} rows whose {name} is not in {table}.{key}{}",
                rows.len(),
                example(&first)
            );
            Check::of_rows(rule, rows, n_rows, message)
        }
        Rule::Freshness {
            time,
            max_age,
            max_age_text,
        } => {
            let newest = epoch_nanos_or_null(&frame.column(time, &path)?, &path)?
                .into_iter()
                .flatten()
                .max();
            match newest {
                None => Check::of_frame(rule, false, "no times to check".to_string()),
                Some(newest) => {
                    let age = i128::from(as_of) - i128::from(newest);
                    let message = format!(
                        "newest {} is {:.2}h old (at most {max_age_text})",
                        timestamp_text(newest),
                        age as f64 / HOUR as f64
                    );
                    Check::of_frame(rule, age <= i128::from(*max_age), message)
                }
            }
        }
        Rule::Volume { previous, max_drop } => {
            let floor = *previous as f64 * (1.0 - max_drop);
            let drop = 1.0 - share(n_rows, *previous as usize);
            let message = format!(
                "{n_rows} rows against {previous} before: a drop of {:.1}% (at most {:.1}%)",
                100.0 * drop.max(0.0),
                100.0 * max_drop
            );
            Check::of_frame(rule, n_rows as f64 >= floor, message)
        }
        Rule::Coverage {
            by,
            time,
            every,
            every_text,
        } => coverage(frame, rule, by, time, *every, every_text, &path)?,
        Rule::Anomaly {
            time,
            every,
            every_text,
            max_z,
        } => anomaly(frame, rule, time, *every, every_text, *max_z, &path)?,
    })
}

fn example(first: &Option<String>) -> String {
    first
        .as_ref()
        .map(|text| format!(", e.g. {text:?}"))
        .unwrap_or_default()
}

fn timestamp_text(nanos: i64) -> String {
    DateTime::from_timestamp_nanos(nanos)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Dense codes of a key column (`u32::MAX` for null) and each code's text; none for a
/// frame without rows (whose column must still exist).
fn codes(frame: &Frame, name: &str, path: &str) -> Result<(Vec<u32>, Vec<String>)> {
    if frame.num_rows() == 0 {
        frame.column(name, path)?;
        return Ok((Vec::new(), Vec::new()));
    }
    labels(frame, name, path)
}

fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, values) => is_text(values),
        _ => false,
    }
}

fn dtype_matches(dtype: &str, got: &DataType) -> bool {
    use DataType::*;
    match dtype {
        "string" => is_text(got),
        "category" => matches!(got, Dictionary(..)),
        "bool" => got == &Boolean,
        "int" => got.is_integer(),
        "int8" => got == &Int8,
        "int16" => got == &Int16,
        "int32" => got == &Int32,
        "int64" => got == &Int64,
        "uint8" => got == &UInt8,
        "uint16" => got == &UInt16,
        "uint32" => got == &UInt32,
        "uint64" => got == &UInt64,
        "float" => got.is_floating(),
        "float32" => got == &Float32,
        "float64" => got == &Float64,
        "number" => got.is_numeric(),
        "timestamp" => matches!(got, Timestamp(..)),
        "date" => matches!(got, Date32 | Date64),
        _ => false,
    }
}

fn missing_rows(column: &crate::frame::Column<'_>) -> Vec<u64> {
    column
        .missing_rows()
        .into_iter()
        .map(|r| r as u64)
        .collect()
}

fn numbers(column: &crate::frame::Column<'_>, path: &str) -> Result<Vec<f64>> {
    let argument = EcomkitError::column_argument(path, column.name());
    let mut values = Vec::with_capacity(column.len());
    for chunk in column.chunks() {
        extend_f64(&mut values, chunk.as_ref(), &argument)?;
    }
    Ok(values)
}

/// Rows of a numeric column whose value fails `failed` (nulls and NaN never do), read piece
/// by piece on all threads: a column that is not float64 is never converted whole.
fn rows_where(
    column: &crate::frame::Column<'_>,
    path: &str,
    failed: impl Fn(f64) -> bool + Sync,
) -> Result<Vec<u64>> {
    const PIECE: usize = 1 << 16;
    let values = column.f64_pieces(path)?;
    let n_rows = column.len();
    Ok((0..n_rows.div_ceil(PIECE))
        .into_par_iter()
        .flat_map_iter(|piece| {
            let rows = piece * PIECE..((piece + 1) * PIECE).min(n_rows);
            let mut buffer = Vec::new();
            let failing: Vec<u64> = values
                .get(rows.clone(), &mut buffer)
                .iter()
                .zip(rows.start as u64..)
                .filter(|(&v, _)| failed(v))
                .map(|(_, row)| row)
                .collect();
            failing
        })
        .collect())
}

/// Rows whose value, as text, fails `failed` (nulls never fail), and the first failing text.
/// Each distinct value is tested once.
fn rows_by_text(
    frame: &Frame,
    name: &str,
    path: &str,
    failed: impl Fn(&str) -> bool,
) -> Result<(Vec<u64>, Option<String>)> {
    let column = frame.column(name, path)?;
    if frame.num_rows() == 0 {
        return Ok((Vec::new(), None));
    }
    if column.data_type().is_floating() {
        return Err(EcomkitError::invalid_type(
            EcomkitError::column_argument(path, name),
            "strings, integers, booleans or a dictionary (categorical) column",
            column.data_type().clone(),
        ));
    }
    let (codes, names) = super::category_codes(frame, &column, path)?;
    let bad: Vec<bool> = names.iter().map(|text| failed(text)).collect();
    let rows: Vec<u64> = codes
        .iter()
        .enumerate()
        .filter(|(_, &code)| code != u32::MAX && bad[code as usize])
        .map(|(row, _)| row as u64)
        .collect();
    let first = rows
        .first()
        .map(|&row| names[codes[row as usize] as usize].clone());
    Ok((rows, first))
}

/// Rows of a plain string column whose text fails the test `per_piece` makes (nulls never
/// fail), and the first failing text, tested row by row on all threads: a regular expression on short
/// texts costs less than coding the rows to test each distinct text once. `None` for other
/// column types.
fn strings_where<F: Fn(&str) -> bool>(
    column: &crate::frame::Column<'_>,
    per_piece: impl Fn() -> F + Sync,
) -> Option<(Vec<u64>, Option<String>)> {
    const PIECE: usize = 1 << 14;
    let mut pieces = Vec::new();
    let mut start = 0;
    for chunk in column.chunks() {
        if !matches!(
            chunk.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) {
            return None;
        }
        pieces.extend((0..chunk.len()).step_by(PIECE).map(|offset| {
            (
                chunk.slice(offset, PIECE.min(chunk.len() - offset)),
                start + offset,
            )
        }));
        start += chunk.len();
    }
    fn failing<'a>(
        texts: impl Iterator<Item = Option<&'a str>>,
        first_row: usize,
        failed: &impl Fn(&str) -> bool,
    ) -> Vec<u64> {
        texts
            .enumerate()
            .filter(|(_, text)| text.is_some_and(failed))
            .map(|(row, _)| (first_row + row) as u64)
            .collect()
    }
    let rows: Vec<u64> = pieces
        .par_iter()
        .flat_map_iter(|(piece, first_row)| {
            let failed = per_piece();
            match piece.data_type() {
                DataType::Utf8 => failing(piece.as_string::<i32>().iter(), *first_row, &failed),
                DataType::LargeUtf8 => {
                    failing(piece.as_string::<i64>().iter(), *first_row, &failed)
                }
                _ => failing(piece.as_string_view().iter(), *first_row, &failed),
            }
        })
        .collect();
    let first = rows.first().map(|&row| {
        let (chunk, offset) = locate(column.chunks(), row as usize);
        match chunk.data_type() {
            DataType::Utf8 => chunk.as_string::<i32>().value(offset).to_string(),
            DataType::LargeUtf8 => chunk.as_string::<i64>().value(offset).to_string(),
            _ => chunk.as_string_view().value(offset).to_string(),
        }
    });
    Some((rows, first))
}

/// The chunk holding `row` of a chunked column, and the row's offset in it.
fn locate<'a>(chunks: &[&'a ArrayRef], mut row: usize) -> (&'a ArrayRef, usize) {
    for &chunk in chunks {
        if row < chunk.len() {
            return (chunk, row);
        }
        row -= chunk.len();
    }
    unreachable!("a row of the column")
}

enum Sortable {
    Times(Vec<Option<i64>>),
    Numbers(Vec<Option<f64>>),
}

fn sortable(column: &crate::frame::Column<'_>, path: &str) -> Result<Sortable> {
    if column.data_type().is_numeric() {
        let numbers = numbers(column, path)?;
        Ok(Sortable::Numbers(
            numbers
                .into_iter()
                .map(|v| (!v.is_nan()).then_some(v))
                .collect(),
        ))
    } else {
        Ok(Sortable::Times(epoch_nanos_or_null(column, path)?))
    }
}

/// Rows whose value is below the value of the row before them (in their group; rows of a
/// null group, and pairs with a null, are not compared), as pandas'
/// `groupby(by)[time].diff() < 0` reads it.
fn out_of_order<T: PartialOrd + Copy>(values: &[Option<T>], groups: Option<&[u32]>) -> Vec<u64> {
    let Some(groups) = groups else {
        // One sequence: each row against the row before it.
        return values
            .windows(2)
            .zip(1u64..)
            .filter(|(pair, _)| matches!(pair, [Some(before), Some(now)] if now < before))
            .map(|(_, row)| row)
            .collect();
    };
    let mut previous: HashMap<u32, Option<T>> = HashMap::new();
    let mut rows = Vec::new();
    for (row, &value) in values.iter().enumerate() {
        let group = groups[row];
        if group == u32::MAX {
            continue;
        }
        if let (Some(Some(before)), Some(now)) = (previous.insert(group, value), value) {
            if now < before {
                rows.push(row as u64);
            }
        }
    }
    rows
}

/// Periods (`floor(time / every)`) of every row with a time; `None` for a null time.
fn periods(frame: &Frame, time: &str, every: i64, path: &str) -> Result<Vec<Option<i64>>> {
    let times = epoch_nanos_or_null(&frame.column(time, path)?, path)?;
    Ok(times
        .into_iter()
        .map(|t| t.map(|t| t.div_euclid(every)))
        .collect())
}

fn coverage(
    frame: &Frame,
    rule: &Rule,
    by: &str,
    time: &str,
    every: i64,
    every_text: &str,
    path: &str,
) -> Result<Check> {
    let periods = periods(frame, time, every, path)?;
    let (codes, names) = codes(frame, by, path)?;
    let mut per_entity: Vec<Vec<i64>> = vec![Vec::new(); names.len()];
    for (&code, &period) in codes.iter().zip(&periods) {
        if let (true, Some(period)) = (code != u32::MAX, period) {
            per_entity[code as usize].push(period);
        }
    }
    let (mut entities, mut starts) = (Vec::new(), Vec::new());
    let mut expected = 0usize;
    for (entity, seen) in per_entity.iter_mut().enumerate() {
        seen.sort_unstable();
        seen.dedup();
        let (Some(&first), Some(&last)) = (seen.first(), seen.last()) else {
            continue;
        };
        expected += (last - first + 1) as usize;
        let mut present = seen.iter().peekable();
        for period in first..=last {
            if present.peek() == Some(&&period) {
                present.next();
            } else {
                entities.push(names[entity].clone());
                starts.push(period * every);
            }
        }
    }
    let n_missing = entities.len();
    let message = match entities.first() {
        Some(entity) => format!(
            "{n_missing} missing ({by}, {every_text}) periods between each {by}'s first and \
             last, e.g. {entity:?} at {}",
            timestamp_text(starts[0])
        ),
        None => format!("no missing ({by}, {every_text}) periods"),
    };
    let periods = RecordBatch::try_from_iter([
        (by, Arc::new(StringArray::from(entities)) as ArrayRef),
        (
            time,
            Arc::new(TimestampNanosecondArray::from(starts).with_timezone("UTC")) as ArrayRef,
        ),
    ])?;
    Ok(Check {
        rule: rule.key(),
        column: rule.column(),
        passed: n_missing == 0,
        n_failed: n_missing as u64,
        fraction_failed: share(n_missing, expected),
        rows: Vec::new(),
        periods: Some(periods),
        message,
    })
}

fn anomaly(
    frame: &Frame,
    rule: &Rule,
    time: &str,
    every: i64,
    every_text: &str,
    max_z: f64,
    path: &str,
) -> Result<Check> {
    let periods: Vec<i64> = periods(frame, time, every, path)?
        .into_iter()
        .flatten()
        .collect();
    let (first, last) = match (periods.iter().min(), periods.iter().max()) {
        (Some(&first), Some(&last)) => (first, last),
        _ => (0, -1),
    };
    // Rows per period from the first to the last, empty periods included.
    let mut counts = vec![0.0; (last - first + 1) as usize];
    for period in &periods {
        counts[(period - first) as usize] += 1.0;
    }
    let stats = robust_stats(counts.iter().copied(), ZeroMad::MeanAd, &mut Vec::new());
    let (mut starts, mut n_rows, mut z) = (Vec::new(), Vec::new(), Vec::new());
    for (i, &count) in counts.iter().enumerate() {
        let score = stats.z(count);
        if score.abs() > max_z {
            starts.push((first + i as i64) * every);
            n_rows.push(count as i64);
            z.push(score);
        }
    }
    let message = match starts.first() {
        Some(&start) => format!(
            "{} of {} {every_text} periods with |robust z| of their rows > {max_z}, e.g. {} \
             ({} rows, z = {:.2})",
            starts.len(),
            counts.len(),
            timestamp_text(start),
            n_rows[0],
            z[0]
        ),
        None => format!(
            "no {every_text} period of {} with |robust z| of its rows > {max_z}",
            counts.len()
        ),
    };
    let n_failed = starts.len();
    let flagged = RecordBatch::try_from_iter([
        (
            time,
            Arc::new(TimestampNanosecondArray::from(starts).with_timezone("UTC")) as ArrayRef,
        ),
        ("n_rows", Arc::new(Int64Array::from(n_rows)) as ArrayRef),
        ("z", Arc::new(Float64Array::from(z)) as ArrayRef),
    ])?;
    Ok(Check {
        rule: rule.key(),
        column: rule.column(),
        passed: n_failed == 0,
        n_failed: n_failed as u64,
        fraction_failed: share(n_failed, counts.len()),
        rows: Vec::new(),
        periods: Some(flagged),
        message,
    })
}
