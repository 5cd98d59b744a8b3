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
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
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

    /// Fetches its page; the URL `ask` first asks whether to.
    #[node]
    pub async fn fetch(page: &Page, ctx: &Ctx) -> Result<CrawlUpdate, NodeError> {
        ctx.context()
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(page.clone());
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
