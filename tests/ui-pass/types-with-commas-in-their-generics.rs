// `context`, `custom` and `state` take any type, commas inside its generics included: a
// value ends where the type does, not at its first comma.
use std::collections::HashMap;

use stategraph::prelude::*;

#[derive(Clone, Debug, Default, State)]
pub struct Work {
    #[reducer(append)]
    pub log: Vec<String>,
}

/// A model by name, as a context would hold clients.
pub struct Model {
    pub reply: String,
}

#[graph(
    state = Work,
    context = HashMap<String, Model>,
    custom = Result<u32, String>,
    edges = [START -> answer -> END],
)]
pub mod answering {
    use super::*;

    #[node]
    pub async fn answer(_state: &Work, ctx: &Ctx) -> WorkUpdate {
        ctx.write(Ok(1)).await;
        ctx.write(Err("no model".to_owned())).await;
        let reply = ctx
            .context()
            .get("fast")
            .map_or_else(String::new, |model| model.reply.clone());
        WorkUpdate::default().log(vec![reply])
    }
}

fn main() {
    let mut models = HashMap::new();
    models.insert(
        "fast".to_owned(),
        Model {
            reply: "hi".to_owned(),
        },
    );
    let graph = answering::Graph::new(models);
    let _: &HashMap<String, Model> = graph.context();
    drop(graph.invoke(Work::default()));
}
