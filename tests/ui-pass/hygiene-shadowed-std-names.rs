// The user's module shadows the std names generated code could lean on: the expansion must
// name them by absolute path.
#![allow(dead_code)]

use stategraph::prelude::*;

#[derive(Clone, Debug, Default, State)]
pub struct Topic {
    pub topic: String,
    pub joke: String,
}

#[stategraph::graph(state = Topic, edges = [START -> plan, plan -> [joke, poem], [joke, poem] -> merge, merge -> decide ? [plan, END]])]
pub mod shadowed {
    use super::{NodeError, Topic, TopicUpdate};

    pub struct Result;
    pub struct Option;
    pub struct Box;
    pub struct String;
    pub struct Vec;
    pub struct Some;
    pub struct None;
    pub struct Ok;
    pub struct Err;
    pub trait Clone {}
    pub trait Copy {}
    pub trait Default {}
    pub trait Send {}
    pub trait Sync {}
    pub trait Future {}
    pub trait Into {}
    pub mod core {}
    pub mod std {}
    pub mod serde {}

    /// The tags.
    #[tags]
    pub enum Tag {
        Joke,
    }

    #[node]
    pub async fn plan(_state: &Topic) -> ::core::result::Result<TopicUpdate, NodeError> {
        ::core::result::Result::Ok(TopicUpdate::default())
    }

    #[node]
    pub async fn joke(_state: &Topic, _ctx: &Ctx) -> TopicUpdate {
        TopicUpdate::default().joke("why")
    }

    #[node]
    pub async fn poem(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }

    #[node]
    pub async fn merge(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }

    #[router]
    pub fn decide(state: &Topic) -> Decide {
        if state.joke.is_empty() {
            Decide::Plan
        } else {
            Decide::End
        }
    }
}

#[tokio::main]
async fn main() {
    let state = shadowed::Graph::new()
        .invoke(Topic::default())
        .await
        .unwrap();
    assert_eq!(state.joke, "why");
    assert_eq!(shadowed::Tag::Joke.name(), "joke");
}
