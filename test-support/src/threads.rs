//! Graphs for runs on threads, shared by the server's tests and the `serve` example's test
//! graphs: `approval` stops on an interrupt and goes on with the answer; `gated` holds its
//! thread until `release` runs, so a test can find a thread busy without timing anything;
//! `crawl`'s nodes are started by `Send`s, one on an input of its own, one on the state.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use stategraph::prelude::*;
use tokio::sync::Semaphore;

/// The state of [`approval`]: a task, whether it was approved, and what happened.
#[derive(Clone, Debug, Default, PartialEq, State, Serialize, Deserialize)]
#[state(derive(Debug, PartialEq, Serialize))]
pub struct Approval {
    /// What to do.
    pub task: String,
    /// The answer to the approval question, once given.
    pub approved: Option<bool>,
    /// One line per node run, across runs.
    #[reducer(append)]
    pub log: Vec<String>,
}

/// `START -> plan -> approve -> act -> END`: `approve` asks `{"question": "may I <task>?"}`
/// with an interrupt and stores whether the answer was `"yes"`.
#[graph(state = Approval, edges = [START -> plan -> approve -> act -> END])]
pub mod approval {
    use super::*;

    /// Plans the task.
    #[node]
    pub async fn plan(state: &Approval, _ctx: &Ctx) -> ApprovalUpdate {
        ApprovalUpdate::default().log(vec![format!("planned {}", state.task)])
    }

    /// Asks for approval.
    #[node]
    pub async fn approve(state: &Approval, ctx: &Ctx) -> Result<ApprovalUpdate, NodeError> {
        let answer: String = ctx
            .interrupt(serde_json::json!({ "question": format!("may I {}?", state.task) }))
            .await?;
        Ok(ApprovalUpdate::default()
            .approved(answer == "yes")
            .log(vec![format!("answered {answer}")]))
    }

    /// Acts, or not, as approved.
    #[node]
    pub async fn act(state: &Approval, _ctx: &Ctx) -> ApprovalUpdate {
        let done = if state.approved == Some(true) {
            "did"
        } else {
            "did not"
        };
        ApprovalUpdate::default().log(vec![format!("{done} {}", state.task)])
    }
}

/// A gate that `gated`'s node waits at and `release` opens, once per run.
#[derive(Clone, Debug)]
pub struct Gate(Arc<Semaphore>);

impl Gate {
    /// A closed gate.
    pub fn new() -> Self {
        Self(Arc::new(Semaphore::new(0)))
    }
}

impl Default for Gate {
    fn default() -> Self {
        Self::new()
    }
}

/// The state of [`gated`] and [`release`]: a count of the runs that passed.
#[derive(Clone, Debug, Default, PartialEq, State, Serialize, Deserialize)]
#[state(derive(Debug, PartialEq, Serialize))]
pub struct Passed {
    /// How many times the gate was passed.
    pub passed: u32,
}

/// `START -> wait -> END`: `wait` waits at the gate until a run of [`release`] opens it.
#[graph(state = Passed, context = Gate, edges = [START -> wait -> END])]
pub mod gated {
    use super::*;

    /// Waits for the gate, then counts the pass.
    #[node]
    pub async fn wait(state: &Passed, ctx: &Ctx) -> Result<PassedUpdate, NodeError> {
        let permit =
            ctx.context().0.acquire().await.map_err(|error| {
                NodeError::msg(format!("the gate was closed for good: {error}"))
            })?;
        permit.forget();
        Ok(PassedUpdate::default().passed(state.passed + 1))
    }
}

/// `START -> open -> END`: lets one run of [`gated`] through.
#[graph(state = Passed, context = Gate, edges = [START -> open -> END])]
pub mod release {
    use super::*;

    /// Opens the gate once.
    #[node]
    pub async fn open(_state: &Passed, ctx: &Ctx) -> PassedUpdate {
        ctx.context().0.add_permits(1);
        PassedUpdate::default()
    }
}

/// The state of [`crawl`]: the URLs to fetch, and what the nodes did.
#[derive(Clone, Debug, Default, PartialEq, State, Serialize, Deserialize)]
#[state(derive(Debug, PartialEq, Serialize))]
pub struct Crawl {
    /// One `fetch` per URL.
    pub urls: Vec<String>,
    /// One line per node run, across runs.
    #[reducer(append)]
    pub log: Vec<String>,
}

/// The input of one `fetch`: not the graph's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// The page's URL.
    pub url: String,
}

/// `START -> plan -> spread ? [fetch, note]`: `spread` sends one `fetch` per URL, each on its
/// own [`Page`]; `note` takes the state. A client's `Command(goto=Send(..))` starts any of
/// them on an input of its own.
#[graph(
    state = Crawl,
    edges = [START -> plan -> spread ? [fetch, note], fetch -> END, note -> END]
)]
pub mod crawl {
    use super::*;

    /// Logs the URLs of the state it was given; the input holds them.
    #[node]
    pub async fn plan(state: &Crawl) -> CrawlUpdate {
        CrawlUpdate::default().log(vec![format!("planned {}", state.urls.join(","))])
    }

    /// One `fetch` per URL.
    #[router]
    pub fn spread(state: &Crawl) -> Vec<Spread> {
        state
            .urls
            .iter()
            .map(|url| Spread::Fetch(Page { url: url.clone() }))
            .collect()
    }

    /// Logs the page it was given.
    #[node]
    pub async fn fetch(page: &Page) -> CrawlUpdate {
        CrawlUpdate::default().log(vec![format!("fetched {}", page.url)])
    }

    /// Logs the URLs of the state it was given.
    #[node]
    pub async fn note(state: &Crawl) -> CrawlUpdate {
        CrawlUpdate::default().log(vec![format!("noted {}", state.urls.join(","))])
    }
}
