//! The runs' spans sent to any OTLP/HTTP endpoint (feature `otel`): a collector, Jaeger,
//! Grafana Tempo, or LangSmith's `/otel/v1/traces`.
//!
//! The exporter is configured by OpenTelemetry's standard variables:
//!
//! | variable | what it sets |
//! |---|---|
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | the base URL (`/v1/traces` is appended); default `http://localhost:4318` |
//! | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | the whole URL of the traces endpoint, over the base |
//! | `OTEL_EXPORTER_OTLP_HEADERS` (`_TRACES_HEADERS`) | headers, `key=value,key2=value2`: an API key goes here |
//! | `OTEL_EXPORTER_OTLP_TIMEOUT` (`_TRACES_TIMEOUT`) | milliseconds before an export gives up; default 10000 |
//! | `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` | the resource the spans come from |
//!
//! For LangSmith: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=https://api.smith.langchain.com/otel/v1/traces`
//! and `OTEL_EXPORTER_OTLP_HEADERS=x-api-key=<key>,Langsmith-Project=<project>`. The key
//! travels in the request's headers only; no span carries it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), stategraph::otel::OtelError> {
//! let otel = stategraph::otel::install()?;
//! // ... run graphs ...
//! otel.shutdown()?; // sends what is left
//! # Ok(())
//! # }
//! ```

mod http_client;

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer as _};

use http_client::ExportClient;

/// What [`install`] filters spans with when `RUST_LOG` is unset: every span of stategraph
/// (runs, steps, tasks, model and tool calls, checkpoint writes), and other crates' from
/// `info` up.
pub const DEFAULT_FILTER: &str = "info,stategraph=debug";

/// Why the exporter could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtelError {
    /// The exporter's configuration (its endpoint, headers or protocol) is wrong.
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// The exporter's HTTP client or its runtime could not be made.
    #[error("cannot start the OTLP exporter's HTTP client: {0}")]
    Client(#[from] std::io::Error),
    /// Another `tracing` subscriber is already the program's.
    #[error("a tracing subscriber is already installed: {0}")]
    AlreadyInstalled(#[from] tracing_subscriber::util::TryInitError),
    /// Sending the last spans, or stopping the exporter, failed.
    #[error("the OTLP exporter failed to flush or stop: {0}")]
    Shutdown(#[from] opentelemetry_sdk::error::OTelSdkError),
}

/// The exporter behind a [`layer`]: keep it while the program runs, and
/// [`shutdown`](Self::shutdown) it at the end so the last spans are sent.
#[derive(Debug, Clone)]
#[must_use = "dropping the exporter's handle does not send its last spans; call `shutdown`"]
pub struct Otel {
    provider: SdkTracerProvider,
}

impl Otel {
    /// Sends the spans waiting in the batch now.
    ///
    /// # Errors
    /// The exporter's, when the spans could not be sent.
    pub fn flush(&self) -> Result<(), OtelError> {
        Ok(self.provider.force_flush()?)
    }

    /// Sends the spans waiting in the batch and stops the exporter. It blocks the calling
    /// thread until then (at most the export's timeout): from async code, call it in
    /// `tokio::task::spawn_blocking`.
    ///
    /// # Errors
    /// The exporter's, when the spans could not be sent or it was already stopped.
    pub fn shutdown(&self) -> Result<(), OtelError> {
        Ok(self.provider.shutdown()?)
    }
}

/// A `tracing` layer turning spans into OpenTelemetry's and exporting them over
/// OTLP/HTTP with protobuf, configured by the `OTEL_EXPORTER_OTLP_*` variables, and the
/// handle that flushes it. Add the layer to your own subscriber; [`install`] does it for
/// you.
///
/// # Errors
/// [`OtelError::Exporter`] when the variables name a bad endpoint or headers;
/// [`OtelError::Client`] when the HTTP client cannot start.
pub fn layer<S>() -> Result<(OpenTelemetryLayer<S, SdkTracer>, Otel), OtelError>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let client = ExportClient::new(export_timeout())?;
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_http_client(client)
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().build())
        .build();
    let tracer = provider.tracer("stategraph");
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false);
    Ok((layer, Otel { provider }))
}

/// Installs, as the program's `tracing` subscriber, the [`layer`] exporting spans over
/// OTLP, filtered by `RUST_LOG` ([`DEFAULT_FILTER`] when unset).
///
/// # Errors
/// [`layer`]'s, and [`OtelError::AlreadyInstalled`] when the program has a subscriber.
pub fn install() -> Result<Otel, OtelError> {
    let (layer, otel) = layer()?;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init()?;
    Ok(otel)
}

/// The export's timeout: `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` or `OTEL_EXPORTER_OTLP_TIMEOUT`
/// in milliseconds, else OpenTelemetry's default of 10 s. (The exporter reads them for its
/// own clients; this one is ours, so it is told.)
fn export_timeout() -> Duration {
    [
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
    ]
    .iter()
    .find_map(|name| std::env::var(name).ok()?.trim().parse::<u64>().ok())
    .map_or(Duration::from_secs(10), Duration::from_millis)
}
