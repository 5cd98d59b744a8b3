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
use stategraph_test_support::guide::{Topic, models, nested, progress_joke_poem};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    stategraph_test_support::log::init("warn");
    let graph = nested::Graph::new(progress_joke_poem::Graph::new(models()));
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
