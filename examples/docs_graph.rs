//! A graph with a router from `START`, a fan-out, a fan-in and a routed cycle: what
//! `#[graph]` writes into `cargo doc` for a graph of some shape.
//!
//! `cargo run --example docs_graph` prints the graph as Mermaid text, then streams one run's
//! tokens, each labelled with its step and node, and prints the final state.
//!
//! `cargo doc --no-deps --examples` documents it: `target/doc/docs_graph/research/index.html`
//! shows the graph drawn (an inline SVG laid out by the macro; nothing is fetched), its
//! entry, its edge table and its tags; the pages of `research::Node` and `research::Graph`
//! link there.

use std::process::ExitCode;

use stategraph::prelude::*;

/// What the research graph works on.
#[derive(Clone, Debug, Default, State)]
pub struct Research {
    /// The question to answer.
    pub question: String,
    /// How many times `plan` ran.
    pub rounds: u32,
    /// What the searches found, in the order they finished.
    #[reducer(append)]
    pub notes: Vec<String>,
    /// The current answer.
    pub answer: String,
}

/// Answers a question: easy ones at once; others are planned, searched two ways at once,
/// written up, and reviewed, going round again until the review is happy.
#[graph(
    state = Research,
    context = ScriptedModel,
    edges = [
        START -> triage ? [plan, answer_directly],
        plan -> [search_web, search_docs],
        [search_web, search_docs] -> write,
        write -> review ? [plan, END],
        answer_directly -> END,
    ],
)]
pub mod research {
    use super::*;

    /// The graph's LLM calls, for filtering the stream.
    #[tags]
    pub enum Tag {
        /// The call that writes the answer.
        Writer,
    }

    /// Starts a round: counts it.
    #[node]
    pub async fn plan(state: &Research) -> ResearchUpdate {
        ResearchUpdate::default().rounds(state.rounds + 1)
    }

    /// Searches the web (here: pretends to).
    #[node]
    pub async fn search_web(state: &Research) -> ResearchUpdate {
        ResearchUpdate::default().notes(vec![format!("web, round {}", state.rounds)])
    }

    /// Searches the project's docs (here: pretends to), alongside `search_web`.
    #[node]
    pub async fn search_docs(state: &Research) -> ResearchUpdate {
        ResearchUpdate::default().notes(vec![format!("docs, round {}", state.rounds)])
    }

    /// Writes the answer from the notes with the model; runs once both searches are done.
    #[node]
    pub async fn write(state: &Research, ctx: &Ctx) -> Result<ResearchUpdate, NodeError> {
        let answer = ctx
            .chat(ctx.context())
            .tag(Tag::Writer)
            .invoke([Message::user(format!(
                "Answer {:?} from these notes: {}",
                state.question,
                state.notes.join("; ")
            ))])
            .await?;
        Ok(ResearchUpdate::default().answer(answer.content))
    }

    /// Answers a question that needs no research.
    #[node]
    pub async fn answer_directly(state: &Research) -> ResearchUpdate {
        ResearchUpdate::default().answer(format!("{}? Yes.", state.question))
    }

    /// Sends questions that end in `?` to research, the rest straight to an answer.
    #[router]
    pub fn triage(state: &Research) -> Triage {
        if state.question.ends_with('?') {
            Triage::Plan
        } else {
            Triage::AnswerDirectly
        }
    }

    /// Goes round again until two rounds are done.
    #[router]
    pub fn review(state: &Research) -> Review {
        if state.rounds < 2 {
            Review::Plan
        } else {
            Review::End
        }
    }
}

async fn run() -> Result<Research, GraphError> {
    println!(
        "research::Graph::mermaid():\n\n{}",
        research::Graph::mermaid()
    );
    println!("One run in messages mode, each model token after its step and node:");
    let model = ScriptedModel::new(["Graphs", " are", " drawn", " by", " the", " macro", "."]);
    let graph = research::Graph::new(model);
    let input = Research {
        question: "How does cargo doc draw a graph?".into(),
        ..Research::default()
    };
    let mut stream = graph.stream(input.clone(), Messages);
    let mut last = None;
    while let Some(chunk) = stream.try_next().await? {
        if last != Some((chunk.step(), chunk.node())) {
            print!("\nstep {} {}: ", chunk.step(), chunk.node());
            last = Some((chunk.step(), chunk.node()));
        }
        print!("{}|", chunk.content());
    }
    println!("\n\nThe same input run again with invoke():");
    graph.invoke(input).await
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    stategraph_test_support::log::init("warn");
    match run().await {
        Ok(state) => {
            println!("final state: {state:#?}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
