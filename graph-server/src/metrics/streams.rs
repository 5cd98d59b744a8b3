//! Counts the event streams open to clients: a response of type `text/event-stream` is
//! open from the moment it is sent until its body is dropped (the run ended and the last
//! event went out, or the client went away).

use axum::body::Body;
use axum::http::header;
use axum::response::Response;
use futures::StreamExt as _;
use prometheus_client::metrics::gauge::Gauge;

/// What an event stream's body holds: the gauge comes down when the body goes.
struct OpenStream(Gauge);

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// `response`, counted in `open` while its body lives when it is an event stream.
pub(crate) fn count_open_streams(open: &Gauge, response: Response) -> Response {
    let is_stream = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|kind| kind.as_bytes().starts_with(b"text/event-stream"));
    if !is_stream {
        return response;
    }
    open.inc();
    let guard = OpenStream(open.clone());
    let (parts, body) = response.into_parts();
    let body = body.into_data_stream().map(move |chunk| {
        // Held by the stream, so it drops with the body.
        let _open = &guard;
        chunk
    });
    Response::from_parts(parts, Body::from_stream(body))
}
