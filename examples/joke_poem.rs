//! The guide's messages-mode run: every chunk of both model calls, as it arrives, followed
//! by `|`; then the last chunk's metadata as JSON with LangGraph's names.
//!
//! `cargo run --example joke_poem` (scripted model), or with `OPENAI_BASE_URL` /
//! `OPENAI_API_KEY` / `OPENAI_MODEL` set, against a real server.

use std::process::ExitCode;

use stategraph::mode::Messages;
use stategraph_test_support::guide::{Topic, joke_poem, models, print_stream};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    stategraph_test_support::log::init("warn");
    let graph = joke_poem::Graph::new(models());
    let input = Topic {
        topic: "cats".into(),
        ..Topic::default()
    };
    match print_stream(graph.stream(input, Messages), |chunk| {
        print!("{}|", chunk.content())
    })
    .await
    {
        Ok(last) => {
            if let Some(chunk) = last {
                match serde_json::to_string_pretty(chunk.metadata()) {
                    Ok(json) => println!("{json}"),
                    Err(error) => eprintln!("could not serialize the metadata: {error}"),
                }
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
