// The attribute's whole grammar at once: chains, fan-out, fan-in, a routed cycle, and a
// router straight from `START`.
use stategraph::prelude::*;

#[derive(Clone, Debug, Default, State)]
pub struct Work {
    pub rounds: u32,
    #[reducer(append)]
    pub log: Vec<String>,
}

#[graph(
    state = Work,
    edges = [
        START -> entry ? [plan, END],
        plan -> [search, draft],
        [search, draft] -> merge,
        merge -> again ? [plan, END],
    ],
)]
pub mod research {
    use super::*;

    #[node]
    pub async fn plan(state: &Work) -> WorkUpdate {
        WorkUpdate::default()
            .rounds(state.rounds + 1)
            .log(vec!["plan".to_owned()])
    }

    #[node]
    pub async fn search(_state: &Work) -> WorkUpdate {
        WorkUpdate::default().log(vec!["search".to_owned()])
    }

    #[node]
    pub async fn draft(_state: &Work) -> WorkUpdate {
        WorkUpdate::default().log(vec!["draft".to_owned()])
    }

    #[node]
    pub async fn merge(_state: &Work) -> WorkUpdate {
        WorkUpdate::default().log(vec!["merge".to_owned()])
    }

    #[router]
    pub fn entry(_state: &Work) -> Entry {
        Entry::Plan
    }

    #[router]
    pub fn again(state: &Work) -> Again {
        if state.rounds < 2 {
            Again::Plan
        } else {
            Again::End
        }
    }
}

#[tokio::main]
async fn main() {
    let work = research::Graph::new()
        .invoke(Work::default())
        .await
        .unwrap();
    assert_eq!(work.rounds, 2);
    assert_eq!(
        work.log,
        [
            "plan", "search", "draft", "merge", "plan", "search", "draft", "merge"
        ]
    );
    assert_eq!(research::Node::ALL.len(), 4);
}
