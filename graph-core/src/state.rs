//! The `append` reducer, and the state `#[graph]` stubs in when none is given. The
//! `State` trait itself is in `traits.rs`.

use crate::{State, UpdateConflict};

/// The reducer `#[reducer(append)]` names: later writes extend the list.
pub fn append<T>(current: &mut Vec<T>, update: Vec<T>) {
    current.extend(update);
}

/// The state `#[graph]` stubs in when the attribute names none, so that the missing
/// `state` is reported once instead of as a cascade of unresolved types.
#[doc(hidden)]
#[derive(Clone, Debug, Default)]
pub struct MissingState;

impl State for MissingState {
    type Update = ();

    fn merge(&mut self, _: Vec<(&'static str, ())>) -> Result<(), UpdateConflict> {
        Ok(())
    }
}
