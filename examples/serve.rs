//! Serves the guide's graph to LangGraph's own clients, as assistant `agent`, over the Agent
//! Server protocol: `langgraph-sdk`'s `client.runs.stream(None, "agent", input=...)` works
//! against it unchanged.
//!
//! `cargo run --example serve` serves on 127.0.0.1:8123 (`--port N` to change it; `--port
//! 0` picks a free one). Its page at `/` is a chat built on `useStream` from
//! `@langchain/langgraph-sdk/react`: it talks to assistant `chat`, a conversation whose
//! scripted replies stream one word every `--token-delay-ms` (default 50), and which asks
//! for approval (an interrupt) before it "deploys". The page's bundle is built from
//! `clients/js/page/` by `clients/js/build.mjs` and committed under `examples/serve_page/`,
//! so this example builds and runs without Node. The model is scripted with the guide's tokens, or `ChatOpenAI`
//! when `OPENAI_BASE_URL` / `OPENAI_API_KEY` are set. The first line on stdout is the
//! address served; the server's log (the detail of failed runs) goes to stderr, with each
//! request's and run's spans when `RUST_LOG=stategraph=debug`. `GET /metrics` shows the
//! runs, streams, tokens and model calls in Prometheus' text format.
//!
//! `--with-test-graphs` also serves the graphs the Python SDK tests drive: `nested` (the
//! guide's graph as a subgraph), `failing` (a node that fails mid-stream), `approval` (a
//! node that stops on an interrupt until a `Command(resume=...)` answers it), and `gated`
//! and `release` (a run of `gated` holds its thread until a run of `release`), and `crawl`
//! (nodes a `Send` starts, for `Command(goto=Send(..))`).
//!
//! `--api-key IDENTITY=KEY` (repeatable) makes the server ask every request for one of
//! the keys (`x-api-key`, what the SDKs send for `api_key=`, or `Authorization: Bearer`)
//! and scopes each thread to the identity that created it.
//!
//! Threads are stored in `STATEGRAPH_DB` (default `sqlite://stategraph.db` in the working
//! directory, created when missing; `postgres://...` and `memory:` work too), as the
//! durable examples store them.
//!
//! A user's binary does the same with the facade's `server` feature:
//! `stategraph::server::Server::new().graph("agent", graph).serve(address)`.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use stategraph::prelude::*;
use stategraph::{AnyChatModel, Message, Role, ScriptedModel};
use stategraph_server::Server;
use stategraph_test_support::guide::{Topic, TopicUpdate, models, nested, progress_joke_poem};
use stategraph_test_support::threads::{Gate, approval, crawl, gated, release};

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

/// The state of [`chat`]: one conversation.
#[derive(Clone, Debug, Default, Serialize, Deserialize, State)]
#[state(derive(Serialize))]
pub struct Chat {
    /// The conversation, merged by message id.
    #[reducer(messages)]
    pub messages: Vec<Message>,
}

/// How long the scripted chat model waits before each word: long enough that a browser
/// renders the reply word by word.
#[derive(Clone, Copy, Debug)]
pub struct TokenDelay(Duration);

/// The text the user sent last, empty when there is none.
fn last_user_text(state: &Chat) -> &str {
    state
        .messages
        .iter()
        .rev()
        .find(|message| message.role == Role::User)
        .map_or("", Message::text)
}

/// `text` as a scripted model's tokens, one word (with its trailing space) each.
fn scripted(text: &str, delay: TokenDelay) -> ScriptedModel {
    ScriptedModel::new(text.split_inclusive(' ')).with_delay(delay.0)
}

/// `START -> reply -> review -> END`: `reply` answers each message with a scripted reply
/// streamed word by word; when the message asks to deploy, `review` stops on an interrupt
/// asking for approval and answers `"approve"` or anything else once resumed.
#[graph(state = Chat, context = TokenDelay, edges = [START -> reply -> review -> END])]
pub mod chat {
    use super::*;

    /// Answers the last message.
    #[node]
    pub async fn reply(state: &Chat, ctx: &Ctx) -> Result<ChatUpdate, NodeError> {
        let sent = state
            .messages
            .iter()
            .filter(|message| message.role == Role::User)
            .count();
        let text = format!(
            "You wrote \"{}\". This is message {sent} of this thread. A scripted model \
             streams this reply one word at a time, so the page shows every token as it \
             arrives, together with the node that produced it.",
            last_user_text(state).trim()
        );
        let model = scripted(&text, *ctx.context());
        let answer = ctx.chat(&model).invoke(state.messages.clone()).await?;
        Ok(ChatUpdate::default().messages(vec![answer]))
    }

    /// Asks for approval before deploying.
    #[node]
    pub async fn review(state: &Chat, ctx: &Ctx) -> Result<ChatUpdate, NodeError> {
        let request = last_user_text(state);
        if !request.to_lowercase().contains("deploy") {
            return Ok(ChatUpdate::default());
        }
        let answer: String = ctx
            .interrupt(serde_json::json!({
                "question": "May I deploy?",
                "request": request,
            }))
            .await?;
        let text = if answer == "approve" {
            "Approved: deploying now."
        } else {
            "Rejected: nothing was deployed."
        };
        let model = scripted(text, *ctx.context());
        let answer = ctx.chat(&model).invoke(state.messages.clone()).await?;
        Ok(ChatUpdate::default().messages(vec![answer]))
    }
}

/// The chat page, built by `clients/js/build.mjs` from `clients/js/page/`.
const PAGE_HTML: &str = include_str!("serve_page/index.html");
const PAGE_JS: &str = include_str!("serve_page/page.js");
const PAGE_CSS: &str = include_str!("serve_page/page.css");

/// The page's files at `/`, `/page.js` and `/page.css`, each with headers that keep the
/// page to its own origin: scripts, styles and requests only from this server, no framing.
fn page_routes() -> Router {
    fn file(content_type: &'static str, body: &'static str) -> impl IntoResponse {
        let headers = [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; script-src 'self'; style-src 'self'; \
                     connect-src 'self'; img-src 'self' data:; object-src 'none'; \
                     base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                ),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ];
        (headers, body)
    }
    Router::new()
        .route(
            "/",
            get(|| async { file("text/html; charset=utf-8", PAGE_HTML) }),
        )
        .route(
            "/page.js",
            get(|| async { file("text/javascript; charset=utf-8", PAGE_JS) }),
        )
        .route(
            "/page.css",
            get(|| async { file("text/css; charset=utf-8", PAGE_CSS) }),
        )
}

struct Args {
    port: u16,
    test_graphs: bool,
    api_keys: Option<stategraph_server::auth::ApiKeys>,
    token_delay: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 8123,
        test_graphs: false,
        api_keys: None,
        token_delay: Duration::from_millis(50),
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
            "--token-delay-ms" => {
                let delay = given.next().ok_or("--token-delay-ms needs a number")?;
                let millis = delay.parse().map_err(|_| {
                    format!("--token-delay-ms: `{delay}` is not a number of milliseconds")
                })?;
                args.token_delay = Duration::from_millis(millis);
            }
            "--with-test-graphs" => args.test_graphs = true,
            "--api-key" => {
                let pair = given.next().ok_or("--api-key needs IDENTITY=KEY")?;
                let (identity, key) = pair
                    .split_once('=')
                    .filter(|(identity, key)| !identity.is_empty() && !key.is_empty())
                    .ok_or("--api-key: expected IDENTITY=KEY, both non-empty")?;
                let keys = args.api_keys.take().unwrap_or_default();
                args.api_keys = Some(keys.key(identity, key));
            }
            other => {
                return Err(format!(
                    "unknown argument `{other}`; the arguments are `--port N`, \
                     `--token-delay-ms N`, `--with-test-graphs` and `--api-key IDENTITY=KEY`"
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
        .graph("agent", progress_joke_poem::Graph::new(models()))
        .graph("chat", chat::Graph::new(TokenDelay(args.token_delay)));
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
            .graph("release", release::Graph::new(gate))
            .graph("crawl", crawl::Graph::new());
    }
    if let Some(keys) = args.api_keys {
        server = server.authenticate(keys);
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
    match server.serve_on_with(listener, page_routes()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
