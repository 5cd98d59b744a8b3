//! The graph of LangGraph's guide "How to stream LLM tokens from your graph", which the
//! examples run and the tests pin: one node, `call_model`, that asks a joke model and a
//! poem model about a topic.
//!
//! With neither `OPENAI_BASE_URL` nor `OPENAI_API_KEY` set, [`models`] scripts them with the
//! guide's exact tokens; otherwise they are `ChatOpenAI` on the configured server, with the
//! model from `OPENAI_MODEL` (default `gpt-4o-mini`).

use serde::{Deserialize, Serialize};
use stategraph::prelude::*;
use stategraph::{AnyChatModel, ModelIdentity};
use stategraph_openai::ChatOpenAI;
use stategraph_openai::wire::RequestMessage;

/// The graph's state, as in the guide.
#[derive(Clone, Debug, Default, PartialEq, State, Serialize, Deserialize)]
#[state(derive(Debug, PartialEq, Serialize))]
pub struct Topic {
    /// What the joke and the poem are about.
    pub topic: String,
    /// The joke model's answer.
    pub joke: String,
    /// The poem model's answer.
    pub poem: String,
}

/// The guide's two chat models.
pub struct Models {
    /// Tagged `joke`.
    pub joke: AnyChatModel,
    /// Tagged `poem`.
    pub poem: AnyChatModel,
    /// The OpenAI-compatible server, when one is configured: the custom-mode half streams
    /// its raw chunks, as the guide's second half does with the raw OpenAI client.
    pub raw: Option<ChatOpenAI>,
}

/// A raw OpenAI-style delta, as the guide's custom-mode half streams it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// `assistant`.
    pub role: String,
    /// The token.
    pub content: String,
}

#[derive(Deserialize)]
struct GuideTokens {
    joke: Vec<String>,
    poem: Vec<String>,
}

/// The guide's exact tokens: `(joke, poem)`.
pub fn guide_tokens() -> (Vec<String>, Vec<String>) {
    let tokens: GuideTokens =
        serde_json::from_str(include_str!("tokens.json")).unwrap_or_else(|error| {
            panic!("test-support/src/guide/tokens.json is not the guide's token list: {error}")
        });
    (tokens.joke, tokens.poem)
}

/// The guide's models replayed: `gpt-4o-mini` at temperature 0.7, scripted with its tokens.
pub fn scripted_models() -> Models {
    let (joke, poem) = guide_tokens();
    let identity = ModelIdentity::new("scripted", "gpt-4o-mini").with_temperature(0.7);
    Models {
        joke: AnyChatModel::new(ScriptedModel::new(joke).with_identity(identity.clone())),
        poem: AnyChatModel::new(ScriptedModel::new(poem).with_identity(identity)),
        raw: None,
    }
}

/// The guide's models on an OpenAI-compatible server: `model` at temperature 0.7, as
/// LangChain's `ChatOpenAI` defaults to. Answers are capped at 256 tokens so that a tiny
/// local model cannot ramble for minutes.
pub fn openai_models(model: ChatOpenAI) -> Models {
    let model = model.temperature(0.7).max_tokens(256);
    Models {
        joke: AnyChatModel::new(model.clone()),
        poem: AnyChatModel::new(model.clone()),
        raw: Some(model),
    }
}

/// Whether the environment points at an OpenAI-compatible server.
pub fn server_configured() -> bool {
    std::env::var_os("OPENAI_BASE_URL").is_some() || std::env::var_os("OPENAI_API_KEY").is_some()
}

/// The durable examples' store: `STATEGRAPH_DB`, by default `sqlite://stategraph.db` in the
/// working directory (created when missing).
///
/// # Errors
/// The store's, naming the URL (without its password) when it cannot be opened.
pub async fn store_from_env() -> Result<
    std::sync::Arc<dyn stategraph::checkpoint::Checkpointer>,
    stategraph::checkpoint::CheckpointError,
> {
    let url = std::env::var("STATEGRAPH_DB").unwrap_or_else(|_| "sqlite://stategraph.db".into());
    stategraph_checkpoint::open(&url).await
}

/// `ChatOpenAI` from the environment when a server is configured (`None` otherwise, saying
/// on stderr that `scripted` answers instead).
///
/// # Errors
/// `ChatOpenAI`'s, when the environment names a server it cannot use.
pub fn chat_openai_from_env(
    scripted: &str,
) -> Result<Option<ChatOpenAI>, stategraph_openai::OpenAiError> {
    if server_configured() {
        ChatOpenAI::from_env().map(Some)
    } else {
        eprintln!("OPENAI_BASE_URL and OPENAI_API_KEY are unset: using {scripted}");
        Ok(None)
    }
}

/// `ChatOpenAI` from the environment when a server is configured, the scripted guide
/// models otherwise (saying so on stderr).
pub fn models() -> Models {
    if server_configured() {
        let model = ChatOpenAI::from_env().unwrap_or_else(|error| {
            eprintln!("error: {error}");
            std::process::exit(2)
        });
        eprintln!(
            "using the OpenAI-compatible server at {} (model {})",
            model.client().base_url(),
            stategraph::ChatModel::identity(&model).model_name
        );
        openai_models(model)
    } else {
        eprintln!(
            "OPENAI_BASE_URL and OPENAI_API_KEY are unset: using the scripted model with the guide's tokens"
        );
        scripted_models()
    }
}

/// Prints every item of `stream` with `print_item`, then a newline. When the stream ends
/// in an error, prints it on stderr after what was received and fails.
pub async fn print_stream<T>(
    stream: impl futures::Stream<Item = Result<T, stategraph::GraphError>>,
    mut print_item: impl FnMut(&T),
) -> Result<Option<T>, stategraph::GraphError> {
    use std::io::Write as _;
    let mut stream = std::pin::pin!(stream);
    let mut last = None;
    let outcome = loop {
        match stream.try_next().await {
            Ok(Some(item)) => {
                print_item(&item);
                // Tokens should appear as they arrive, not when the line ends.
                let _ = std::io::stdout().flush();
                last = Some(item);
            }
            Ok(None) => break Ok(last),
            Err(error) => break Err(error),
        }
    };
    println!();
    outcome
}

/// The guide's joke prompt, shared by its graphs.
pub fn joke_prompt(state: &Topic) -> String {
    format!("Write a joke about {}", state.topic)
}

/// The guide's poem prompt, shared by its graphs.
pub fn poem_prompt(state: &Topic) -> String {
    format!("Write a short poem about {}", state.topic)
}

/// The guide's graph: `START -> call_model -> END`, messages mode.
#[graph(state = Topic, context = Models, edges = [START -> call_model -> END])]
pub mod joke_poem {
    use super::*;

    /// The graph's two LLM calls, for filtering the stream.
    #[tags]
    pub enum Tag {
        /// The joke model's call.
        Joke,
        /// The poem model's call.
        Poem,
    }

    /// Asks for a joke, then a poem, about the topic. The model calls are plain `invoke`s:
    /// the graph streams their tokens because someone listens in messages mode.
    #[node]
    pub async fn call_model(state: &Topic, ctx: &Ctx) -> Result<TopicUpdate, NodeError> {
        let models = ctx.context();
        let joke = ctx
            .chat(&models.joke)
            .tag(Tag::Joke)
            .invoke([Message::user(joke_prompt(state))])
            .await?;
        let poem = ctx
            .chat(&models.poem)
            .tag(Tag::Poem)
            .invoke([Message::user(poem_prompt(state))])
            .await?;
        Ok(TopicUpdate::default().joke(joke.content).poem(poem.content))
    }
}

/// The guide's custom-mode half: the node streams each model delta as a `{role, content}`
/// payload through the writer, tagged with its call.
#[graph(state = Topic, context = Models, custom = Delta, edges = [START -> call_model -> END])]
pub mod custom_joke_poem {
    use super::*;

    /// The node's two model calls.
    #[tags]
    pub enum Tag {
        /// The joke's deltas.
        Joke,
        /// The poem's deltas.
        Poem,
    }

    /// Streams a joke and a poem, writing every delta as a custom payload.
    #[node]
    pub async fn call_model(state: &Topic, ctx: &Ctx) -> Result<TopicUpdate, NodeError> {
        let models = ctx.context();
        let joke = stream_deltas(ctx, models, &models.joke, Tag::Joke, joke_prompt(state)).await?;
        let poem = stream_deltas(ctx, models, &models.poem, Tag::Poem, poem_prompt(state)).await?;
        Ok(TopicUpdate::default().joke(joke).poem(poem))
    }

    async fn stream_deltas(
        ctx: &Ctx,
        models: &Models,
        model: &AnyChatModel,
        tag: Tag,
        prompt: String,
    ) -> Result<String, NodeError> {
        let writer = ctx.writer().tag(tag);
        let mut text = String::new();
        if let Some(openai) = &models.raw {
            // The raw client: the server's own chunks, forwarded delta by delta.
            let request = openai.request([RequestMessage::user(prompt)]);
            let mut chunks = openai.client().stream_chat(&request);
            while let Some(chunk) = chunks.try_next().await? {
                for choice in chunk.choices {
                    let Some(content) = choice.delta.content.filter(|c| !c.is_empty()) else {
                        continue;
                    };
                    text.push_str(&content);
                    let role = "assistant".to_owned();
                    writer.write(Delta { role, content }).await;
                }
            }
            return Ok(text);
        }
        let mut chunks = std::pin::pin!(ctx.chat(model).stream([Message::user(prompt)]));
        while let Some(chunk) = chunks.try_next().await? {
            text.push_str(&chunk.content);
            if !chunk.content.is_empty() {
                writer
                    .write(Delta {
                        role: "assistant".into(),
                        content: chunk.content,
                    })
                    .await;
            }
        }
        Ok(text)
    }
}

/// A progress note the `all_modes` graph writes before each model call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// What the node is about to do.
    pub note: String,
}

/// The guide's graph whose node also reports progress through the custom writer: for
/// streaming every mode at once.
#[graph(state = Topic, context = Models, custom = Progress, edges = [START -> call_model -> END])]
pub mod progress_joke_poem {
    use super::*;

    /// The graph's two LLM calls.
    #[tags]
    pub enum Tag {
        /// The joke model's call.
        Joke,
        /// The poem model's call.
        Poem,
    }

    /// Writes a progress note before each call, then calls the model.
    #[node]
    pub async fn call_model(state: &Topic, ctx: &Ctx) -> Result<TopicUpdate, NodeError> {
        let models = ctx.context();
        let note = |note: &str| Progress {
            note: note.to_owned(),
        };
        ctx.write(note("asking for a joke")).await;
        let joke = ctx
            .chat(&models.joke)
            .tag(Tag::Joke)
            .invoke([Message::user(joke_prompt(state))])
            .await?;
        ctx.write(note("asking for a poem")).await;
        let poem = ctx
            .chat(&models.poem)
            .tag(Tag::Poem)
            .invoke([Message::user(poem_prompt(state))])
            .await?;
        Ok(TopicUpdate::default().joke(joke.content).poem(poem.content))
    }
}

/// `START -> tell -> END`, where `tell` runs [`progress_joke_poem`] as a subgraph, its
/// context: with subgraph streaming on, the child's tokens and progress notes reach the
/// parent's stream under the namespace `tell:<task id>`. Used by the `subgraph` and `serve`
/// examples and the server's tests.
#[graph(state = Topic, context = progress_joke_poem::Graph, custom = Progress, edges = [START -> tell -> END])]
pub mod nested {
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
            .subgraph(ctx.context())
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
