//! A statement as data: its SQL, with the numbered parameters (`$1`) both engines read, and
//! the values bound to them; run by sqlx, or by SQLite's in-line connection (`local`).

use std::borrow::Cow;

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

/// A value bound to a parameter.
#[derive(Clone, Debug)]
pub(super) enum Param<'a> {
    /// Text, or `NULL` (typed as text, as Postgres needs it typed).
    Text(Option<Cow<'a, str>>),
    Int(i64),
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(Some(Cow::Borrowed(text)))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(text: Option<&'a str>) -> Self {
        Self::Text(text.map(Cow::Borrowed))
    }
}

impl From<String> for Param<'_> {
    fn from(text: String) -> Self {
        Self::Text(Some(Cow::Owned(text)))
    }
}

impl From<Option<String>> for Param<'_> {
    fn from(text: Option<String>) -> Self {
        Self::Text(text.map(Cow::Owned))
    }
}

impl From<i64> for Param<'_> {
    fn from(number: i64) -> Self {
        Self::Int(number)
    }
}

impl Param<'_> {
    #[cfg(feature = "sqlite")]
    fn into_owned(self) -> Param<'static> {
        match self {
            Self::Text(text) => Param::Text(text.map(|text| Cow::Owned(text.into_owned()))),
            Self::Int(number) => Param::Int(number),
        }
    }
}

/// One statement and its parameters, in order: the first binds `$1`.
#[derive(Clone, Debug)]
pub(super) struct Statement<'a> {
    pub(super) sql: Cow<'a, str>,
    pub(super) params: Vec<Param<'a>>,
}

impl<'a> Statement<'a> {
    pub(super) fn new(sql: impl Into<Cow<'a, str>>) -> Self {
        Self {
            sql: sql.into(),
            params: Vec::new(),
        }
    }

    /// Binds the next parameter.
    #[must_use]
    pub(super) fn bind(mut self, param: impl Into<Param<'a>>) -> Self {
        self.params.push(param.into());
        self
    }

    /// The statement with its text and values copied: to run on another thread.
    #[cfg(feature = "sqlite")]
    pub(super) fn into_owned(self) -> Statement<'static> {
        Statement {
            sql: Cow::Owned(self.sql.into_owned()),
            params: self.params.into_iter().map(Param::into_owned).collect(),
        }
    }

    /// The statement as sqlx's query.
    pub(super) fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        let mut query = sqlx::query(&self.sql);
        for param in &self.params {
            query = match param {
                Param::Text(text) => query.bind(text.as_deref()),
                Param::Int(number) => query.bind(*number),
            };
        }
        query
    }
}
