//! The sweeper's bookkeeping: a batch's outcome, and what the last runs removed. What is
//! swept is listed in `core::SWEEPS`; the timer that runs it lives in `upkeep`.

use crate::core::error::CoreResult;
use crate::store::Table;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// What one bounded batch of a sweep did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// Records looked at.
    pub examined: usize,
    /// Records removed.
    pub removed: usize,
    /// The key after which the next batch starts; `None` once the relation was covered.
    pub resume: Option<Vec<u8>>,
}

impl Batch {
    /// A sweep done in one go (in-memory relations, event retention).
    pub fn whole(removed: usize) -> Self {
        Self {
            examined: removed,
            removed,
            resume: None,
        }
    }
}

/// The usual sweep of a relation: of at most `limit` records after the key `after`, removes
/// those `expired` says the real server would have forgotten — each only if unchanged, so
/// one touched or refreshed meanwhile stays — and calls `removed` for each (to drop index
/// entries, as a revocation does).
pub fn table<T: Serialize + DeserializeOwned>(
    table: &Table<T>,
    after: Option<&[u8]>,
    limit: usize,
    expired: impl Fn(&T) -> bool,
    mut removed: impl FnMut(&T) -> CoreResult<()>,
) -> CoreResult<Batch> {
    let page = table.page(after, limit)?;
    let mut count = 0;
    for (key, record) in &page.records {
        if expired(record) && table.remove_if_unchanged(key, record)? {
            removed(record)?;
            count += 1;
        }
    }
    Ok(Batch {
        examined: page.records.len(),
        removed: count,
        resume: page.next,
    })
}

/// One pass of the sweeper over every relation.
#[derive(Debug, Clone, Serialize)]
pub struct SweepRun {
    /// When it started, by the server clock.
    pub at: String,
    /// `start`, `timer` or `clock` (the clock was moved).
    pub trigger: &'static str,
    pub duration_ms: u64,
    /// Records removed per relation.
    pub removed: BTreeMap<&'static str, usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The sweeper's state: a wake-up call (the clock moved) and what its runs did.
#[derive(Default)]
pub struct Sweeper {
    wake: tokio::sync::Notify,
    runs: AtomicU64,
    last: Mutex<Option<SweepRun>>,
    totals: Mutex<BTreeMap<&'static str, u64>>,
}

impl Sweeper {
    /// Asks for a run as soon as possible (a run in progress is followed by another).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits for [`Sweeper::wake`].
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    pub fn finished(&self, run: SweepRun) {
        {
            let mut totals = lock(&self.totals);
            for (relation, n) in &run.removed {
                *totals.entry(relation).or_default() += *n as u64;
            }
        }
        *lock(&self.last) = Some(run);
        self.runs.fetch_add(1, Ordering::AcqRel);
    }

    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Acquire)
    }

    pub fn last(&self) -> Option<SweepRun> {
        lock(&self.last).clone()
    }

    /// Records removed per relation since the start.
    pub fn totals(&self) -> BTreeMap<&'static str, u64> {
        lock(&self.totals).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
