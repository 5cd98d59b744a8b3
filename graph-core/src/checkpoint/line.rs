//! One thread's line of checkpoints as a run writes it: the typed state in, the stored
//! checkpoints out, each a delta against the one before.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::Value;

use super::delta::{SnapshotCounters, SnapshotPolicy, StateDelta};
use super::durable::Durable;
use super::record::{Checkpoint, CheckpointId, CheckpointMeta, NewCheckpoint, Source};
use crate::error::CheckpointError;
use crate::graph::traits::State;

/// Where a thread's next checkpoint goes: after which checkpoint, how far from a snapshot,
/// and each field's version.
#[derive(Clone, Debug)]
pub struct CheckpointLine {
    thread_id: String,
    checkpoint_ns: String,
    run_id: Option<String>,
    policy: SnapshotPolicy,
    parent: Option<(CheckpointId, SnapshotCounters)>,
    versions: BTreeMap<String, u64>,
}

impl CheckpointLine {
    /// A line that starts a new thread.
    pub fn new(thread_id: &str, checkpoint_ns: &str, run_id: Option<String>) -> Self {
        Self {
            thread_id: thread_id.to_owned(),
            checkpoint_ns: checkpoint_ns.to_owned(),
            run_id,
            policy: SnapshotPolicy::default(),
            parent: None,
            versions: BTreeMap::new(),
        }
    }

    /// A line that continues after `checkpoint`.
    pub fn after(checkpoint: &Checkpoint, run_id: Option<String>) -> Self {
        Self {
            thread_id: checkpoint.meta.thread_id.clone(),
            checkpoint_ns: checkpoint.meta.checkpoint_ns.clone(),
            run_id,
            policy: SnapshotPolicy::default(),
            parent: Some((checkpoint.meta.id, checkpoint.counters)),
            versions: checkpoint.meta.versions.clone(),
        }
    }

    /// With another snapshot policy.
    #[must_use]
    pub fn policy(mut self, policy: SnapshotPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The thread of the line's checkpoints.
    pub fn thread_id(&self) -> &str {
        &self.thread_id
    }

    /// The namespace of the line's checkpoints.
    pub fn namespace(&self) -> &str {
        &self.checkpoint_ns
    }

    /// The checkpoint the next one follows.
    pub fn parent(&self) -> Option<CheckpointId> {
        self.parent.map(|(id, _)| id)
    }

    /// The checkpoint after the parent: `state` as it now is, which `delta` changed since
    /// the parent (every field when there is no parent), made at `step` by `source`, and
    /// the tasks `due` next.
    ///
    /// # Errors
    /// [`CheckpointError::Encode`] when the state cannot be written as JSON.
    pub fn next<S: Durable>(
        &mut self,
        state: &S,
        delta: StateDelta,
        step: i64,
        source: Source,
        due: Due,
    ) -> Result<NewCheckpoint, CheckpointError> {
        let delta = match self.parent {
            Some(_) => delta,
            None => StateDelta::set_all(&state.to_values()?),
        };
        for field in delta.0.keys() {
            *self.versions.entry(field.clone()).or_default() += 1;
        }
        let delta_bytes = json_len(&delta)?;
        let parent_counters = self.parent.as_ref().map(|(_, counters)| counters);
        let snapshot = if self.policy.due(parent_counters, delta_bytes) {
            Some(state.to_values()?)
        } else {
            None
        };
        let snapshot_bytes = snapshot.as_ref().map(json_len).transpose()?;
        let counters = self
            .policy
            .next(parent_counters, delta_bytes, snapshot_bytes);
        let id = CheckpointId::new();
        let checkpoint = NewCheckpoint {
            meta: CheckpointMeta {
                thread_id: self.thread_id.clone(),
                checkpoint_ns: self.checkpoint_ns.clone(),
                id,
                parent_id: self.parent(),
                run_id: self.run_id.clone(),
                step,
                source,
                created_at: SystemTime::now(),
                next: due.nodes,
                versions: self.versions.clone(),
                frontier: due.frontier,
            },
            delta,
            snapshot,
            counters,
        };
        self.parent = Some((id, counters));
        Ok(checkpoint)
    }
}

/// The tasks due after a checkpoint: their nodes' names, and what starting them exactly
/// needs beyond that (see [`CheckpointMeta::frontier`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Due {
    /// The nodes, in the order their tasks start.
    pub nodes: Vec<String>,
    /// The tasks' triggers and inputs and the fan-ins' progress, or `null`.
    pub frontier: Value,
}

/// The delta of a step's updates, in the order they merged, against the state `merged`
/// they made.
///
/// # Errors
/// [`CheckpointError::Encode`] when a field cannot be written as JSON.
pub fn step_delta<S: Durable>(
    updates: &[(&'static str, <S as State>::Update)],
    merged: &S,
) -> Result<StateDelta, CheckpointError> {
    let mut delta = StateDelta::default();
    for (_, update) in updates {
        delta
            .then(S::delta(update, merged)?)
            .map_err(|detail| CheckpointError::Encode { detail })?;
    }
    Ok(delta)
}

fn json_len(value: &impl serde::Serialize) -> Result<u64, CheckpointError> {
    serde_json::to_vec(value)
        .map(|bytes| bytes.len() as u64)
        .map_err(|error| CheckpointError::Encode {
            detail: error.to_string(),
        })
}
