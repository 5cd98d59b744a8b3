//! The guide's graph streamed in values, updates, messages and custom mode at once. Each
//! item is printed as one compact JSON object per line, in LangGraph's typed v2 shape
//! (`{"type", "ns", "data"}`), in the order the run produced them.
//!
//! `cargo run --example all_modes` (scripted model), or against a real server with
//! `OPENAI_BASE_URL` / `OPENAI_API_KEY` / `OPENAI_MODEL` set.

use std::process::ExitCode;

use futures::StreamExt;
use stategraph::mode::{Custom, Messages, Updates, Values};
use stategraph_test_support::guide::{Topic, models, progress_joke_poem};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    stategraph_test_support::log::init("warn");
    let graph = progress_joke_poem::Graph::new(models());
    let input = Topic {
        topic: "cats".into(),
        ..Topic::default()
    };
    let mut stream = graph.stream(input, (Values, Updates, Messages, Custom));
    while let Some(item) = stream.next().await {
        match item {
            Ok(item) => match serde_json::to_string(&item) {
                Ok(json) => println!("{json}"),
                Err(error) => {
                    eprintln!("error: could not serialize a {} item: {error}", item.mode());
                    return ExitCode::FAILURE;
                }
            },
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
