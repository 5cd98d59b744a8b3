use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Notes {
    #[reducer]
    pub lines: Vec<String>,
    #[reducer(append, sorted)]
    pub tags: Vec<String>,
}

fn main() {}
