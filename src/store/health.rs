//! Whether the store takes writes, and start-up without sled's panic noise.

use super::{lock, open_waiting_for_lock, LogTail, Slot, Store, StoreError, StoreResult};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why writes fail, since when; `None` while they work.
#[derive(Default)]
pub(super) struct Health {
    degraded: Mutex<Option<(String, Instant)>>,
}

impl Health {
    fn set(&self, reason: String) {
        let mut degraded = self
            .degraded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match degraded.as_mut() {
            Some((current, _)) => *current = reason,
            None => {
                tracing::error!(%reason, "the data dir refuses writes: degraded until it takes them again");
                *degraded = Some((reason, Instant::now()));
            }
        }
    }

    /// Records a failed operation: the disk refusing writes degrades the store.
    pub(super) fn note(&self, error: &StoreError) {
        let refused = match error {
            StoreError::Sled(
                sled::Error::Io(_) | sled::Error::Corruption { .. } | sled::Error::ReportableBug(_),
            ) => true,
            StoreError::Unavailable { .. } => return,
            _ => false,
        };
        if refused {
            self.set(error.to_string());
        }
    }

    pub(super) fn note_reason(&self, reason: String) {
        self.set(reason);
    }

    pub(super) fn unavailable(&self) -> StoreError {
        let reason = self
            .degraded()
            .map(|(reason, _)| reason)
            .unwrap_or_else(|| "the store is being reopened".into());
        StoreError::Unavailable { reason }
    }

    pub(super) fn clear(&self) {
        let was = self
            .degraded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some((reason, since)) = was {
            tracing::warn!(%reason, seconds = since.elapsed().as_secs(), "the data dir takes writes again: recovered");
        }
    }

    pub(super) fn degraded(&self) -> Option<(String, Duration)> {
        self.degraded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|(reason, since)| (reason.clone(), since.elapsed()))
    }
}

/// Health: whether writes fail, and recovering from that.
impl Store {
    /// Why the data dir is not writable, and since when; `None` while it is.
    pub fn degraded(&self) -> Option<(String, std::time::Duration)> {
        self.inner.health.degraded()
    }

    /// Log records kept in memory because they could not be written yet, and records
    /// given up (a buffer that reached its bound while writes failed).
    pub fn pending_log_records(&self) -> (usize, u64) {
        let tails: Vec<Arc<LogTail>> = lock(&self.inner.logs).clone();
        tails.iter().fold((0, 0), |(pending, lost), t| {
            (pending + t.pending(), lost + t.lost())
        })
    }

    /// Flushes made so that writes were durable before their answer; requests waiting at
    /// once share one (see [`Store::flush`]).
    pub fn durable_flushes(&self) -> u64 {
        self.inner.flushes.led()
    }

    /// Whether the data dir takes writes again: writes and syncs a 1 MiB file (about what
    /// sled needs for a new log segment) beside the store, then removes it.
    pub fn probe_writable(&self) -> std::io::Result<()> {
        use std::io::Write;
        let probe = self.inner.dir.join(".vlsim-write-probe");
        let result = (|| {
            let mut file = std::fs::File::create(&probe)?;
            file.write_all(&vec![0u8; 1024 * 1024])?;
            file.sync_all()
        })();
        let _ = std::fs::remove_file(&probe);
        result
    }

    /// Opens the database again from its files (what sled needs after a failed write) and
    /// writes back the log records that were accepted but not yet durable. Operations in
    /// flight finish first; meanwhile and until the reopen succeeds, relations answer
    /// [`StoreError::Unavailable`]. Like [`Store::open`] it waits a moment for sled's lock,
    /// which the database just dropped lets go of only once its own threads are done.
    pub fn reopen(&self) -> StoreResult<()> {
        if self.inner.dir.as_os_str().is_empty() {
            return Err(StoreError::Unavailable {
                reason: "a temporary store cannot be reopened".into(),
            });
        }
        // The slots first: `Store::slot` takes that lock, then the database's.
        let slots: Vec<Arc<Slot>> = lock(&self.inner.slots).clone();
        let _writing: Vec<_> = slots.iter().map(|slot| slot.writing()).collect();
        let mut db = self
            .inner
            .db
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for slot in &slots {
            *slot
                .tree
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        }
        *db = None;
        let fresh = open_waiting_for_lock(&self.inner.path, &self.inner.dir).inspect_err(|e| {
            self.inner
                .health
                .note_reason(format!("reopening the store: {e}"));
        })?;
        for slot in &slots {
            let tree = fresh.open_tree(super::tree_on_side(&slot.name, self.side()))?;
            *slot
                .tree
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(tree);
        }
        *db = Some(fresh.clone());
        drop(db);
        let tails: Vec<Arc<LogTail>> = lock(&self.inner.logs).clone();
        for tail in &tails {
            tail.rewrite_unflushed()?;
            tail.recount()?;
        }
        fresh.flush().map_err(|e| self.noted(e))?;
        for tail in &tails {
            tail.made_durable(usize::MAX);
        }
        self.inner.health.clear();
        Ok(())
    }

    /// Recovers a degraded store once the disk takes writes again; returns whether the
    /// store is healthy afterwards.
    pub fn try_recover(&self) -> bool {
        if self.degraded().is_none() {
            return true;
        }
        if let Err(e) = self.probe_writable() {
            self.inner
                .health
                .note_reason(format!("writing to the data dir fails: {e}"));
            return false;
        }
        match self.reopen() {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "reopening the store failed; will retry");
                false
            }
        }
    }
}

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, turning a panic into `Err(message)` without printing it (sled panics on
/// damaged files; the caller reports them as an error a person can act on). Panics on
/// other threads meanwhile print as usual.
pub fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    result.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Table;

    #[test]
    fn quietly_turns_a_panic_into_its_message() {
        assert_eq!(quietly(|| 7), Ok(7));
        let err = quietly(|| -> u8 { panic!("sled gave up") });
        assert_eq!(err, Err("sled gave up".to_string()));
    }

    #[test]
    fn a_store_sled_panics_on_is_damaged_not_a_panic() {
        // Where sled panics depends on the file's layout (and on whether its background
        // snapshot ran), so several kinds of damage: none may panic out of Store::open,
        // and sled gives up on at least one (reported as Damaged).
        type Damage = fn(&mut Vec<u8>);
        let damages: [(&str, Damage); 4] = [
            ("4 KiB of garbage at offset 0", |b| {
                for (i, x) in b.iter_mut().take(4096).enumerate() {
                    *x = (i * 7 + 3) as u8;
                }
            }),
            ("4 KiB of noise at a third", |b| {
                let at = b.len() / 3;
                for (i, x) in b.iter_mut().skip(at).take(4096).enumerate() {
                    *x = (i * 131 + 17) as u8;
                }
            }),
            ("64 KiB of noise at a half", |b| {
                let at = b.len() / 2;
                for (i, x) in b.iter_mut().skip(at).take(65536).enumerate() {
                    *x = (i * 31 + 5) as u8;
                }
            }),
            ("every 4th KiB flipped", |b| {
                for (i, x) in b.iter_mut().enumerate() {
                    if (i / 1024) % 4 == 1 {
                        *x = !*x;
                    }
                }
            }),
        ];
        let mut damaged = Vec::new();
        for (what, damage) in damages {
            let dir = tempfile::tempdir().unwrap();
            {
                let store = Store::open(dir.path()).unwrap();
                let t: Table<String> = store.table("t").unwrap();
                for i in 0..20_000u32 {
                    t.put(i.to_be_bytes(), &"x".repeat(300)).unwrap();
                }
                store.flush_blocking().unwrap();
            }
            let db = Store::data_path(dir.path()).join("db");
            let mut bytes = std::fs::read(&db).unwrap();
            damage(&mut bytes);
            std::fs::write(&db, bytes).unwrap();
            if let Err(StoreError::Damaged { message, .. }) = Store::open(dir.path()) {
                assert!(!message.is_empty());
                damaged.push(what);
            }
        }
        assert!(!damaged.is_empty(), "sled read every damaged file");
    }
}
