//! Opening a store from a URL, as `STATEGRAPH_DB` names one.

use std::sync::Arc;

use stategraph_core::checkpoint::{CheckpointError, Checkpointer};

use crate::memory::MemoryCheckpointer;
use crate::sql::SqlCheckpointer;

/// Opens the store `url` names: `memory:` (this process only), `sqlite://path` (a missing
/// file is created) or `postgres://...`.
///
/// # Errors
/// As [`SqlCheckpointer::connect`].
pub async fn open(url: &str) -> Result<Arc<dyn Checkpointer>, CheckpointError> {
    if url == "memory:" || url == "memory://" {
        return Ok(Arc::new(MemoryCheckpointer::new()));
    }
    Ok(Arc::new(SqlCheckpointer::connect(url).await?))
}
