//! Which tasks run next: the graph's edges evaluated after a step, with the joins'
//! bookkeeping across steps. Plain data in, plain data out; the only user code it calls is
//! the routers, whose panics become errors.

use std::panic::AssertUnwindSafe;

use crate::error::{GraphError, panic_message};
use crate::graph::topology::{Edge, Source, Target, Topology};
use crate::graph::traits::GraphNode;

/// A task of the next step.
#[derive(Debug, PartialEq)]
pub(crate) enum NextTask<N, P> {
    /// Started by edges, with the triggers that started it; it reads the graph's state.
    Pull(N, Vec<&'static str>),
    /// Started by a router's `Send`, with its own input.
    Push(N, P),
}

impl<N: Copy, P> NextTask<N, P> {
    /// The node the task runs.
    pub(crate) fn node(&self) -> N {
        match self {
            Self::Pull(node, _) | Self::Push(node, _) => *node,
        }
    }
}

/// The edges of one graph and, for each fan-in, which of its sources have run since it
/// last fired.
pub(crate) struct Frontier<N: 'static, S: 'static, P: 'static = S> {
    edges: &'static [Edge<N, S, P>],
    /// One entry per edge, in the edges' order: for a join, one flag per node it waits
    /// for; empty for the others.
    join_seen: Vec<Vec<bool>>,
}

impl<N: GraphNode, S, P> Frontier<N, S, P> {
    /// The frontier of a run that has not started: no join has seen anything.
    pub(crate) fn new(topology: &Topology<N, S, P>) -> Self {
        let edges = topology.edges();
        let join_seen = edges
            .iter()
            .map(|edge| match edge {
                Edge::Join { from, .. } => vec![false; from.len()],
                _ => Vec::new(),
            })
            .collect();
        Self { edges, join_seen }
    }

    /// For each edge, in the edges' order, which of a fan-in's sources have run since it
    /// last fired (empty for other edges): what a thread stores to resume.
    pub(crate) fn joins(&self) -> &[Vec<bool>] {
        &self.join_seen
    }

    /// Takes up the fan-ins' progress a thread stored.
    ///
    /// # Errors
    /// A message saying what does not match when `joins` was stored by a graph with other
    /// edges.
    pub(crate) fn restore(&mut self, joins: Vec<Vec<bool>>) -> Result<(), String> {
        if joins.is_empty() {
            return Ok(());
        }
        let fits = joins.len() == self.join_seen.len()
            && joins
                .iter()
                .zip(&self.join_seen)
                .all(|(stored, ours)| stored.len() == ours.len());
        if !fits {
            return Err(format!(
                "the stored fan-in progress ({} edges) does not fit the graph's {} edges: \
                 the graph's edges changed",
                joins.len(),
                self.join_seen.len()
            ));
        }
        self.join_seen = joins;
        Ok(())
    }

    /// The tasks triggered by `sources` having run (in step `step`, leaving `state` after
    /// its merge) and by the nodes their `goto`s named: the started nodes in declaration
    /// order, each once with every trigger that started it, then one task per item the
    /// `Send` routers return, then one per `Send` the `goto`s named (`sent`). A `goto`
    /// triggers its node as an edge does
    /// (`branch:to:<node>`, LangGraph's trigger for a `Command`'s goto too), so a thread
    /// stores the step it starts as any other.
    ///
    /// # Errors
    /// [`GraphError::RouterPanicked`] when a router panics.
    pub(crate) fn next_tasks(
        &mut self,
        sources: &[Source<N>],
        goto: &[N],
        sent: Vec<(N, P)>,
        state: &S,
        step: u64,
    ) -> Result<Vec<NextTask<N, P>>, GraphError> {
        let mut triggered: Vec<Vec<&'static str>> = vec![Vec::new(); N::ALL.len()];
        let mut pushes = Vec::new();
        let mut trigger = |target: Target<N>, why: Option<&'static str>| {
            if let Target::Node(node) = target {
                let why = why.unwrap_or_else(|| node.branch_trigger());
                let slot = &mut triggered[node.index()];
                if !slot.contains(&why) {
                    slot.push(why);
                }
            }
        };
        for node in goto {
            trigger(Target::Node(*node), None);
        }
        for (edge, seen) in self.edges.iter().zip(&mut self.join_seen) {
            match edge {
                Edge::Direct { from, to } => {
                    if sources.contains(from) {
                        trigger(*to, None);
                    }
                }
                Edge::Join {
                    from,
                    to,
                    trigger: why,
                } => {
                    for (waits_for, seen) in from.iter().zip(seen.iter_mut()) {
                        *seen |= sources.contains(&Source::Node(*waits_for));
                    }
                    if seen.iter().all(|seen| *seen) {
                        seen.iter_mut().for_each(|seen| *seen = false);
                        trigger(*to, Some(why));
                    }
                }
                Edge::Routed {
                    from,
                    router,
                    route,
                } => {
                    if sources.contains(from) {
                        trigger(call_router(state, step, router, *route)?, None);
                    }
                }
                Edge::Send { from, router, send } => {
                    if sources.contains(from) {
                        pushes.extend(call_router(state, step, router, *send)?);
                    }
                }
            }
        }
        let pulls = N::ALL
            .iter()
            .zip(triggered)
            .filter(|(_, triggers)| !triggers.is_empty())
            .map(|(node, triggers)| NextTask::Pull(*node, triggers));
        let pushes = pushes
            .into_iter()
            .chain(sent)
            .map(|(node, input)| NextTask::Push(node, input));
        Ok(pulls.chain(pushes).collect())
    }
}

/// Calls a user's router on the state, turning a panic into an error.
fn call_router<S, T>(
    state: &S,
    step: u64,
    router: &'static str,
    route: fn(&S) -> T,
) -> Result<T, GraphError> {
    std::panic::catch_unwind(AssertUnwindSafe(|| route(state))).map_err(|panic| {
        GraphError::RouterPanicked {
            router,
            step,
            message: panic_message(&*panic),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    enum Node {
        Plan,
        Search,
        Draft,
        Answer,
    }

    impl GraphNode for Node {
        const ALL: &'static [Self] = &[Node::Plan, Node::Search, Node::Draft, Node::Answer];
        fn name(self) -> &'static str {
            ["plan", "search", "draft", "answer"][self.index()]
        }
        fn index(self) -> usize {
            self as usize
        }
        fn branch_trigger(self) -> &'static str {
            [
                "branch:to:plan",
                "branch:to:search",
                "branch:to:draft",
                "branch:to:answer",
            ][self.index()]
        }
    }

    use Node::*;

    /// The state is the number of searches still to make.
    type State = u32;

    fn more_searches(state: &State) -> Target<Node> {
        if *state > 0 {
            Target::Node(Search)
        } else {
            Target::End
        }
    }

    fn one_draft_per_search(state: &State) -> Vec<(Node, State)> {
        (0..*state).map(|n| (Draft, n)).collect()
    }

    fn panics(_: &State) -> Target<Node> {
        panic!("no route")
    }

    fn frontier(edges: &'static [Edge<Node, State>]) -> Frontier<Node, State> {
        Frontier::new(&Topology::new(edges))
    }

    fn pulls(tasks: &[NextTask<Node, State>]) -> Vec<(Node, Vec<&'static str>)> {
        tasks
            .iter()
            .filter_map(|task| match task {
                NextTask::Pull(node, triggers) => Some((*node, triggers.clone())),
                NextTask::Push(..) => None,
            })
            .collect()
    }

    #[test]
    fn direct_edges_start_their_targets_once_in_declaration_order() {
        static EDGES: &[Edge<Node, State>] = &[
            Edge::Direct {
                from: Source::Start,
                to: Target::Node(Search),
            },
            Edge::Direct {
                from: Source::Start,
                to: Target::Node(Plan),
            },
            Edge::Direct {
                from: Source::Node(Plan),
                to: Target::Node(Answer),
            },
            Edge::Direct {
                from: Source::Node(Search),
                to: Target::Node(Answer),
            },
        ];
        let mut frontier = frontier(EDGES);
        let first = frontier
            .next_tasks(&[Source::Start], &[], Vec::new(), &0, 0)
            .unwrap();
        assert_eq!(
            first,
            [
                NextTask::Pull(Plan, vec!["branch:to:plan"]),
                NextTask::Pull(Search, vec!["branch:to:search"]),
            ]
        );
        let second = frontier
            .next_tasks(
                &[Source::Node(Plan), Source::Node(Search)],
                &[],
                Vec::new(),
                &0,
                1,
            )
            .unwrap();
        assert_eq!(second, [NextTask::Pull(Answer, vec!["branch:to:answer"])]);
    }

    #[test]
    fn a_join_fires_once_all_its_sources_have_run_in_any_steps_then_waits_again() {
        static EDGES: &[Edge<Node, State>] = &[Edge::Join {
            from: &[Plan, Search],
            to: Target::Node(Answer),
            trigger: "join:plan+search:answer",
        }];
        let mut frontier = frontier(EDGES);
        assert_eq!(
            frontier
                .next_tasks(&[Source::Node(Plan)], &[], Vec::new(), &0, 1)
                .unwrap(),
            []
        );
        assert_eq!(
            frontier
                .next_tasks(&[Source::Node(Draft)], &[], Vec::new(), &0, 2)
                .unwrap(),
            []
        );
        assert_eq!(
            frontier
                .next_tasks(&[Source::Node(Search)], &[], Vec::new(), &0, 3)
                .unwrap(),
            [NextTask::Pull(Answer, vec!["join:plan+search:answer"])]
        );
        // It fired: both sources must run again before it fires again.
        assert_eq!(
            frontier
                .next_tasks(&[Source::Node(Search)], &[], Vec::new(), &0, 4)
                .unwrap(),
            []
        );
        assert_eq!(
            frontier
                .next_tasks(
                    &[Source::Node(Plan), Source::Node(Search)],
                    &[],
                    Vec::new(),
                    &0,
                    5
                )
                .unwrap(),
            [NextTask::Pull(Answer, vec!["join:plan+search:answer"])]
        );
    }

    #[test]
    fn a_node_started_by_a_join_and_an_edge_keeps_both_triggers() {
        static EDGES: &[Edge<Node, State>] = &[
            Edge::Join {
                from: &[Plan, Search],
                to: Target::Node(Answer),
                trigger: "join:plan+search:answer",
            },
            Edge::Direct {
                from: Source::Node(Plan),
                to: Target::Node(Answer),
            },
        ];
        let mut frontier = frontier(EDGES);
        let sources = [Source::Node(Plan), Source::Node(Search)];
        assert_eq!(
            pulls(
                &frontier
                    .next_tasks(&sources, &[], Vec::new(), &0, 1)
                    .unwrap()
            ),
            [(Answer, vec!["join:plan+search:answer", "branch:to:answer"])]
        );
    }

    #[test]
    fn routers_read_the_state_and_sends_come_after_the_pulls() {
        static EDGES: &[Edge<Node, State>] = &[
            Edge::Send {
                from: Source::Node(Plan),
                router: "one_draft_per_search",
                send: one_draft_per_search,
            },
            Edge::Routed {
                from: Source::Node(Plan),
                router: "more_searches",
                route: more_searches,
            },
        ];
        let mut frontier = frontier(EDGES);
        assert_eq!(
            frontier
                .next_tasks(&[Source::Node(Plan)], &[], Vec::new(), &2, 1)
                .unwrap(),
            [
                NextTask::Pull(Search, vec!["branch:to:search"]),
                NextTask::Push(Draft, 0),
                NextTask::Push(Draft, 1),
            ]
        );
        // No searches left: the router ends the graph and the send starts nothing.
        assert_eq!(
            frontier
                .next_tasks(&[Source::Node(Plan)], &[], Vec::new(), &0, 2)
                .unwrap(),
            []
        );
        // Only edges from a node that ran are followed.
        assert_eq!(
            frontier
                .next_tasks(&[Source::Node(Search)], &[], Vec::new(), &2, 3)
                .unwrap(),
            []
        );
    }

    #[test]
    fn a_goto_starts_its_node_with_the_edge_trigger_once_beside_the_edges() {
        static EDGES: &[Edge<Node, State>] = &[Edge::Direct {
            from: Source::Node(Plan),
            to: Target::Node(Search),
        }];
        let mut frontier = frontier(EDGES);
        assert_eq!(
            frontier
                .next_tasks(
                    &[Source::Node(Plan)],
                    &[Answer, Search, Answer],
                    Vec::new(),
                    &0,
                    1
                )
                .unwrap(),
            [
                NextTask::Pull(Search, vec!["branch:to:search"]),
                NextTask::Pull(Answer, vec!["branch:to:answer"]),
            ]
        );
    }

    #[test]
    fn a_router_that_panics_is_an_error_naming_it_and_the_step() {
        static EDGES: &[Edge<Node, State>] = &[Edge::Routed {
            from: Source::Start,
            router: "panics",
            route: panics,
        }];
        let mut frontier = frontier(EDGES);
        let error = frontier
            .next_tasks(&[Source::Start], &[], Vec::new(), &0, 0)
            .unwrap_err();
        assert!(
            matches!(
                &error,
                GraphError::RouterPanicked { router: "panics", step: 0, message } if message == "no route"
            ),
            "{error:?}"
        );
    }
}
