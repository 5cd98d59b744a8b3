//! What a client gives a thread in place of an input: LangGraph's `Command`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::graph::traits::{GraphDef, SentInput, State};

/// Resumes, updates or redirects a thread's run, as LangGraph's `Command(resume=..,
/// update=.., goto=..)`: given to [`Thread::command`](crate::Thread::command) in place of an
/// input.
///
/// - [`Command::resume`] answers the thread's pending [`interrupt`]: the interrupted node
///   runs again from its start, and this time its `interrupt` returns the value.
/// - [`Command::proceed`] continues a thread stopped at a breakpoint, or one whose last run
///   failed or was cut short by a crash: tasks of the stopped step that had finished are
///   not run again.
/// - [`Command::update`] applies an update to the state (through its reducers) first;
///   [`Command::goto`] adds a node to the tasks due, and [`Command::send`] a task of a node
///   on an input of its own (LangGraph's `Command(goto=[Send(node, arg)])`).
///
/// [`interrupt`]: crate::NodeContext::interrupt
pub struct Command<G: GraphDef> {
    pub(crate) resume: Option<Resume>,
    pub(crate) update: Option<<G::State as State>::Update>,
    pub(crate) goto: Vec<G::Node>,
    /// Shared, so that a command stays `Clone` whatever its payloads' types: a run takes a
    /// payload out of its `Arc`, or copies one still shared through its stored JSON.
    pub(crate) sends: Vec<Arc<G::Sent>>,
}

/// The answer to pending interrupts.
#[derive(Clone, Debug, PartialEq)]
pub enum Resume {
    /// The answer to the one interrupt pending.
    Value(Value),
    /// Answers by interrupt id ([`Interrupt::id`](crate::Interrupt::id)), for a thread with
    /// several pending.
    ById(BTreeMap<String, Value>),
}

impl<G: GraphDef> Command<G> {
    /// Continues the thread from where it stopped, with nothing added.
    pub fn proceed() -> Self {
        Self {
            resume: None,
            update: None,
            goto: Vec::new(),
            sends: Vec::new(),
        }
    }

    /// Answers the one pending interrupt with `value` (`serde_json::json!(..)`, or anything
    /// that converts into JSON: a string, a number, a bool).
    pub fn resume(value: impl Into<Value>) -> Self {
        Self {
            resume: Some(Resume::Value(value.into())),
            ..Self::proceed()
        }
    }

    /// Answers several pending interrupts, each by its id.
    pub fn resume_by_id(answers: impl IntoIterator<Item = (String, Value)>) -> Self {
        Self {
            resume: Some(Resume::ById(answers.into_iter().collect())),
            ..Self::proceed()
        }
    }

    /// Applies `update` to the state before the run goes on.
    #[must_use]
    pub fn update(mut self, update: <G::State as State>::Update) -> Self {
        self.update = Some(update);
        self
    }

    /// Runs `node` in the next step too.
    #[must_use]
    pub fn goto(mut self, node: G::Node) -> Self {
        if !self.goto.contains(&node) {
            self.goto.push(node);
        }
        self
    }

    /// Runs a task of `input`'s node on `input` in the next step, as a router's `Send`
    /// does (LangGraph's `Command(goto=[Send(node, arg)])`): for a node that takes an input
    /// of its own, that input; for a node that takes the state, a state of its own. Each
    /// `send` is one more task, even for a node already due.
    ///
    /// `input` is built the way a sending router builds it, as a variant of the router's
    /// enum (which converts into the graph's `Send` inputs, [`GraphDef::Sent`]), or read
    /// from JSON with [`SentInput::payload_from_json`] or [`SentInput::from_state`].
    ///
    /// ```ignore
    /// #[router]
    /// fn fan_out(state: &Crawl) -> Vec<FanOut> { .. }  // FanOut::Fetch(Page)
    ///
    /// #[node]
    /// async fn fetch(page: &Page) -> CrawlUpdate { .. }
    ///
    /// // One more `fetch`, on this page, in the thread's next step.
    /// let command = Command::proceed().send(FanOut::Fetch(Page { url: "a".into() }));
    /// thread.invoke_command(command).await?;
    /// ```
    #[must_use]
    pub fn send(mut self, input: impl Into<G::Sent>) -> Self {
        self.sends.push(Arc::new(input.into()));
        self
    }

    /// The answer to pending interrupts, if any.
    pub fn resume_value(&self) -> Option<&Resume> {
        self.resume.as_ref()
    }
}

impl<G: GraphDef> Clone for Command<G> {
    fn clone(&self) -> Self {
        Self {
            resume: self.resume.clone(),
            update: self.update.clone(),
            goto: self.goto.clone(),
            sends: self.sends.clone(),
        }
    }
}

impl<G: GraphDef> std::fmt::Debug for Command<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Command")
            .field("resume", &self.resume)
            .field("update", &self.update.as_ref().map(|_| ".."))
            .field("goto", &self.goto)
            .field(
                "sends",
                &self
                    .sends
                    .iter()
                    .map(|sent| sent.node())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}
