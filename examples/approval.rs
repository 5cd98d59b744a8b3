//! A human approves a plan before it is carried out, across processes: the first run plans
//! and stops on the approval question; a later process answers it and the run goes on.
//!
//! ```text
//! cargo run --example approval -- --thread ID "task"     # plans, prints the question, exits 0
//! cargo run --example approval -- --thread ID --resume yes   # carries the plan out
//! cargo run --example approval -- --thread ID --resume no    # rejects it
//! ```
//!
//! The graph is `plan -> approve -> decide ? [act, reject]`. `approve` asks with
//! `ctx.interrupt`: the first process prints the question (the interrupt, as LangGraph
//! writes it: `{"value": .., "id": ..}`) as one JSON line on stdout and exits 0. A resume
//! runs `approve` again from its start, and this time `interrupt` returns the answer.
//!
//! Stdout carries only the outcome: the interrupt's JSON line, or the tokens of the
//! carried-out work followed by a final line. The plan's tokens, which the question already
//! holds, stream to stderr with everything else. The database is `STATEGRAPH_DB` (default
//! `sqlite://stategraph.db` in the working directory, created when missing; a `postgres://`
//! URL works too). Offline, scripted models answer; with `OPENAI_BASE_URL` /
//! `OPENAI_API_KEY` set, `ChatOpenAI` does.

use std::io::Write as _;
use std::process::ExitCode;

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use stategraph::mode::Messages;
use stategraph::prelude::*;
use stategraph::{Message, ScriptedModel, Thread};
use stategraph_openai::ChatOpenAI;
use stategraph_test_support::guide::{chat_openai_from_env, store_from_env};

#[derive(Clone, Debug, Default, Serialize, Deserialize, State)]
struct Job {
    task: String,
    plan: String,
    approved: Option<bool>,
    result: String,
}

/// What `approve` asks: the interrupt's payload.
#[derive(Debug, Serialize)]
struct Request<'a> {
    question: &'static str,
    task: &'a str,
    plan: &'a str,
}

/// The answer a resume gives `approve`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Decision {
    Yes,
    No,
}

#[graph(
    state = Job,
    context = Option<ChatOpenAI>,
    edges = [START -> plan -> approve -> decide ? [act, reject], act -> END, reject -> END]
)]
mod approval {
    use super::*;

    /// Writes a short plan for the task.
    #[node]
    async fn plan(state: &Job, ctx: &Ctx) -> Result<JobUpdate, NodeError> {
        let prompt = vec![
            Message::system("Write a plan of at most three short steps for the user's task."),
            Message::user(state.task.clone()),
        ];
        let plan = match ctx.context() {
            Some(model) => ctx.chat(model).invoke(prompt).await?,
            None => {
                let scripted = ScriptedModel::new(words(&format!(
                    "1. Check what `{}` touches. 2. Do it. 3. Verify the result.",
                    state.task
                )));
                ctx.chat(&scripted).invoke(prompt).await?
            }
        };
        Ok(JobUpdate::default().plan(plan.content))
    }

    /// Asks a human to approve the plan; runs again from its start when answered.
    #[node]
    async fn approve(state: &Job, ctx: &Ctx) -> Result<JobUpdate, NodeError> {
        let decision: Decision = ctx
            .interrupt(Request {
                question: "Approve this plan? Resume with yes or no.",
                task: &state.task,
                plan: &state.plan,
            })
            .await?;
        Ok(JobUpdate::default().approved(matches!(decision, Decision::Yes)))
    }

    #[router]
    fn decide(state: &Job) -> Decide {
        if state.approved == Some(true) {
            Decide::Act
        } else {
            Decide::Reject
        }
    }

    /// Carries the approved plan out (here: reports doing it).
    #[node]
    async fn act(state: &Job, ctx: &Ctx) -> Result<JobUpdate, NodeError> {
        let prompt = vec![
            Message::system("Report in one sentence that you carried out this plan."),
            Message::user(format!("Task: {}\nPlan: {}", state.task, state.plan)),
        ];
        let report = match ctx.context() {
            Some(model) => ctx.chat(model).invoke(prompt).await?,
            None => {
                let scripted = ScriptedModel::new(words(&format!(
                    "Done: `{}` was carried out in three steps.",
                    state.task
                )));
                ctx.chat(&scripted).invoke(prompt).await?
            }
        };
        Ok(JobUpdate::default().result(report.content))
    }

    /// Leaves the task undone.
    #[node]
    async fn reject(state: &Job, _ctx: &Ctx) -> JobUpdate {
        JobUpdate::default().result(format!(
            "Not done: the plan for `{}` was rejected.",
            state.task
        ))
    }
}

/// `text` as a scripted model's tokens, a word each.
fn words(text: &str) -> Vec<String> {
    text.split_inclusive(' ').map(str::to_owned).collect()
}

const USAGE: &str =
    "usage: approval --thread ID \"task\"\n       approval --thread ID --resume yes|no";

/// What the command line asks for.
enum Run {
    Start(String),
    Resume(Decision),
}

/// The thread and what to do on it; `None` for `--help`.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<(String, Run)>, String> {
    let mut thread = None;
    let mut task = None;
    let mut resume = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--thread" => thread = Some(args.next().ok_or("--thread needs an id")?),
            "--resume" => {
                let answer = args.next().ok_or("--resume needs `yes` or `no`")?;
                resume = Some(match answer.as_str() {
                    "yes" => Decision::Yes,
                    "no" => Decision::No,
                    other => return Err(format!("--resume takes `yes` or `no`, not `{other}`")),
                });
            }
            other if other.starts_with("--") => return Err(format!("unknown option `{other}`")),
            other if task.is_some() => {
                return Err(format!(
                    "one task only; `{other}` is a second one (quote the task)"
                ));
            }
            other => task = Some(other.to_owned()),
        }
    }
    let thread = thread.ok_or("--thread ID is required")?;
    let run = match (task, resume) {
        (Some(task), None) => Run::Start(task),
        (None, Some(decision)) => Run::Resume(decision),
        (Some(_), Some(_)) => return Err("give a task or --resume, not both".into()),
        (None, None) => return Err("give a task, or --resume yes|no".into()),
    };
    Ok(Some((thread, run)))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    stategraph_test_support::log::init("warn");
    let (id, run) = match parse_args(std::env::args().skip(1)) {
        Ok(Some(parsed)) => parsed,
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
    let model = match chat_openai_from_env("scripted models") {
        Ok(model) => model,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let graph = approval::Graph::new(model);
    let thread = graph.thread(&store, id);
    match drive(&thread, run).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Why a run could not start or finish, in words for the command line.
type Failure = Box<dyn std::error::Error>;

async fn drive(thread: &Thread<approval::Graph>, run: Run) -> Result<(), Failure> {
    let pending = match thread.state().await? {
        Some(snapshot) => !snapshot.interrupts.is_empty(),
        None => false,
    };
    let stream = match run {
        // A new task would start over and drop the question that waits; say so instead.
        Run::Start(_) if pending => {
            return Err(format!(
                "thread `{}` waits for an answer: resume it with --resume yes|no",
                thread.id()
            )
            .into());
        }
        Run::Start(task) => {
            thread
                .stream(JobUpdate::default().task(task), Messages)
                .await?
        }
        Run::Resume(_) if !pending => {
            return Err(format!(
                "thread `{}` has no question waiting for an answer: start it with a task",
                thread.id()
            )
            .into());
        }
        Run::Resume(decision) => {
            let answer = serde_json::to_value(decision)?;
            thread.command(Command::resume(answer), Messages).await?
        }
    };
    report(stream).await
}

/// Streams the run: the plan's tokens to stderr, the rest to stdout; then either the
/// questions it stopped on, one JSON line each, or the final line.
async fn report(
    mut stream: stategraph::GraphStream<approval::Graph, Messages>,
) -> Result<(), Failure> {
    let mut stdout = std::io::stdout();
    let (mut planned, mut streamed) = (false, false);
    while let Some(chunk) = stream.try_next().await? {
        // A closed pipe loses output the reader no longer wants; the run still finishes.
        if chunk.node() == approval::Node::Plan {
            planned = true;
            eprint!("{}", chunk.content());
        } else {
            streamed = true;
            let _ = write!(stdout, "{}", chunk.content());
            let _ = stdout.flush();
        }
    }
    if planned {
        eprintln!();
    }
    if let Some(interrupts) = stream.interrupted() {
        for interrupt in interrupts {
            let line = serde_json::to_string(interrupt)?;
            let _ = writeln!(stdout, "{line}");
        }
        eprintln!("waiting for approval: run again with --resume yes or --resume no");
        return Ok(());
    }
    if streamed {
        let _ = writeln!(stdout);
    }
    let job = stream.into_state();
    let verdict = if job.approved == Some(true) {
        "approved"
    } else {
        "rejected"
    };
    let _ = writeln!(stdout, "{verdict}: {}", job.result);
    Ok(())
}
