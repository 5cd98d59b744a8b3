//! A checkpoint as every store keeps it (metadata, delta, maybe a snapshot), and the whole
//! state at a checkpoint assembled from the rows of its chain.

use serde_json::{Map, Value};
use stategraph_core::checkpoint::{
    CheckpointError, CheckpointId, CheckpointMeta, NewCheckpoint, SnapshotCounters, StateDelta,
    fold,
};

/// One stored checkpoint.
#[derive(Clone, Debug)]
pub(crate) struct StoredRow {
    pub(crate) meta: CheckpointMeta,
    pub(crate) delta: StateDelta,
    pub(crate) snapshot: Option<Map<String, Value>>,
    pub(crate) counters: SnapshotCounters,
}

impl From<NewCheckpoint> for StoredRow {
    fn from(checkpoint: NewCheckpoint) -> Self {
        Self {
            meta: checkpoint.meta,
            delta: checkpoint.delta,
            snapshot: checkpoint.snapshot,
            counters: checkpoint.counters,
        }
    }
}

/// The whole state at `target`, from the links of its chain oldest first: each link's
/// snapshot, if it has one, else its delta. The oldest link must hold a snapshot or be the
/// thread's first checkpoint (`oldest_parent` is `None`).
pub(crate) fn fold_chain<'a>(
    target: &CheckpointMeta,
    oldest_parent: Option<CheckpointId>,
    links: impl IntoIterator<Item = (Option<&'a StateDelta>, Option<&'a Map<String, Value>>)>,
) -> Result<Map<String, Value>, CheckpointError> {
    let mut values: Option<Map<String, Value>> = None;
    for (delta, snapshot) in links {
        match (snapshot, values.as_mut(), delta) {
            (Some(snapshot), _, _) => values = Some(snapshot.clone()),
            (None, Some(values), Some(delta)) => {
                fold(values, delta).map_err(|detail| corrupt(target, detail))?;
            }
            (None, None, Some(delta)) => match oldest_parent {
                None => {
                    let mut first = Map::new();
                    fold(&mut first, delta).map_err(|detail| corrupt(target, detail))?;
                    values = Some(first);
                }
                Some(parent) => {
                    return Err(corrupt(
                        target,
                        format!("its chain breaks at parent `{parent}`, which is not stored"),
                    ));
                }
            },
            (None, _, None) => {
                return Err(corrupt(
                    target,
                    "a link of its chain has neither delta nor snapshot",
                ));
            }
        }
    }
    values.ok_or_else(|| corrupt(target, "an empty chain of checkpoints"))
}

/// A [`CheckpointError::Corrupt`] naming the checkpoint of `meta`.
pub(crate) fn corrupt(meta: &CheckpointMeta, detail: impl Into<String>) -> CheckpointError {
    CheckpointError::Corrupt {
        thread: meta.thread_id.clone(),
        checkpoint: meta.id.to_string(),
        detail: detail.into(),
    }
}
