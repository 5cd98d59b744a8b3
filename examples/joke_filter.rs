//! Only the joke's tokens: the stream filtered by the typed tag `Tag::Joke`
//! (`Tag::Jokee` would not compile).

use std::process::ExitCode;

use futures::TryStreamExt;
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
    let jokes = graph
        .stream(input, Messages)
        .try_filter(|chunk| std::future::ready(chunk.has_tag(joke_poem::Tag::Joke)));
    match print_stream(jokes, |chunk| print!("{}|", chunk.content())).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
