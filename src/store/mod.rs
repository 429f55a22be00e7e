//! Persistence: sled behind a small typed repository API. One tree per relation (named in
//! [`trees`]), values as JSON, keys as bytes (big-endian numbers so ranges scan in order).
//! Adapters never touch this module; the core does.

mod log;
mod table;

pub use log::Log;
pub use table::{Op, Table};

use log::{Buffered, LogTail};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// The relations vlsim keeps. Adding one is a constant here and a `Table` where it is used.
pub mod trees {
    pub const META: &str = "meta";
    pub const KEYS: &str = "keys";
    pub const HORIZON_USERS: &str = "horizon_users";
    pub const SESSIONS: &str = "sessions";
    pub const EVENTS: &str = "events";
    // Horizon REST logins, by login id, and their expiry index (expiry ms, login id)
    pub const HORIZON_REST_LOGINS: &str = "horizon_rest_logins";
    pub const HORIZON_REST_EXPIRY: &str = "horizon_rest_expiry";
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
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Every relation's raw records: (tree name, [(key, value)]).
pub type Dump = Vec<(String, Vec<(Vec<u8>, Vec<u8>)>)>;

/// sled page-cache budget.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    path: PathBuf,
    /// The buffered tails of every [`Log`], which flushes, snapshots and resets must see.
    logs: Arc<Mutex<Vec<Arc<LogTail>>>>,
}

impl Store {
    /// Opens (or creates) the store under `dir`. The on-disk layout is versioned so a future
    /// format can live beside this one.
    /// Where the sled files live under a data dir.
    pub fn data_path(dir: &Path) -> PathBuf {
        dir.join("v1")
    }

    pub fn open(dir: &Path) -> StoreResult<Self> {
        let path = Self::data_path(dir);
        let db = sled::Config::new()
            .path(&path)
            .mode(sled::Mode::HighThroughput)
            // sled's default page cache is 1 GiB; a test double should stay small. Lookups
            // stay fast well past a million refresh tokens with this (benches/refresh_scale).
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| match &e {
                sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock => {
                    StoreError::Locked {
                        path: dir.to_path_buf(),
                    }
                }
                sled::Error::Io(io) if io.to_string().contains("lock") => StoreError::Locked {
                    path: dir.to_path_buf(),
                },
                _ => StoreError::Sled(e),
            })?;
        Ok(Self {
            db,
            path,
            logs: Arc::default(),
        })
    }

    /// A throw-away in-memory store, for unit tests.
    pub fn temporary() -> StoreResult<Self> {
        let db = sled::Config::new().temporary(true).open()?;
        Ok(Self {
            db,
            path: PathBuf::new(),
            logs: Arc::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn table<T>(&self, name: &'static str) -> StoreResult<Table<T>> {
        Ok(Table {
            tree: self.db.open_tree(name)?,
            name,
            _marker: PhantomData,
        })
    }

    /// The append-only relation `name` (see [`Log`]); one buffer per name per store.
    pub fn log<T>(&self, name: &'static str) -> StoreResult<Log<T>> {
        let mut logs = lock(&self.logs);
        let tail = match logs.iter().find(|t| t.name == name) {
            Some(tail) => tail.clone(),
            None => {
                let tail = Arc::new(LogTail {
                    name,
                    tree: self.db.open_tree(name)?,
                    records: Mutex::default(),
                });
                logs.push(tail.clone());
                tail
            }
        };
        Ok(Log {
            tail,
            db: self.db.clone(),
            _marker: PhantomData,
        })
    }

    /// Writes the buffered records of every [`Log`] to sled (not yet durably).
    pub fn drain_logs(&self) -> StoreResult<()> {
        let tails: Vec<Arc<LogTail>> = lock(&self.logs).clone();
        for tail in tails {
            tail.write_out(&mut lock(&tail.records))?;
        }
        Ok(())
    }

    /// Durably writes everything written so far. Called before acknowledging writes a
    /// client may rely on after a crash.
    ///
    /// sled's own `flush_async` can leave concurrent callers waiting forever (sled issues
    /// #1241 and #1308: seen here under a login storm), so the blocking flush runs on the
    /// blocking pool instead. Concurrent flushes group naturally: each makes everything
    /// written so far stable, and a flush that finds it already stable returns at once.
    pub async fn flush(&self) -> StoreResult<()> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.flush_blocking())
            .await
            .map_err(|e| StoreError::Sled(sled::Error::ReportableBug(format!("flush task: {e}"))))?
    }

    pub fn flush_blocking(&self) -> StoreResult<()> {
        self.drain_logs()?;
        self.db.flush()?;
        Ok(())
    }

    /// A monotonic id that survives restarts (sled persists the counter).
    pub fn next_id(&self) -> StoreResult<u64> {
        Ok(self.db.generate_id()?)
    }

    /// Empties every relation (used when re-loading fixtures).
    pub fn clear_all(&self) -> StoreResult<()> {
        // Buffered log records are dropped with their trees, under their locks, so none is
        // written after the clear.
        let tails: Vec<Arc<LogTail>> = lock(&self.logs).clone();
        let mut buffers: Vec<MutexGuard<'_, Buffered>> =
            tails.iter().map(|t| lock(&t.records)).collect();
        for buffer in &mut buffers {
            buffer.clear();
        }
        for name in self.db.tree_names() {
            if name.as_ref() == b"__sled__default" {
                continue;
            }
            self.db.open_tree(&name)?.clear()?;
        }
        Ok(())
    }

    /// Every relation's raw records, for snapshots.
    pub fn export_all(&self) -> StoreResult<Dump> {
        self.drain_logs()?;
        let mut out = Vec::new();
        for name in self.db.tree_names() {
            if name.as_ref() == b"__sled__default" {
                continue;
            }
            let tree = self.db.open_tree(&name)?;
            let records = tree
                .iter()
                .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())))
                .collect::<Result<Vec<_>, _>>()?;
            out.push((String::from_utf8_lossy(&name).into_owned(), records));
        }
        Ok(out)
    }

    /// Replaces every relation with `data` (a snapshot from [`Store::export_all`]).
    pub fn import_all(&self, data: &Dump) -> StoreResult<()> {
        self.clear_all()?;
        for (name, records) in data {
            let tree = self.db.open_tree(name.as_bytes())?;
            let mut batch = sled::Batch::default();
            for (k, v) in records {
                batch.insert(k.as_slice(), v.as_slice());
            }
            tree.apply_batch(batch)?;
        }
        self.flush_blocking()
    }

    pub fn meta_get(&self, key: &str) -> StoreResult<Option<String>> {
        let tree = self.db.open_tree(trees::META)?;
        Ok(tree
            .get(key.as_bytes())?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    pub fn meta_put(&self, key: &str, value: &str) -> StoreResult<()> {
        self.db
            .open_tree(trees::META)?
            .insert(key.as_bytes(), value.as_bytes())?;
        Ok(())
    }
}

impl Store {
    /// Applies `ops` all-or-nothing, across relations and across a crash: preconditions
    /// (`Table::expect`) are checked first, and if one fails nothing is written and the
    /// result is `false`. Concurrent transactions are serialised by sled, so of two that
    /// expect the same value only one succeeds.
    pub fn transact(&self, ops: &[Op]) -> StoreResult<bool> {
        use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
        let mut trees: Vec<sled::Tree> = Vec::new();
        let mut slots = Vec::with_capacity(ops.len());
        for op in ops {
            let slot = match trees.iter().position(|t| t.name() == op.tree.name()) {
                Some(i) => i,
                None => {
                    trees.push(op.tree.clone());
                    trees.len() - 1
                }
            };
            slots.push(slot);
        }
        let outcome = trees.as_slice().transaction(|txs| {
            for (op, slot) in ops.iter().zip(&slots) {
                if let (table::OpKind::Expect(want), Some(tx)) = (&op.kind, txs.get(*slot)) {
                    if tx.get(op.key.as_slice())?.as_deref() != Some(want.as_slice()) {
                        return Err(ConflictableTransactionError::Abort(()));
                    }
                }
            }
            for (op, slot) in ops.iter().zip(&slots) {
                let Some(tx) = txs.get(*slot) else { continue };
                match &op.kind {
                    table::OpKind::Put(v) => {
                        tx.insert(op.key.as_slice(), v.as_slice())?;
                    }
                    table::OpKind::Remove => {
                        tx.remove(op.key.as_slice())?;
                    }
                    table::OpKind::Expect(_) => {}
                }
            }
            Ok(())
        });
        match outcome {
            Ok(()) => Ok(true),
            Err(TransactionError::Abort(())) => Ok(false),
            Err(TransactionError::Storage(e)) => Err(StoreError::Sled(e)),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind; keep serving.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
