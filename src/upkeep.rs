//! What runs beside the server while it serves: buffered events reach the disk and the
//! event logs are trimmed to their budgets (every quarter second), the sweeper removes what
//! expired (on a timer, and at once when the clock moves), a checkpoint records what the
//! store holds (every minute), and a store whose disk refused writes is reopened once the
//! disk takes them again (probed every second). Everything that touches sled runs on the
//! blocking pool, in short operations, so requests never wait behind upkeep.

use crate::core::sweep::SweepRun;
use crate::core::SWEEPS;
use crate::state::AppState;
use actix_web::rt::task::JoinHandle;
use actix_web::web;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const DRAIN_EVERY: Duration = Duration::from_millis(250);
const RECOVER_EVERY: Duration = Duration::from_secs(1);
const CHECKPOINT_EVERY: Duration = Duration::from_secs(60);
/// Records a sweep batch looks at.
const SWEEP_BATCH: usize = 256;

/// The running upkeep tasks; stopped with the server.
pub struct Upkeep {
    tasks: Vec<JoinHandle<()>>,
}

impl Upkeep {
    pub fn start(state: web::Data<AppState>) -> Self {
        let interval = Duration::from_secs(state.config.sweep_interval.max(1));
        Self {
            tasks: vec![
                actix_web::rt::spawn(drain(state.clone())),
                actix_web::rt::spawn(sweep(state.clone(), interval)),
                actix_web::rt::spawn(recover_and_checkpoint(state)),
            ],
        }
    }

    pub fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Runs `f` on the blocking pool; `None` if it panicked.
async fn blocking<T: Send + 'static>(
    state: &web::Data<AppState>,
    f: impl FnOnce(&AppState) -> T + Send + 'static,
) -> Option<T> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || f(&state)).await.ok()
}

async fn drain(state: web::Data<AppState>) {
    let mut every = actix_web::rt::time::interval(DRAIN_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if state.core.store().degraded().is_some() {
            continue; // records wait in memory; `recover_and_checkpoint` reopens the store
        }
        blocking(&state, |s| {
            if let Err(e) = s.core.store().flush_blocking() {
                tracing::warn!(error = %e, "writing buffered events failed; will retry");
            }
            if let Err(e) = s.core.events().enforce_retention() {
                tracing::warn!(error = %e, "trimming the event logs failed; will retry");
            }
        })
        .await;
    }
}

async fn sweep(state: web::Data<AppState>, interval: Duration) {
    let mut trigger = "start";
    loop {
        run_sweep(&state, trigger).await;
        tokio::select! {
            () = actix_web::rt::time::sleep(interval) => trigger = "timer",
            () = state.core.sweeper().woken() => trigger = "clock",
        }
    }
}

/// One pass over every relation of [`SWEEPS`], batch by batch.
pub async fn run_sweep(state: &web::Data<AppState>, trigger: &'static str) -> SweepRun {
    let started = Instant::now();
    let now = state.core.clock().now_ms();
    let mut removed = BTreeMap::new();
    let mut error = None;
    if let Some((reason, _)) = state.core.store().degraded() {
        error = Some(format!("skipped: {reason}"));
    } else {
        for sweep in SWEEPS {
            let run = sweep.run;
            let mut after: Option<Vec<u8>> = None;
            let mut total = 0;
            loop {
                let from = after.take();
                let batch = blocking(state, move |s| {
                    run(&s.core, now, from.as_deref(), SWEEP_BATCH)
                })
                .await;
                match batch {
                    Some(Ok(batch)) => {
                        total += batch.removed;
                        match batch.resume {
                            Some(key) => after = Some(key),
                            None => break,
                        }
                    }
                    Some(Err(e)) => {
                        error.get_or_insert_with(|| format!("{}: {e}", sweep.relation));
                        break;
                    }
                    None => break,
                }
            }
            removed.insert(sweep.relation, total);
        }
    }
    let run = SweepRun {
        at: crate::clock::rfc3339_ms(now),
        trigger,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        removed,
        error,
    };
    if run.removed.values().any(|n| *n > 0) {
        tracing::info!(trigger, removed = ?run.removed, "swept expired state");
    }
    state.core.sweeper().finished(run.clone());
    run
}

async fn recover_and_checkpoint(state: web::Data<AppState>) {
    let mut every = actix_web::rt::time::interval(RECOVER_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_checkpoint = Instant::now();
    loop {
        every.tick().await;
        if state.core.store().degraded().is_some() {
            blocking(&state, |s| s.core.store().try_recover()).await;
            continue;
        }
        if last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
            last_checkpoint = Instant::now();
            blocking(&state, |s| {
                if let Err(e) = s.core.checkpoint(false) {
                    tracing::warn!(error = %e, "the checkpoint failed; will retry");
                }
            })
            .await;
        }
    }
}
