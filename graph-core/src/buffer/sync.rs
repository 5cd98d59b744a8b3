//! The lock of the run buffer: std's, or loom's when loom explores the buffer's
//! interleavings (`RUSTFLAGS="--cfg loom"`, see `.ci/run`). Only the buffer goes through
//! here: it is the one hand-written concurrency primitive of the crate.

#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};
