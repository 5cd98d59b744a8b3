//! Rows to checkpoints and back. Every column read is checked: a row that does not decode
//! is a [`CheckpointError::Corrupt`] naming the thread, the checkpoint and the column.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use stategraph_core::checkpoint::{
    CheckpointError, CheckpointId, CheckpointMeta, NewCheckpoint, PendingWrite, SnapshotCounters,
    Source, StateDelta, fold,
};

use super::columns::{self, Columns};

/// The columns of a checkpoint's metadata, from the table aliased `c`.
pub(super) const META_COLUMNS: &str = "c.checkpoint_id, c.checkpoint_ns, c.parent_id, c.run_id, \
    c.step, c.source, c.created_at, c.next_nodes, c.versions, c.frontier";

/// The columns of a checkpoint read as a whole: its metadata and snapshot counters.
pub(super) const TARGET_COLUMNS: &str = "c.checkpoint_id, c.checkpoint_ns, c.parent_id, \
    c.run_id, c.step, c.source, c.created_at, c.next_nodes, c.versions, c.frontier, \
    c.rows_since, c.bytes_since, c.base_bytes, c.base_id";

/// A checkpoint's JSON and text columns.
pub(super) struct Encoded {
    pub(super) created_at: String,
    pub(super) next: String,
    pub(super) versions: String,
    pub(super) frontier: Option<String>,
    pub(super) delta: String,
    pub(super) snapshot: Option<String>,
}

pub(super) fn encode(checkpoint: &NewCheckpoint) -> Result<Encoded, CheckpointError> {
    let json = |value: &dyn erased::Json| {
        value.to_json().map_err(|error| CheckpointError::Encode {
            detail: error.to_string(),
        })
    };
    let meta = &checkpoint.meta;
    Ok(Encoded {
        created_at: humantime::format_rfc3339_micros(meta.created_at).to_string(),
        next: json(&meta.next)?,
        versions: json(&meta.versions)?,
        frontier: if meta.frontier.is_null() {
            None
        } else {
            Some(json(&meta.frontier)?)
        },
        delta: json(&checkpoint.delta)?,
        snapshot: checkpoint.snapshot.as_ref().map(|s| json(s)).transpose()?,
    })
}

/// `serde_json::to_string` behind a trait object, so `encode` needs one closure.
mod erased {
    pub(super) trait Json {
        fn to_json(&self) -> serde_json::Result<String>;
    }

    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> serde_json::Result<String> {
            serde_json::to_string(self)
        }
    }
}

/// Reads a row's metadata columns.
pub(super) fn meta_of(
    row: &impl Columns,
    thread_id: &str,
) -> Result<CheckpointMeta, CheckpointError> {
    let raw_id = columns::text(row, "checkpoint_id")?;
    let corrupt = |column: &str, detail: String| CheckpointError::Corrupt {
        thread: thread_id.to_owned(),
        checkpoint: raw_id.to_owned(),
        detail: format!("column `{column}`: {detail}"),
    };
    let id = raw_id
        .parse::<CheckpointId>()
        .map_err(|error| corrupt("checkpoint_id", error.to_string()))?;
    let parent_id = row
        .text("parent_id")?
        .map(str::parse::<CheckpointId>)
        .transpose()
        .map_err(|error| corrupt("parent_id", error.to_string()))?;
    let source = columns::text(row, "source")?;
    let created_at = columns::text(row, "created_at")?;
    Ok(CheckpointMeta {
        thread_id: thread_id.to_owned(),
        checkpoint_ns: columns::text(row, "checkpoint_ns")?.to_owned(),
        id,
        parent_id,
        run_id: row.text("run_id")?.map(str::to_owned),
        step: columns::int(row, "step")?,
        source: Source::from_name(source)
            .ok_or_else(|| corrupt("source", format!("unknown source `{source}`")))?,
        created_at: humantime::parse_rfc3339(created_at)
            .map_err(|error| corrupt("created_at", error.to_string()))?,
        next: json_column::<Vec<String>>(row, "next_nodes", &corrupt)?,
        versions: json_column::<BTreeMap<String, u64>>(row, "versions", &corrupt)?,
        frontier: match row.text("frontier")? {
            None => Value::Null,
            Some(text) => serde_json::from_str(text)
                .map_err(|error| corrupt("frontier", error.to_string()))?,
        },
    })
}

/// Reads a checkpoint's metadata and counters.
pub(super) fn target_of(
    row: &impl Columns,
    thread_id: &str,
) -> Result<(CheckpointMeta, SnapshotCounters, String), CheckpointError> {
    let meta = meta_of(row, thread_id)?;
    let count = |column: &str| -> Result<u64, CheckpointError> {
        let value = columns::int(row, column)?;
        u64::try_from(value).map_err(|_| {
            crate::row::corrupt(&meta, format!("column `{column}`: negative count {value}"))
        })
    };
    let counters = SnapshotCounters {
        rows_since: count("rows_since")?,
        bytes_since: count("bytes_since")?,
        base_bytes: count("base_bytes")?,
    };
    let base_id = columns::text(row, "base_id")?.to_owned();
    Ok((meta, counters, base_id))
}

/// A snapshot read from the database, and its size in bytes of JSON.
pub(super) type ReadSnapshot = (Arc<Map<String, Value>>, u64);

/// The whole state at `target`, from the row of its chain (columns `snapshot`, the base's
/// unless `kept` holds it, and `links`, a JSON list of `[id, parent id or "", delta]` of
/// every delta-only checkpoint on the base); and the base's snapshot when it was read.
pub(super) fn chain_of(
    row: &impl Columns,
    target: &CheckpointMeta,
    base_id: &str,
    kept: Option<Arc<Map<String, Value>>>,
) -> Result<(Map<String, Value>, Option<ReadSnapshot>), CheckpointError> {
    let corrupt = |column: &str, detail: String| {
        crate::row::corrupt(target, format!("column `{column}`: {detail}"))
    };
    let read = row
        .text("snapshot")?
        .map(|text| {
            serde_json::from_str::<Map<String, Value>>(text)
                .map(|snapshot| (Arc::new(snapshot), text.len() as u64))
        })
        .transpose()
        .map_err(|error| corrupt("snapshot", error.to_string()))?;
    let snapshot = kept.or_else(|| read.as_ref().map(|(snapshot, _)| Arc::clone(snapshot)));
    let links: Vec<(String, String, StateDelta)> = match row.text("links")? {
        None => Vec::new(),
        Some(list) => serde_json::from_str(&format!("[{list}]"))
            .map_err(|error| corrupt("delta", error.to_string()))?,
    };
    let by_id: HashMap<&str, (&str, &StateDelta)> = links
        .iter()
        .map(|(id, parent, delta)| (id.as_str(), (parent.as_str(), delta)))
        .collect();
    // From the checkpoint up to the base, then folded oldest first.
    let target_id = target.id.to_string();
    let mut deltas = Vec::new();
    let mut at = target_id.as_str();
    let start = loop {
        if at == base_id
            && let Some(snapshot) = &snapshot
        {
            break Map::clone(snapshot);
        }
        let Some((parent, delta)) = by_id.get(at) else {
            return Err(crate::row::corrupt(
                target,
                format!("its chain breaks at `{at}`, which is not stored"),
            ));
        };
        deltas.push(*delta);
        if deltas.len() > by_id.len() {
            return Err(crate::row::corrupt(
                target,
                "its chain of parents is a cycle",
            ));
        }
        if parent.is_empty() {
            break Map::new();
        }
        at = parent;
    };
    let mut values = start;
    for delta in deltas.into_iter().rev() {
        fold(&mut values, delta).map_err(|detail| crate::row::corrupt(target, detail))?;
    }
    Ok((values, read))
}

/// A checkpoint's pending writes, from the column `writes`: a JSON list of `[task_id,
/// channel, node, value as stored text]` in the order they were written (`NULL` or `[]`
/// for none).
pub(super) fn writes_of(
    row: &impl Columns,
    target: &CheckpointMeta,
) -> Result<Vec<PendingWrite>, CheckpointError> {
    let corrupt = |detail: String| {
        crate::row::corrupt(
            target,
            format!("a pending write's column `value`: {detail}"),
        )
    };
    let Some(list) = row.text("writes")? else {
        return Ok(Vec::new());
    };
    let rows: Vec<(String, String, String, String)> = serde_json::from_str(list)
        .map_err(|error| crate::row::corrupt(target, format!("its pending writes: {error}")))?;
    rows.into_iter()
        .map(|(task_id, channel, node, value)| {
            Ok(PendingWrite {
                task_id,
                channel,
                node,
                value: serde_json::from_str(&value).map_err(|error| corrupt(error.to_string()))?,
            })
        })
        .collect()
}

fn json_column<T: DeserializeOwned>(
    row: &impl Columns,
    column: &str,
    corrupt: &dyn Fn(&str, String) -> CheckpointError,
) -> Result<T, CheckpointError> {
    let text = columns::text(row, column)?;
    serde_json::from_str(text).map_err(|error| corrupt(column, error.to_string()))
}
