//! One relation's sled tree, refilled when the database is reopened, and a generation that
//! changes with every write to it, so a thread may answer a read of a hot record from what
//! it decoded before for as long as nothing has written the tree since (see
//! [`super::Table::get_recent`]).

use super::{Health, StoreResult};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

/// Generations come from one counter for the whole process: a value names one state of one
/// slot of one store, and is never handed out again.
static GENERATIONS: AtomicU64 = AtomicU64::new(1);

fn fresh_generation() -> u64 {
    GENERATIONS.fetch_add(1, Ordering::Relaxed)
}

/// One relation's sled tree, refilled when the database is reopened (empty meanwhile).
pub(crate) struct Slot {
    pub(super) name: String,
    pub(super) tree: RwLock<Option<sled::Tree>>,
    health: Arc<Health>,
    /// Writes under way: while any is, nothing read is reused.
    writing: AtomicUsize,
    /// Changed when a write starts and again when it ends.
    generation: AtomicU64,
}

impl Slot {
    pub(super) fn new(name: String, tree: sled::Tree, health: Arc<Health>) -> Self {
        Self {
            name,
            tree: RwLock::new(Some(tree)),
            health,
            writing: AtomicUsize::new(0),
            generation: AtomicU64::new(fresh_generation()),
        }
    }

    /// Runs `op`, which may change the tree, as a write: see [`Slot::writing`]. Sled
    /// failures that mean the disk refuses writes mark the store degraded.
    pub(super) fn with<R>(&self, op: impl FnOnce(&sled::Tree) -> StoreResult<R>) -> StoreResult<R> {
        let _writing = self.writing();
        self.read(op)
    }

    /// Runs `op`, which must not change the tree (a write through here would leave stale
    /// reads reused: use [`Slot::with`]). The tree stays locked for reading meanwhile, so a
    /// reopen waits for operations in flight.
    pub(super) fn read<R>(&self, op: impl FnOnce(&sled::Tree) -> StoreResult<R>) -> StoreResult<R> {
        let guard = self
            .tree
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(tree) = guard.as_ref() else {
            return Err(self.health.unavailable());
        };
        let result = op(tree);
        if let Err(e) = &result {
            self.health.note(e);
        }
        result
    }

    /// A handle on the tree for work that outlives one call (iterators, transactions).
    /// Whoever writes through it holds [`Slot::writing`] meanwhile.
    pub(super) fn tree(&self) -> StoreResult<sled::Tree> {
        self.read(|t| Ok(t.clone()))
    }

    /// Marks a write under way until the guard drops: every change to the tree (and every
    /// swap of the tree itself) happens while one is held, so reads that began before it
    /// ended are not reused after.
    pub(super) fn writing(&self) -> Writing<'_> {
        self.writing.fetch_add(1, Ordering::SeqCst);
        self.generation.store(fresh_generation(), Ordering::SeqCst);
        Writing { slot: self }
    }

    /// The tree's generation, if no write is under way. A value read now and found again
    /// later means nothing wrote the tree in between.
    pub(super) fn stable_generation(&self) -> Option<u64> {
        if self.writing.load(Ordering::SeqCst) > 0 {
            return None;
        }
        Some(self.generation.load(Ordering::SeqCst))
    }

    /// Whether no write has started since `stable_generation` gave `generation`.
    pub(super) fn unchanged_since(&self, generation: u64) -> bool {
        self.generation.load(Ordering::SeqCst) == generation
    }
}

/// A write under way on a [`Slot`] (see [`Slot::writing`]).
pub(super) struct Writing<'a> {
    slot: &'a Slot,
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.slot
            .generation
            .store(fresh_generation(), Ordering::SeqCst);
        self.slot.writing.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{RecentDecodes, Store, Table};
    use std::cell::RefCell;

    thread_local! {
        static RECENT: RefCell<RecentDecodes<String>> = const { RefCell::new(RecentDecodes::new()) };
    }

    fn generation(table: &Table<String>) -> u64 {
        table.slot.stable_generation().unwrap()
    }

    /// Reads leave the generation alone; every way of changing a relation moves it, and a
    /// record kept from before is not handed out after.
    #[test]
    fn every_write_moves_the_generation_and_reused_reads_follow() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let table: Table<String> = store.table("generation-test").unwrap();
        let other: Table<String> = store.table("generation-test").unwrap();
        table.put("k", &"v0".to_string()).unwrap();
        let read = |want: &str| {
            assert_eq!(
                table.get_recent("k", &RECENT).unwrap().as_deref(),
                Some(want)
            );
        };
        read("v0");

        let before = generation(&table);
        table.get("k").unwrap();
        table.get_recent("k", &RECENT).unwrap();
        table.all().unwrap();
        table.page(None, 10).unwrap();
        assert_eq!(table.len(), 1);
        assert!(!table.is_empty());
        assert_eq!(generation(&table), before, "reads are not writes");

        let mut step = 0;
        let mut changed = |what: &str, write: &dyn Fn(&str)| {
            step += 1;
            let value = format!("v{step}");
            let before = generation(&table);
            write(&value);
            assert_ne!(generation(&table), before, "{what} moves the generation");
            read(&value);
        };
        changed("a put through another handle", &|v| {
            other.put("k", &v.to_string()).unwrap()
        });
        changed("a compare-and-swap", &|v| {
            let old = other.get("k").unwrap().unwrap();
            assert!(other
                .replace_if_unchanged("k", &old, &v.to_string())
                .unwrap());
        });
        changed("a transaction", &|v| {
            let op = other.put_op("k", &v.to_string()).unwrap();
            assert!(store.transact(&[op]).unwrap());
        });
        let dump = store.export_all().unwrap();
        changed("a snapshot restore", &|v| {
            let mut dump = dump.clone();
            for (name, records) in &mut dump {
                if name == "generation-test" {
                    *records = vec![(b"k".to_vec(), serde_json::to_vec(v).unwrap())];
                }
            }
            store.import_all(&dump).unwrap();
        });
        changed("a reopen after a put", &|v| {
            other.put("k", &v.to_string()).unwrap();
            store.reopen().unwrap();
        });

        let before = generation(&table);
        store.clear_all().unwrap();
        assert_ne!(generation(&table), before, "a reset moves the generation");
        assert_eq!(table.get_recent("k", &RECENT).unwrap(), None);
        table.put("k", &"back".to_string()).unwrap();
        read("back");
        other.remove("k").unwrap();
        assert_eq!(table.get_recent("k", &RECENT).unwrap(), None);
        store.close();
    }

    #[test]
    fn nothing_is_reused_while_a_write_is_under_way() {
        let store = Store::temporary().unwrap();
        let table: Table<String> = store.table("writing-test").unwrap();
        let slot = table.slot.clone();
        let idle = slot.stable_generation().unwrap();
        let writing = slot.writing();
        assert_eq!(slot.stable_generation(), None);
        assert!(!slot.unchanged_since(idle), "a started write moves it");
        let nested = slot.writing();
        drop(writing);
        assert_eq!(slot.stable_generation(), None, "one write still under way");
        drop(nested);
        let after = slot.stable_generation().unwrap();
        assert_ne!(after, idle);
        assert!(slot.unchanged_since(after));
    }

    #[test]
    fn generations_are_never_shared_between_stores() {
        let a = Store::temporary().unwrap();
        let b = Store::temporary().unwrap();
        let ta: Table<String> = a.table("same-name").unwrap();
        let tb: Table<String> = b.table("same-name").unwrap();
        ta.put("k", &"in a".to_string()).unwrap();
        tb.put("k", &"in b".to_string()).unwrap();
        assert_ne!(generation(&ta), generation(&tb));
        assert_eq!(
            ta.get_recent("k", &RECENT).unwrap().as_deref(),
            Some("in a")
        );
        assert_eq!(
            tb.get_recent("k", &RECENT).unwrap().as_deref(),
            Some("in b")
        );
        assert_eq!(
            ta.get_recent("k", &RECENT).unwrap().as_deref(),
            Some("in a")
        );
    }
}
