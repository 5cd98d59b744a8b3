//! What a node returns when it also picks where the run goes next: LangGraph's
//! `Command(update=.., goto=..)` returned from a node, typed.

use crate::error::NodeError;

/// An update together with the nodes to run next: what a `#[node(goto = [..])]` fn returns
/// (LangGraph's `Command(update=.., goto=..)` returned from a node).
///
/// `T` is the enum `#[graph]` generates for the node from its `goto` list (`AgentGoto` for
/// `#[node(goto = [tools, END])] async fn agent`), so a node can only go where its attribute
/// says, and the docs draw exactly those edges. The targets run in the next step, besides
/// whatever the node's edges start; going to `END` adds nothing.
///
/// ```ignore
/// #[node(goto = [tools, END])]
/// async fn agent(state: &Chat, ctx: &Ctx) -> Goto<ChatUpdate, AgentGoto> {
///     let reply = ctx.chat(&model).messages(&state.messages).await?;
///     let next = if reply.tool_calls().is_empty() { AgentGoto::End } else { AgentGoto::Tools };
///     Goto::new(ChatUpdate::default().messages(vec![reply]), next)
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Goto<U, T> {
    update: U,
    targets: Vec<T>,
}

impl<U, T: PartialEq> Goto<U, T> {
    /// `update`, then `target` in the next step.
    pub fn new(update: U, target: T) -> Self {
        Self {
            update,
            targets: vec![target],
        }
    }

    /// `update`, then every one of `targets` in the next step (each once); none when
    /// `targets` is empty, so only the node's edges lead on.
    pub fn many(update: U, targets: impl IntoIterator<Item = T>) -> Self {
        let mut goto = Self {
            update,
            targets: Vec::new(),
        };
        for target in targets {
            goto = goto.and(target);
        }
        goto
    }

    /// Runs `target` in the next step too.
    #[must_use]
    pub fn and(mut self, target: T) -> Self {
        if !self.targets.contains(&target) {
            self.targets.push(target);
        }
        self
    }

    /// The update.
    pub fn update(&self) -> &U {
        &self.update
    }

    /// Where the run goes next, in the order given.
    pub fn targets(&self) -> &[T] {
        &self.targets
    }

    /// The update and the targets.
    pub fn into_parts(self) -> (U, Vec<T>) {
        (self.update, self.targets)
    }
}

/// What a `#[node(goto = [..])]` fn may return: a [`Goto`] of its graph's update and the
/// node's goto enum, or a `Result` of one.
#[diagnostic::on_unimplemented(
    message = "a `#[node(goto = [..])]` fn must return `Goto<{U}, {T}>` or `Result<Goto<{U}, {T}>, E>`, not `{Self}`",
    label = "this is not a `Goto` of the node's update and goto enum",
    note = "`#[graph]` generates the goto enum `{T}` from the node's `goto` list"
)]
pub trait IntoNodeGoto<U, T> {
    /// Converts the node's return value.
    ///
    /// # Errors
    /// The node's own error, boxed.
    fn into_node_goto(self) -> Result<Goto<U, T>, NodeError>;
}

impl<U, T> IntoNodeGoto<U, T> for Goto<U, T> {
    fn into_node_goto(self) -> Result<Goto<U, T>, NodeError> {
        Ok(self)
    }
}

impl<U, T, E: Into<NodeError>> IntoNodeGoto<U, T> for Result<Goto<U, T>, E> {
    fn into_node_goto(self) -> Result<Goto<U, T>, NodeError> {
        self.map_err(Into::into)
    }
}

/// What a node task ends with: its update, the nodes its `goto` names, and the `Send`s it
/// names (both empty for a node without a `goto`, which allocates nothing).
#[derive(Clone, Debug)]
pub struct NodeOutput<U, N, P = ()> {
    /// The update.
    pub update: U,
    /// The nodes to run in the next step besides the edges' (`END` left out).
    pub goto: Vec<N>,
    /// The nodes to start in the next step on an input of their own: `Send`s.
    pub sends: Vec<(N, P)>,
}

impl<U, N, P> NodeOutput<U, N, P> {
    /// An update with no `goto`.
    pub fn update(update: U) -> Self {
        Self {
            update,
            goto: Vec::new(),
            sends: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Goto;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Next {
        Tools,
        End,
    }

    #[test]
    fn a_target_named_twice_is_kept_once_in_order() {
        let goto = Goto::many(1, [Next::Tools, Next::End, Next::Tools]);
        assert_eq!(goto.targets(), [Next::Tools, Next::End]);
        assert_eq!(goto.into_parts(), (1, vec![Next::Tools, Next::End]));
    }
}
