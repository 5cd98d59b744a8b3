//! What can go wrong when storing or reading checkpoints.

use crate::error::BoxError;

/// Why a checkpointer could not store or read a thread. Every variant names what is wrong;
/// none leaves a partly written checkpoint behind (each write is one transaction).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The database could not be reached, or the connection was lost.
    #[error("the checkpoint database is unavailable: {source}")]
    Unavailable {
        /// The driver's error.
        #[source]
        source: BoxError,
    },
    /// Another run holds the thread (in this process or another), and its lease has not
    /// expired.
    #[error("thread `{thread}` is busy: another run holds it")]
    ThreadBusy {
        /// The thread.
        thread: String,
    },
    /// The thread has no checkpoint (resuming needs one).
    #[error("thread `{thread}` has no checkpoint{}", at.as_ref().map(|id| format!(" `{id}`")).unwrap_or_default())]
    NotFound {
        /// The thread.
        thread: String,
        /// The checkpoint asked for, if one was named.
        at: Option<String>,
    },
    /// The database is locked by another process beyond the wait allowed (SQLite).
    #[error("the checkpoint database is locked by another process: {source}")]
    Locked {
        /// The driver's error.
        #[source]
        source: BoxError,
    },
    /// The database cannot be written (a read-only file or a read-only role).
    #[error("the checkpoint database is read-only: {source}")]
    ReadOnly {
        /// The driver's error.
        #[source]
        source: BoxError,
    },
    /// A stored row cannot be read back: it names the thread, the checkpoint and the column.
    #[error("checkpoint `{checkpoint}` of thread `{thread}` is corrupt: {detail}")]
    Corrupt {
        /// The thread.
        thread: String,
        /// The checkpoint.
        checkpoint: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The database was written by a newer stategraph (a schema version this one does not
    /// know), or its applied migrations differ from this version's.
    #[error(
        "the checkpoint database has schema version {found}, which this stategraph does not know (it knows up to {known})"
    )]
    UnknownSchema {
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The database ran a migration of the same version with other SQL: it was made by a
    /// build of stategraph whose schema differs from this one's.
    #[error(
        "the checkpoint database's migration {version} differs from this stategraph's; it was made by another build"
    )]
    SchemaMismatch {
        /// The migration's version.
        version: i64,
    },
    /// The stored state does not fit the graph's state type: a field was renamed or retyped.
    #[error("the stored state does not fit the state type at field `{field}`: {detail}")]
    StateShape {
        /// The field (or the path into it) that does not fit.
        field: String,
        /// The decoder's message.
        detail: String,
    },
    /// The state could not be written as JSON.
    #[error("the state cannot be stored as JSON: {detail}")]
    Encode {
        /// The encoder's message.
        detail: String,
    },
    /// A database URL this build cannot open.
    #[error("cannot open checkpoint database `{url}`: {reason}")]
    BadUrl {
        /// The URL, without its password.
        url: String,
        /// Why.
        reason: String,
    },
    /// Any other database error.
    #[error("checkpoint database error: {source}")]
    Database {
        /// The driver's error.
        #[source]
        source: BoxError,
    },
}
