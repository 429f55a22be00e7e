//! Persistence: sled behind a small typed repository API. One tree per relation (named in
//! [`trees`]), values as JSON, keys as bytes (big-endian numbers so ranges scan in order).
//! Adapters never touch this module; the core does.
//!
//! sled cannot recover in place from a failed write (a full disk sets its "global error":
//! from then on every write, and some reads, fail until the database is opened again), so
//! every relation reaches its sled tree through a [`Slot`] that [`Store::reopen`] can
//! refill from a freshly opened database, and the store remembers that it is degraded
//! (and why) until then. `health.rs` holds that state; `manifest.rs` the record of what a
//! data dir held, to notice lost data at the next start.

//! Every relation has two sled trees, one per side: see `sides.rs`.

mod group;
mod health;
mod log;
mod manifest;
mod segments;
mod sides;
mod slot;
mod table;

pub use health::quietly;
pub use log::{Log, Logged, RevIter};
pub use manifest::{Manifest, MANIFEST_FILE};
pub use table::{Op, Page, RecentDecodes, Stored, Table};

use health::Health;
use segments::LogTail;
use sides::{relation_on_side, tree_on_side, SIDE_KEY};
use slot::Slot;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// The relations vlsim keeps. Adding one is a constant here and a `Table` where it is used.
pub mod trees {
    pub const META: &str = "meta";
    pub const KEYS: &str = "keys";
    pub const HORIZON_USERS: &str = "horizon_users";
    pub const SESSIONS: &str = "sessions";
    /// The event log as written before it was kept per surface (migrated at open).
    pub const EVENTS: &str = "events";
    // Horizon REST logins, by login id, and their expiry index (expiry ms, login id)
    pub const HORIZON_REST_LOGINS: &str = "horizon_rest_logins";
    pub const HORIZON_REST_EXPIRY: &str = "horizon_rest_expiry";
    /// Event logs per surface (`events.vlsi`) and their failures (`events.vlsi.failures`).
    pub const EVENTS_PREFIX: &str = "events.";
    // FusionAuth surface
    pub const FA_USERS: &str = "fa_users";
    pub const FA_USER_LOGINS: &str = "fa_user_logins";
    pub const FA_REFRESH_TOKENS: &str = "fa_refresh_tokens";
    pub const FA_REFRESH_IDS: &str = "fa_refresh_ids";
    pub const FA_REFRESH_BY_USER: &str = "fa_refresh_by_user";
    pub const FA_OAUTH_CODES: &str = "fa_oauth_codes";
    pub const FA_OAUTH_SSO: &str = "fa_oauth_sso";
    pub const FA_OAUTH_LOGINS: &str = "fa_oauth_logins";
    pub const VCENTER_USERS: &str = "vcenter_users";
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the data directory {path} is in use by another vlsim process (sled holds a lock on it)"
    )]
    Locked { path: PathBuf },
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    #[error("a stored {relation} record could not be decoded: {message}")]
    Decode { relation: String, message: String },
    #[error("a {relation} record could not be encoded: {message}")]
    Encode { relation: String, message: String },
    /// The data dir cannot be written (or is being reopened after it could not be).
    #[error("the data dir cannot be written at the moment ({reason}); vlsim recovers by itself once it can")]
    Unavailable { reason: String },
    /// sled gave up reading the files (it panicked).
    #[error("the store in {path} is damaged: sled could not read it ({message})")]
    Damaged { path: PathBuf, message: String },
    /// The store holds less than its manifest says it held (see `manifest.rs`).
    #[error("the data dir {path} lost data: {message}")]
    LostData { path: PathBuf, message: String },
    #[error("the manifest {path}: {message}")]
    Manifest { path: PathBuf, message: String },
}

impl StoreError {
    /// Whether this is the disk refusing writes (or the store recovering from that), as
    /// opposed to a record that cannot be decoded.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Unavailable { .. } | Self::Sled(sled::Error::Io(_))
        )
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Every relation's raw records: (tree name, [(key, value)]).
pub type Dump = Vec<(String, Vec<(Vec<u8>, Vec<u8>)>)>;

/// sled page-cache budget.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

struct Inner {
    /// The data dir (empty for a temporary store).
    dir: PathBuf,
    /// Where the sled files live (`dir/v1`).
    path: PathBuf,
    db: RwLock<Option<sled::Db>>,
    slots: Mutex<Vec<Arc<Slot>>>,
    /// The buffered tails of every [`Log`], which flushes, snapshots and resets must see.
    logs: Mutex<Vec<Arc<LogTail>>>,
    health: Arc<Health>,
    /// The next id a [`Log`] record gets (above every stored one).
    log_seq: Arc<AtomicU64>,
    /// The side whose trees the slots hold (see the module's comment).
    side: AtomicU8,
    /// The side recorded in sled's default tree (written at the next flush if it differs).
    recorded_side: AtomicU8,
    /// Held while the sides are switched or the idle side is emptied.
    switching: Mutex<()>,
    /// Set by [`Store::close`]: background work stops.
    closed: std::sync::atomic::AtomicBool,
    /// The threads emptying an idle side, which [`Store::close`] waits for: each holds the
    /// store (and so sled's lock on the data dir) while it works.
    background: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// Concurrent [`Store::flush`] calls share sled flushes.
    flushes: Arc<group::FlushGroup>,
}

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

fn open_sled(path: &Path, dir: &Path) -> StoreResult<sled::Db> {
    let opened = quietly(|| {
        sled::Config::new()
            .path(path)
            .mode(sled::Mode::HighThroughput)
            // sled's default page cache is 1 GiB; a test double should stay small. Lookups
            // stay fast well past a million refresh tokens with this (benches/refresh_scale).
            .cache_capacity(CACHE_BYTES)
            .open()
    })
    .map_err(|message| StoreError::Damaged {
        path: dir.to_path_buf(),
        message,
    })?;
    opened.map_err(|e| match &e {
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock => StoreError::Locked {
            path: dir.to_path_buf(),
        },
        sled::Error::Io(io) if io.to_string().contains("lock") => StoreError::Locked {
            path: dir.to_path_buf(),
        },
        _ => StoreError::Sled(e),
    })
}

/// How long [`Store::open`] waits for sled's lock on a data dir before it reports
/// [`StoreError::Locked`].
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Opens sled, waiting up to [`LOCK_WAIT`] for its lock: a store closed in this process
/// lets go of the lock only once sled's own IO threads have finished the writes they hold
/// (sled blocks on the lock in its own tests for this reason), so reopening a data dir
/// right after closing it (a restart in-process) can find it held for a moment.
#[allow(clippy::disallowed_methods)] // waits for sled's threads, not for the clock
fn open_waiting_for_lock(path: &Path, dir: &Path) -> StoreResult<sled::Db> {
    let started = std::time::Instant::now();
    loop {
        match open_sled(path, dir) {
            Err(StoreError::Locked { .. }) if started.elapsed() < LOCK_WAIT => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            opened => return opened,
        }
    }
}

impl Store {
    /// Where the sled files live under a data dir. The on-disk layout is versioned so a
    /// future format can live beside this one.
    pub fn data_path(dir: &Path) -> PathBuf {
        dir.join("v1")
    }

    /// Opens (or creates) the store under `dir`. A store sled cannot read (it panics on
    /// damaged files) is [`StoreError::Damaged`], without a backtrace.
    pub fn open(dir: &Path) -> StoreResult<Self> {
        let path = Self::data_path(dir);
        let db = open_waiting_for_lock(&path, dir)?;
        Ok(Self::with_db(db, dir.to_path_buf(), path))
    }

    /// A throw-away in-memory store, for unit tests.
    pub fn temporary() -> StoreResult<Self> {
        let db = sled::Config::new().temporary(true).open()?;
        Ok(Self::with_db(db, PathBuf::new(), PathBuf::new()))
    }

    fn with_db(db: sled::Db, dir: PathBuf, path: PathBuf) -> Self {
        let side = match db.get(SIDE_KEY) {
            Ok(Some(v)) if v.as_ref() == [1] => 1,
            _ => 0,
        };
        Self {
            inner: Arc::new(Inner {
                dir,
                path,
                db: RwLock::new(Some(db)),
                slots: Mutex::default(),
                logs: Mutex::default(),
                health: Arc::default(),
                log_seq: Arc::default(),
                side: AtomicU8::new(side),
                recorded_side: AtomicU8::new(side),
                switching: Mutex::default(),
                closed: Default::default(),
                background: Mutex::default(),
                flushes: Arc::default(),
            }),
        }
    }

    /// Stops background work (waiting for what is under way), before the process exits or
    /// the data dir is opened again. The store still answers.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        drop(lock(&self.inner.switching));
        // Joined, not only waited for under the lock: a thread lets go of the store only as
        // it ends, and a data dir reopened before that finds sled's lock still held.
        let threads = std::mem::take(&mut *lock(&self.inner.background));
        for thread in threads {
            if thread.join().is_err() {
                tracing::warn!("a store background thread panicked");
            }
        }
    }

    fn side(&self) -> u8 {
        self.inner.side.load(Ordering::Acquire)
    }

    /// The sled directory.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The data dir (empty for a temporary store).
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    fn db(&self) -> StoreResult<sled::Db> {
        self.inner
            .db
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .ok_or_else(|| self.inner.health.unavailable())
    }

    /// The slot of tree `name`, opened on first use.
    fn slot(&self, name: &str) -> StoreResult<Arc<Slot>> {
        let mut slots = lock(&self.inner.slots);
        if let Some(slot) = slots.iter().find(|s| s.name == name) {
            return Ok(slot.clone());
        }
        let tree = self
            .db()?
            .open_tree(tree_on_side(name, self.side()))
            .map_err(|e| self.noted(e))?;
        let slot = Arc::new(Slot::new(name.to_string(), tree, self.inner.health.clone()));
        slots.push(slot.clone());
        Ok(slot)
    }

    fn noted(&self, e: sled::Error) -> StoreError {
        let e = StoreError::Sled(e);
        self.inner.health.note(&e);
        e
    }

    pub fn table<T>(&self, name: &'static str) -> StoreResult<Table<T>> {
        Ok(Table {
            slot: self.slot(name)?,
            name,
            _marker: PhantomData,
        })
    }

    /// The append-only relation `name` (see [`Log`]); one buffer per name per store.
    pub fn log<T>(&self, name: &str) -> StoreResult<Log<T>> {
        let mut logs = lock(&self.inner.logs);
        let tail = match logs.iter().find(|t| t.name == name) {
            Some(tail) => tail.clone(),
            None => {
                let tail = Arc::new(LogTail::open(self.slot(name)?)?);
                self.inner
                    .log_seq
                    .fetch_max(tail.max_id()? + 1, Ordering::AcqRel);
                logs.push(tail.clone());
                tail
            }
        };
        Ok(Log {
            tail,
            seq: self.inner.log_seq.clone(),
            _marker: PhantomData,
        })
    }

    /// Makes the next [`Log`] id greater than `id` (for records carried over with theirs).
    pub fn log_ids_above(&self, id: u64) {
        self.inner
            .log_seq
            .fetch_max(id.saturating_add(1), Ordering::AcqRel);
    }

    /// Names of the stored relations that start with `prefix`.
    pub fn tree_names(&self, prefix: &str) -> StoreResult<Vec<String>> {
        let side = self.side();
        Ok(self
            .db()?
            .tree_names()
            .iter()
            .filter_map(|n| relation_on_side(n, side))
            .filter(|n| n.starts_with(prefix))
            .collect())
    }

    /// Writes the buffered records of every [`Log`] to sled (not yet durably). Records
    /// that cannot be written stay buffered for the next attempt.
    pub fn drain_logs(&self) -> StoreResult<()> {
        let tails: Vec<Arc<LogTail>> = lock(&self.inner.logs).clone();
        let mut first_error = None;
        for tail in tails {
            if let Err(e) = tail.write_out(&mut lock(&tail.records)) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Durably writes everything written so far, buffered log records too, blocking this
    /// thread. Request paths call [`Store::flush`] instead (`group.rs`).
    pub fn flush_blocking(&self) -> StoreResult<()> {
        let drained = self.drain_logs();
        self.flush_written()?;
        drained
    }

    /// Durably writes what the relations and logs were given so far, leaving records still
    /// buffered in a log where they are (the timer writes them out within a quarter second).
    fn flush_written(&self) -> StoreResult<()> {
        // Log segments written before this flush are durable once it succeeds; until then
        // their tails keep a copy (a failed flush can lose what sled had accepted).
        let tails: Vec<Arc<LogTail>> = lock(&self.inner.logs).clone();
        let marks: Vec<usize> = tails.iter().map(|t| t.unflushed_len()).collect();
        let db = self.db()?;
        // After everything the side was given, so a crash before this flush returns to the
        // side recorded before.
        let side = self.side();
        if self.inner.recorded_side.load(Ordering::Acquire) != side {
            db.insert(SIDE_KEY, &[side]).map_err(|e| self.noted(e))?;
        }
        db.flush().map_err(|e| self.noted(e))?;
        self.inner.recorded_side.store(side, Ordering::Release);
        for (tail, mark) in tails.iter().zip(marks) {
            tail.made_durable(mark);
        }
        Ok(())
    }

    /// Empties every relation (used when re-loading fixtures).
    pub fn clear_all(&self) -> StoreResult<()> {
        self.keeping_checkpoint(|| self.clear_trees())
    }

    /// Every relation's raw records, for snapshots.
    pub fn export_all(&self) -> StoreResult<Dump> {
        self.drain_logs()?;
        let db = self.db()?;
        let side = self.side();
        let mut out = Vec::new();
        for name in db.tree_names() {
            let Some(relation) = relation_on_side(&name, side) else {
                continue;
            };
            let tree = db.open_tree(&name).map_err(|e| self.noted(e))?;
            let records = tree
                .iter()
                .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| self.noted(e))?;
            out.push((relation, records));
        }
        Ok(out)
    }

    /// Replaces every relation with `data` (a snapshot from [`Store::export_all`]).
    pub fn import_all(&self, data: &Dump) -> StoreResult<()> {
        self.keeping_checkpoint(|| self.import_trees(data))?;
        self.flush_blocking()
    }

    fn import_trees(&self, data: &Dump) -> StoreResult<()> {
        // The records land through the database's own handles on the slots' trees.
        let slots: Vec<Arc<Slot>> = lock(&self.inner.slots).clone();
        let _writing: Vec<_> = slots.iter().map(|slot| slot.writing()).collect();
        self.clear_trees()?;
        let db = self.db()?;
        let side = self.side();
        for (name, records) in data {
            let tree = db
                .open_tree(tree_on_side(name, side))
                .map_err(|e| self.noted(e))?;
            let mut batch = sled::Batch::default();
            for (k, v) in records {
                batch.insert(k.as_slice(), v.as_slice());
            }
            tree.apply_batch(batch).map_err(|e| self.noted(e))?;
        }
        let tails: Vec<Arc<LogTail>> = lock(&self.inner.logs).clone();
        for tail in tails {
            tail.recount()?;
            self.inner
                .log_seq
                .fetch_max(tail.max_id()? + 1, Ordering::AcqRel);
        }
        Ok(())
    }

    pub fn meta_get(&self, key: &str) -> StoreResult<Option<String>> {
        self.slot(trees::META)?.with(|t| {
            Ok(t.get(key.as_bytes())?
                .map(|v| String::from_utf8_lossy(&v).into_owned()))
        })
    }

    pub fn meta_put(&self, key: &str, value: &str) -> StoreResult<()> {
        self.slot(trees::META)?.with(|t| {
            t.insert(key.as_bytes(), value.as_bytes())?;
            Ok(())
        })
    }

    pub fn meta_remove(&self, key: &str) -> StoreResult<()> {
        self.slot(trees::META)?.with(|t| {
            t.remove(key.as_bytes())?;
            Ok(())
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind; keep serving.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
