//! Runs in flight per identity, capped: a run takes a permit when it is accepted (queued
//! runs included) and gives it back when its task ends, however it ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt as _;

use crate::auth::layer::Caller;
use crate::error::ApiError;
use crate::served::RunItems;

/// What a refused client is told to wait before it tries again, in seconds.
const RETRY_AFTER_SECONDS: u32 = 1;

/// The runs each identity has in flight, against the cap.
pub(crate) struct RunQuota {
    /// `None`: no cap.
    max: Option<usize>,
    /// By identity; the unauthenticated share `""`. Only identities with runs in flight.
    in_flight: Mutex<HashMap<String, usize>>,
}

impl RunQuota {
    pub(crate) fn new(max: Option<usize>) -> Arc<Self> {
        Arc::new(Self {
            max,
            in_flight: Mutex::new(HashMap::new()),
        })
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        // A count is whole after every statement that changes it.
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A permit for one more run of the caller, or a 429 naming the cap.
    pub(crate) fn take(self: &Arc<Self>, caller: &Caller) -> Result<RunPermit, ApiError> {
        let key = caller
            .identity()
            .map_or("", |identity| identity.id())
            .to_owned();
        let mut counts = self.counts();
        let count = counts.entry(key.clone()).or_insert(0);
        if let Some(max) = self.max
            && *count >= max
        {
            if *count == 0 {
                counts.remove(&key);
            }
            return Err(ApiError::TooManyRequests {
                message: format!(
                    "too many runs in flight: at most {max} at a time; try again when one has ended"
                ),
                retry_after: RETRY_AFTER_SECONDS,
            });
        }
        *count += 1;
        Ok(RunPermit {
            quota: Arc::clone(self),
            key,
        })
    }

    #[cfg(test)]
    fn in_flight(&self, key: &str) -> usize {
        self.counts().get(key).copied().unwrap_or(0)
    }
}

/// One run in flight; dropping it ends the run's count.
pub(crate) struct RunPermit {
    quota: Arc<RunQuota>,
    key: String,
}

impl RunPermit {
    /// The run's items, holding the permit until they are dropped: the run's task owns
    /// them to its end, whether or not a client still listens.
    pub(crate) fn hold(self, items: RunItems) -> RunItems {
        items
            .map(move |item| {
                let _held = &self;
                item
            })
            .boxed()
    }
}

impl Drop for RunPermit {
    fn drop(&mut self) {
        let mut counts = self.quota.counts();
        if let Some(count) = counts.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::auth::Identity;

    fn caller(id: &str) -> Caller {
        Caller::from_identity(Arc::new(Identity::new(id)))
    }

    #[test]
    fn each_identity_has_its_own_cap_and_a_dropped_permit_frees_a_place() {
        let quota = RunQuota::new(Some(2));
        let first = quota.take(&caller("alice")).unwrap();
        let _second = quota.take(&caller("alice")).unwrap();
        let refused = quota.take(&caller("alice")).err().unwrap();
        assert!(matches!(
            refused,
            ApiError::TooManyRequests { retry_after: 1, .. }
        ));
        let _bob = quota.take(&caller("bob")).unwrap();
        drop(first);
        assert_eq!(quota.in_flight("alice"), 1);
        let _third = quota.take(&caller("alice")).unwrap();
        assert_eq!(quota.in_flight("alice"), 2);
    }

    #[test]
    fn held_items_keep_the_permit_until_they_are_dropped() {
        let quota = RunQuota::new(Some(1));
        let items: RunItems = futures::stream::empty().boxed();
        let items = quota.take(&Caller::default()).unwrap().hold(items);
        assert!(quota.take(&Caller::default()).is_err());
        drop(items);
        assert_eq!(quota.in_flight(""), 0);
        assert!(quota.take(&Caller::default()).is_ok());
    }

    #[test]
    fn without_a_cap_every_run_is_let_in() {
        let quota = RunQuota::new(None);
        let permits: Vec<_> = (0..100)
            .map(|_| quota.take(&Caller::default()).unwrap())
            .collect();
        assert_eq!(quota.in_flight(""), 100);
        drop(permits);
        assert_eq!(quota.in_flight(""), 0);
    }
}
