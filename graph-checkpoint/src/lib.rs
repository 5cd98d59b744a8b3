//! Checkpoint stores for stategraph's durable threads: [`MemoryCheckpointer`] (one
//! process), and [`SqlCheckpointer`] on SQLite (embedded, the default) or Postgres (the
//! `postgres` feature). Each implements
//! [`Checkpointer`](stategraph_core::checkpoint::Checkpointer); [`open`] picks one from a
//! URL.
//!
//! The SQL schema (in `migrations/`, run on first use) keeps state as JSON text, readable
//! with `sqlite3` or `psql`: a row per checkpoint in `stategraph_checkpoints` with the
//! fields its step changed (`delta`) and now and then the whole state (`snapshot`), the
//! writes of tasks that finished after it in `stategraph_writes`, and which run holds a
//! thread in `stategraph_thread_locks`.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod memory;
mod open;
mod redact;
mod row;
mod sql;

pub use memory::MemoryCheckpointer;
pub use open::open;
pub use redact::redact;
pub use sql::{Engine, SqlCheckpointer, SqlOptions};
