//! Durable threads: what a run stores after each step, and the [`Checkpointer`] that
//! stores it.
//!
//! A thread is a named line of checkpoints. Each checkpoint records the step that made it,
//! the nodes due next, the writes that made it and the state, stored as a
//! [`StateDelta`] against its parent (only the fields that changed; for a list with the
//! `append` or `messages` reducer, only the new items) plus, now and then, a full
//! snapshot chosen by [`SnapshotPolicy`], so that storage grows with what changed and a
//! read folds a bounded number of deltas.
//!
//! A thread also has a [`ThreadRecord`] (metadata, status, its last state), what a server
//! lists and searches threads by, and its runs each a [`RunRecord`].
//!
//! The implementations live in `stategraph-checkpoint` (in memory, SQLite, Postgres); this
//! module holds the trait and the plain data every implementation and the runtime share.

mod delta;
mod durable;
mod line;
mod record;
mod run_record;
mod store;
mod thread_record;

pub use crate::error::CheckpointError;
pub use delta::{FieldChange, SnapshotCounters, SnapshotPolicy, StateDelta, fold};
pub use durable::{
    Durable, JsonObject, Storable, Stored, StoredFields, decode_field, decode_optional_field,
    encode_field, encode_items, no_unknown_fields,
};
pub use line::{CheckpointLine, Due, step_delta};
pub use record::{
    Checkpoint, CheckpointId, CheckpointMeta, ListOptions, NewCheckpoint, PendingWrite, Source,
};
pub use run_record::{RunQuery, RunRecord, RunStatus};
pub use store::{Checkpointer, StoreFuture};
pub use thread_record::{
    ThreadChange, ThreadQuery, ThreadRecord, ThreadSort, ThreadSortBy, ThreadStatus,
};
