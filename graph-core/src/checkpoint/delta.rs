//! A state stored as changes: what one step changed, folding the changes back into a
//! state, and when to store the whole state instead.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How one field changed in a step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldChange {
    /// The field now holds this value (a field without a list reducer).
    Set(Value),
    /// These items were appended (a field with the `append` reducer).
    Append(Vec<Value>),
    /// These messages were added by the `messages` reducer: one whose `id` is already in
    /// the list replaces it, any other is appended.
    AddMessages(Vec<Value>),
}

/// The fields a step changed, by name. Stored as a JSON object of
/// `{"set": value}`, `{"append": [items]}` or `{"add_messages": [messages]}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StateDelta(pub BTreeMap<String, FieldChange>);

impl StateDelta {
    /// A delta that sets every field of `values`: what a checkpoint with no parent stores.
    pub fn set_all(values: &Map<String, Value>) -> Self {
        Self(
            values
                .iter()
                .map(|(field, value)| (field.clone(), FieldChange::Set(value.clone())))
                .collect(),
        )
    }

    /// Whether no field changed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Records that `field` changed by `change`.
    pub fn insert(&mut self, field: &str, change: FieldChange) {
        self.0.insert(field.to_owned(), change);
    }

    /// Adds the changes of a later update of the same step: folding the result equals
    /// folding `self`, then `later`.
    ///
    /// # Errors
    /// As [`fold`], when `later` changes a list that `self` set to something else.
    pub fn then(&mut self, later: StateDelta) -> Result<(), String> {
        for (field, change) in later.0 {
            match (self.0.get_mut(&field), change) {
                (None, change) => {
                    self.0.insert(field, change);
                }
                (Some(FieldChange::Append(items)), FieldChange::Append(more)) => {
                    items.extend(more);
                }
                (Some(FieldChange::AddMessages(messages)), FieldChange::AddMessages(more)) => {
                    messages.extend(more);
                }
                (
                    Some(FieldChange::Set(value)),
                    change @ (FieldChange::Append(_) | FieldChange::AddMessages(_)),
                ) => {
                    let mut values = Map::new();
                    values.insert(field.clone(), std::mem::take(value));
                    fold(
                        &mut values,
                        &StateDelta(BTreeMap::from([(field.clone(), change)])),
                    )?;
                    *value = values.remove(&field).unwrap_or_default();
                }
                (Some(existing), change) => *existing = change,
            }
        }
        Ok(())
    }
}

/// Applies `delta` to `values`, as the reducers did when the step ran.
///
/// # Errors
/// The field whose stored value does not fit the change (a list change to a field that is
/// not a list), with what was found.
pub fn fold(values: &mut Map<String, Value>, delta: &StateDelta) -> Result<(), String> {
    for (field, change) in &delta.0 {
        match change {
            FieldChange::Set(value) => {
                values.insert(field.clone(), value.clone());
            }
            FieldChange::Append(items) => list_of(values, field)?.extend(items.iter().cloned()),
            FieldChange::AddMessages(messages) => {
                let list = list_of(values, field)?;
                for message in messages {
                    let id = message.get("id").filter(|id| !id.is_null());
                    let existing =
                        id.and_then(|id| list.iter().position(|known| known.get("id") == Some(id)));
                    match existing {
                        Some(at) => list[at] = message.clone(),
                        None => list.push(message.clone()),
                    }
                }
            }
        }
    }
    Ok(())
}

/// The list stored in `field`, made empty when missing.
fn list_of<'a>(
    values: &'a mut Map<String, Value>,
    field: &str,
) -> Result<&'a mut Vec<Value>, String> {
    let slot = values
        .entry(field.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    match slot {
        Value::Array(list) => Ok(list),
        other => Err(format!(
            "field `{field}` holds {}, but a list change was stored for it",
            kind_of(other)
        )),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// How far a checkpoint is from the nearest full snapshot before it (or at it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SnapshotCounters {
    /// Deltas stored since the snapshot (0 at the snapshot).
    pub rows_since: u64,
    /// Their size in bytes of JSON.
    pub bytes_since: u64,
    /// The snapshot's size in bytes of JSON.
    pub base_bytes: u64,
}

/// When a checkpoint stores the whole state besides its delta.
///
/// A snapshot is due when the deltas since the last one weigh as much as it did, so that
/// snapshots at most double what the deltas take (a list that grows by appends gets a
/// snapshot each time it has doubled), or when `max_rows` deltas have piled up, so that a
/// read folds at most that many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotPolicy {
    /// The most deltas a read folds.
    pub max_rows: u64,
}

impl Default for SnapshotPolicy {
    fn default() -> Self {
        Self { max_rows: 256 }
    }
}

impl SnapshotPolicy {
    /// Whether the checkpoint after `parent` (none for the first of a thread) whose delta
    /// takes `delta_bytes` should store a snapshot.
    pub fn due(&self, parent: Option<&SnapshotCounters>, delta_bytes: u64) -> bool {
        match parent {
            None => true,
            Some(parent) => {
                parent.rows_since + 1 >= self.max_rows
                    || parent.bytes_since + delta_bytes >= parent.base_bytes
            }
        }
    }

    /// The counters of the checkpoint after `parent`: reset by a snapshot of
    /// `snapshot_bytes`, or one delta further.
    pub fn next(
        &self,
        parent: Option<&SnapshotCounters>,
        delta_bytes: u64,
        snapshot_bytes: Option<u64>,
    ) -> SnapshotCounters {
        match (snapshot_bytes, parent) {
            (Some(base_bytes), _) => SnapshotCounters {
                rows_since: 0,
                bytes_since: 0,
                base_bytes,
            },
            (None, Some(parent)) => SnapshotCounters {
                rows_since: parent.rows_since + 1,
                bytes_since: parent.bytes_since + delta_bytes,
                base_bytes: parent.base_bytes,
            },
            (None, None) => SnapshotCounters {
                rows_since: 1,
                bytes_since: delta_bytes,
                base_bytes: 0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("an object literal"),
        }
    }

    #[test]
    fn folding_sets_appends_and_adds_messages_by_id() {
        let mut values =
            object(json!({"count": 1, "notes": ["a"], "messages": [{"id": "1", "content": "hi"}]}));
        let delta: StateDelta = serde_json::from_value(json!({
            "count": {"set": 2},
            "notes": {"append": ["b", "c"]},
            "messages": {"add_messages": [{"id": "1", "content": "hello"}, {"id": "2", "content": "new"}, {"content": "no id"}]},
            "fresh": {"append": [1]}
        }))
        .unwrap();
        fold(&mut values, &delta).unwrap();
        assert_eq!(
            Value::Object(values),
            json!({
                "count": 2,
                "notes": ["a", "b", "c"],
                "messages": [{"id": "1", "content": "hello"}, {"id": "2", "content": "new"}, {"content": "no id"}],
                "fresh": [1]
            })
        );
    }

    #[test]
    fn a_list_change_to_a_field_that_is_not_a_list_names_the_field() {
        let mut values = object(json!({"notes": "text"}));
        let delta: StateDelta =
            serde_json::from_value(json!({"notes": {"append": ["b"]}})).unwrap();
        let error = fold(&mut values, &delta).unwrap_err();
        assert!(error.contains("`notes` holds a string"), "{error}");
    }

    #[test]
    fn a_step_of_several_updates_folds_as_they_do_one_by_one() {
        let start =
            object(json!({"n": 0, "log": ["a"], "messages": [{"id": "1", "content": "x"}]}));
        let first: StateDelta = serde_json::from_value(json!({
            "n": {"set": 1}, "log": {"append": ["b"]},
            "messages": {"add_messages": [{"id": "2", "content": "y"}]}
        }))
        .unwrap();
        let second: StateDelta = serde_json::from_value(json!({
            "n": {"set": 2}, "log": {"append": ["c"]},
            "messages": {"add_messages": [{"id": "1", "content": "z"}]}, "other": {"set": true}
        }))
        .unwrap();
        let mut one_by_one = start.clone();
        fold(&mut one_by_one, &first).unwrap();
        fold(&mut one_by_one, &second).unwrap();
        let mut combined = first.clone();
        combined.then(second).unwrap();
        let mut at_once = start;
        fold(&mut at_once, &combined).unwrap();
        assert_eq!(at_once, one_by_one);

        let mut set_then_append: StateDelta =
            serde_json::from_value(json!({"log": {"set": ["a"]}})).unwrap();
        set_then_append
            .then(serde_json::from_value(json!({"log": {"append": ["b"]}})).unwrap())
            .unwrap();
        assert_eq!(
            serde_json::to_value(&set_then_append).unwrap(),
            json!({"log": {"set": ["a", "b"]}})
        );
    }

    #[test]
    fn deltas_are_stored_as_a_json_object_of_changes() {
        let mut delta = StateDelta::default();
        delta.0.insert("n".into(), FieldChange::Set(json!(3)));
        delta
            .0
            .insert("log".into(), FieldChange::Append(vec![json!("x")]));
        assert_eq!(
            serde_json::to_value(&delta).unwrap(),
            json!({"log": {"append": ["x"]}, "n": {"set": 3}})
        );
    }

    #[test]
    fn snapshots_come_when_the_deltas_weigh_as_much_as_the_last_one() {
        let policy = SnapshotPolicy { max_rows: 1_000 };
        // A list that grows by 100 bytes a step: snapshots at steps 1, 2, 4, 8, ...
        let mut parent: Option<SnapshotCounters> = None;
        let mut snapshots = Vec::new();
        for step in 1..=64u64 {
            let due = policy.due(parent.as_ref(), 100);
            let snapshot_bytes = due.then_some(step * 100);
            if due {
                snapshots.push(step);
            }
            parent = Some(policy.next(parent.as_ref(), 100, snapshot_bytes));
        }
        assert_eq!(snapshots, [1, 2, 4, 8, 16, 32, 64]);
    }

    #[test]
    fn snapshots_come_at_least_every_max_rows() {
        let policy = SnapshotPolicy { max_rows: 10 };
        let mut parent = Some(policy.next(None, 10, Some(1_000_000)));
        let mut rows = 0;
        while !policy.due(parent.as_ref(), 10) {
            parent = Some(policy.next(parent.as_ref(), 10, None));
            rows += 1;
        }
        assert_eq!(rows, 9, "the tenth delta after a snapshot comes with one");
    }
}
