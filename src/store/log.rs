//! An append-only relation written in segments (the event log).

use super::{lock, StoreError, StoreResult};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

/// Records per stored segment of a [`Log`].
const LOG_SEGMENT: usize = 32;

/// Segment keys: the first record's id, then the record count (both big-endian). A key of
/// 8 bytes is a single record, as written before logs were segmented.
const SEGMENT_KEY_LEN: usize = 12;

/// Records not yet written: (id, JSON), in id order.
pub(super) type Buffered = Vec<(u64, Vec<u8>)>;

/// The buffered tail of a [`Log`].
pub(super) struct LogTail {
    pub(super) name: &'static str,
    pub(super) tree: sled::Tree,
    pub(super) records: Mutex<Buffered>,
}

impl LogTail {
    /// Writes `records` as one segment and empties the buffer (kept on error, for the
    /// next attempt).
    pub(super) fn write_out(&self, records: &mut Buffered) -> StoreResult<()> {
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
    pub(super) tail: Arc<LogTail>,
    pub(super) db: sled::Db,
    pub(super) _marker: PhantomData<fn() -> T>,
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
    use crate::store::Store;

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
