//! What a join of a run's events reads from its request (`stream_mode`, `Last-Event-ID`,
//! `cancel_on_disconnect`) and the events it sends from the run's log: the same for a run
//! on a thread and a resumable stateless run.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue};
use futures::StreamExt as _;
use futures::stream::BoxStream;
use uuid::Uuid;

use crate::error::ApiError;
use crate::request::Modes;
use crate::runs::event_log::{EventLog, From};
use crate::runs::pump::put_with_id;
use crate::wire::sse;

/// A join's request, checked.
pub(super) struct Join {
    /// The modes named by `stream_mode` (repeated for several); `None`: every event.
    modes: Option<Modes>,
    /// From after `Last-Event-ID` (`-1`: all kept), or only the events to come without it.
    from: From,
    /// `cancel_on_disconnect=true`: leaving cancels the run.
    pub(super) cancel_on_disconnect: bool,
}

impl Join {
    /// Reads the join's query pairs and headers; a wrong value is a 422 naming it.
    pub(super) fn parse(
        pairs: Vec<(String, String)>,
        headers: &HeaderMap,
    ) -> Result<Self, ApiError> {
        let modes = Modes::from_query_names(
            pairs
                .iter()
                .filter(|(name, _)| name == "stream_mode")
                .map(|(_, mode)| mode.as_str()),
        )?;
        let query: HashMap<String, String> = pairs.into_iter().collect();
        let from = match headers.get("last-event-id").map(HeaderValue::to_str) {
            None => From::Live,
            Some(Ok("-1")) => From::Start,
            Some(Ok(id)) => From::After(id.trim().parse().map_err(|error: String| {
                ApiError::Unprocessable(format!("Last-Event-ID: {error}"))
            })?),
            Some(Err(_)) => {
                return Err(ApiError::Unprocessable("Last-Event-ID: not text".into()));
            }
        };
        Ok(Self {
            modes,
            from,
            cancel_on_disconnect: flag(&query, "cancel_on_disconnect")?,
        })
    }

    /// The run's logged events this join asks for, each with its id, live until the log
    /// ends; `None` when the log has no such run.
    pub(super) fn events(
        &self,
        log: &dyn EventLog,
        run_id: Uuid,
    ) -> Option<BoxStream<'static, Bytes>> {
        let modes = self.modes;
        let events = log.read(run_id, self.from)?;
        Some(
            events
                .filter_map(move |(id, frames)| {
                    let frames = match modes {
                        None => frames,
                        Some(modes) => {
                            sse::keep_frames(&frames, |name| modes.has_event(name)).freeze()
                        }
                    };
                    let mut out = bytes::BytesMut::with_capacity(frames.len() + 32);
                    if !frames.is_empty() {
                        put_with_id(&mut out, &(id, frames));
                    }
                    std::future::ready((!out.is_empty()).then(|| out.freeze()))
                })
                .boxed(),
        )
    }
}

/// A query parameter as a flag: `1`/`true` or `0`/`false`.
pub(super) fn flag(query: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match query.get(name).map(String::as_str) {
        None | Some("0" | "false" | "False") => Ok(false),
        Some("1" | "true" | "True") => Ok(true),
        Some(other) => Err(ApiError::Unprocessable(format!(
            "{name}: expected true or false, got `{other}`"
        ))),
    }
}
