//! The graphs under test: one node that streams one model call (messages mode), and one
//! node that writes one custom payload per token (custom mode).

use stategraph::prelude::*;

/// The benchmarks' state: nothing to carry.
#[derive(Clone, Debug, Default, State)]
pub struct Empty {
    /// Unused; a state needs a field.
    pub done: bool,
}

/// `START -> call -> END`: one model call, streamed in messages mode.
#[graph(state = Empty, context = stategraph::AnyChatModel, edges = [START -> call -> END])]
pub mod one_call {
    use super::*;

    /// The call's tag.
    #[tags]
    pub enum Tag {
        /// The one call.
        Call,
    }

    /// Calls the model once.
    #[node]
    pub async fn call(_state: &Empty, ctx: &Ctx) -> Result<EmptyUpdate, NodeError> {
        ctx.chat(ctx.context())
            .tag(Tag::Call)
            .invoke([Message::user("go")])
            .await?;
        Ok(EmptyUpdate::default().done(true))
    }
}

/// How many custom payloads the writer graph's node writes.
pub struct Writes(pub u64);

/// `START -> write -> END`: one custom payload per "token".
#[graph(state = Empty, context = Writes, custom = u64, edges = [START -> write -> END])]
pub mod writer {
    use super::*;

    /// Unused: the graph makes no model call.
    #[tags]
    pub enum Tag {
        /// Unused.
        Unused,
    }

    /// Writes `0..n` as payloads.
    #[node]
    pub async fn write(_state: &Empty, ctx: &Ctx) -> Result<EmptyUpdate, NodeError> {
        for i in 0..ctx.context().0 {
            ctx.write(i).await;
        }
        Ok(EmptyUpdate::default().done(true))
    }
}

/// `START -> drain -> END`: one model call whose chunks the node reads and drops, so
/// nothing in the node grows with the answer (for the memory benchmarks).
#[graph(state = Empty, context = stategraph::AnyChatModel, edges = [START -> drain -> END])]
pub mod drained_call {
    use super::*;

    /// The call's tag.
    #[tags]
    pub enum Tag {
        /// The one call.
        Call,
    }

    /// Streams one call and keeps nothing.
    #[node]
    pub async fn drain(_state: &Empty, ctx: &Ctx) -> Result<EmptyUpdate, NodeError> {
        let mut chunks = std::pin::pin!(ctx.chat(ctx.context()).stream([Message::user("go")]));
        while chunks.try_next().await?.is_some() {}
        Ok(EmptyUpdate::default().done(true))
    }
}
