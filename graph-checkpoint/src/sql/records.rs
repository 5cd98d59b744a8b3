//! Thread records as rows of `stategraph_threads` and back.

use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;
use stategraph_core::checkpoint::{CheckpointError, ThreadRecord, ThreadStatus};

use super::from_sqlx;

/// The columns a record is read from, in [`decode`]'s order.
pub(super) const COLUMNS: &str =
    "thread_id, created_at, updated_at, metadata, status, state_values, interrupts";

/// A record's text columns.
pub(super) struct Encoded {
    pub(super) created_at: String,
    pub(super) updated_at: String,
    pub(super) metadata: String,
    pub(super) values: String,
    pub(super) interrupts: String,
}

pub(super) fn encode(record: &ThreadRecord) -> Result<Encoded, CheckpointError> {
    Ok(Encoded {
        created_at: humantime::format_rfc3339_micros(record.created_at).to_string(),
        updated_at: humantime::format_rfc3339_micros(record.updated_at).to_string(),
        metadata: to_text(record, &record.metadata)?,
        values: to_text(record, &record.values)?,
        interrupts: to_text(record, &record.interrupts)?,
    })
}

fn to_text<T: serde::Serialize>(
    record: &ThreadRecord,
    value: &T,
) -> Result<String, CheckpointError> {
    serde_json::to_string(value).map_err(|error| CheckpointError::Encode {
        detail: format!("thread `{}`: {error}", record.thread_id),
    })
}

pub(super) fn decode(row: &AnyRow) -> Result<ThreadRecord, CheckpointError> {
    let thread_id: String = row.try_get("thread_id").map_err(from_sqlx)?;
    let corrupt = |column: &str, detail: String| CheckpointError::Corrupt {
        thread: thread_id.clone(),
        checkpoint: "(thread record)".into(),
        detail: format!("column `{column}`: {detail}"),
    };
    let text = |column: &str| -> Result<String, CheckpointError> {
        row.try_get::<String, _>(column).map_err(from_sqlx)
    };
    let time = |column: &str| {
        humantime::parse_rfc3339(&text(column)?).map_err(|error| corrupt(column, error.to_string()))
    };
    let json = |column: &str| -> Result<Value, CheckpointError> {
        serde_json::from_str(&text(column)?).map_err(|error| corrupt(column, error.to_string()))
    };
    let object = |column: &str| -> Result<Map<String, Value>, CheckpointError> {
        match json(column)? {
            Value::Object(map) => Ok(map),
            other => Err(corrupt(
                column,
                format!("expected a JSON object, found {other}"),
            )),
        }
    };
    let status = text("status")?;
    let status = ThreadStatus::from_name(&status)
        .ok_or_else(|| corrupt("status", format!("unknown status `{status}`")))?;
    Ok(ThreadRecord {
        created_at: time("created_at")?,
        updated_at: time("updated_at")?,
        metadata: object("metadata")?,
        status,
        values: json("state_values")?,
        interrupts: object("interrupts")?,
        thread_id,
    })
}
