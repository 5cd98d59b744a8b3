//! Run records as rows of `stategraph_runs` and back.

use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;
use stategraph_core::checkpoint::{CheckpointError, RunRecord, RunStatus};

use super::from_sqlx;

/// The columns a record is read from.
pub(super) const COLUMNS: &str = "run_id, thread_id, assistant_id, created_at, updated_at, \
     status, metadata, kwargs, multitask_strategy";

/// A record's text columns that are not already text.
pub(super) struct Encoded {
    pub(super) created_at: String,
    pub(super) updated_at: String,
    pub(super) metadata: String,
    pub(super) kwargs: String,
}

pub(super) fn encode(run: &RunRecord) -> Result<Encoded, CheckpointError> {
    let text = |value: &Map<String, Value>| {
        serde_json::to_string(value).map_err(|error| CheckpointError::Encode {
            detail: format!("run `{}`: {error}", run.run_id),
        })
    };
    Ok(Encoded {
        created_at: humantime::format_rfc3339_micros(run.created_at).to_string(),
        updated_at: humantime::format_rfc3339_micros(run.updated_at).to_string(),
        metadata: text(&run.metadata)?,
        kwargs: text(&run.kwargs)?,
    })
}

pub(super) fn decode(row: &AnyRow) -> Result<RunRecord, CheckpointError> {
    let text = |column: &str| -> Result<String, CheckpointError> {
        row.try_get::<String, _>(column).map_err(from_sqlx)
    };
    let thread_id = text("thread_id")?;
    let run_id = text("run_id")?;
    let corrupt = |column: &str, detail: String| CheckpointError::Corrupt {
        thread: thread_id.clone(),
        checkpoint: format!("(run record {run_id})"),
        detail: format!("column `{column}`: {detail}"),
    };
    let time = |column: &str| {
        humantime::parse_rfc3339(&text(column)?).map_err(|error| corrupt(column, error.to_string()))
    };
    let object = |column: &str| -> Result<Map<String, Value>, CheckpointError> {
        match serde_json::from_str(&text(column)?) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(other) => Err(corrupt(
                column,
                format!("expected a JSON object, found {other}"),
            )),
            Err(error) => Err(corrupt(column, error.to_string())),
        }
    };
    let status = text("status")?;
    let status = RunStatus::from_name(&status)
        .ok_or_else(|| corrupt("status", format!("unknown status `{status}`")))?;
    Ok(RunRecord {
        assistant_id: text("assistant_id")?,
        created_at: time("created_at")?,
        updated_at: time("updated_at")?,
        status,
        metadata: object("metadata")?,
        kwargs: object("kwargs")?,
        multitask_strategy: text("multitask_strategy")?,
        run_id: run_id.clone(),
        thread_id: thread_id.clone(),
    })
}
