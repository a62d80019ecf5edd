//! The one error type of the crate. Every variant names the argument or column at fault and
//! what was expected, so the message can be shown to a user as it is.

use arrow_schema::ArrowError;

/// Everything that can go wrong in an ecomkit kernel.
#[derive(Debug, thiserror::Error)]
pub enum EcomkitError {
    /// A column asked for by name is not in the frame.
    #[error("{argument}: column '{column}' not found; the frame has columns [{available}]")]
    ColumnNotFound {
        argument: String,
        column: String,
        available: String,
    },
    /// A column or array has a data type the kernel cannot use.
    #[error("{argument}: expected {expected}, got {got}")]
    InvalidType {
        argument: String,
        expected: String,
        got: String,
    },
    /// Two inputs that must line up row by row have different lengths.
    #[error("{argument}: expected length {expected} (the length of {other}), got {got}")]
    LengthMismatch {
        argument: String,
        other: String,
        expected: usize,
        got: usize,
    },
    /// A parameter or input is outside what the kernel accepts.
    #[error("{argument}: {message}")]
    InvalidValue { argument: String, message: String },
    /// An input that must hold rows holds none.
    #[error("{argument}: is empty; expected at least one row")]
    Empty { argument: String },
    /// An error raised by arrow-rs while reading or building arrays.
    #[error("arrow: {0}")]
    Arrow(#[from] ArrowError),
}

/// `Result` with [`EcomkitError`].
pub type Result<T, E = EcomkitError> = std::result::Result<T, E>;

impl EcomkitError {
    /// The argument a column belongs to, as errors name it: `"time (column 'ts')"`, which
    /// [`EcomkitError::location`] splits again.
    pub fn column_argument(argument: &str, column: &str) -> String {
        format!("{argument} (column '{column}')")
    }

    /// The argument at fault and the column of it, where the error names them.
    pub fn location(&self) -> (Option<&str>, Option<&str>) {
        let argument = match self {
            Self::ColumnNotFound {
                argument, column, ..
            } => return (Some(argument), Some(column)),
            Self::InvalidType { argument, .. }
            | Self::LengthMismatch { argument, .. }
            | Self::InvalidValue { argument, .. }
            | Self::Empty { argument } => argument.as_str(),
            Self::Arrow(_) => return (None, None),
        };
        match argument
            .strip_suffix("')")
            .and_then(|rest| rest.split_once(" (column '"))
        {
            Some((argument, column)) => (Some(argument), Some(column)),
            None => (Some(argument), None),
        }
    }

    /// `column` of `argument` is not among the `available` column names.
    pub fn column_not_found<S: AsRef<str>>(argument: &str, column: &str, available: &[S]) -> Self {
        let listed: Vec<String> = available
            .iter()
            .map(|c| format!("'{}'", c.as_ref()))
            .collect();
        Self::ColumnNotFound {
            argument: argument.to_string(),
            column: column.to_string(),
            available: listed.join(", "),
        }
    }

    /// The first of `wanted` that is not among `available`, as [`EcomkitError::ColumnNotFound`].
    ///
    /// ```
    /// use ecomkit::error::EcomkitError;
    /// assert!(EcomkitError::require_columns(&["a", "b"], &["b"], "by").is_ok());
    /// let error = EcomkitError::require_columns(&["a"], &["x"], "by").unwrap_err();
    /// assert_eq!(error.to_string(), "by: column 'x' not found; the frame has columns ['a']");
    /// ```
    pub fn require_columns<S: AsRef<str>, W: AsRef<str>>(
        available: &[S],
        wanted: &[W],
        argument: &str,
    ) -> Result<()> {
        match wanted
            .iter()
            .find(|w| !available.iter().any(|a| a.as_ref() == w.as_ref()))
        {
            Some(missing) => Err(Self::column_not_found(
                argument,
                missing.as_ref(),
                available,
            )),
            None => Ok(()),
        }
    }

    /// A parameter outside its domain.
    pub fn invalid_value(argument: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidValue {
            argument: argument.into(),
            message: message.into(),
        }
    }

    /// `Err(LengthMismatch)` unless `got == expected` (the length of `other`).
    pub fn check_length(
        argument: impl Into<String>,
        other: &str,
        expected: usize,
        got: usize,
    ) -> Result<()> {
        if got == expected {
            return Ok(());
        }
        Err(Self::LengthMismatch {
            argument: argument.into(),
            other: other.to_string(),
            expected,
            got,
        })
    }

    /// A data type the kernel cannot use.
    pub fn invalid_type(
        argument: impl Into<String>,
        expected: impl Into<String>,
        got: impl std::fmt::Display,
    ) -> Self {
        Self::InvalidType {
            argument: argument.into(),
            expected: expected.into(),
            got: got.to_string(),
        }
    }
}

/// `FromStr`, `name()` and `ALL` for an option enum from its accepted names; an unknown
/// name is an [`EcomkitError::InvalidValue`] of `argument` listing the names: "expected
/// 'a', 'b' or 'c', got 'x'".
macro_rules! parse_enum {
    ($ty:ty, $argument:literal, { $($text:literal => $value:path),* $(,)? }) => {
        impl $ty {
            /// Every value, in the order of the names.
            pub const ALL: &'static [Self] = &[$($value),*];

            /// The name [`str::parse`] accepts for this value.
            pub fn name(self) -> &'static str {
                match self {
                    $($value => $text,)*
                }
            }
        }
        impl std::str::FromStr for $ty {
            type Err = $crate::error::EcomkitError;
            fn from_str(s: &str) -> $crate::error::Result<Self> {
                match s {
                    $($text => Ok($value),)*
                    other => Err($crate::error::EcomkitError::invalid_value(
                        $argument,
                        format!(
                            "expected {}, got '{other}'",
                            $crate::error::one_of(&[$(concat!("'", $text, "'")),*])
                        ),
                    )),
                }
            }
        }
    };
}
pub(crate) use parse_enum;

/// "'a', 'b' or 'c'" from the quoted names.
pub(crate) fn one_of(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}
