//! The executor: LangGraph's supersteps, driven by whoever polls the stream. Its shared
//! state, the frontier of next tasks, the merge of a step's updates, the step's futures,
//! and what happens when a task fails, each in a file of its own.

mod attempts;
pub(crate) mod executor;
mod failure;
pub(crate) mod frontier;
pub(crate) mod interrupts;
pub(crate) mod merge;
pub(crate) mod persist;
pub(crate) mod shared;
pub(crate) mod step_futures;
