//! Each request's span (tower-http's trace layer): the runs a request starts open their
//! spans inside it, and a request answered with a server error is marked failed.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response};
use stategraph_core::telemetry::mark_error;
use tower_http::classify::{ServerErrorsAsFailures, ServerErrorsFailureClass, SharedClassifier};
use tower_http::trace::TraceLayer;
use tracing::Span;
use tracing::field::Empty;

/// The target of a request's span.
pub(crate) const TARGET_REQUEST: &str = "stategraph::server";

/// The layer opening a span per request.
pub(crate) type RequestSpans = TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    fn(&Request<Body>) -> Span,
    tower_http::trace::DefaultOnRequest,
    fn(&Response<Body>, Duration, &Span),
    tower_http::trace::DefaultOnBodyChunk,
    tower_http::trace::DefaultOnEos,
    fn(ServerErrorsFailureClass, Duration, &Span),
>;

/// A span per request, named `{method} {path}`, with its status once answered.
pub(crate) fn request_spans() -> RequestSpans {
    TraceLayer::new_for_http()
        .make_span_with(request_span as fn(&Request<Body>) -> Span)
        .on_response(answered as fn(&Response<Body>, Duration, &Span))
        .on_failure(failed as fn(ServerErrorsFailureClass, Duration, &Span))
}

fn request_span(request: &Request<Body>) -> Span {
    let span = tracing::info_span!(
        target: TARGET_REQUEST,
        "http.request",
        otel.name = Empty,
        otel.kind = "server",
        http.request.method = %request.method(),
        url.path = request.uri().path(),
        http.response.status_code = Empty,
        error.type = Empty,
        otel.status_code = Empty,
        otel.status_description = Empty,
    );
    if !span.is_disabled() {
        span.record(
            "otel.name",
            format!("{} {}", request.method(), request.uri().path()).as_str(),
        );
    }
    span
}

fn answered(response: &Response<Body>, _latency: Duration, span: &Span) {
    span.record(
        "http.response.status_code",
        i64::from(response.status().as_u16()),
    );
}

fn failed(failure: ServerErrorsFailureClass, _latency: Duration, span: &Span) {
    match failure {
        ServerErrorsFailureClass::StatusCode(status) => {
            mark_error(span, status.as_str(), format!("answered {status}"));
        }
        ServerErrorsFailureClass::Error(message) => mark_error(span, "response_error", message),
    }
}
