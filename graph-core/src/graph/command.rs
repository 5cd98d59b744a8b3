//! What a client gives a thread in place of an input: LangGraph's `Command`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::graph::traits::{GraphDef, State};

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
///   [`Command::goto`] adds a node to the tasks due.
///
/// [`interrupt`]: crate::NodeContext::interrupt
pub struct Command<G: GraphDef> {
    pub(crate) resume: Option<Resume>,
    pub(crate) update: Option<<G::State as State>::Update>,
    pub(crate) goto: Vec<G::Node>,
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
        }
    }
}

impl<G: GraphDef> std::fmt::Debug for Command<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Command")
            .field("resume", &self.resume)
            .field("update", &self.update.as_ref().map(|_| ".."))
            .field("goto", &self.goto)
            .finish()
    }
}
