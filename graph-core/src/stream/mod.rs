//! What a run's stream carries: the modes, the items each yields and the metadata they
//! share, the recorder that decides which items a run builds, and LangGraph's JSON for all
//! of them.

pub(crate) mod checkpoint_item;
pub(crate) mod items;
pub(crate) mod json;
pub(crate) mod metadata;
pub(crate) mod mode;
pub(crate) mod record;
pub(crate) mod stream_item;
pub(crate) mod task_items;
