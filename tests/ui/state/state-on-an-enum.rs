use stategraph::prelude::*;

#[derive(Clone, State)]
pub enum Mood {
    Happy,
    Sad,
}

fn main() {}
