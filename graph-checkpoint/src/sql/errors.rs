//! sqlx's errors as [`CheckpointError`]s that say what is wrong.

use sqlx::migrate::MigrateError;
use stategraph_core::BoxError;
use stategraph_core::checkpoint::CheckpointError;

use super::schema::NEWEST;

/// The typed error for a driver error.
pub(crate) fn from_sqlx(error: sqlx::Error) -> CheckpointError {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => CheckpointError::Unavailable {
            source: Box::new(error),
        },
        sqlx::Error::Database(ref database) => {
            let code = database
                .code()
                .map(|code| code.into_owned())
                .unwrap_or_default();
            typed(classify(&code), Box::new(error))
        }
        other => CheckpointError::Database {
            source: Box::new(other),
        },
    }
}

/// The typed error for an error of SQLite's in-line connection (`local`).
#[cfg(feature = "sqlite")]
pub(crate) fn from_rusqlite(error: rusqlite::Error) -> CheckpointError {
    let kind = match &error {
        rusqlite::Error::SqliteFailure(failure, _) => classify_sqlite(failure.extended_code),
        _ => Kind::Other,
    };
    typed(kind, Box::new(error))
}

fn typed(kind: Kind, source: BoxError) -> CheckpointError {
    match kind {
        Kind::Locked => CheckpointError::Locked { source },
        Kind::ReadOnly => CheckpointError::ReadOnly { source },
        Kind::Unavailable => CheckpointError::Unavailable { source },
        Kind::Other => CheckpointError::Database { source },
    }
}

/// The typed error for a migration that could not run.
pub(crate) fn from_migrate(error: MigrateError) -> CheckpointError {
    match error {
        MigrateError::Execute(error) => from_sqlx(error),
        MigrateError::VersionMissing(found) => CheckpointError::UnknownSchema {
            found,
            known: NEWEST,
        },
        MigrateError::VersionMismatch(version) => CheckpointError::SchemaMismatch { version },
        other => CheckpointError::Database {
            source: Box::new(other),
        },
    }
}

enum Kind {
    Locked,
    ReadOnly,
    Unavailable,
    Other,
}

/// What a database error code means for the caller: Postgres's SQLSTATEs are five
/// characters; SQLite's (extended) result codes, as sqlx gives them, are numbers of at most
/// four digits.
fn classify(code: &str) -> Kind {
    match code.parse::<i32>() {
        Ok(number) if code.len() < 5 => classify_sqlite(number),
        _ => classify_sqlstate(code),
    }
}

/// SQLite's result codes: the primary code is the low byte of an extended one.
fn classify_sqlite(code: i32) -> Kind {
    match code & 0xff {
        5 | 6 => Kind::Locked,        // SQLITE_BUSY, SQLITE_LOCKED
        8 => Kind::ReadOnly,          // SQLITE_READONLY
        10 | 14 => Kind::Unavailable, // SQLITE_IOERR, SQLITE_CANTOPEN
        _ => Kind::Other,
    }
}

/// Postgres's SQLSTATEs.
fn classify_sqlstate(code: &str) -> Kind {
    match code {
        "25006" | "42501" => Kind::ReadOnly, // read_only_sql_transaction, insufficient_privilege
        "57P01" | "57P02" | "57P03" => Kind::Unavailable, // the server is shutting down or starting
        "55P03" => Kind::Locked,             // lock_not_available
        _ if code.starts_with("08") => Kind::Unavailable, // connection exceptions
        _ => Kind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::{Kind, classify};

    #[test]
    fn codes_are_read_as_their_engine_means_them() {
        let kind = |code: &str| match classify(code) {
            Kind::Locked => "locked",
            Kind::ReadOnly => "read-only",
            Kind::Unavailable => "unavailable",
            Kind::Other => "other",
        };
        // SQLite: SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_READONLY_DBMOVED, SQLITE_IOERR_WRITE,
        // SQLITE_CONSTRAINT_PRIMARYKEY.
        assert_eq!(kind("5"), "locked");
        assert_eq!(kind("517"), "locked");
        assert_eq!(kind("1032"), "read-only");
        assert_eq!(kind("778"), "unavailable");
        assert_eq!(kind("1555"), "other");
        // Postgres: numeric SQLSTATEs are not SQLite codes (42501 & 0xff is SQLITE_BUSY).
        assert_eq!(kind("42501"), "read-only");
        assert_eq!(kind("25006"), "read-only");
        assert_eq!(kind("08006"), "unavailable");
        assert_eq!(kind("08001"), "unavailable");
        assert_eq!(kind("57P01"), "unavailable");
        assert_eq!(kind("55P03"), "locked");
        assert_eq!(kind("23505"), "other");
    }
}
