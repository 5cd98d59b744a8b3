//! What the spans cost when a subscriber records them: runs of small graphs with no
//! subscriber and with one recording every span (every field formatted, into a sink that
//! keeps nothing), in the same run. The differences give the time added per model call
//! and per task. (With no subscriber at all, the messages-mode benchmark of `tokens.rs`
//! measures the spans' cost against the previous commit.)

use std::fmt::Write as _;

use criterion::{Criterion, criterion_group, criterion_main};
use futures::StreamExt;
use stategraph::AnyChatModel;
use stategraph::mode::Messages;
use stategraph::prelude::*;
use stategraph_benches::graphs::{Empty, EmptyUpdate, one_call};
use tracing::Dispatch;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// How many calls, and tasks, the larger graphs make.
const TEN: usize = 10;

/// `START -> call -> END`: ten model calls one after the other.
#[graph(state = Empty, context = AnyChatModel, edges = [START -> call -> END])]
mod ten_calls {
    use super::*;

    /// Calls the model ten times.
    #[node]
    async fn call(_state: &Empty, ctx: &Ctx) -> Result<EmptyUpdate, NodeError> {
        for _ in 0..TEN {
            ctx.chat(ctx.context())
                .invoke([Message::user("go")])
                .await?;
        }
        Ok(EmptyUpdate::default().done(true))
    }
}

/// How many `work` tasks the `fan` graph starts.
#[derive(Clone, Debug, Default, State)]
struct Fan {
    tasks: usize,
}

/// `begin`, then `tasks` tasks of `work` in one step: runs of one and of ten differ by nine
/// tasks and nothing else.
#[graph(state = Fan, edges = [START -> begin -> fan_out ? [work], work -> END])]
mod fan {
    use super::*;

    /// Starts the run.
    #[node]
    async fn begin(_state: &Fan) -> FanUpdate {
        FanUpdate::default()
    }

    /// One `work` task per the state's count.
    #[router]
    fn fan_out(state: &Fan) -> Vec<FanOut> {
        (0..state.tasks)
            .map(|_| FanOut::Work(Fan::default()))
            .collect()
    }

    /// Returns at once.
    #[node]
    async fn work(_state: &Fan) -> FanUpdate {
        FanUpdate::default()
    }
}

/// Keeps nothing: what a recorder writing every field to nowhere costs.
struct Sink(usize);

impl std::fmt::Write for Sink {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        std::hint::black_box(self.0);
        Ok(())
    }
}

impl Visit for Sink {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self, "{}={value:?}", field.name());
    }
}

/// A layer recording every span: each field formatted when the span opens and when a
/// field is recorded, and each close seen.
struct RecordEverything;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for RecordEverything {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        let mut sink = Sink(attrs.metadata().name().len());
        attrs.record(&mut sink);
    }

    fn on_record(&self, _: &Id, values: &Record<'_>, _: Context<'_, S>) {
        values.record(&mut Sink(0));
    }

    fn on_close(&self, id: Id, _: Context<'_, S>) {
        std::hint::black_box(id);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

/// Measures `run` with no subscriber and with [`RecordEverything`] in group `name`.
fn both<F: Future<Output = usize>>(c: &mut Criterion, name: &str, run: impl Fn() -> F) {
    let runtime = runtime();
    let recording = Dispatch::new(tracing_subscriber::registry().with(RecordEverything));
    let mut group = c.benchmark_group(name);
    group.sample_size(50);
    group.bench_function("no_subscriber", |b| b.iter(|| runtime.block_on(run())));
    group.bench_function("recording_subscriber", |b| {
        b.iter(|| tracing::dispatcher::with_default(&recording, || runtime.block_on(run())));
    });
    group.finish();
}

fn spans(c: &mut Criterion) {
    let model = AnyChatModel::new(ScriptedModel::new(["a"]));
    let one = one_call::Graph::new(model.clone());
    both(c, "spans_one_call", || async {
        let mut stream = one.stream(Empty::default(), Messages);
        let mut n = 0;
        while let Some(chunk) = stream.next().await {
            n += chunk.expect("no error").content().len();
        }
        n
    });
    let ten = ten_calls::Graph::new(model);
    both(c, "spans_ten_calls", || async {
        let mut stream = ten.stream(Empty::default(), Messages);
        let mut n = 0;
        while let Some(chunk) = stream.next().await {
            n += chunk.expect("no error").content().len();
        }
        n
    });
    let graph = fan::Graph::new();
    both(c, "spans_one_task", || async {
        let input = Fan { tasks: 1 };
        graph.invoke(input).await.expect("no error").tasks
    });
    both(c, "spans_ten_tasks", || async {
        let input = Fan { tasks: TEN };
        graph.invoke(input).await.expect("no error").tasks
    });
}

criterion_group!(benches, spans);
criterion_main!(benches);
