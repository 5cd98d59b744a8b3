//! Interrupts and resume on a thread: a node asks with `ctx.interrupt(..)`, the run stops
//! without error, and `Command::resume` (in a new process too: a new store on the same
//! file) runs the node again with the answer. Breakpoints stop before or after a node;
//! `Command::proceed` goes on after them and after a failed step, running again only the
//! tasks that had not finished. Side effects are counted to show what ran twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use stategraph::checkpoint::{CheckpointError, Checkpointer, ListOptions, Source};
use stategraph::mode::{Tasks, Updates};
use stategraph::prelude::*;
use stategraph::{Command, Durability, TaskEventKind};
use stategraph_checkpoint::{MemoryCheckpointer, SqlCheckpointer};

/// Counts each node's runs, and makes a node fail while `fail` is set.
#[derive(Debug, Default)]
pub struct Probe {
    runs: [AtomicUsize; 6],
    fail: AtomicBool,
}

impl Probe {
    fn ran(&self, slot: usize) {
        self.runs[slot].fetch_add(1, Ordering::SeqCst);
    }

    fn runs(&self, slot: usize) -> usize {
        self.runs[slot].load(Ordering::SeqCst)
    }
}

const PLAN: usize = 0;
const APPROVE: usize = 1;
const ACT: usize = 2;
const LEFT: usize = 3;
const RIGHT: usize = 4;
const MERGE: usize = 5;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, State)]
pub struct Task {
    pub task: String,
    pub approved: Option<bool>,
    #[reducer(append)]
    pub log: Vec<String>,
}

/// A question the approval node asks.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub question: String,
}

#[graph(
    state = Task,
    context = Arc<Probe>,
    edges = [START -> plan -> approve -> decide ? [act, cancel], act -> END, cancel -> END]
)]
pub mod approval {
    use super::*;

    #[node]
    pub async fn plan(state: &Task, ctx: &Ctx) -> TaskUpdate {
        ctx.context().ran(PLAN);
        TaskUpdate::default().log(vec![format!("planned {}", state.task)])
    }

    #[node]
    pub async fn approve(state: &Task, ctx: &Ctx) -> Result<TaskUpdate, NodeError> {
        ctx.context().ran(APPROVE);
        let answer: String = ctx
            .interrupt(Question {
                question: format!("may I {}?", state.task),
            })
            .await?;
        Ok(TaskUpdate::default().approved(answer == "yes"))
    }

    #[router]
    pub fn decide(state: &Task) -> Decide {
        if state.approved == Some(true) {
            Decide::Act
        } else {
            Decide::Cancel
        }
    }

    #[node]
    pub async fn act(state: &Task, ctx: &Ctx) -> TaskUpdate {
        ctx.context().ran(ACT);
        TaskUpdate::default().log(vec![format!("did {}", state.task)])
    }

    #[node]
    pub async fn cancel(state: &Task, _ctx: &Ctx) -> TaskUpdate {
        TaskUpdate::default().log(vec![format!("cancelled {}", state.task)])
    }
}

fn task(name: &str) -> TaskUpdate {
    TaskUpdate::default().task(name.to_owned())
}

/// A thread's history, oldest first, as (step, source).
fn steps_of(history: &[stategraph::checkpoint::CheckpointMeta]) -> Vec<(i64, Source)> {
    history
        .iter()
        .rev()
        .map(|meta| (meta.step, meta.source))
        .collect()
}

async fn sqlite(dir: &tempfile::TempDir) -> Arc<dyn Checkpointer> {
    let url = format!("sqlite://{}", dir.path().join("threads.db").display());
    Arc::new(SqlCheckpointer::connect(&url).await.unwrap())
}

#[tokio::test]
async fn an_interrupt_stops_the_run_and_a_resume_in_a_new_process_answers_it() {
    let dir = tempfile::tempdir().unwrap();
    let probe = Arc::new(Probe::default());
    let first_id = {
        let store = sqlite(&dir).await;
        let graph = approval::Graph::new(Arc::clone(&probe));
        let thread = graph.thread(&store, "t");
        let mut stream = thread.stream(task("deploy"), Tasks).await.unwrap();
        let mut interrupted_events = Vec::new();
        while let Some(event) = stream.try_next().await.unwrap() {
            if let TaskEventKind::Interrupted { interrupt } = event.kind() {
                interrupted_events.push(interrupt.clone());
            }
        }
        let interrupts = stream.interrupted().expect("the run stopped").to_vec();
        assert_eq!(interrupts.len(), 1);
        assert_eq!(interrupted_events, interrupts, "tasks mode shows it too");
        let question: Question = interrupts[0].value_as().unwrap();
        assert_eq!(question.question, "may I deploy?");
        assert_eq!(interrupts[0].node(), "approve");
        assert_eq!(
            serde_json::to_value(&interrupts[0]).unwrap(),
            json!({"value": {"question": "may I deploy?"}, "id": interrupts[0].id()}),
            "LangGraph's Interrupt shape"
        );

        let snapshot = thread.state().await.unwrap().unwrap();
        assert_eq!(snapshot.next, [approval::Node::Approve]);
        assert_eq!(snapshot.interrupts, interrupts);
        assert_eq!(snapshot.values.approved, None, "nothing of the step merged");
        interrupts[0].id().to_owned()
    };
    // A new process: a new store on the same file, a new graph.
    let store = sqlite(&dir).await;
    let graph = approval::Graph::new(Arc::clone(&probe));
    let thread = graph.thread(&store, "t");
    let mut stream = thread
        .command(Command::resume("yes"), Updates)
        .await
        .unwrap();
    let mut nodes = Vec::new();
    while let Some(update) = stream.try_next().await.unwrap() {
        nodes.push(update.node());
    }
    assert_eq!(stream.interrupted(), None, "it ran to its end");
    assert_eq!(nodes, [approval::Node::Approve, approval::Node::Act]);
    let state = stream.into_state();
    assert_eq!(state.approved, Some(true));
    assert_eq!(state.log, ["planned deploy", "did deploy"]);
    assert_eq!(probe.runs(PLAN), 1, "plan did not run again");
    assert_eq!(probe.runs(APPROVE), 2, "approve ran again from its start");
    assert_eq!(probe.runs(ACT), 1);

    let snapshot = thread.state().await.unwrap().unwrap();
    assert!(snapshot.next.is_empty());
    assert!(snapshot.interrupts.is_empty());
    // The history has each step once: input, input applied, plan, approve, act.
    let steps = steps_of(&thread.history(ListOptions::default()).await.unwrap());
    assert_eq!(
        steps,
        [
            (-1, Source::Input),
            (0, Source::Loop),
            (1, Source::Loop),
            (2, Source::Loop),
            (3, Source::Loop)
        ]
    );

    // The other answer on another thread takes the other branch.
    let other = graph.thread(&store, "u");
    other.invoke(task("delete")).await.unwrap();
    let question = &other.state().await.unwrap().unwrap().interrupts[0];
    assert_eq!(question.node(), "approve");
    assert_ne!(
        question.id(),
        first_id,
        "the same step and node on another thread ask another question"
    );
    let state = other.invoke_command(Command::resume("no")).await.unwrap();
    assert_eq!(state.log, ["planned delete", "cancelled delete"]);
}

#[tokio::test]
async fn commands_that_do_not_fit_the_thread_are_typed_errors() {
    let store: Arc<dyn Checkpointer> = Arc::new(MemoryCheckpointer::new());
    let graph = approval::Graph::new(Arc::default());
    let thread = graph.thread(&store, "t");
    match thread.invoke_command(Command::resume("yes")).await {
        Err(GraphError::Checkpoint(CheckpointError::NotFound { thread, at: None })) => {
            assert_eq!(thread, "t");
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    thread.invoke(task("x")).await.unwrap();
    // A resume value of the wrong type is the node's error, naming the type.
    match thread.invoke_command(Command::resume(json!(42))).await {
        Err(GraphError::Node { node, source, .. }) => {
            assert_eq!(node, "approve");
            assert!(
                source.to_string().contains("alloc::string::String"),
                "{source}"
            );
        }
        other => panic!("expected the node's error, got {other:?}"),
    }
    // The failed resume stored its answer; a new answer replaces it.
    thread.invoke_command(Command::resume("yes")).await.unwrap();
    match thread.invoke_command(Command::resume("yes")).await {
        Err(GraphError::CannotResume { reason, .. }) => {
            assert!(reason.contains("nothing is due"), "{reason}");
        }
        other => panic!("expected CannotResume, got {other:?}"),
    }
    match thread
        .invoke_command(Command::resume_by_id([("nope".to_owned(), json!("yes"))]))
        .await
    {
        Err(GraphError::CannotResume { .. }) => {}
        other => panic!("expected CannotResume, got {other:?}"),
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, State)]
pub struct Form {
    #[reducer(append)]
    pub answers: Vec<String>,
}

#[graph(state = Form, context = Arc<Probe>, edges = [START -> ask -> END])]
pub mod form {
    use super::*;

    /// Asks two questions, one after the other.
    #[node]
    pub async fn ask(_state: &Form, ctx: &Ctx) -> Result<FormUpdate, NodeError> {
        ctx.context().ran(PLAN);
        let name: String = ctx.interrupt("name?").await?;
        let age: u32 = ctx.interrupt("age?").await?;
        Ok(FormUpdate::default().answers(vec![name, age.to_string()]))
    }
}

#[tokio::test]
async fn several_interrupts_in_one_node_get_their_answers_in_order() {
    let store: Arc<dyn Checkpointer> = Arc::new(MemoryCheckpointer::new());
    let probe = Arc::new(Probe::default());
    let graph = form::Graph::new(Arc::clone(&probe));
    let thread = graph.thread(&store, "t");
    let mut stream = thread.stream(FormUpdate::default(), Updates).await.unwrap();
    while stream.try_next().await.unwrap().is_some() {}
    let first = stream.interrupted().unwrap()[0].clone();
    assert_eq!(first.value(), &json!("name?"));

    let mut stream = thread
        .command(Command::resume("Ada"), Updates)
        .await
        .unwrap();
    while stream.try_next().await.unwrap().is_some() {}
    let second = stream.interrupted().unwrap()[0].clone();
    assert_eq!(second.value(), &json!("age?"));
    assert_ne!(first.id(), second.id());
    let pending = thread.state().await.unwrap().unwrap().interrupts;
    assert_eq!(
        pending,
        std::slice::from_ref(&second),
        "the first is answered"
    );

    let state = thread
        .invoke_command(Command::resume_by_id([(second.id().to_owned(), json!(36))]))
        .await
        .unwrap();
    assert_eq!(state.answers, ["Ada", "36"]);
    assert_eq!(
        probe.runs(PLAN),
        3,
        "the node ran once per question, and once answered"
    );
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, State)]
pub struct Both {
    #[reducer(append)]
    pub log: Vec<String>,
}

#[graph(
    state = Both,
    context = Arc<Probe>,
    edges = [START -> plan -> [left, right], [left, right] -> merge -> END]
)]
pub mod both {
    use super::*;

    #[node]
    pub async fn plan(_state: &Both, ctx: &Ctx) -> BothUpdate {
        ctx.context().ran(PLAN);
        BothUpdate::default().log(vec!["plan".into()])
    }

    #[node]
    pub async fn left(_state: &Both, ctx: &Ctx) -> BothUpdate {
        ctx.context().ran(LEFT);
        BothUpdate::default().log(vec!["left".into()])
    }

    /// Fails while the probe says so.
    #[node]
    pub async fn right(_state: &Both, ctx: &Ctx) -> Result<BothUpdate, NodeError> {
        ctx.context().ran(RIGHT);
        // Lets `left` finish first, so its update is stored before this fails.
        tokio::task::yield_now().await;
        if ctx.context().fail.load(Ordering::SeqCst) {
            return Err(NodeError::msg("right is down"));
        }
        Ok(BothUpdate::default().log(vec!["right".into()]))
    }

    #[node]
    pub async fn merge(_state: &Both, ctx: &Ctx) -> BothUpdate {
        ctx.context().ran(MERGE);
        BothUpdate::default().log(vec!["merge".into()])
    }
}

async fn a_failed_step_resumes_running_only_its_unfinished_tasks(store: Arc<dyn Checkpointer>) {
    let probe = Arc::new(Probe::default());
    probe.fail.store(true, Ordering::SeqCst);
    let graph = both::Graph::new(Arc::clone(&probe));
    let thread = graph.thread(&store, "t");
    match thread.invoke(BothUpdate::default()).await {
        Err(GraphError::Node { node: "right", .. }) => {}
        other => panic!("expected right's failure, got {other:?}"),
    }
    let snapshot = thread.state().await.unwrap().unwrap();
    assert_eq!(snapshot.next, [both::Node::Left, both::Node::Right]);
    assert_eq!(snapshot.values.log, ["plan"]);

    probe.fail.store(false, Ordering::SeqCst);
    let state = thread
        .invoke_with_command(Command::proceed(), Durability::Sync)
        .await;
    assert_eq!(state.log, ["plan", "left", "right", "merge"]);
    assert_eq!(probe.runs(PLAN), 1);
    assert_eq!(
        probe.runs(LEFT),
        1,
        "left had finished: it did not run again"
    );
    assert_eq!(probe.runs(RIGHT), 2);
    assert_eq!(probe.runs(MERGE), 1);
    let steps: Vec<i64> = thread
        .history(ListOptions::default())
        .await
        .unwrap()
        .iter()
        .rev()
        .map(|meta| meta.step)
        .collect();
    assert_eq!(steps, [-1, 0, 1, 2, 3], "no step is missing or doubled");
}

/// `Thread::command_with` to the end, for a durability.
trait InvokeWithCommand<G: stategraph::GraphDef> {
    async fn invoke_with_command(&self, command: Command<G>, durability: Durability) -> G::State;
}

impl InvokeWithCommand<both::Graph> for stategraph::Thread<both::Graph> {
    async fn invoke_with_command(
        &self,
        command: Command<both::Graph>,
        durability: Durability,
    ) -> Both {
        let mut stream = self
            .command_with(
                command,
                Updates,
                RunConfig::default().durability(durability),
            )
            .await
            .unwrap();
        while stream.try_next().await.unwrap().is_some() {}
        stream.into_state()
    }
}

#[tokio::test]
async fn a_failed_step_resumes_in_memory() {
    a_failed_step_resumes_running_only_its_unfinished_tasks(Arc::new(MemoryCheckpointer::new()))
        .await;
}

#[tokio::test]
async fn a_failed_step_resumes_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    a_failed_step_resumes_running_only_its_unfinished_tasks(sqlite(&dir).await).await;
}

#[tokio::test]
#[ignore = "needs Postgres: run scripts/test"]
async fn a_failed_step_resumes_on_postgres() {
    let url = std::env::var("STATEGRAPH_TEST_POSTGRES_URL").expect("STATEGRAPH_TEST_POSTGRES_URL");
    let store = SqlCheckpointer::connect(&url).await.unwrap();
    store.delete_thread("t").await.unwrap();
    a_failed_step_resumes_running_only_its_unfinished_tasks(Arc::new(store)).await;
}

#[tokio::test]
async fn breakpoints_stop_before_and_after_a_node_and_proceed_goes_on() {
    let store: Arc<dyn Checkpointer> = Arc::new(MemoryCheckpointer::new());
    let probe = Arc::new(Probe::default());
    let graph = both::Graph::new(Arc::clone(&probe));
    let thread = graph.thread(&store, "t");
    let config = RunConfig::default()
        .interrupt_before(both::Node::Merge)
        .interrupt_after(both::Node::Plan);
    let mut stream = thread
        .stream_with(BothUpdate::default(), Updates, config.clone())
        .await
        .unwrap();
    while stream.try_next().await.unwrap().is_some() {}
    assert_eq!(
        stream.interrupted(),
        Some(&[][..]),
        "stopped at a breakpoint"
    );
    let snapshot = thread.state().await.unwrap().unwrap();
    assert_eq!(snapshot.values.log, ["plan"], "after plan");
    assert_eq!(snapshot.next, [both::Node::Left, both::Node::Right]);
    assert!(snapshot.interrupts.is_empty());

    let mut stream = thread
        .command_with(Command::proceed(), Updates, config.clone())
        .await
        .unwrap();
    while stream.try_next().await.unwrap().is_some() {}
    assert_eq!(stream.interrupted(), Some(&[][..]));
    let snapshot = thread.state().await.unwrap().unwrap();
    assert_eq!(
        snapshot.values.log,
        ["plan", "left", "right"],
        "before merge"
    );
    assert_eq!(snapshot.next, [both::Node::Merge]);
    assert_eq!(probe.runs(MERGE), 0);

    let state = thread.invoke_command(Command::proceed()).await.unwrap();
    assert_eq!(state.log, ["plan", "left", "right", "merge"]);
    assert_eq!(
        (probe.runs(PLAN), probe.runs(LEFT), probe.runs(MERGE)),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn update_state_writes_a_checkpoint_as_a_node_and_a_fork_runs_from_an_older_one() {
    let store: Arc<dyn Checkpointer> = Arc::new(MemoryCheckpointer::new());
    let probe = Arc::new(Probe::default());
    let graph = approval::Graph::new(Arc::clone(&probe));
    let thread = graph.thread(&store, "t");
    thread.invoke(task("deploy")).await.unwrap();
    let stopped = thread.state().await.unwrap().unwrap();

    // As if `approve` had answered: the router sends the run to `act`.
    let id = thread
        .update_state(
            TaskUpdate::default().approved(true),
            Some(approval::Node::Approve),
        )
        .await
        .unwrap();
    let updated = thread.state().await.unwrap().unwrap();
    assert_eq!(updated.checkpoint_id, id);
    assert_eq!(updated.source, Source::Update);
    assert_eq!(updated.parent_id, Some(stopped.checkpoint_id));
    assert_eq!(updated.step, stopped.step + 1);
    assert_eq!(updated.next, [approval::Node::Act]);
    let state = thread.invoke_command(Command::proceed()).await.unwrap();
    assert_eq!(state.log, ["planned deploy", "did deploy"]);
    assert_eq!(probe.runs(APPROVE), 1, "approve never ran again");

    // A fork from the checkpoint where the thread stopped: answered `no` this time.
    let mut stream = thread
        .command_with(
            Command::resume("no"),
            Updates,
            RunConfig::default().checkpoint_id(stopped.checkpoint_id),
        )
        .await
        .unwrap();
    while stream.try_next().await.unwrap().is_some() {}
    let forked = thread.state().await.unwrap().unwrap();
    assert_eq!(forked.values.log, ["planned deploy", "cancelled deploy"]);
    assert_eq!(probe.runs(PLAN), 1, "nothing before the fork ran again");
    let history = thread.history(ListOptions::default()).await.unwrap();
    let fork_first = history
        .iter()
        .rev()
        .find(|meta| meta.parent_id == Some(stopped.checkpoint_id) && meta.source == Source::Loop)
        .expect("the fork's first checkpoint follows the one it forked from");
    assert_eq!(fork_first.step, stopped.step + 1);

    // The old branch is still there to read.
    let old = thread
        .state_at(updated.checkpoint_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.values.approved, Some(true));

    // A fork from a checkpoint the thread does not have is a typed error.
    match thread
        .invoke_with(
            task("x"),
            RunConfig::default().checkpoint_id(stategraph::checkpoint::CheckpointId::new()),
        )
        .await
    {
        Err(GraphError::Checkpoint(CheckpointError::NotFound { at: Some(_), .. })) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// `update_state_at` forks the thread at an older checkpoint: the update is applied to the
/// state there, its checkpoint's parent is that one, a run goes on from the fork, and the
/// branch after the old checkpoint stays readable.
async fn update_state_at_forks_at_an_older_checkpoint(store: Arc<dyn Checkpointer>) {
    let probe = Arc::new(Probe::default());
    let graph = approval::Graph::new(Arc::clone(&probe));
    let thread = graph.thread(&store, "fork-by-update");
    thread.invoke(task("deploy")).await.unwrap();
    let stopped = thread.state().await.unwrap().unwrap();
    let done = thread.invoke_command(Command::resume("yes")).await.unwrap();
    assert_eq!(done.log, ["planned deploy", "did deploy"]);
    let finished = thread.state().await.unwrap().unwrap();
    let approvals = probe.runs(APPROVE);

    // As if `approve` had refused, at the checkpoint where the thread stopped.
    let id = thread
        .update_state_at(
            stopped.checkpoint_id,
            TaskUpdate::default().approved(false),
            Some(approval::Node::Approve),
        )
        .await
        .unwrap();
    let fork = thread.state().await.unwrap().unwrap();
    assert_eq!(fork.checkpoint_id, id, "the fork is the newest checkpoint");
    assert_eq!(fork.parent_id, Some(stopped.checkpoint_id));
    assert_eq!(fork.source, Source::Update);
    assert_eq!(fork.step, stopped.step + 1);
    assert_eq!(fork.values.log, ["planned deploy"], "the state at the fork");
    assert_eq!(fork.values.approved, Some(false));
    assert_eq!(fork.next, [approval::Node::Cancel]);

    let state = thread.invoke_command(Command::proceed()).await.unwrap();
    assert_eq!(state.log, ["planned deploy", "cancelled deploy"]);
    assert_eq!(probe.runs(APPROVE), approvals, "approve did not run again");
    let old = thread
        .state_at(finished.checkpoint_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        old.values.log,
        ["planned deploy", "did deploy"],
        "the old branch"
    );

    // A checkpoint the thread does not have: a typed error, and the thread is free after.
    match thread
        .update_state_at(
            stategraph::checkpoint::CheckpointId::new(),
            TaskUpdate::default().approved(true),
            None,
        )
        .await
    {
        Err(GraphError::Checkpoint(CheckpointError::NotFound { at: Some(_), .. })) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    thread
        .update_state(TaskUpdate::default().task("again"), None)
        .await
        .expect("the lease was given up");
}

#[tokio::test]
async fn update_state_at_forks_at_an_older_checkpoint_in_memory() {
    update_state_at_forks_at_an_older_checkpoint(Arc::new(MemoryCheckpointer::new())).await;
}

#[tokio::test]
async fn update_state_at_forks_at_an_older_checkpoint_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fork.db").display());
    let store = SqlCheckpointer::connect(&url).await.unwrap();
    update_state_at_forks_at_an_older_checkpoint(Arc::new(store)).await;
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, State)]
pub struct Draft {
    pub text: String,
    pub approved: bool,
}

/// A subgraph: writes a draft, then asks for a review.
#[graph(state = Draft, context = Arc<Probe>, edges = [START -> write -> review -> END])]
pub mod draft {
    use super::*;

    #[node]
    pub async fn write(state: &Draft, ctx: &Ctx) -> DraftUpdate {
        ctx.context().ran(LEFT);
        DraftUpdate::default().text(format!("draft of {}", state.text))
    }

    #[node]
    pub async fn review(state: &Draft, ctx: &Ctx) -> Result<DraftUpdate, NodeError> {
        ctx.context().ran(RIGHT);
        let ok: bool = ctx.interrupt(format!("publish `{}`?", state.text)).await?;
        Ok(DraftUpdate::default().approved(ok))
    }
}

/// The parent's dependencies: the probe and the subgraph.
pub struct Team {
    probe: Arc<Probe>,
    draft: draft::Graph,
}

/// A parent that runs the draft subgraph from a node.
#[graph(state = Task, context = Team, edges = [START -> prepare -> delegate -> END])]
pub mod team {
    use super::*;

    #[node]
    pub async fn prepare(state: &Task, ctx: &Ctx) -> TaskUpdate {
        ctx.context().probe.ran(PLAN);
        TaskUpdate::default().log(vec![format!("prepared {}", state.task)])
    }

    #[node]
    pub async fn delegate(state: &Task, ctx: &Ctx) -> Result<TaskUpdate, NodeError> {
        ctx.context().probe.ran(MERGE);
        let draft = ctx
            .subgraph(&ctx.context().draft)
            .invoke(Draft {
                text: state.task.clone(),
                ..Draft::default()
            })
            .await?;
        Ok(TaskUpdate::default()
            .approved(draft.approved)
            .log(vec![draft.text]))
    }
}

fn team(probe: &Arc<Probe>) -> team::Graph {
    team::Graph::new(Team {
        probe: Arc::clone(probe),
        draft: draft::Graph::new(Arc::clone(probe)),
    })
}

#[tokio::test]
async fn a_subgraphs_interrupt_stops_its_parent_and_a_resume_goes_on_inside_the_subgraph() {
    let dir = tempfile::tempdir().unwrap();
    let probe = Arc::new(Probe::default());
    let question = {
        let store = sqlite(&dir).await;
        let thread = team(&probe).thread(&store, "t");
        let mut stream = thread.stream(task("the memo"), Updates).await.unwrap();
        while stream.try_next().await.unwrap().is_some() {}
        let interrupts = stream.interrupted().expect("stopped").to_vec();
        assert_eq!(interrupts.len(), 1);
        assert_eq!(
            interrupts[0].value(),
            &json!("publish `draft of the memo`?")
        );
        assert!(
            interrupts[0].namespace().starts_with("delegate:"),
            "{}",
            interrupts[0].namespace()
        );
        let snapshot = thread.state().await.unwrap().unwrap();
        assert_eq!(snapshot.next, [team::Node::Delegate]);
        assert_eq!(
            snapshot.interrupts, interrupts,
            "the parent's state shows it"
        );

        // The subgraph stored its own checkpoints, in its namespace of the thread.
        let child = store
            .list("t", interrupts[0].namespace(), ListOptions::default())
            .await
            .unwrap();
        let steps: Vec<(i64, Vec<String>)> = child
            .iter()
            .rev()
            .map(|meta| (meta.step, meta.next.clone()))
            .collect();
        assert_eq!(
            steps,
            [
                (-1, vec!["__start__".to_owned()]),
                (0, vec!["write".to_owned()]),
                (1, vec!["review".to_owned()])
            ]
        );
        interrupts[0].clone()
    };
    assert_eq!((probe.runs(LEFT), probe.runs(RIGHT)), (1, 1));

    // Another process resumes the parent: the subgraph goes on at its review.
    let store = sqlite(&dir).await;
    let thread = team(&probe).thread(&store, "t");
    let state = thread
        .invoke_command(Command::resume_by_id([(
            question.id().to_owned(),
            json!(true),
        )]))
        .await
        .unwrap();
    assert_eq!(state.approved, Some(true));
    assert_eq!(state.log, ["prepared the memo", "draft of the memo"]);
    assert_eq!(probe.runs(PLAN), 1, "prepare did not run again");
    assert_eq!(probe.runs(MERGE), 2, "the parent's node ran again");
    assert_eq!(
        probe.runs(LEFT),
        1,
        "the subgraph's write did not run again"
    );
    assert_eq!(
        probe.runs(RIGHT),
        2,
        "its review ran again, with the answer"
    );
    assert!(thread.state().await.unwrap().unwrap().interrupts.is_empty());
}

#[tokio::test]
async fn a_subgraphs_interrupt_stops_a_parent_without_a_thread_too() {
    let probe = Arc::new(Probe::default());
    let mut stream = team(&probe).stream(
        Task {
            task: "x".into(),
            ..Task::default()
        },
        Updates,
    );
    while stream.try_next().await.unwrap().is_some() {}
    let interrupts = stream.interrupted().expect("stopped");
    assert_eq!(interrupts[0].value(), &json!("publish `draft of x`?"));
}

#[graph(
    state = Both,
    context = Arc<Probe>,
    edges = [START -> [left, first], first -> second, [left, second] -> merge -> END]
)]
pub mod uneven {
    use super::*;

    #[node]
    pub async fn left(_state: &Both, _ctx: &Ctx) -> BothUpdate {
        BothUpdate::default().log(vec!["left".into()])
    }

    #[node]
    pub async fn first(_state: &Both, _ctx: &Ctx) -> BothUpdate {
        BothUpdate::default().log(vec!["first".into()])
    }

    /// Fails while the probe says so: the fan-in has seen `left` but not this.
    #[node]
    pub async fn second(_state: &Both, ctx: &Ctx) -> Result<BothUpdate, NodeError> {
        if ctx.context().fail.load(Ordering::SeqCst) {
            return Err(NodeError::msg("second is down"));
        }
        Ok(BothUpdate::default().log(vec!["second".into()]))
    }

    #[node]
    pub async fn merge(_state: &Both, ctx: &Ctx) -> BothUpdate {
        ctx.context().ran(MERGE);
        BothUpdate::default().log(vec!["merge".into()])
    }
}

#[tokio::test]
async fn a_fan_in_half_seen_before_a_failure_fires_after_the_resume() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    let probe = Arc::new(Probe::default());
    probe.fail.store(true, Ordering::SeqCst);
    let thread = uneven::Graph::new(Arc::clone(&probe)).thread(&store, "t");
    assert!(thread.invoke(BothUpdate::default()).await.is_err());
    let stopped = thread.state().await.unwrap().unwrap();
    assert_eq!(stopped.next, [uneven::Node::Second]);
    assert!(
        !store
            .get("t", "", None)
            .await
            .unwrap()
            .unwrap()
            .meta
            .frontier
            .is_null(),
        "the fan-in's progress is stored"
    );

    probe.fail.store(false, Ordering::SeqCst);
    let state = thread.invoke_command(Command::proceed()).await.unwrap();
    assert_eq!(state.log, ["left", "first", "second", "merge"]);
    assert_eq!(
        probe.runs(MERGE),
        1,
        "the fan-in remembered `left` across the resume"
    );
}

#[graph(state = Both, context = Arc<Probe>, edges = [START -> plan -> END])]
pub mod first_fails {
    use super::*;

    /// Fails while the probe says so.
    #[node]
    pub async fn plan(_state: &Both, ctx: &Ctx) -> Result<BothUpdate, NodeError> {
        ctx.context().ran(PLAN);
        if ctx.context().fail.load(Ordering::SeqCst) {
            return Err(NodeError::msg("plan is down"));
        }
        Ok(BothUpdate::default().log(vec!["plan".into()]))
    }
}

/// A run whose first step fails has stored its input applied (LangGraph's checkpoint before
/// the first step): `Command::proceed` runs the first step again on it.
async fn a_failed_first_step_resumes_with_its_input(store: Arc<dyn Checkpointer>) {
    let probe = Arc::new(Probe::default());
    let graph = first_fails::Graph::new(Arc::clone(&probe));
    let thread = graph.thread(&store, "t");
    thread
        .invoke(BothUpdate::default().log(vec!["earlier".into()]))
        .await
        .unwrap();
    probe.fail.store(true, Ordering::SeqCst);
    match thread
        .invoke(BothUpdate::default().log(vec!["input".into()]))
        .await
    {
        Err(GraphError::Node { node: "plan", .. }) => {}
        other => panic!("expected plan's failure, got {other:?}"),
    }
    let snapshot = thread.state().await.unwrap().unwrap();
    assert_eq!(snapshot.values.log, ["earlier", "plan", "input"]);
    assert_eq!(snapshot.next, [first_fails::Node::Plan]);

    probe.fail.store(false, Ordering::SeqCst);
    let state = thread.invoke_command(Command::proceed()).await.unwrap();
    assert_eq!(state.log, ["earlier", "plan", "input", "plan"]);
    assert_eq!(probe.runs(PLAN), 3);
    let steps = steps_of(&thread.history(ListOptions::default()).await.unwrap());
    assert_eq!(
        steps,
        [
            (-1, Source::Input),
            (0, Source::Loop),
            (1, Source::Loop),
            (2, Source::Input),
            (3, Source::Loop),
            (4, Source::Loop)
        ],
        "no step is missing or doubled"
    );
}

#[tokio::test]
async fn a_failed_first_step_resumes_with_its_input_in_memory() {
    a_failed_first_step_resumes_with_its_input(Arc::new(MemoryCheckpointer::new())).await;
}

#[tokio::test]
async fn a_failed_first_step_resumes_with_its_input_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    a_failed_first_step_resumes_with_its_input(sqlite(&dir).await).await;
}
