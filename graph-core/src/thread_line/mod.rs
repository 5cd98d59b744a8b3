//! A thread's line of checkpoints as runs write and resume it: where a run on a thread
//! begins (an input, or a command inside the step it stopped in), the sink that stores
//! its steps, the tasks due as stored, the pending writes read back, and updates from
//! outside a run.
//!
//! It sits below `node/`, so that a subgraph run from a node on a thread keeps its own
//! checkpoints in the thread (in its namespace), as the root's `Thread` does.

pub(crate) mod begin;
pub(crate) mod child;
pub(crate) mod frontier;
pub(crate) mod pending;
pub(crate) mod sink;
pub(crate) mod update;
