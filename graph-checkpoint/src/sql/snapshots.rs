//! The newest snapshot of each thread line this store wrote or read, kept in memory so that
//! a read whose chain starts there fetches only the deltas after it.
//!
//! A snapshot is the whole state (after 1,000 steps appending 100 bytes, about 100 KB of
//! JSON): sending it from Postgres, then parsing it, is most of what reading a thread's
//! state costs, while the deltas after it are a few KB. A stored checkpoint never changes
//! (a fork, an update or a copy writes new rows; a delete removes them), so a snapshot
//! kept under its checkpoint's id stays true for as long as that row exists, in any
//! process; a read sends the id it holds and the database leaves the snapshot out when the
//! chain starts there.
//!
//! The cache holds one snapshot per thread and namespace (the newest this store saw) and
//! at most [`SqlOptions::snapshot_cache_bytes`](super::SqlOptions::snapshot_cache_bytes)
//! of JSON in all, dropping the least recently used line first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value};

/// A snapshot as kept: the checkpoint it belongs to and the state.
#[derive(Clone, Debug)]
pub(super) struct Kept {
    /// The id of the checkpoint that stores it.
    pub(super) checkpoint_id: String,
    /// The whole state at that checkpoint.
    pub(super) values: Arc<Map<String, Value>>,
}

#[derive(Debug)]
struct Entry {
    kept: Kept,
    /// Its size in bytes of JSON, what the budget counts.
    bytes: u64,
    /// When it was last put or taken, in the cache's own count of uses.
    used: u64,
}

/// The snapshots kept, by thread id and namespace.
#[derive(Debug)]
pub(super) struct SnapshotCache {
    budget: u64,
    inner: Mutex<Lines>,
}

#[derive(Debug, Default)]
struct Lines {
    entries: HashMap<(String, String), Entry>,
    bytes: u64,
    uses: u64,
}

impl SnapshotCache {
    /// A cache of at most `budget` bytes of JSON; 0 keeps nothing.
    pub(super) fn new(budget: u64) -> Self {
        Self {
            budget,
            inner: Mutex::default(),
        }
    }

    /// The snapshot kept for the line of `thread_id` in `namespace`, if any.
    pub(super) fn get(&self, thread_id: &str, namespace: &str) -> Option<Kept> {
        let mut lines = self.lock();
        lines.uses += 1;
        let uses = lines.uses;
        // A lookup by borrowed parts would need a key type of its own; the two short
        // strings cost less than the read they save.
        let entry = lines
            .entries
            .get_mut(&(thread_id.to_owned(), namespace.to_owned()))?;
        entry.used = uses;
        Some(entry.kept.clone())
    }

    /// Keeps `values`, `bytes` of JSON, as the snapshot of checkpoint `checkpoint_id` on
    /// the line of `thread_id` in `namespace`, in place of the one kept before. A snapshot
    /// larger than the whole budget is not kept.
    pub(super) fn put(
        &self,
        thread_id: &str,
        namespace: &str,
        checkpoint_id: String,
        values: Arc<Map<String, Value>>,
        bytes: u64,
    ) {
        if self.budget == 0 || bytes > self.budget {
            return;
        }
        let mut lines = self.lock();
        lines.uses += 1;
        let used = lines.uses;
        let entry = Entry {
            kept: Kept {
                checkpoint_id,
                values,
            },
            bytes,
            used,
        };
        if let Some(old) = lines
            .entries
            .insert((thread_id.to_owned(), namespace.to_owned()), entry)
        {
            lines.bytes -= old.bytes;
        }
        lines.bytes += bytes;
        while lines.bytes > self.budget {
            let Some(oldest) = lines
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.used)
                .map(|(key, _)| key.clone())
            else {
                break;
            };
            if let Some(evicted) = lines.entries.remove(&oldest) {
                lines.bytes -= evicted.bytes;
            }
        }
    }

    /// Forgets every snapshot of thread `thread_id` (its checkpoints were deleted).
    pub(super) fn forget_thread(&self, thread_id: &str) {
        let mut lines = self.lock();
        let mut freed = 0;
        lines.entries.retain(|(thread, _), entry| {
            let keep = thread != thread_id;
            if !keep {
                freed += entry.bytes;
            }
            keep
        });
        lines.bytes -= freed;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lines> {
        // The map is whole after every statement that changes it: a panic elsewhere while
        // it was held leaves nothing half done.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: u64) -> Arc<Map<String, Value>> {
        let mut map = Map::new();
        map.insert("n".into(), Value::from(n));
        Arc::new(map)
    }

    fn kept_id(cache: &SnapshotCache, thread: &str) -> Option<String> {
        cache.get(thread, "").map(|kept| kept.checkpoint_id)
    }

    #[test]
    fn a_line_keeps_its_newest_snapshot() {
        let cache = SnapshotCache::new(1_000);
        cache.put("t", "", "a".into(), values(1), 10);
        cache.put("t", "", "b".into(), values(2), 10);
        let kept = cache.get("t", "").unwrap();
        assert_eq!(kept.checkpoint_id, "b");
        assert_eq!(kept.values["n"], 2);
        assert!(cache.get("t", "child").is_none(), "namespaces are apart");
    }

    #[test]
    fn the_least_recently_used_line_goes_first_when_over_budget() {
        let cache = SnapshotCache::new(100);
        cache.put("a", "", "1".into(), values(1), 40);
        cache.put("b", "", "2".into(), values(2), 40);
        // `a` is used again: `b` is now the oldest.
        assert!(cache.get("a", "").is_some());
        cache.put("c", "", "3".into(), values(3), 40);
        assert_eq!(kept_id(&cache, "a").as_deref(), Some("1"));
        assert_eq!(kept_id(&cache, "b"), None);
        assert_eq!(kept_id(&cache, "c").as_deref(), Some("3"));
    }

    #[test]
    fn a_snapshot_over_the_budget_and_a_zero_budget_keep_nothing() {
        let cache = SnapshotCache::new(100);
        cache.put("a", "", "1".into(), values(1), 101);
        assert_eq!(kept_id(&cache, "a"), None);
        let off = SnapshotCache::new(0);
        off.put("a", "", "1".into(), values(1), 1);
        assert_eq!(kept_id(&off, "a"), None);
    }

    #[test]
    fn a_deleted_thread_frees_its_lines() {
        let cache = SnapshotCache::new(100);
        cache.put("a", "", "1".into(), values(1), 60);
        cache.put("a", "child", "2".into(), values(2), 30);
        cache.forget_thread("a");
        assert_eq!(kept_id(&cache, "a"), None);
        // The freed bytes count again: two more fit.
        cache.put("b", "", "3".into(), values(3), 60);
        cache.put("c", "", "4".into(), values(4), 40);
        assert_eq!(kept_id(&cache, "b").as_deref(), Some("3"));
        assert_eq!(kept_id(&cache, "c").as_deref(), Some("4"));
    }
}
