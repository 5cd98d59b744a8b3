//! Only the poem's custom payloads, filtered by the writer's tag.

use std::process::ExitCode;

use futures::TryStreamExt;
use stategraph::mode::Custom;
use stategraph_test_support::guide::{Topic, custom_joke_poem, models, print_stream};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    stategraph_test_support::log::init("warn");
    let graph = custom_joke_poem::Graph::new(models());
    let input = Topic {
        topic: "cats".into(),
        ..Topic::default()
    };
    let poems = graph
        .stream(input, Custom)
        .try_filter(|item| std::future::ready(item.has_tag(custom_joke_poem::Tag::Poem)));
    match print_stream(poems, |item| print!("{}|", item.payload().content)).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
