//! One turn of a chat that remembers the thread's earlier turns, stored in SQLite (or
//! Postgres): the reply's tokens stream to stdout as they arrive.
//!
//! ```text
//! cargo run --example durable_chat -- --thread ID "message"
//! cargo run --example durable_chat -- --thread ID --history
//! ```
//!
//! The database is `STATEGRAPH_DB` (default `sqlite://stategraph.db` in the working
//! directory, created when missing; a `postgres://` URL works too). Offline, the scripted
//! reply counts the user messages the thread holds, so its memory shows; with
//! `OPENAI_BASE_URL` / `OPENAI_API_KEY` set, `ChatOpenAI` answers. `--history` writes the
//! thread's checkpoints to stdout, newest first, one JSON object a line.

use std::io::Write as _;
use std::process::ExitCode;

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use stategraph::checkpoint::ListOptions;
use stategraph::mode::Messages;
use stategraph::prelude::*;
use stategraph::{Message, Role, ScriptedModel};
use stategraph_openai::ChatOpenAI;
use stategraph_test_support::guide::{chat_openai_from_env, store_from_env};

#[derive(Clone, Debug, Default, Serialize, Deserialize, State)]
struct Chat {
    #[reducer(messages)]
    messages: Vec<Message>,
}

#[graph(state = Chat, context = Option<ChatOpenAI>, edges = [START -> reply, reply -> END])]
mod chat {
    use super::*;

    /// Answers the conversation so far.
    #[node]
    async fn reply(state: &Chat, ctx: &Ctx) -> Result<ChatUpdate, NodeError> {
        let answer = match ctx.context() {
            Some(model) => ctx.chat(model).invoke(state.messages.clone()).await?,
            None => {
                let sent = state
                    .messages
                    .iter()
                    .filter(|m| m.role == Role::User)
                    .count();
                let noun = if sent == 1 { "message" } else { "messages" };
                let reply = format!("You have sent {sent} {noun} in this thread.");
                let tokens: Vec<String> = reply.split_inclusive(' ').map(str::to_owned).collect();
                let model = ScriptedModel::new(tokens);
                ctx.chat(&model).invoke(state.messages.clone()).await?
            }
        };
        Ok(ChatUpdate::default().messages(vec![answer]))
    }
}

const USAGE: &str = "usage: durable_chat --thread ID (\"message\" | --history)";

struct Args {
    thread: String,
    history: bool,
    message: Option<String>,
}

/// What the command line asks for; `None` for `--help`.
fn parse_args() -> Result<Option<Args>, String> {
    let mut thread = None;
    let mut history = false;
    let mut message = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--thread" => thread = Some(args.next().ok_or("--thread needs an id")?),
            "--history" => history = true,
            other if other.starts_with("--") => return Err(format!("unknown option `{other}`")),
            other if message.is_some() => {
                return Err(format!(
                    "one message only; `{other}` is a second one (quote the message)"
                ));
            }
            other => message = Some(other.to_owned()),
        }
    }
    let thread = thread.ok_or("--thread ID is required")?;
    match (history, &message) {
        (true, Some(_)) => return Err("give a message or --history, not both".into()),
        (false, None) => return Err("give a message, or --history".into()),
        _ => {}
    }
    Ok(Some(Args {
        thread,
        history,
        message,
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    stategraph_test_support::log::init("warn");
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("error: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let store = match store_from_env().await {
        Ok(store) => store,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let model = match chat_openai_from_env("the scripted reply") {
        Ok(model) => model,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let graph = chat::Graph::new(model);
    let thread = graph.thread(&store, args.thread);
    let outcome = if args.history {
        print_history(&thread).await
    } else {
        let message = Message::user(args.message.unwrap_or_default());
        turn(&thread, message).await
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn turn(
    thread: &stategraph::Thread<chat::Graph>,
    message: Message,
) -> Result<(), stategraph::GraphError> {
    let mut stream = thread
        .stream(ChatUpdate::default().messages(vec![message]), Messages)
        .await?;
    let mut stdout = std::io::stdout();
    // A closed stdout loses tokens nobody reads; the turn still finishes and is stored.
    while let Some(chunk) = stream.try_next().await? {
        let _ = write!(stdout, "{}", chunk.content());
        let _ = stdout.flush();
    }
    let _ = writeln!(stdout);
    Ok(())
}

async fn print_history(
    thread: &stategraph::Thread<chat::Graph>,
) -> Result<(), stategraph::GraphError> {
    let history = thread.history(ListOptions::default()).await?;
    if history.is_empty() {
        eprintln!("thread `{}` has no checkpoints", thread.id());
    }
    let mut stdout = std::io::stdout().lock();
    for meta in history {
        let line = HistoryLine {
            checkpoint_id: meta.id.to_string(),
            step: meta.step,
            source: meta.source.as_str(),
            next: meta.next,
        };
        // A reader that stops early (`| head -1`) closes the pipe: the listing ends there.
        if serde_json::to_writer(&mut stdout, &line).is_err() || writeln!(stdout).is_err() {
            break;
        }
    }
    Ok(())
}

/// One checkpoint in `--history`, its keys in this order.
#[derive(Serialize)]
struct HistoryLine {
    checkpoint_id: String,
    step: i64,
    source: &'static str,
    next: Vec<String>,
}
