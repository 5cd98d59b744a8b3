//! A `tracing` layer that keeps every span a test's code opens: its name, target, parent,
//! fields (as recorded so far) and whether it closed, to assert a run's span tree.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Dispatch, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// One span as the recorder saw it.
#[derive(Clone, Debug)]
pub struct RecordedSpan {
    /// The span's name (`otel.name` is a field, see [`RecordedSpan::field`]).
    pub name: &'static str,
    /// Its target.
    pub target: String,
    /// Its level.
    pub level: tracing::Level,
    /// The index of its parent among the recorder's spans.
    pub parent: Option<usize>,
    /// Its fields, each as it was last recorded (strings without quotes, others by
    /// `Debug`).
    pub fields: BTreeMap<String, String>,
    /// Whether it has closed.
    pub closed: bool,
}

impl RecordedSpan {
    /// Field `name`, if recorded.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// The name OpenTelemetry would export: `otel.name` when set, else the span's name.
    pub fn otel_name(&self) -> &str {
        self.field("otel.name").unwrap_or(self.name)
    }
}

/// The spans recorded so far, in the order they opened.
#[derive(Clone, Default)]
pub struct SpanRecorder {
    spans: Arc<Mutex<Vec<RecordedSpan>>>,
}

/// The index of a span among the recorder's, kept in the span's extensions.
struct Index(usize);

impl SpanRecorder {
    /// A recorder, and a dispatch that sends every span of every level to it (install it
    /// with `tracing::dispatcher::set_default`).
    pub fn new() -> (Self, Dispatch) {
        let recorder = Self::default();
        let subscriber = tracing_subscriber::registry().with(recorder.clone());
        (recorder, Dispatch::new(subscriber))
    }

    /// Every span recorded so far.
    pub fn spans(&self) -> Vec<RecordedSpan> {
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The spans whose exported name is `name`, with their indexes.
    pub fn named(&self, name: &str) -> Vec<(usize, RecordedSpan)> {
        self.spans()
            .into_iter()
            .enumerate()
            .filter(|(_, span)| span.otel_name() == name)
            .collect()
    }

    /// The one span named `name`, with its index; panics (a test's failure) when there
    /// is not exactly one.
    pub fn one(&self, name: &str) -> (usize, RecordedSpan) {
        let mut named = self.named(name);
        assert_eq!(
            named.len(),
            1,
            "expected one span named `{name}`, got {}: {:#?}",
            named.len(),
            self.tree()
        );
        named.remove(0)
    }

    /// The spans as an indented tree of exported names, for failure messages.
    pub fn tree(&self) -> String {
        let spans = self.spans();
        let mut out = String::new();
        for (index, span) in spans.iter().enumerate() {
            let mut depth = 0;
            let mut parent = span.parent;
            while let Some(up) = parent {
                depth += 1;
                parent = spans[up].parent;
            }
            out.push_str(&format!(
                "{:indent$}{index}: {} ({})\n",
                "",
                span.otel_name(),
                span.target,
                indent = depth * 2
            ));
        }
        out
    }

    fn with<T>(&self, f: impl FnOnce(&mut Vec<RecordedSpan>) -> T) -> T {
        f(&mut self.spans.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for SpanRecorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let parent = span
            .parent()
            .and_then(|parent| parent.extensions().get::<Index>().map(|index| index.0));
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let metadata = attrs.metadata();
        let index = self.with(|spans| {
            spans.push(RecordedSpan {
                name: metadata.name(),
                target: metadata.target().to_owned(),
                level: *metadata.level(),
                parent,
                fields,
                closed: false,
            });
            spans.len() - 1
        });
        span.extensions_mut().insert(Index(index));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(index) = ctx
            .span(id)
            .and_then(|span| span.extensions().get::<Index>().map(|index| index.0))
        else {
            return;
        };
        self.with(|spans| values.record(&mut Fields(&mut spans[index].fields)));
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(index) = ctx
            .span(&id)
            .and_then(|span| span.extensions().get::<Index>().map(|index| index.0))
        else {
            return;
        };
        self.with(|spans| spans[index].closed = true);
    }
}
