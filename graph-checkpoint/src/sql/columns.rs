//! A row's columns by name, from either driver: sqlx's rows (Postgres, and SQLite's reads
//! through the pool), and the rows SQLite's in-line connection reads (`local` implements
//! it for them).

use sqlx::Row;
use sqlx::any::AnyRow;
use stategraph_core::checkpoint::CheckpointError;

use super::errors::from_sqlx;

/// A row whose columns are read by name.
pub(super) trait Columns {
    /// A text column; `None` for `NULL`.
    ///
    /// # Errors
    /// A missing column, or one holding another type.
    fn text(&self, column: &str) -> Result<Option<&str>, CheckpointError>;

    /// An integer column; `None` for `NULL`.
    ///
    /// # Errors
    /// As [`text`](Self::text).
    fn int(&self, column: &str) -> Result<Option<i64>, CheckpointError>;
}

/// A text column that may not be `NULL`.
///
/// # Errors
/// As [`Columns::text`], and `NULL`.
pub(super) fn text<'r>(row: &'r impl Columns, column: &str) -> Result<&'r str, CheckpointError> {
    row.text(column)?.ok_or_else(|| null(column))
}

/// An integer column that may not be `NULL`.
///
/// # Errors
/// As [`Columns::int`], and `NULL`.
pub(super) fn int(row: &impl Columns, column: &str) -> Result<i64, CheckpointError> {
    row.int(column)?.ok_or_else(|| null(column))
}

fn null(column: &str) -> CheckpointError {
    CheckpointError::Database {
        source: format!("column `{column}` is NULL").into(),
    }
}

impl Columns for AnyRow {
    fn text(&self, column: &str) -> Result<Option<&str>, CheckpointError> {
        self.try_get::<Option<&str>, _>(column).map_err(from_sqlx)
    }

    fn int(&self, column: &str) -> Result<Option<i64>, CheckpointError> {
        self.try_get::<Option<i64>, _>(column).map_err(from_sqlx)
    }
}
