//! The interrupts of a run: the answers a resumed run starts with, and the questions its
//! tasks ask.

use std::collections::HashMap;

use serde_json::Value;

use crate::interrupt::Interrupt;

/// What a run knows of interrupts, keyed by task (see `TaskMetadata::key`). Empty for most
/// runs, so the run holds it boxed behind an `Option`.
#[derive(Debug, Default)]
pub(crate) struct InterruptBook {
    /// The answers each task's interrupts get, in the order the task calls them.
    answers: HashMap<String, Vec<Value>>,
    /// How many times each task has called `interrupt` in this run.
    calls: HashMap<String, usize>,
    /// The question each task stopped on.
    raised: HashMap<String, Interrupt>,
}

/// What a task's call to `interrupt` gets.
#[derive(Debug)]
pub(crate) enum Asked {
    /// The answer a resume gave.
    Answered(Value),
    /// No answer yet: the task stops, and the run with it once the step's other tasks end.
    Raised,
}

impl InterruptBook {
    /// A book with the answers a resumed run starts with.
    pub(crate) fn with_answers(answers: HashMap<String, Vec<Value>>) -> Self {
        Self {
            answers,
            ..Self::default()
        }
    }

    /// Task `task` calls `interrupt` once more: the answer waiting for this call, or the
    /// question `make(index)` raised (the task's first unanswered question is kept).
    pub(crate) fn ask(&mut self, task: &str, make: impl FnOnce(usize) -> Interrupt) -> Asked {
        let calls = self.calls.entry(task.to_owned()).or_default();
        let index = *calls;
        *calls += 1;
        if let Some(answer) = self.answers.get(task).and_then(|all| all.get(index)) {
            return Asked::Answered(answer.clone());
        }
        self.raised
            .entry(task.to_owned())
            .or_insert_with(|| make(index));
        Asked::Raised
    }

    /// The question task `task` stopped on, if it asked one.
    pub(crate) fn take_raised(&mut self, task: &str) -> Option<Interrupt> {
        self.raised.remove(task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(index: usize) -> Interrupt {
        Interrupt::new(
            format!("id{index}"),
            Value::from(index),
            "ask",
            "1:ask".into(),
            index,
        )
    }

    #[test]
    fn answers_match_calls_by_order_and_the_first_unanswered_call_is_kept() {
        let mut book = InterruptBook::with_answers(HashMap::from([(
            "1:ask".to_owned(),
            vec![Value::from("first")],
        )]));
        assert!(matches!(book.ask("1:ask", question), Asked::Answered(v) if v == "first"));
        assert!(matches!(book.ask("1:ask", question), Asked::Raised));
        // A node that swallows the interrupt and asks again does not replace its question.
        assert!(matches!(book.ask("1:ask", question), Asked::Raised));
        let raised = book.take_raised("1:ask").expect("raised");
        assert_eq!(raised.index(), 1);
        assert_eq!(book.take_raised("1:ask"), None);
        // Another task's calls are counted apart.
        assert!(matches!(book.ask("1:other", question), Asked::Raised));
        assert_eq!(book.take_raised("1:other").map(|i| i.index()), Some(0));
    }
}
