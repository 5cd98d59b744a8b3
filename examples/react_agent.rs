//! A ReAct agent in a few lines: a `#[tool]`, the prebuilt agent graph, and its messages
//! streamed as they happen: the model's tokens with their node, its tool calls as their
//! arguments arrive, and the tools' results.
//!
//! `cargo run --example react_agent` runs offline on the fake model, which asks for the
//! weather in Paris and then answers; with `OPENAI_BASE_URL` / `OPENAI_API_KEY` (and
//! `OPENAI_MODEL`) set, a real model decides.

use std::io::Write as _;
use std::process::ExitCode;

use futures::TryStreamExt;
use stategraph::prebuilt::{
    FakeChatModel, MessagesState, Reply, ToolNode, create_react_agent, react_agent,
};
use stategraph::prelude::*;
use stategraph::{AnyChatModel, FinishReason, Role, tool};
use stategraph_test_support::guide::chat_openai_from_env;

/// Gets the current weather in a city.
///
/// # Arguments
/// * `city` - The city's name, in English
#[tool]
async fn get_weather(city: String) -> String {
    format!("Sunny and 18°C in {city}")
}

/// The model: a real one when a server is configured, else the fake model's script.
fn model() -> Result<AnyChatModel, String> {
    match chat_openai_from_env("the fake model's script") {
        Ok(Some(model)) => Ok(AnyChatModel::new(model)),
        Ok(None) => Ok(AnyChatModel::new(FakeChatModel::new([
            Reply::tool_call("get_weather", serde_json::json!({"city": "Paris"})),
            Reply::text("It is sunny and 18°C in Paris."),
        ]))),
        Err(error) => Err(error.to_string()),
    }
}

/// Prints one item of messages mode: a new line with its node for each new message, then
/// the tokens and tool-call pieces as they arrive, and a returned tool message whole.
fn print_chunk(chunk: &MessageChunk<react_agent::Tag>, last_id: &mut String) {
    let node = chunk.node().name();
    let piece = chunk.chunk();
    if chunk.metadata().is_returned_message() {
        if piece.role == Some(Role::Tool) {
            println!(
                "\n[{node}] {} -> {} ({})",
                piece.name().unwrap_or("?"),
                piece.content,
                piece.tool_status().unwrap_or_default()
            );
        }
        return;
    }
    if *last_id != chunk.id() {
        *last_id = chunk.id().to_owned();
        print!("\n[{node}] ");
    }
    print!("{}", piece.content);
    for call in piece.tool_call_chunks() {
        if let Some(name) = &call.name {
            print!("calls {name}(");
        }
        print!("{}", call.arguments);
    }
    if piece.finish_reason() == Some(&FinishReason::ToolCalls) {
        print!(")");
    }
    // Tokens show as they arrive, not when a line ends.
    std::io::stdout().flush().ok();
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    stategraph_test_support::log::init("warn");
    let model = match model() {
        Ok(model) => model,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let agent = create_react_agent(model, ToolNode::new().tool(GetWeather));
    let question = Message::user("What is the weather in Paris?");
    println!("[user] {}", question.content);
    let mut stream = agent.stream(MessagesState::new([question]), Messages);
    let mut last_id = String::new();
    loop {
        match stream.try_next().await {
            Ok(Some(chunk)) => print_chunk(&chunk, &mut last_id),
            Ok(None) => break,
            Err(error) => {
                eprintln!("\nerror: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!();
    ExitCode::SUCCESS
}
