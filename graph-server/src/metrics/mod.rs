//! What `/metrics` shows, in Prometheus' text format: the server's runs (started, finished
//! by status, in flight), its open event streams and the tokens they carried, and, from the
//! spans of graph-core that [`ServerMetrics::layer`] watches, OpenTelemetry's GenAI client
//! histograms and the checkpoint writes' durations.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `stategraph_runs_started_total` | counter | |
//! | `stategraph_runs_finished_total` | counter | `status`: `success`, `error`, `interrupted`, `cancelled` |
//! | `stategraph_runs_in_flight` | gauge | |
//! | `stategraph_open_streams` | gauge | |
//! | `stategraph_tokens_streamed_total` | counter | |
//! | `gen_ai_client_token_usage` | histogram | `gen_ai_token_type`, `gen_ai_provider_name`, `gen_ai_request_model` |
//! | `gen_ai_client_operation_duration_seconds` | histogram | `gen_ai_provider_name`, `gen_ai_request_model`, `error_type` |
//! | `gen_ai_client_operation_time_to_first_chunk_seconds` | histogram | `gen_ai_provider_name`, `gen_ai_request_model` |
//! | `stategraph_checkpoint_write_duration_seconds` | histogram | |

mod layer;
mod metered;
mod streams;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

pub use layer::MetricsLayer;
pub(crate) use metered::Metered;
pub(crate) use streams::count_open_streams;

/// A finished run's status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StatusLabels {
    pub(crate) status: &'static str,
}

/// A model call's model.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ModelLabels {
    pub(crate) gen_ai_provider_name: String,
    pub(crate) gen_ai_request_model: String,
}

/// A model call's model and, when it failed, what failed.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OperationLabels {
    pub(crate) gen_ai_provider_name: String,
    pub(crate) gen_ai_request_model: String,
    pub(crate) error_type: Option<String>,
}

/// Token counts by type (`input`, `output`) and model.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct TokenLabels {
    pub(crate) gen_ai_token_type: &'static str,
    pub(crate) gen_ai_provider_name: String,
    pub(crate) gen_ai_request_model: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// The buckets of OpenTelemetry's advice for `gen_ai.client.operation.duration` (seconds),
/// from 10 ms to about 80 s.
fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 14))
}

/// Checkpoint writes take from tens of microseconds (memory) to tens of milliseconds.
fn write_seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// The buckets of OpenTelemetry's advice for `gen_ai.client.token.usage`: powers of 4.
fn tokens() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 4.0, 14))
}

/// A server's metrics. Cheap to clone: every clone counts into the same metrics.
///
/// The run, stream and token metrics count by themselves; the GenAI histograms and the
/// checkpoint writes' durations come from graph-core's spans, so they count only once
/// [`layer`](Self::layer) is part of the program's `tracing` subscriber.
#[derive(Clone)]
pub struct ServerMetrics {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    registry: Registry,
    pub(crate) runs_started: Counter,
    pub(crate) runs_finished: Family<StatusLabels, Counter>,
    pub(crate) runs_in_flight: Gauge,
    pub(crate) open_streams: Gauge,
    pub(crate) tokens_streamed: Counter,
    pub(crate) token_usage: Histograms<TokenLabels>,
    pub(crate) operation_duration: Histograms<OperationLabels>,
    pub(crate) time_to_first_chunk: Histograms<ModelLabels>,
    pub(crate) checkpoint_write: Histogram,
}

impl std::fmt::Debug for ServerMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerMetrics").finish_non_exhaustive()
    }
}

impl Default for ServerMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerMetrics {
    /// Metrics at zero.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let inner = Inner {
            runs_started: Counter::default(),
            runs_finished: Family::default(),
            runs_in_flight: Gauge::default(),
            open_streams: Gauge::default(),
            tokens_streamed: Counter::default(),
            token_usage: Family::new_with_constructor(tokens),
            operation_duration: Family::new_with_constructor(seconds),
            time_to_first_chunk: Family::new_with_constructor(seconds),
            checkpoint_write: write_seconds(),
            registry: Registry::default(),
        };
        registry.register(
            "stategraph_runs_started",
            "Runs started",
            inner.runs_started.clone(),
        );
        registry.register(
            "stategraph_runs_finished",
            "Runs finished, by status",
            inner.runs_finished.clone(),
        );
        registry.register(
            "stategraph_runs_in_flight",
            "Runs started and not finished",
            inner.runs_in_flight.clone(),
        );
        registry.register(
            "stategraph_open_streams",
            "Server-sent event streams open to clients",
            inner.open_streams.clone(),
        );
        registry.register(
            "stategraph_tokens_streamed",
            "Model chunks the runs streamed (messages mode)",
            inner.tokens_streamed.clone(),
        );
        registry.register(
            "gen_ai_client_token_usage",
            "Tokens of model calls, as their providers counted them",
            inner.token_usage.clone(),
        );
        registry.register_with_unit(
            "gen_ai_client_operation_duration",
            "Model calls' durations",
            Unit::Seconds,
            inner.operation_duration.clone(),
        );
        registry.register_with_unit(
            "gen_ai_client_operation_time_to_first_chunk",
            "Time from a model call's start to its first chunk",
            Unit::Seconds,
            inner.time_to_first_chunk.clone(),
        );
        registry.register_with_unit(
            "stategraph_checkpoint_write_duration",
            "Checkpoint writes' durations",
            Unit::Seconds,
            inner.checkpoint_write.clone(),
        );
        Self {
            inner: Arc::new(Inner { registry, ..inner }),
        }
    }

    /// The `tracing` layer turning graph-core's model-call and checkpoint-write spans into
    /// these metrics' histograms: add it to the program's subscriber.
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt;
    /// let metrics = stategraph_server::ServerMetrics::new();
    /// let subscriber = tracing_subscriber::registry().with(metrics.layer());
    /// # drop(subscriber);
    /// ```
    pub fn layer(&self) -> MetricsLayer {
        MetricsLayer::new(Arc::clone(&self.inner))
    }

    /// The metrics in Prometheus' text format (OpenMetrics 1.0).
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a `String` cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.inner.registry);
        text
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }
}

/// `GET /metrics`.
pub(crate) fn routes(metrics: ServerMetrics) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .with_state(metrics)
}

async fn render(State(metrics): State<ServerMetrics>) -> Response {
    let mut response = (StatusCode::OK, metrics.render()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}
