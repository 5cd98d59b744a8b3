//! `Send` with a payload of its own type: a sending router's enum carries what its node
//! takes (`FanOut::Fetch(Page { .. })` into `async fn fetch(page: &Page, ctx: &Ctx)`), so
//! rustc checks each `Send`. Each instance gets exactly its payload; tasks mode shows the
//! payload as the task's input; a thread stores it, and a resumed run (a new process: a new
//! store on the same file) gives the unfinished instance its payload back.

use std::sync::{Arc, Mutex, PoisonError};

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use stategraph::checkpoint::Checkpointer;
use stategraph::mode::Tasks;
use stategraph::prelude::*;
use stategraph::{Command, GraphError, SentInput, TaskEventKind, TaskPath, V2};
use stategraph_checkpoint::{MemoryCheckpointer, SqlCheckpointer};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, State)]
#[state(derive(Debug, Serialize))]
pub struct Crawl {
    pub urls: Vec<String>,
    #[reducer(append)]
    pub pages: Vec<String>,
}

/// One instance's own input: not the graph's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub index: usize,
    pub url: String,
}

/// The payloads each `fetch` instance was given, in the order they ran.
#[derive(Debug, Default)]
pub struct Seen(Mutex<Vec<Page>>);

impl Seen {
    fn pages(&self) -> Vec<Page> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[graph(
    state = Crawl,
    context = Arc<Seen>,
    edges = [START -> plan -> fan_out ? [fetch], fetch -> END]
)]
pub mod crawl {
    use super::*;

    /// Nothing to plan: the input holds the URLs.
    #[node]
    pub async fn plan(_state: &Crawl) -> CrawlUpdate {
        CrawlUpdate::default()
    }

    /// One `fetch` per URL, each with its own `Page`.
    #[router]
    pub fn fan_out(state: &Crawl) -> Vec<FanOut> {
        state
            .urls
            .iter()
            .enumerate()
            .map(|(index, url)| {
                FanOut::Fetch(Page {
                    index,
                    url: url.clone(),
                })
            })
            .collect()
    }

    /// Fetches its page; the URL `ask` first asks whether to, and `down` fails.
    #[node]
    pub async fn fetch(page: &Page, ctx: &Ctx) -> Result<CrawlUpdate, NodeError> {
        ctx.context()
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(page.clone());
        if page.url == "down" {
            return Err(NodeError::msg(format!("{} is down", page.url)));
        }
        if page.url == "ask" {
            let go: bool = ctx.interrupt(format!("fetch page {}?", page.index)).await?;
            if !go {
                return Ok(CrawlUpdate::default());
            }
        }
        Ok(CrawlUpdate::default().pages(vec![format!("{}:{}", page.index, page.url)]))
    }
}

fn urls(urls: &[&str]) -> Crawl {
    Crawl {
        urls: urls.iter().map(|url| (*url).to_owned()).collect(),
        pages: Vec::new(),
    }
}

fn page(index: usize, url: &str) -> Page {
    Page {
        index,
        url: url.to_owned(),
    }
}

#[tokio::test]
async fn each_instance_gets_its_own_payload_and_the_updates_merge_in_send_order() {
    let seen = Arc::new(Seen::default());
    let graph = crawl::Graph::new(Arc::clone(&seen));
    let state = graph.invoke(urls(&["a", "b", "c"])).await.unwrap();
    assert_eq!(state.pages, ["0:a", "1:b", "2:c"]);
    let mut given = seen.pages();
    given.sort_by_key(|page| page.index);
    assert_eq!(given, [page(0, "a"), page(1, "b"), page(2, "c")]);
}

#[tokio::test]
async fn a_failed_instance_is_named_by_its_index() {
    let graph = crawl::Graph::new(Arc::default());
    let error = graph.invoke(urls(&["a", "down"])).await.unwrap_err();
    let message = error.to_string();
    match error {
        GraphError::Node {
            node,
            instance,
            step,
            ..
        } => assert_eq!((node, instance, step), ("fetch", Some(1), 2)),
        other => panic!("a node error: {other:?}"),
    }
    assert!(
        message.starts_with("node `fetch` (instance 1) failed in step 2: down is down"),
        "{message}"
    );
}

#[tokio::test]
async fn tasks_mode_shows_each_payload_as_its_tasks_input() {
    let graph = crawl::Graph::new(Arc::default());
    let events: Vec<_> = graph
        .stream(urls(&["a", "b"]), Tasks)
        .try_collect()
        .await
        .unwrap();
    let starts: Vec<_> = events
        .iter()
        .filter(|event| {
            event.node() == crawl::Node::Fetch
                && matches!(event.kind(), TaskEventKind::Started { .. })
        })
        .collect();
    assert_eq!(starts.len(), 2);
    for (index, event) in starts.iter().enumerate() {
        let TaskEventKind::Started { input } = event.kind() else {
            unreachable!("filtered on starts");
        };
        assert_eq!(input.state(), None, "a payload, not the state");
        let sent = input.sent().expect("a `Send` started it");
        assert_eq!(sent.node(), crawl::Node::Fetch);
        let url = ["a", "b"][index];
        assert_eq!(
            sent.payload_json().unwrap().unwrap(),
            json!({"index": index, "url": url})
        );
        assert_eq!(event.metadata().path(), TaskPath::Push(index));
        let v2 = serde_json::to_value(V2(*event)).unwrap();
        assert_eq!(
            v2["data"]["payload"]["input"],
            json!({"index": index, "url": url}),
            "LangGraph's debug payload carries the `Send`'s argument"
        );
    }
    // The node that edges start still shows the state.
    let TaskEventKind::Started { input } = events[0].kind() else {
        panic!("the first event is plan's start");
    };
    assert_eq!(input.state().map(|state| state.urls.len()), Some(2));
}

async fn sqlite(dir: &tempfile::TempDir) -> Arc<dyn Checkpointer> {
    let url = format!("sqlite://{}", dir.path().join("crawl.db").display());
    Arc::new(SqlCheckpointer::connect(&url).await.unwrap())
}

#[tokio::test]
async fn a_thread_stores_the_payloads_and_a_resume_in_a_new_process_gives_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let first = Arc::new(Seen::default());
    {
        let store = sqlite(&dir).await;
        let graph = crawl::Graph::new(Arc::clone(&first));
        let thread = graph.thread(&store, "t");
        let mut stream = thread
            .stream(
                CrawlUpdate::default().urls(urls(&["a", "ask", "c"]).urls),
                Tasks,
            )
            .await
            .unwrap();
        while stream.try_next().await.unwrap().is_some() {}
        let interrupts = stream.interrupted().expect("instance 1 asked").to_vec();
        assert_eq!(interrupts.len(), 1);
        assert_eq!(interrupts[0].value(), &json!("fetch page 1?"));
    }
    assert_eq!(first.pages().len(), 3, "all three instances ran once");

    // A new process: a new store on the same file, a new graph.
    let second = Arc::new(Seen::default());
    let store = sqlite(&dir).await;
    let graph = crawl::Graph::new(Arc::clone(&second));
    let thread = graph.thread(&store, "t");
    let state = thread.invoke_command(Command::resume(true)).await.unwrap();
    assert_eq!(
        second.pages(),
        [page(1, "ask")],
        "only the interrupted instance ran again, with its own payload read back"
    );
    let mut pages = state.pages.clone();
    pages.sort();
    assert_eq!(pages, ["0:a", "1:ask", "2:c"]);
}

/// A payload without serde: fine in memory, and a thread that must store it says which
/// derives it lacks.
#[derive(Clone, Debug)]
pub struct Opaque(pub u32);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, State)]
pub struct Sum {
    pub count: u32,
    #[reducer(append)]
    pub seen: Vec<u32>,
}

#[graph(state = Sum, edges = [START -> start -> spread ? [add], add -> END])]
pub mod opaque {
    use super::*;

    #[node]
    pub async fn start(_state: &Sum) -> SumUpdate {
        SumUpdate::default()
    }

    #[router]
    pub fn spread(state: &Sum) -> Vec<Spread> {
        (0..state.count).map(|n| Spread::Add(Opaque(n))).collect()
    }

    #[node]
    pub async fn add(item: &Opaque) -> SumUpdate {
        SumUpdate::default().seen(vec![item.0])
    }
}

#[tokio::test]
async fn a_payload_without_serde_runs_in_memory_and_a_thread_names_the_missing_derives() {
    let input = Sum {
        count: 3,
        seen: Vec::new(),
    };
    let state = opaque::Graph::new().invoke(input).await.unwrap();
    assert_eq!(state.seen, [0, 1, 2]);

    let store: Arc<dyn Checkpointer> = Arc::new(MemoryCheckpointer::new());
    let graph = opaque::Graph::new();
    let error = graph
        .thread(&store, "t")
        .invoke(SumUpdate::default().count(3_u32))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, GraphError::Checkpoint(_)), "{message}");
    assert!(message.contains("Opaque"), "{message}");
    assert!(message.contains("Serialize + Deserialize"), "{message}");
    assert!(message.contains("`add`"), "{message}");
}

/// How many times each node of `dispatch` ran, and the payloads `fetch` was given.
#[derive(Debug, Default)]
pub struct Runs {
    plan: std::sync::atomic::AtomicUsize,
    gate: std::sync::atomic::AtomicUsize,
    fetched: Seen,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, State)]
pub struct Dispatch {
    pub urls: Vec<String>,
    #[reducer(append)]
    pub pages: Vec<String>,
}

// `plan` starts the fetches with a `goto` of `Send`s (LangGraph's
// `Command(goto=[Send("fetch", page), ..])`), in a step it shares with `gate`.
#[graph(
    state = Dispatch,
    context = Arc<Runs>,
    edges = [START -> [plan, gate], gate -> END, fetch -> END]
)]
pub mod dispatch {
    use super::*;

    #[node(goto = [fetch, END])]
    pub async fn plan(state: &Dispatch, ctx: &Ctx) -> Goto<DispatchUpdate, PlanGoto> {
        ctx.context()
            .plan
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let sends = state.urls.iter().enumerate().map(|(index, url)| {
            PlanGoto::Fetch(Page {
                index,
                url: url.clone(),
            })
        });
        Goto::many(DispatchUpdate::default(), sends.chain([PlanGoto::End]))
    }

    #[node]
    pub async fn gate(_state: &Dispatch, ctx: &Ctx) -> Result<DispatchUpdate, NodeError> {
        ctx.context()
            .gate
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let open: bool = ctx.interrupt("open the gate?").await?;
        Ok(DispatchUpdate::default().pages(vec![format!("gate open: {open}")]))
    }

    #[node]
    pub async fn fetch(page: &Page, ctx: &Ctx) -> DispatchUpdate {
        ctx.context()
            .fetched
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(page.clone());
        DispatchUpdate::default().pages(vec![format!("{}:{}", page.index, page.url)])
    }
}

#[tokio::test]
async fn a_goto_of_sends_starts_each_instance_on_its_payload() {
    let runs = Arc::new(Runs::default());
    let graph = dispatch::Graph::new(Arc::clone(&runs));
    let store: Arc<dyn Checkpointer> = Arc::new(MemoryCheckpointer::new());
    let thread = graph.thread(&store, "t");
    thread
        .invoke(DispatchUpdate::default().urls(vec!["a".to_owned(), "b".to_owned()]))
        .await
        .unwrap();
    let snapshot = thread.state().await.unwrap().unwrap();
    assert_eq!(snapshot.interrupts.len(), 1, "the gate asks");
    assert!(
        runs.fetched.pages().is_empty(),
        "the step stopped on the gate"
    );
    let state = thread.invoke_command(Command::resume(true)).await.unwrap();
    assert_eq!(
        runs.plan.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "plan finished before: not run again"
    );
    assert_eq!(runs.gate.load(std::sync::atomic::Ordering::SeqCst), 2);
    let mut fetched = runs.fetched.pages();
    fetched.sort_by_key(|page| page.index);
    assert_eq!(
        fetched,
        [page(0, "a"), page(1, "b")],
        "plan's `Send`s, stored with its update, started one instance each"
    );
    assert_eq!(state.pages, ["gate open: true", "0:a", "1:b"]);
}

#[tokio::test]
async fn a_goto_of_sends_survives_a_new_process() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = sqlite(&dir).await;
        let graph = dispatch::Graph::new(Arc::default());
        graph
            .thread(&store, "t")
            .invoke(DispatchUpdate::default().urls(vec!["x".to_owned()]))
            .await
            .unwrap();
    }
    let runs = Arc::new(Runs::default());
    let store = sqlite(&dir).await;
    let graph = dispatch::Graph::new(Arc::clone(&runs));
    let state = graph
        .thread(&store, "t")
        .invoke_command(Command::resume(false))
        .await
        .unwrap();
    assert_eq!(runs.plan.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(runs.fetched.pages(), [page(0, "x")]);
    assert_eq!(state.pages, ["gate open: false", "0:x"]);
}

/// A `Command` carrying a `Send` (LangGraph's `Command(goto=[Send("fetch", page)])`) on a
/// thread whose last run ended: one `fetch` runs, on exactly that payload, and its update
/// merges into the thread's state. The command is sent twice, once while a clone of it is
/// alive, so the payload reaches the run both moved and copied.
async fn a_command_with_a_send_runs_its_node_on_that_payload(store: Arc<dyn Checkpointer>) {
    let seen = Arc::new(Seen::default());
    let graph = crawl::Graph::new(Arc::clone(&seen));
    let thread = graph.thread(&store, "t");
    thread
        .invoke(CrawlUpdate::default().urls(vec!["a".to_owned()]))
        .await
        .unwrap();
    assert_eq!(seen.pages(), [page(0, "a")]);

    let command = Command::proceed().send(crawl::FanOut::Fetch(page(7, "sent")));
    let state = thread.invoke_command(command.clone()).await.unwrap();
    assert_eq!(seen.pages(), [page(0, "a"), page(7, "sent")]);
    assert_eq!(state.pages, ["0:a", "7:sent"]);
    let state = thread.invoke_command(command).await.unwrap();
    assert_eq!(
        seen.pages(),
        [page(0, "a"), page(7, "sent"), page(7, "sent")]
    );
    assert_eq!(state.pages, ["0:a", "7:sent", "7:sent"]);
    let snapshot = thread.state().await.unwrap().unwrap();
    assert!(snapshot.next.is_empty(), "nothing is left due");
}

#[tokio::test]
async fn a_command_with_a_send_runs_its_node_on_that_payload_in_memory() {
    a_command_with_a_send_runs_its_node_on_that_payload(Arc::new(MemoryCheckpointer::new())).await;
}

#[tokio::test]
async fn a_command_with_a_send_runs_its_node_on_that_payload_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    a_command_with_a_send_runs_its_node_on_that_payload(sqlite(&dir).await).await;
}
