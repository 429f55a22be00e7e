//! Group commit: requests that must be durable before they answer share sled flushes.
//!
//! Each caller takes a ticket after its writes. A flush that starts after a ticket was
//! taken covers that caller, so while one flush runs the callers arriving behind it wait,
//! and the next flush, led by one of them, covers them all: under load one fsync serves
//! many answers instead of each answer paying (and queueing behind) its own. Nobody
//! answers before a flush that began after its writes has succeeded, as before.

use super::{Store, StoreError, StoreResult};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

impl Store {
    /// Makes every write made before the call durable. Called before acknowledging writes
    /// a client may rely on after a crash. Concurrent callers share flushes: one that finds
    /// a flush running waits for the next, which covers it and everyone else who arrived
    /// meanwhile. The flush runs on the blocking pool (sled's own `flush_async` can leave
    /// concurrent callers waiting forever: sled issues #1241 and #1308, seen here under a
    /// login storm), and covers what the relations were given: events still buffered stay
    /// buffered. They are no part of what a client relies on, and written out with every
    /// flush they went to sled a few at a time (a refresh storm flushes ~800 times a
    /// second), each few a segment of its own to compress, insert and later trim.
    pub async fn flush(&self) -> StoreResult<()> {
        let group = &self.inner.flushes;
        let ticket = group.ticket();
        let Turn::Lead(covers) = group.wait_or_lead(ticket).await else {
            return Ok(());
        };
        // The lead travels with the flush and reports to the group when it ends (or is
        // dropped unrun), so waiters are released even if this caller's request is dropped.
        let mut lead = Lead::new(group.clone(), covers);
        // Let this worker's other ready requests run up to their own flush first: they
        // find this flush claimed, wait, and are covered by it, so under load one fsync
        // serves every request that was ready instead of about two. Idle, this costs one
        // turn of the event loop.
        tokio::task::yield_now().await;
        lead.cover_issued();
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            let flushed = store.flush_written();
            if flushed.is_ok() {
                lead.succeeded();
            }
            flushed
        })
        .await
        .map_err(|e| StoreError::Sled(sled::Error::ReportableBug(format!("flush task: {e}"))))?
    }
}

#[derive(Default)]
struct Tickets {
    /// The last ticket handed out.
    issued: u64,
    /// A flush is under way.
    running: bool,
    /// Flushes led so far (what group commit saves shows as fewer of these).
    led: u64,
}

pub(super) struct FlushGroup {
    tickets: Mutex<Tickets>,
    /// The highest ticket a successful flush covered; every finished flush (failed too)
    /// sends, so waiters look again.
    durable: watch::Sender<u64>,
}

impl Default for FlushGroup {
    fn default() -> Self {
        Self {
            tickets: Mutex::default(),
            durable: watch::Sender::new(0),
        }
    }
}

/// What a caller of [`FlushGroup::wait_or_lead`] is to do.
pub(super) enum Turn {
    /// A flush that covered the caller's writes succeeded.
    Covered,
    /// The caller leads a flush covering every ticket up to `.0`; it must report the
    /// outcome with [`FlushGroup::finish`] (a [`Lead`] does on drop).
    Lead(u64),
}

impl FlushGroup {
    fn tickets(&self) -> MutexGuard<'_, Tickets> {
        // Plain counters: a panic while holding the lock leaves them usable.
        self.tickets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A ticket for the writes made before this call.
    pub fn ticket(&self) -> u64 {
        let mut tickets = self.tickets();
        tickets.issued += 1;
        tickets.issued
    }

    /// How many flushes have been led.
    pub fn led(&self) -> u64 {
        self.tickets().led
    }

    /// Waits until a flush covered `ticket`, or until no flush runs and the caller may
    /// lead one (also after a failed flush: each waiter then tries its own).
    pub async fn wait_or_lead(&self, ticket: u64) -> Turn {
        let mut durable = self.durable.subscribe();
        loop {
            if *durable.borrow_and_update() >= ticket {
                return Turn::Covered;
            }
            {
                let mut tickets = self.tickets();
                if !tickets.running {
                    tickets.running = true;
                    tickets.led += 1;
                    return Turn::Lead(tickets.issued);
                }
            }
            // Seen above, so a flush finishing from here on wakes this. It cannot fail: the
            // sender lives in `self`, which this borrows.
            let _ = durable.changed().await;
        }
    }

    /// Ends the running flush: `covered` is the ticket it led for, if it succeeded.
    pub fn finish(&self, covered: Option<u64>) {
        self.tickets().running = false;
        self.durable.send_modify(|durable| {
            if let Some(covered) = covered {
                *durable = (*durable).max(covered);
            }
        });
    }
}

/// A led flush: reports failure on drop unless [`Lead::succeeded`] was called, so a
/// flush that panics or is abandoned never leaves the group waiting forever.
pub(super) struct Lead {
    group: Arc<FlushGroup>,
    covers: u64,
    reported: bool,
}

impl Lead {
    pub fn new(group: Arc<FlushGroup>, covers: u64) -> Self {
        Self {
            group,
            covers,
            reported: false,
        }
    }

    /// Covers every ticket handed out so far: the flush starts after their writes.
    pub fn cover_issued(&mut self) {
        self.covers = self.group.tickets().issued;
    }

    pub fn succeeded(mut self) {
        self.reported = true;
        self.group.finish(Some(self.covers));
    }
}

impl Drop for Lead {
    fn drop(&mut self) {
        if !self.reported {
            self.group.finish(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    /// A group whose first caller leads a flush: (group, the ticket that flush covers).
    fn leading() -> (Arc<FlushGroup>, u64) {
        let group = Arc::new(FlushGroup::default());
        let first = group.ticket();
        let Some(Turn::Lead(covers)) = group.wait_or_lead(first).now_or_never() else {
            panic!("the first caller leads");
        };
        assert_eq!(covers, first);
        (group, covers)
    }

    #[test]
    fn a_waiter_behind_a_running_flush_is_covered_by_the_next_one() {
        let (group, covers) = leading();
        // Writes made while that flush runs are not covered by it.
        let second = group.ticket();
        let third = group.ticket();
        let mut waiting = Box::pin(group.wait_or_lead(second));
        assert!(
            (&mut waiting).now_or_never().is_none(),
            "waits for the running flush"
        );
        Lead::new(group.clone(), covers).succeeded();
        let Some(Turn::Lead(next)) = waiting.now_or_never() else {
            panic!("the next flush is led by a waiter");
        };
        assert_eq!(next, third, "and covers every ticket handed out so far");
        Lead::new(group.clone(), next).succeeded();
        assert!(matches!(
            group.wait_or_lead(third).now_or_never(),
            Some(Turn::Covered)
        ));
    }

    /// Requests that are ready together on one worker share one flush: the first to
    /// reach it leads, but lets the others write and join before it starts.
    #[test]
    fn requests_ready_together_on_a_worker_share_one_flush() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = Store::temporary().unwrap();
        let table: crate::store::Table<u64> = store.table("group-test").unwrap();
        let tasks = tokio::task::LocalSet::new();
        for n in 0..8u64 {
            let (store, table) = (store.clone(), table.clone());
            tasks.spawn_local(async move {
                table.put(n.to_string(), &n).unwrap();
                store.flush().await.unwrap();
            });
        }
        runtime.block_on(tasks);
        assert_eq!(table.len(), 8);
        assert_eq!(store.inner.flushes.led(), 1, "one flush covered all eight");
    }

    #[test]
    fn a_failed_or_abandoned_flush_covers_nobody_and_lets_the_next_lead() {
        let (group, covers) = leading();
        let mut waiting = Box::pin(group.wait_or_lead(covers));
        assert!((&mut waiting).now_or_never().is_none());
        drop(Lead::new(group.clone(), covers)); // failed: not reported as a success
        assert!(matches!(waiting.now_or_never(), Some(Turn::Lead(_))));
    }
}
