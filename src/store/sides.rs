//! Every relation has two sled trees, one per *side* (`name` and `name~b`), and one side
//! holds the data. Emptying everything (reset, snapshot restore) switches the slots to the
//! other, empty side, which takes microseconds, where sled's `Tree::clear` removes keys one
//! by one (tens of milliseconds for a thousand refresh tokens); the side left behind is
//! emptied by a background thread. Which side holds the data is recorded in sled's default
//! tree at the next flush, after what the new side was given, so a crash before that flush
//! comes back to the old side, whole.

use super::segments::{Buffered, LogTail};
use super::{lock, Store, StoreResult};
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};

/// Key in sled's default tree (which no relation uses) of the side that holds the data.
pub(super) const SIDE_KEY: &[u8] = b"vlsim.side";
/// Suffix of the second side's tree names; relation names never contain `~`.
const SIDE_B_SUFFIX: &str = "~b";
const SLED_DEFAULT_TREE: &[u8] = b"__sled__default";

/// The sled tree that holds relation `name` on `side` (0 keeps the names of stores written
/// before there were sides).
pub(super) fn tree_on_side(name: &str, side: u8) -> String {
    if side == 0 {
        name.to_owned()
    } else {
        format!("{name}{SIDE_B_SUFFIX}")
    }
}

/// The relation sled tree `tree` holds if it belongs to `side`; `None` for the other
/// side's trees and sled's own.
pub(super) fn relation_on_side(tree: &[u8], side: u8) -> Option<String> {
    if tree == SLED_DEFAULT_TREE {
        return None;
    }
    let name = std::str::from_utf8(tree).ok()?;
    match (side, name.strip_suffix(SIDE_B_SUFFIX)) {
        (0, None) => Some(name.to_owned()),
        (1, Some(relation)) => Some(relation.to_owned()),
        _ => None,
    }
}

impl Store {
    /// Switches every relation to the other side's (empty) trees; the side left behind is
    /// emptied in the background.
    pub(super) fn clear_trees(&self) -> StoreResult<()> {
        let switching = lock(&self.inner.switching);
        let db = self.db()?;
        let from = self.side();
        let to = 1 - from;
        // The slots first (as `Store::slot` and `reopen` take them), then the log buffers:
        // buffered records are dropped with their trees, under their locks, so none is
        // written after the switch.
        let slots = lock(&self.inner.slots);
        let writing: Vec<_> = slots.iter().map(|slot| slot.writing()).collect();
        let tails: Vec<Arc<LogTail>> = lock(&self.inner.logs).clone();
        let mut buffers: Vec<MutexGuard<'_, Buffered>> =
            tails.iter().map(|t| lock(&t.records)).collect();
        for (buffer, tail) in buffers.iter_mut().zip(&tails) {
            buffer.clear();
            tail.forget_stored();
        }
        if self.side_is_empty(&db, from)? {
            // A first start: nothing to leave behind, so no switch (nor a thread).
            return Ok(());
        }
        // Normally already empty; not after a crash before the last switch was flushed or
        // emptied behind, nor when writes that had their tree before the last switch landed
        // on it afterwards.
        self.empty_side(&db, to)?;
        let mut fresh = Vec::with_capacity(slots.len());
        for slot in slots.iter() {
            fresh.push(
                db.open_tree(tree_on_side(&slot.name, to))
                    .map_err(|e| self.noted(e))?,
            );
        }
        for (slot, tree) in slots.iter().zip(fresh) {
            *slot
                .tree
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(tree);
        }
        self.inner.side.store(to, Ordering::Release);
        drop(buffers);
        drop(writing);
        drop(slots);
        drop(switching);
        self.empty_idle_side_later();
        Ok(())
    }

    fn side_is_empty(&self, db: &sled::Db, side: u8) -> StoreResult<bool> {
        for name in db.tree_names() {
            if relation_on_side(&name, side).is_some()
                && !db.open_tree(&name).map_err(|e| self.noted(e))?.is_empty()
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Empties every tree of `side` (which must not be the side in use).
    fn empty_side(&self, db: &sled::Db, side: u8) -> StoreResult<()> {
        for name in db.tree_names() {
            if relation_on_side(&name, side).is_some() {
                db.open_tree(&name)
                    .and_then(|t| t.clear())
                    .map_err(|e| self.noted(e))?;
            }
        }
        Ok(())
    }

    /// Empties the side not in use on a thread of its own, unless the sides are switched
    /// meanwhile (the switch empties it first itself).
    /// The thread holds the store only while it works, and [`Store::close`] joins it: a data
    /// dir reopened right after must not find sled's lock held.
    fn empty_idle_side_later(&self) {
        let weak = Arc::downgrade(&self.inner);
        let idle = 1 - self.side();
        let spawned = std::thread::Builder::new()
            .name("vlsim-store-empty".into())
            .spawn(move || {
                let Some(inner) = weak.upgrade() else { return };
                let store = Store { inner };
                let _switching = lock(&store.inner.switching);
                if store.inner.closed.load(Ordering::Acquire) || store.side() == idle {
                    return;
                }
                let emptied = store.db().and_then(|db| store.empty_side(&db, idle));
                if let Err(e) = emptied {
                    tracing::warn!(error = %e, "emptying the store's idle side failed; the next reset does it");
                }
            });
        match spawned {
            Ok(thread) => {
                let mut threads = lock(&self.inner.background);
                threads.retain(|t| !t.is_finished());
                threads.push(thread);
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot start the thread that empties the store's idle side")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Table;

    fn idle_side_records(store: &Store) -> usize {
        let db = store.db().unwrap();
        let idle = 1 - store.side();
        db.tree_names()
            .iter()
            .filter(|n| relation_on_side(n, idle).is_some())
            .map(|n| db.open_tree(n).unwrap().len())
            .sum()
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // waits for a real thread, not for the clock
    fn clear_all_switches_sides_and_empties_the_old_one_behind() {
        let store = Store::temporary().unwrap();
        let users: Table<String> = store.table("users").unwrap();
        for i in 0..500u32 {
            users.put(i.to_be_bytes(), &format!("user {i}")).unwrap();
        }
        store.meta_put("marker", "before").unwrap();
        store.clear_all().unwrap();
        assert!(users.is_empty(), "every relation is empty at once");
        assert_eq!(store.meta_get("marker").unwrap(), None);
        users.put(b"new", &"after".to_string()).unwrap();
        // The old side is emptied by a thread; wait for it (bounded).
        for _ in 0..400 {
            if idle_side_records(&store) == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(
            idle_side_records(&store),
            0,
            "the old side is emptied behind"
        );
        let dump = store.export_all().unwrap();
        let names: Vec<&str> = dump.iter().map(|(n, _)| n.as_str()).collect();
        assert!(
            names.contains(&"users"),
            "snapshots name relations, not sides: {names:?}"
        );
        assert!(names.iter().all(|n| !n.contains('~')), "{names:?}");
        // Back to the first side: the records left there earlier are gone.
        store.clear_all().unwrap();
        assert!(users.is_empty());
        users.put(b"third", &"again".to_string()).unwrap();
        assert_eq!(users.all().unwrap().len(), 1);
        assert_eq!(store.tree_names("us").unwrap(), vec!["users".to_string()]);
    }

    #[test]
    fn the_side_in_use_survives_a_reopen_once_flushed() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let users: Table<String> = store.table("users").unwrap();
            users.put(b"old", &"old".to_string()).unwrap();
            store.flush_blocking().unwrap();
            store.clear_all().unwrap();
            users.put(b"new", &"new".to_string()).unwrap();
            store.flush_blocking().unwrap();
            store.close();
        }
        let store = Store::open(dir.path()).unwrap();
        let users: Table<String> = store.table("users").unwrap();
        let keys: Vec<Vec<u8>> = users.all().unwrap().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, vec![b"new".to_vec()]);
        // A snapshot taken before the switch restores onto the side in use.
        let dump = vec![(
            "users".to_string(),
            vec![(b"restored".to_vec(), b"\"r\"".to_vec())],
        )];
        store.import_all(&dump).unwrap();
        let keys: Vec<Vec<u8>> = users.all().unwrap().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, vec![b"restored".to_vec()]);
    }
}
