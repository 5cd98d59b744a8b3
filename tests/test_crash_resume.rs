//! A process killed (`kill -9`) in the middle of a step, then resumed in another: the
//! thread keeps its last checkpoint and the updates of the step's tasks that had finished,
//! and the resume runs only the task that had not. Counted side effects (lines in a log
//! file, written by both processes) show that no finished task ran twice, and the history
//! that no step is missing or doubled. Against SQLite, and against Postgres when
//! `STATEGRAPH_TEST_POSTGRES_URL` names one; there, Postgres is also stopped in the middle
//! of a run and started again (`scripts/postgres-restart.sh`).
//!
//! One program, two roles (so it has its own `main`): run by cargo it is the test; run
//! with `STATEGRAPH_CRASH_CHILD` set it is the child that runs the graph until killed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use stategraph::checkpoint::{CheckpointError, Checkpointer, ListOptions, PendingWrite};
use stategraph::prelude::*;
use stategraph::{Durability, Thread};
use stategraph_checkpoint::SqlCheckpointer;

const CHILD: &str = "STATEGRAPH_CRASH_CHILD";
const LOG: &str = "STATEGRAPH_CRASH_LOG";
const THREAD: &str = "crash";
/// Short, so the parent takes the thread over soon after the child's death.
const LEASE: Duration = Duration::from_millis(600);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, State)]
pub struct Batch {
    pub items: Vec<String>,
    pub item: String,
    #[reducer(append)]
    pub done: Vec<String>,
    pub reported: bool,
}

/// What the nodes touch: the log of side effects and, in the child, the store to watch.
pub struct Worker {
    log: PathBuf,
    /// Set in the child: item `c` waits until the other items' updates are stored, then
    /// hangs until the process is killed.
    hang_on_c: Option<Arc<dyn Checkpointer>>,
    /// Set to stop `report` until the test lets it go (having stopped the database).
    pause_report: Option<Arc<Gate>>,
}

/// Where `report` waits: it says it got there, then waits to be let go.
#[derive(Default)]
pub struct Gate {
    reached: tokio::sync::Notify,
    go: tokio::sync::Notify,
}

impl Worker {
    fn record(&self, line: &str) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the side-effect log opens");
        writeln!(file, "{line}").expect("the side-effect log is written");
        file.sync_all()
            .expect("the side-effect log reaches the disk");
    }
}

#[graph(
    state = Batch,
    context = Worker,
    edges = [START -> plan -> fan_out ? [work], work -> report -> END]
)]
pub mod batch {
    use super::*;

    #[node]
    pub async fn plan(_state: &Batch, ctx: &Ctx) -> BatchUpdate {
        ctx.context().record("plan");
        BatchUpdate::default().items(vec!["a".into(), "b".into(), "c".into()])
    }

    #[router]
    pub fn fan_out(state: &Batch) -> Vec<FanOut> {
        state
            .items
            .iter()
            .map(|item| {
                FanOut::Work(Batch {
                    item: item.clone(),
                    ..Batch::default()
                })
            })
            .collect()
    }

    #[node]
    pub async fn work(state: &Batch, ctx: &Ctx) -> BatchUpdate {
        let worker = ctx.context();
        worker.record(&format!("start {}", state.item));
        if state.item == "c"
            && let Some(store) = &worker.hang_on_c
        {
            wait_for_stored_updates(store.as_ref(), 2).await;
            worker.record("hanging");
            std::future::pending::<()>().await;
        }
        worker.record(&format!("done {}", state.item));
        BatchUpdate::default().done(vec![state.item.clone()])
    }

    #[node]
    pub async fn report(state: &Batch, ctx: &Ctx) -> BatchUpdate {
        if let Some(gate) = &ctx.context().pause_report {
            gate.reached.notify_one();
            gate.go.notified().await;
        }
        ctx.context()
            .record(&format!("report {}", state.done.len()));
        BatchUpdate::default().reported(true)
    }
}

/// Waits until `count` tasks' updates are stored after the thread's newest checkpoint.
async fn wait_for_stored_updates(store: &dyn Checkpointer, count: usize) {
    loop {
        let stored = store
            .get(THREAD, "", None)
            .await
            .expect("the store reads")
            .map_or(0, |checkpoint| {
                checkpoint
                    .pending_writes
                    .iter()
                    .filter(|write| write.channel == PendingWrite::UPDATE)
                    .count()
            });
        if stored >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn thread(store: &Arc<dyn Checkpointer>, worker: Worker) -> Thread<batch::Graph> {
    batch::Graph::new(worker).thread(store, THREAD).lease(LEASE)
}

/// The child: runs the graph until item `c` hangs, and is killed there.
async fn child(url: &str, log: PathBuf) {
    let store: Arc<dyn Checkpointer> = Arc::new(SqlCheckpointer::connect(url).await.unwrap());
    let worker = Worker {
        log,
        hang_on_c: Some(Arc::clone(&store)),
        pause_report: None,
    };
    thread(&store, worker)
        .invoke_with(
            BatchUpdate::default(),
            RunConfig::default().durability(Durability::Sync),
        )
        .await
        .unwrap();
    unreachable!("item `c` hangs until the process is killed");
}

/// Goes on with the thread once the dead run's lease has run out (within `LEASE`; the wait
/// is bounded) and returns the state it ends with.
async fn proceed_once_free(thread: &Thread<batch::Graph>) -> Batch {
    let mut attempts = 0;
    loop {
        match thread.invoke_command(Command::proceed()).await {
            Err(GraphError::Checkpoint(CheckpointError::ThreadBusy { .. })) if attempts < 100 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other.unwrap(),
        }
    }
}

/// The thread's history holds the input, the input applied, plan, the three items and
/// report, once each.
async fn each_step_once(thread: &Thread<batch::Graph>) {
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

/// The child process, killed if the test fails before it does.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the child on `url`, kills it mid-step, resumes here, and checks what ran.
async fn killed_mid_step_then_resumed(url: &str, dir: &Path) {
    let log = dir.join("side-effects.log");
    let mut child = KillOnDrop(
        Process::new(std::env::current_exe().unwrap())
            .env(CHILD, url)
            .env(LOG, &log)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let child = &mut child.0;
    // Until the child hangs in item `c`, with `a` and `b` stored (bounded: a child that
    // dies or never gets there fails the test).
    let mut waited = 0;
    loop {
        if std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("hanging")
        {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the child exited before it hung: {status}");
        }
        waited += 1;
        assert!(waited < 1_200, "the child did not reach item `c` in 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let store: Arc<dyn Checkpointer> = Arc::new(SqlCheckpointer::connect(url).await.unwrap());
    let resumed = thread(
        &store,
        Worker {
            log: log.clone(),
            hang_on_c: None,
            pause_report: None,
        },
    );
    let stopped = resumed
        .state()
        .await
        .unwrap()
        .expect("the thread was stored");
    assert_eq!(
        stopped.next,
        [batch::Node::Work; 3],
        "the step of the three items"
    );
    assert!(stopped.values.done.is_empty());

    // The dead child's lease runs out within `LEASE` (bounded wait).
    let state = proceed_once_free(&resumed).await;
    assert_eq!(state.done, ["a", "b", "c"], "in Send order");
    assert!(state.reported);

    let lines = std::fs::read_to_string(&log).unwrap();
    let count = |line: &str| lines.lines().filter(|l| *l == line).count();
    assert_eq!(count("plan"), 1, "{lines}");
    assert_eq!((count("start a"), count("done a")), (1, 1), "{lines}");
    assert_eq!((count("start b"), count("done b")), (1, 1), "{lines}");
    assert_eq!((count("start c"), count("done c")), (2, 1), "{lines}");
    assert_eq!(count("report 3"), 1, "{lines}");

    each_step_once(&resumed).await;
}

/// Postgres stopped while a run waits in its last step, then started again: the run ends
/// with a typed error after what it streamed, nothing half-written is left, and a resume
/// finishes the thread with each step once.
async fn postgres_stopped_mid_run_then_resumed(url: &str, dir: &Path) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/postgres-restart.sh");
    let postgres = |action: &str| {
        let status = Process::new("bash")
            .arg(script)
            .arg(action)
            .status()
            .unwrap();
        assert!(status.success(), "postgres-restart.sh {action}: {status}");
    };
    let log = dir.join("side-effects.log");
    let options = stategraph_checkpoint::SqlOptions {
        connect_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let store: Arc<dyn Checkpointer> =
        Arc::new(SqlCheckpointer::connect_with(url, options).await.unwrap());
    let gate = Arc::new(Gate::default());
    let running = thread(
        &store,
        Worker {
            log: log.clone(),
            hang_on_c: None,
            pause_report: Some(Arc::clone(&gate)),
        },
    );
    let run = tokio::spawn(async move {
        running
            .invoke_with(
                BatchUpdate::default(),
                RunConfig::default().durability(Durability::Sync),
            )
            .await
    });
    gate.reached.notified().await;
    postgres("stop");
    gate.go.notify_one();
    let outcome = run.await.unwrap();
    postgres("start");
    match outcome {
        Err(GraphError::Checkpoint(CheckpointError::Unavailable { .. })) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }

    let resumed = thread(
        &store,
        Worker {
            log: log.clone(),
            hang_on_c: None,
            pause_report: None,
        },
    );
    let stopped = resumed.state().await.unwrap().expect("stored");
    assert_eq!(
        stopped.next,
        [batch::Node::Report],
        "the last step did not commit"
    );
    let state = proceed_once_free(&resumed).await;
    assert!(state.reported);
    let lines = std::fs::read_to_string(&log).unwrap();
    let count = |line: &str| lines.lines().filter(|l| *l == line).count();
    assert_eq!(count("plan"), 1, "{lines}");
    assert_eq!(count("done c"), 1, "{lines}");
    assert_eq!(
        count("report 3"),
        2,
        "the step whose checkpoint was lost ran again: {lines}"
    );
    each_step_once(&resumed).await;
}

/// Deletes what an earlier run of this test left in the shared database.
async fn forget_thread(url: &str) {
    SqlCheckpointer::connect(url)
        .await
        .unwrap()
        .delete_thread(THREAD)
        .await
        .unwrap();
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Ok(url) = std::env::var(CHILD) {
        let log = PathBuf::from(std::env::var(LOG).expect("the log's path"));
        runtime.block_on(child(&url, log));
        return;
    }
    // As libtest would: `--ignored` / `--include-ignored` run what needs Postgres.
    let with_ignored = std::env::args().any(|arg| arg == "--ignored" || arg == "--include-ignored");

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("threads.db").display());
    runtime.block_on(killed_mid_step_then_resumed(&url, dir.path()));
    println!("test killed_mid_step_then_resumed_on_sqlite ... ok");

    match std::env::var("STATEGRAPH_TEST_POSTGRES_URL") {
        Ok(url) if with_ignored => {
            let dir = tempfile::tempdir().unwrap();
            runtime.block_on(async {
                forget_thread(&url).await;
                killed_mid_step_then_resumed(&url, dir.path()).await;
            });
            println!("test killed_mid_step_then_resumed_on_postgres ... ok");
            let dir = tempfile::tempdir().unwrap();
            runtime.block_on(async {
                forget_thread(&url).await;
                postgres_stopped_mid_run_then_resumed(&url, dir.path()).await;
            });
            println!("test postgres_stopped_mid_run_then_resumed ... ok");
        }
        Err(_) if with_ignored => {
            panic!("needs Postgres: run scripts/test (STATEGRAPH_TEST_POSTGRES_URL is not set)")
        }
        _ => println!(
            "test killed_mid_step_then_resumed_on_postgres ... ignored, needs Postgres: run scripts/test\n\
             test postgres_stopped_mid_run_then_resumed ... ignored, needs Postgres: run scripts/test"
        ),
    }
}
