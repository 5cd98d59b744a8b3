//! The guide's graph nested inside a parent graph, with subgraph streaming on: the child's
//! tokens and progress notes reach the parent's stream, each printed as one compact JSON
//! object per line in LangGraph's v2 shape, with its namespace (`"ns": ["tell:<task id>"]`);
//! the parent's own items have `"ns": []`.
//!
//! `cargo run --example subgraph` (scripted model), or against a real server with
//! `OPENAI_BASE_URL` / `OPENAI_API_KEY` / `OPENAI_MODEL` set.

use std::process::ExitCode;

use futures::StreamExt;
use stategraph::prelude::*;
use stategraph_test_support::guide::{Progress, Topic, TopicUpdate, models, progress_joke_poem};

/// The parent's dependency: the guide's graph, ready to run.
pub struct Child {
    guide: progress_joke_poem::Graph,
}

/// `START -> tell -> END`, where `tell` runs the guide's graph as a subgraph.
#[graph(state = Topic, context = Child, custom = Progress, edges = [START -> tell -> END])]
pub mod parent {
    use super::*;

    /// The child's calls, seen from the parent.
    #[tags]
    pub enum Tag {
        /// The joke.
        Joke,
        /// The poem.
        Poem,
    }

    /// Runs the guide's graph on the same topic and keeps its answers.
    #[node]
    pub async fn tell(state: &Topic, ctx: &Ctx) -> Result<TopicUpdate, NodeError> {
        let done = ctx
            .subgraph(&ctx.context().guide)
            .tags(|tag| match tag {
                progress_joke_poem::Tag::Joke => Tag::Joke,
                progress_joke_poem::Tag::Poem => Tag::Poem,
            })
            .custom(|note| note)
            .invoke(state.clone())
            .await?;
        Ok(TopicUpdate::default().joke(done.joke).poem(done.poem))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let graph = parent::Graph::new(Child {
        guide: progress_joke_poem::Graph::new(models()),
    });
    let input = Topic {
        topic: "cats".into(),
        ..Topic::default()
    };
    let config = RunConfig::default().subgraphs(true);
    let mut stream = graph.stream_with(input, (Updates, Messages, Custom), config);
    while let Some(item) = stream.next().await {
        match item.map(|item| serde_json::to_string(&item)) {
            Ok(Ok(json)) => println!("{json}"),
            Ok(Err(error)) => {
                eprintln!("error: could not serialize an item: {error}");
                return ExitCode::FAILURE;
            }
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
