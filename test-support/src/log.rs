//! The examples' log: `tracing`'s spans and events on stderr, chosen by `RUST_LOG`, so
//! stdout keeps only what an example prints.

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Installs a subscriber printing to stderr the spans and events `RUST_LOG` asks for
/// (`default` when it is unset or unreadable), each span as it opens with its fields and
/// as it closes with the fields recorded since and its times. `RUST_LOG=stategraph=debug`
/// shows every run, step, task and model call. Does nothing when a subscriber is already
/// installed.
pub fn init(default: &str) {
    let _already_installed = tracing_subscriber::fmt()
        .with_env_filter(filter(default))
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
        .try_init();
}

/// [`init`]'s log, beside `layer`, which sees every span whatever `RUST_LOG` says (a
/// server's metrics layer).
pub fn init_with<L: Layer<Registry> + Send + Sync>(default: &str, layer: L) {
    let log = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
        .with_filter(filter(default));
    let _already_installed = tracing_subscriber::registry()
        .with(layer)
        .with(log)
        .try_init();
}

fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
}
