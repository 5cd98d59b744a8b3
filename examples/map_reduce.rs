//! Map-reduce over a model: a planner splits a question into sub-questions, a sending router
//! starts one researcher per sub-question (LangGraph's `Send`), their tokens stream
//! interleaved, each labelled with its instance, and a writer joins the findings.
//!
//! ```text
//! cargo run --example map_reduce -- "How do bees find their way home?"
//! ```
//!
//! Offline it runs on scripted models; with `OPENAI_BASE_URL` / `OPENAI_API_KEY` set,
//! `ChatOpenAI` plans, researches and writes. Each token goes to stdout as
//! `[node#instance] token` lines, then the report.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use futures::TryStreamExt;
use stategraph::mode::Messages;
use stategraph::prelude::*;
use stategraph::{ChatModel, ScriptedModel, TaskPath};
use stategraph_openai::ChatOpenAI;
use stategraph_test_support::guide::chat_openai_from_env;

#[derive(Clone, Debug, Default, State)]
struct Research {
    question: String,
    subquestions: Vec<String>,
    #[reducer(append)]
    findings: Vec<String>,
    report: String,
}

/// What one researcher instance is given: its `Send`'s own input, not the graph's state.
#[derive(Clone, Debug)]
struct SubTask {
    /// The instance's place among the sub-questions, from 1.
    number: usize,
    subquestion: String,
}

#[graph(
    state = Research,
    context = Option<ChatOpenAI>,
    edges = [START -> plan -> fan_out ? [research], research -> write -> END]
)]
mod map_reduce {
    use super::*;

    /// Splits the question into three sub-questions, one a line.
    #[node]
    async fn plan(state: &Research, ctx: &Ctx) -> Result<ResearchUpdate, NodeError> {
        let prompt = format!(
            "Split this question into exactly three short sub-questions, one per line, \
             with no numbering: {}",
            state.question
        );
        let offline = ScriptedModel::new([
            "What senses do bees use?\n",
            "How do bees learn landmarks?\n",
            "How do bees measure distance?",
        ]);
        let plan = ask(ctx, &offline, prompt).await?;
        let subquestions: Vec<String> = plan
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .take(3)
            .map(str::to_owned)
            .collect();
        Ok(ResearchUpdate::default().subquestions(subquestions))
    }

    /// One researcher per sub-question, each with its own input.
    #[router]
    fn fan_out(state: &Research) -> Vec<FanOut> {
        state
            .subquestions
            .iter()
            .enumerate()
            .map(|(index, subquestion)| {
                FanOut::Research(SubTask {
                    number: index + 1,
                    subquestion: subquestion.clone(),
                })
            })
            .collect()
    }

    /// Answers its sub-question in two sentences. A `Send` starts it with a `SubTask`, its
    /// own input: the graph's state is not what it needs.
    #[node]
    async fn research(task: &SubTask, ctx: &Ctx) -> Result<ResearchUpdate, NodeError> {
        let prompt = format!("Answer in two short sentences: {}", task.subquestion);
        let words: Vec<String> = format!("Findings on \"{}\": bees use it well.", task.subquestion)
            .split_inclusive(' ')
            .map(str::to_owned)
            .collect();
        // A little delay per token, so the instances' tokens interleave as a server's do.
        let offline = ScriptedModel::new(words).with_delay(Duration::from_millis(5));
        let finding = ask(ctx, &offline, prompt).await?;
        Ok(ResearchUpdate::default().findings(vec![format!(
            "{}. {}: {finding}",
            task.number, task.subquestion
        )]))
    }

    /// Joins the findings into a short report.
    #[node]
    async fn write(state: &Research, ctx: &Ctx) -> Result<ResearchUpdate, NodeError> {
        let prompt = format!(
            "Write a three-sentence answer to \"{}\" from these findings:\n{}",
            state.question,
            state.findings.join("\n")
        );
        let offline = ScriptedModel::new([
            "Bees combine the sun's position, ",
            "learned landmarks and optic flow ",
            "to find their way home.",
        ]);
        let report = ask(ctx, &offline, prompt).await?;
        Ok(ResearchUpdate::default().report(report))
    }

    /// Asks the server's model when there is one, else `offline`; returns the reply's text.
    async fn ask(ctx: &Ctx, offline: &ScriptedModel, prompt: String) -> Result<String, NodeError> {
        let messages = [Message::user(prompt)];
        let reply = match ctx.context() {
            Some(model) => ctx.chat(model).invoke(messages).await?,
            None => ctx.chat(offline).invoke(messages).await?,
        };
        Ok(reply.content)
    }
}

/// `research#1` for the second researcher instance, `plan` for a node an edge started.
fn label(chunk: &MessageChunk<map_reduce::Tag>) -> String {
    let task = chunk.metadata().task();
    match task.path() {
        TaskPath::Push(index) => format!("{}#{index}", task.name()),
        TaskPath::Pull(name) => name.to_owned(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    stategraph_test_support::log::init("warn");
    let question = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "How do bees find their way home?".to_owned());
    let model = match chat_openai_from_env("scripted models") {
        Ok(model) => model,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    if let Some(model) = &model {
        eprintln!("using the model {}", model.identity().model_name);
    }
    let graph = map_reduce::Graph::new(model);
    let input = Research {
        question,
        ..Research::default()
    };
    let mut stream = graph.stream(input, Messages);
    let mut stdout = std::io::stdout().lock();
    loop {
        match stream.try_next().await {
            Ok(Some(chunk)) => {
                if !chunk.content().is_empty() {
                    let _ = writeln!(stdout, "[{}] {:?}", label(&chunk), chunk.content());
                }
            }
            Ok(None) => break,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    let report = stream.into_state().report;
    let _ = writeln!(stdout, "\nreport: {report}");
    ExitCode::SUCCESS
}
