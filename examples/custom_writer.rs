//! The guide's custom-mode half: the node streams `{role, content}` deltas through the
//! writer, tagged joke or poem; each is printed as its content followed by `|`.

use std::process::ExitCode;

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
    match print_stream(graph.stream(input, Custom), |item| {
        print!("{}|", item.payload().content)
    })
    .await
    {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
