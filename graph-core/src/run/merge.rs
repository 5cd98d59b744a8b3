//! Merging a step's updates into the state, all or nothing.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use crate::error::{GraphError, panic_message};
use crate::graph::traits::State;

/// Merges a step's updates all or nothing: after a conflict, or a panic in a user's reducer
/// or in the state's `Clone`, the state is as it was before the step.
pub(crate) fn merge_step<S: State>(
    state: &mut Arc<S>,
    updates: Vec<(&'static str, S::Update)>,
    step: u64,
) -> Result<(), GraphError> {
    let merged = std::panic::catch_unwind(AssertUnwindSafe(|| {
        if S::MERGES_IN_PLACE {
            // Nothing in the merge can stop halfway: a conflict is found before anything
            // is written, and a clone made here (the state is shared) is made first.
            Arc::make_mut(state).merge(updates)
        } else {
            let mut next = S::clone(state);
            next.merge(updates)?;
            *state = Arc::new(next);
            Ok(())
        }
    }));
    match merged {
        Ok(result) => result.map_err(|conflict| GraphError::ConflictingUpdate { step, conflict }),
        Err(panic) => Err(GraphError::MergePanicked {
            step,
            message: panic_message(&*panic),
        }),
    }
}
