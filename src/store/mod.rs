//! Persistence: sled behind a small typed repository API. One tree per relation (named in
//! [`trees`]), values as JSON, keys as bytes (big-endian numbers so ranges scan in order).
//! Adapters never touch this module; the core does.

use serde::de::DeserializeOwned;
use serde::Serialize;
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
    // FusionAuth surface
    pub const FA_USERS: &str = "fa_users";
    pub const FA_USER_LOGINS: &str = "fa_user_logins";
    pub const FA_REFRESH_TOKENS: &str = "fa_refresh_tokens";
    pub const FA_REFRESH_IDS: &str = "fa_refresh_ids";
    pub const FA_REFRESH_BY_USER: &str = "fa_refresh_by_user";
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

/// One step of an atomic change across relations (see [`Store::transact`]).
pub struct Op {
    tree: sled::Tree,
    key: Vec<u8>,
    kind: OpKind,
}

enum OpKind {
    Put(Vec<u8>),
    Remove,
    /// Precondition: the key holds exactly these bytes, or the whole change is refused.
    Expect(Vec<u8>),
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
                if let (OpKind::Expect(want), Some(tx)) = (&op.kind, txs.get(*slot)) {
                    if tx.get(op.key.as_slice())?.as_deref() != Some(want.as_slice()) {
                        return Err(ConflictableTransactionError::Abort(()));
                    }
                }
            }
            for (op, slot) in ops.iter().zip(&slots) {
                let Some(tx) = txs.get(*slot) else { continue };
                match &op.kind {
                    OpKind::Put(v) => {
                        tx.insert(op.key.as_slice(), v.as_slice())?;
                    }
                    OpKind::Remove => {
                        tx.remove(op.key.as_slice())?;
                    }
                    OpKind::Expect(_) => {}
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

/// One relation: a sled tree whose values are JSON-encoded `T`.
pub struct Table<T> {
    tree: sled::Tree,
    name: &'static str,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for Table<T> {
    fn clone(&self) -> Self {
        Self {
            tree: self.tree.clone(),
            name: self.name,
            _marker: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned> Table<T> {
    fn decode(&self, bytes: &[u8]) -> StoreResult<T> {
        serde_json::from_slice(bytes).map_err(|e| StoreError::Decode {
            relation: self.name.to_string(),
            message: e.to_string(),
        })
    }

    fn encode(&self, value: &T) -> StoreResult<Vec<u8>> {
        serde_json::to_vec(value).map_err(|e| StoreError::Encode {
            relation: self.name.to_string(),
            message: e.to_string(),
        })
    }

    /// A put, for [`Store::transact`].
    pub fn put_op(&self, key: impl AsRef<[u8]>, value: &T) -> StoreResult<Op> {
        Ok(Op {
            tree: self.tree.clone(),
            key: key.as_ref().to_vec(),
            kind: OpKind::Put(self.encode(value)?),
        })
    }

    /// A removal, for [`Store::transact`].
    pub fn remove_op(&self, key: impl AsRef<[u8]>) -> Op {
        Op {
            tree: self.tree.clone(),
            key: key.as_ref().to_vec(),
            kind: OpKind::Remove,
        }
    }

    /// A precondition (the record is still exactly `value`), for [`Store::transact`].
    pub fn expect_op(&self, key: impl AsRef<[u8]>, value: &T) -> StoreResult<Op> {
        Ok(Op {
            tree: self.tree.clone(),
            key: key.as_ref().to_vec(),
            kind: OpKind::Expect(self.encode(value)?),
        })
    }

    pub fn get(&self, key: impl AsRef<[u8]>) -> StoreResult<Option<T>> {
        self.tree
            .get(key.as_ref())?
            .map(|v| self.decode(&v))
            .transpose()
    }

    pub fn put(&self, key: impl AsRef<[u8]>, value: &T) -> StoreResult<()> {
        let bytes = self.encode(value)?;
        self.tree.insert(key.as_ref(), bytes)?;
        Ok(())
    }

    /// Inserts only if the key is absent; returns false when it already existed.
    pub fn insert_new(&self, key: impl AsRef<[u8]>, value: &T) -> StoreResult<bool> {
        let bytes = self.encode(value)?;
        Ok(self
            .tree
            .compare_and_swap(key.as_ref(), None as Option<&[u8]>, Some(bytes))?
            .is_ok())
    }

    pub fn remove(&self, key: impl AsRef<[u8]>) -> StoreResult<Option<T>> {
        self.tree
            .remove(key.as_ref())?
            .map(|v| self.decode(&v))
            .transpose()
    }

    /// Removes the record only if it still holds exactly `expected` (an atomic take: of
    /// several concurrent callers, exactly one gets `true`).
    pub fn remove_if_unchanged(&self, key: impl AsRef<[u8]>, expected: &T) -> StoreResult<bool> {
        let bytes = self.encode(expected)?;
        Ok(self
            .tree
            .compare_and_swap(key.as_ref(), Some(bytes), None as Option<&[u8]>)?
            .is_ok())
    }

    /// Replaces the record only if it still holds exactly `expected`.
    pub fn replace_if_unchanged(
        &self,
        key: impl AsRef<[u8]>,
        expected: &T,
        new: &T,
    ) -> StoreResult<bool> {
        let old = self.encode(expected)?;
        let new = self.encode(new)?;
        Ok(self
            .tree
            .compare_and_swap(key.as_ref(), Some(old), Some(new))?
            .is_ok())
    }

    /// All records in key order.
    pub fn all(&self) -> StoreResult<Vec<(Vec<u8>, T)>> {
        self.tree
            .iter()
            .map(|r| {
                let (k, v) = r?;
                Ok((k.to_vec(), self.decode(&v)?))
            })
            .collect()
    }

    /// Records whose key starts with `prefix`, in key order (index scans).
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> StoreResult<Vec<(Vec<u8>, T)>> {
        self.tree
            .scan_prefix(prefix.as_ref())
            .map(|r| {
                let (k, v) = r?;
                Ok((k.to_vec(), self.decode(&v)?))
            })
            .collect()
    }

    /// Records newest-first (descending key order), keeping those `keep` accepts, at most `limit`.
    pub fn scan_rev(&self, limit: usize, mut keep: impl FnMut(&T) -> bool) -> StoreResult<Vec<T>> {
        let mut out = Vec::new();
        for r in self.tree.iter().rev() {
            if out.len() >= limit {
                break;
            }
            let (_, v) = r?;
            let value = self.decode(&v)?;
            if keep(&value) {
                out.push(value);
            }
        }
        Ok(out)
    }

    pub fn len(&self) -> usize {
        self.tree.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    pub fn clear(&self) -> StoreResult<()> {
        self.tree.clear()?;
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind; keep serving.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Records per stored segment of a [`Log`].
const LOG_SEGMENT: usize = 32;

/// Segment keys: the first record's id, then the record count (both big-endian). A key of
/// 8 bytes is a single record, as written before logs were segmented.
const SEGMENT_KEY_LEN: usize = 12;

/// Records not yet written: (id, JSON), in id order.
type Buffered = Vec<(u64, Vec<u8>)>;

/// The buffered tail of a [`Log`].
struct LogTail {
    name: &'static str,
    tree: sled::Tree,
    records: Mutex<Buffered>,
}

impl LogTail {
    /// Writes `records` as one segment and empties the buffer (kept on error, for the
    /// next attempt).
    fn write_out(&self, records: &mut Buffered) -> StoreResult<()> {
        let Some(&(first_id, _)) = records.first() else {
            return Ok(());
        };
        let count = u32::try_from(records.len()).unwrap_or(u32::MAX);
        let mut key = [0u8; SEGMENT_KEY_LEN];
        key[..8].copy_from_slice(&first_id.to_be_bytes());
        key[8..].copy_from_slice(&count.to_be_bytes());
        let size = records.iter().map(|(_, r)| r.len() + 1).sum::<usize>() + 1;
        let mut value = Vec::with_capacity(size);
        value.push(b'[');
        for (i, (_, record)) in records.iter().enumerate() {
            if i > 0 {
                value.push(b',');
            }
            value.extend_from_slice(record);
        }
        value.push(b']');
        self.tree.insert(key, value)?;
        records.clear();
        Ok(())
    }
}

/// An append-only relation (the event log). A record costs a sled insert of its own
/// (about 5 µs for a 350-byte event, more than the rest of a SOAP call), so records are
/// buffered and written as segments of [`LOG_SEGMENT`], about five times cheaper per
/// record. Readers see the buffer too; [`Store::flush`], snapshots and shutdown write it
/// out, and so does a timer (see `Application::run_until_stopped`), so a record reaches
/// sled within a quarter second and a crash loses at most that much, like sled's own
/// write-back.
pub struct Log<T> {
    tail: Arc<LogTail>,
    db: sled::Db,
    _marker: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Log<T> {
    /// A record, or a whole segment (`U = Vec<T>`).
    fn decode<U: DeserializeOwned>(&self, bytes: &[u8]) -> StoreResult<U> {
        serde_json::from_slice(bytes).map_err(|e| StoreError::Decode {
            relation: self.tail.name.to_string(),
            message: e.to_string(),
        })
    }

    /// Appends the record `make(id)`, with `id` fresh and monotonic (taken under the
    /// buffer's lock, so the log's order is id order).
    pub fn append(&self, make: impl FnOnce(u64) -> T) -> StoreResult<T> {
        let mut records = lock(&self.tail.records);
        let id = self.db.generate_id()?;
        let record = make(id);
        let bytes = serde_json::to_vec(&record).map_err(|e| StoreError::Encode {
            relation: self.tail.name.to_string(),
            message: e.to_string(),
        })?;
        records.push((id, bytes));
        if records.len() >= LOG_SEGMENT {
            self.tail.write_out(&mut records)?;
        }
        Ok(record)
    }

    /// The buffer as it is now, and which stored segments to skip: those starting at or
    /// after its first id were written from it (or after it) once the copy was taken.
    /// Readers work from this copy so a long scan never holds up appends.
    fn snapshot(&self) -> (Buffered, impl Fn(&[u8]) -> bool) {
        let buffered = lock(&self.tail.records).clone();
        let first_unwritten = buffered.first().map(|(id, _)| *id);
        let written_since = move |key: &[u8]| {
            let mut first = [0u8; 8];
            match (first_unwritten, key.get(..8)) {
                (Some(unwritten), Some(bytes)) => {
                    first.copy_from_slice(bytes);
                    u64::from_be_bytes(first) >= unwritten
                }
                _ => false,
            }
        };
        (buffered, written_since)
    }

    /// Records newest-first, keeping those `keep` accepts, at most `limit`.
    pub fn scan_rev(&self, limit: usize, mut keep: impl FnMut(&T) -> bool) -> StoreResult<Vec<T>> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        let (buffered, written_since) = self.snapshot();
        let mut offer = |record: T, out: &mut Vec<T>| {
            if keep(&record) {
                out.push(record);
            }
            out.len() >= limit
        };
        for (_, bytes) in buffered.iter().rev() {
            if offer(self.decode(bytes)?, &mut out) {
                return Ok(out);
            }
        }
        for stored in self.tail.tree.iter().rev() {
            let (key, value) = stored?;
            if written_since(&key) {
                continue;
            }
            if key.len() == SEGMENT_KEY_LEN {
                let segment: Vec<T> = self.decode(&value)?;
                for record in segment.into_iter().rev() {
                    if offer(record, &mut out) {
                        return Ok(out);
                    }
                }
            } else if offer(self.decode(&value)?, &mut out) {
                return Ok(out);
            }
        }
        Ok(out)
    }

    /// How many records the log holds (walks the segment keys).
    pub fn len(&self) -> usize {
        let (buffered, written_since) = self.snapshot();
        let stored: usize = self
            .tail
            .tree
            .iter()
            .keys()
            .filter_map(Result::ok)
            .filter(|key| !written_since(key))
            .map(|key| match key.get(8..SEGMENT_KEY_LEN) {
                Some(count) => {
                    let mut n = [0u8; 4];
                    n.copy_from_slice(count);
                    u32::from_be_bytes(n) as usize
                }
                None => 1,
            })
            .sum();
        buffered.len() + stored
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(log: &Log<u64>, limit: usize) -> Vec<u64> {
        log.scan_rev(limit, |_| true).unwrap()
    }

    #[test]
    fn log_reads_buffered_and_segmented_records_newest_first() {
        let store = Store::temporary().unwrap();
        let log: Log<u64> = store.log("numbers").unwrap();
        // An 8-byte key with a single record, as logs were written before segments.
        log.tail
            .tree
            .insert(0u64.to_be_bytes(), b"1000".to_vec())
            .unwrap();
        let n = LOG_SEGMENT * 2 + 5;
        for i in 0..n as u64 {
            log.append(|_| i).unwrap();
        }
        assert_eq!(
            lock(&log.tail.records).len(),
            5,
            "two segments written, five buffered"
        );
        assert_eq!(log.len(), n + 1);
        let all = numbers(&log, 1000);
        let mut expected: Vec<u64> = (0..n as u64).rev().collect();
        expected.push(1000);
        assert_eq!(all, expected);
        assert_eq!(numbers(&log, 7), expected[..7].to_vec());
        let odd = log.scan_rev(3, |v| v % 2 == 1).unwrap();
        assert_eq!(odd.len(), 3);
        assert!(odd.iter().all(|v| v % 2 == 1));
        assert!(numbers(&log, 0).is_empty());

        // A segment written after a reader copied the buffer is skipped, not read twice.
        let (buffered, written_since) = log.snapshot();
        for i in 0..(LOG_SEGMENT - 5) as u64 {
            log.append(|_| 2000 + i).unwrap();
        }
        let newest_segment = log.tail.tree.iter().keys().next_back().unwrap().unwrap();
        assert!(written_since(&newest_segment));
        let oldest = log.tail.tree.iter().keys().next().unwrap().unwrap();
        assert!(!written_since(&oldest));
        assert_eq!(buffered.len(), 5);
    }

    #[test]
    fn flush_export_and_clear_see_the_buffer() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let log: Log<u64> = store.log("numbers").unwrap();
            for i in 0..3u64 {
                log.append(|_| i).unwrap();
            }
            let dump = store.export_all().unwrap();
            let numbers_tree = dump.iter().find(|(name, _)| name == "numbers").unwrap();
            assert_eq!(numbers_tree.1.len(), 1, "one segment in the snapshot");
            log.append(|_| 3).unwrap();
            store.flush_blocking().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let log: Log<u64> = store.log("numbers").unwrap();
        assert_eq!(numbers(&log, 10), vec![3, 2, 1, 0], "survives a reopen");
        log.append(|_| 4).unwrap();
        store.clear_all().unwrap();
        assert!(log.is_empty());
        store.drain_logs().unwrap();
        assert!(log.is_empty(), "a cleared buffer is not written later");
    }
}
