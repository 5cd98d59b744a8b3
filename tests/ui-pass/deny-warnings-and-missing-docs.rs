//! An expansion under `#![deny(warnings, missing_docs)]`: with docs on the user's own
//! items, nothing the macro generates warns.
#![deny(warnings, missing_docs)]
#![deny(unreachable_pub, unused_qualifications, unused_results, trivial_casts)]

use stategraph::prelude::*;

/// The graph's state.
#[derive(Clone, Debug, Default, State)]
pub struct Topic {
    /// What to write about.
    pub topic: String,
    /// The answer.
    pub joke: String,
    /// Every draft.
    #[reducer(append)]
    pub drafts: Vec<String>,
}

/// A custom-mode payload.
#[derive(Debug)]
pub struct Progress(pub u8);

/// A graph with every kind of edge.
#[graph(
    state = Topic,
    context = ScriptedModel,
    custom = Progress,
    edges = [
        START -> plan,
        plan -> [joke, poem],
        [joke, poem] -> merge,
        merge -> decide ? [plan, END],
    ],
)]
pub mod documented {
    use super::*;

    /// The graph's model calls.
    #[tags]
    pub enum Tag {
        /// The joke.
        Joke,
    }

    /// Plans.
    #[node]
    pub async fn plan(_state: &Topic, ctx: &Ctx) -> TopicUpdate {
        let _ = ctx.write(Progress(0)).await;
        TopicUpdate::default()
    }

    /// Asks for a joke.
    #[node]
    pub async fn joke(state: &Topic, ctx: &Ctx) -> Result<TopicUpdate, NodeError> {
        let joke = ctx
            .chat(ctx.context())
            .tag(Tag::Joke)
            .invoke([Message::user(format!("Write a joke about {}", state.topic))])
            .await?;
        Ok(TopicUpdate::default().joke(joke.content))
    }

    /// Drafts a poem.
    #[node]
    pub async fn poem(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default().drafts(vec!["roses".to_owned()])
    }

    /// Joins the two.
    #[node]
    pub async fn merge(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }

    /// Loops until there is a joke.
    #[router]
    pub fn decide(state: &Topic) -> Decide {
        if state.joke.is_empty() {
            Decide::Plan
        } else {
            Decide::End
        }
    }
}

/// A private graph module with private state is fine too.
mod private_graph {
    use stategraph::prelude::*;

    #[derive(Clone, Default, State)]
    struct Counter {
        count: u32,
    }

    #[graph(state = Counter, edges = [START -> bump -> END])]
    mod counting {
        use super::*;

        #[node]
        async fn bump(state: &Counter) -> CounterUpdate {
            CounterUpdate::default().count(state.count + 1)
        }
    }

    pub(crate) async fn run() -> u32 {
        counting::Graph::new()
            .invoke(Counter::default())
            .await
            .map(|counter| counter.count)
            .unwrap_or_default()
    }
}

#[tokio::main]
async fn main() {
    let graph = documented::Graph::new(ScriptedModel::new(["Why", "?"]));
    let state = graph.invoke(Topic::default()).await.unwrap();
    assert_eq!(state.joke, "Why?");
    assert_eq!(private_graph::run().await, 1);
}
