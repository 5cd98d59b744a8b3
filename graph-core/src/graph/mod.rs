//! What a graph is, as the runtime sees it: the traits `#[graph]` and `#[derive(State)]`
//! implement, the edges, the set of tags a call carries, and the reducers a state's fields
//! may name. Plain data and traits: nothing here runs a graph.

pub(crate) mod command;
pub(crate) mod goto;
pub(crate) mod policy;
pub(crate) mod reducers;
pub(crate) mod sent;
pub(crate) mod tags;
pub(crate) mod topology;
pub(crate) mod traits;
