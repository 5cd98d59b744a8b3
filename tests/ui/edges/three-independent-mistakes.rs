use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Topic {
    pub joke: String,
}

// Three mistakes, three errors: an unknown node, an edge out of `END`, a node that is not
// `async`.
#[graph(state = Topic, edges = [START -> plan -> answr -> END, END -> plan, plan -> answer])]
pub mod jokes {
    use super::*;

    #[node]
    pub async fn plan(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }

    #[node]
    pub fn answer(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }
}

fn main() {}
