//! Serves the guide's graph to LangGraph's own clients, as assistant `agent`, over the Agent
//! Server protocol: `langgraph-sdk`'s `client.runs.stream(None, "agent", input=...)` works
//! against it unchanged.
//!
//! `cargo run --example serve` serves on 127.0.0.1:8123 (`--port N` to change it; `--port
//! 0` picks a free one). The model is scripted with the guide's tokens, or `ChatOpenAI`
//! when `OPENAI_BASE_URL` / `OPENAI_API_KEY` are set. The first line on stdout is the
//! address served; the server's log (the detail of failed runs) goes to stderr, with each
//! request's and run's spans when `RUST_LOG=stategraph=debug`. `GET /metrics` shows the
//! runs, streams, tokens and model calls in Prometheus' text format.
//!
//! `--with-test-graphs` also serves the graphs the Python SDK tests drive: `nested` (the
//! guide's graph as a subgraph), `failing` (a node that fails mid-stream), `approval` (a
//! node that stops on an interrupt until a `Command(resume=...)` answers it), and `gated`
//! and `release` (a run of `gated` holds its thread until a run of `release`).
//!
//! Threads are stored in `STATEGRAPH_DB` (default `sqlite://stategraph.db` in the working
//! directory, created when missing; `postgres://...` and `memory:` work too), as the
//! durable examples store them.
//!
//! A user's binary does the same with the facade's `server` feature:
//! `stategraph::server::Server::new().graph("agent", graph).serve(address)`.

use std::io::Write as _;
use std::process::ExitCode;

use stategraph::prelude::*;
use stategraph::{AnyChatModel, ScriptedModel};
use stategraph_server::Server;
use stategraph_test_support::guide::{Topic, TopicUpdate, models, nested, progress_joke_poem};
use stategraph_test_support::threads::{Gate, approval, gated, release};

/// `START -> joke -> END`, where the model fails after three tokens: clients see those
/// tokens, then an `error` event.
#[graph(state = Topic, context = AnyChatModel, edges = [START -> joke -> END])]
pub mod failing {
    use super::*;

    /// Streams a joke from a model that breaks off.
    #[node]
    pub async fn joke(state: &Topic, ctx: &Ctx) -> Result<TopicUpdate, NodeError> {
        let prompt = format!("Write a joke about {}", state.topic);
        let joke = ctx
            .chat(ctx.context())
            .invoke([Message::user(prompt)])
            .await?;
        Ok(TopicUpdate::default().joke(joke.content))
    }
}

struct Args {
    port: u16,
    test_graphs: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 8123,
        test_graphs: false,
    };
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        match arg.as_str() {
            "--port" => {
                let port = given.next().ok_or("--port needs a number")?;
                args.port = port
                    .parse()
                    .map_err(|_| format!("--port: `{port}` is not a port number"))?;
            }
            "--with-test-graphs" => args.test_graphs = true,
            other => {
                return Err(format!(
                    "unknown argument `{other}`; the arguments are `--port N` and `--with-test-graphs`"
                ));
            }
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let store = match stategraph_test_support::guide::store_from_env().await {
        Ok(store) => store,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut server = Server::new()
        .store(store)
        .graph("agent", progress_joke_poem::Graph::new(models()));
    // The detail of a failed run goes to the server's log, never to the client; the
    // metrics layer gives `/metrics` its model-call and checkpoint histograms.
    stategraph_test_support::log::init_with(
        "warn,stategraph_server=info",
        server.metrics().layer(),
    );
    if args.test_graphs {
        let guide = progress_joke_poem::Graph::new(models());
        let broken = ScriptedModel::new(["Why", " did", " the", " cat"])
            .fail_after(3, "the model's connection was reset");
        server = server
            .graph("nested", nested::Graph::new(guide))
            .graph("failing", failing::Graph::new(AnyChatModel::new(broken)))
            .graph("approval", approval::Graph::new());
        let gate = Gate::new();
        server = server
            .graph("gated", gated::Graph::new(gate.clone()))
            .graph("release", release::Graph::new(gate));
    }
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "error: could not listen on 127.0.0.1:{}: {error}",
                args.port
            );
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(address) => {
            println!("http://{address}");
            let _ = std::io::stdout().flush();
        }
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    }
    match server.serve_on(listener).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
