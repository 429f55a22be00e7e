//! An append-only relation written in segments (the event logs), trimmed from the oldest end.

use super::segments::{
    key_count, segment_json, segment_key, segment_value, Buffered, LogTail, LOG_SEGMENT,
    MAX_PENDING,
};
use super::{lock, StoreError, StoreResult};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What a log holds: records that know their id.
pub trait Logged: Serialize + DeserializeOwned {
    fn log_id(&self) -> u64;

    /// Appends the record's JSON to `out`. A record written on a hot path may write itself
    /// faster than serde does; it must write what `serde_json::to_writer` writes.
    fn encode_into(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }
}

/// An append-only relation (an event log). A record costs a sled insert of its own
/// (about 5 µs for a 350-byte event, more than the rest of a SOAP call), so records are
/// buffered and written as segments of [`LOG_SEGMENT`], about five times cheaper per
/// record. Readers see the buffer too; [`Store::flush`](super::Store::flush), snapshots
/// and shutdown write it out, and so does a timer (see `upkeep`), so a record reaches
/// sled within a quarter second. Ids come from a counter of the store (above every stored
/// id), not from sled, so appending never fails on a full disk: records wait in the buffer.
pub struct Log<T> {
    pub(super) tail: Arc<LogTail>,
    pub(super) seq: Arc<AtomicU64>,
    pub(super) _marker: PhantomData<fn() -> T>,
}

impl<T: Logged> Log<T> {
    fn decode<U: DeserializeOwned>(name: &str, bytes: &[u8]) -> StoreResult<U> {
        serde_json::from_slice(bytes).map_err(|e| StoreError::Decode {
            relation: name.to_string(),
            message: e.to_string(),
        })
    }

    fn decode_segment(name: &str, value: &[u8]) -> StoreResult<Vec<T>> {
        let json = segment_json(value).map_err(|message| StoreError::Decode {
            relation: name.to_string(),
            message,
        })?;
        Self::decode(name, &json)
    }

    fn encode(&self, record: &T) -> StoreResult<Vec<u8>> {
        let mut bytes = Vec::with_capacity(512);
        record
            .encode_into(&mut bytes)
            .map_err(|e| StoreError::Encode {
                relation: self.tail.name.clone(),
                message: e.to_string(),
            })?;
        Ok(bytes)
    }

    fn push(&self, records: &mut Buffered, id: u64, bytes: Vec<u8>) {
        if records.len() >= MAX_PENDING {
            let drop = MAX_PENDING / 10;
            records.drain(..drop);
            self.tail.lost.fetch_add(drop as u64, Ordering::AcqRel);
            tracing::error!(log = %self.tail.name, dropped = drop, "records could not be written in time and were given up");
        }
        records.push((id, bytes));
        if records.len() >= LOG_SEGMENT {
            if let Err(e) = self.tail.write_out(records) {
                tracing::debug!(error = %e, log = %self.tail.name, "segment kept in memory until it can be written");
            }
        }
    }

    /// Appends the record `make(id)`, with `id` fresh and monotonic (taken under the
    /// buffer's lock, so the log's order is id order).
    pub fn append(&self, make: impl FnOnce(u64) -> T) -> StoreResult<T> {
        let mut records = lock(&self.tail.records);
        let id = self.seq.fetch_add(1, Ordering::AcqRel);
        let record = make(id);
        let bytes = self.encode(&record)?;
        self.push(&mut records, id, bytes);
        Ok(record)
    }

    /// Appends a record that already has its id (carried over from another log); ids must
    /// come in increasing order, above the ones stored.
    pub fn carry_over(&self, record: &T) -> StoreResult<()> {
        let bytes = self.encode(record)?;
        let mut records = lock(&self.tail.records);
        self.push(&mut records, record.log_id(), bytes);
        Ok(())
    }

    /// Records newest-first with an id below `before` (all without it), read lazily: a
    /// copy of the buffer, then the stored segments. Readers never hold up appends.
    pub fn iter_rev(&self, before: Option<u64>) -> StoreResult<RevIter<T>> {
        let (buffered, first_unwritten) = {
            let records = lock(&self.tail.records);
            let copy: Vec<(u64, Vec<u8>)> = records
                .iter()
                .filter(|(id, _)| before.is_none_or(|b| *id < b))
                .cloned()
                .collect();
            (copy, records.first().map(|(id, _)| *id))
        };
        // Segments starting at or after the first unwritten id were written from the
        // buffer (or after it) once the copy was taken: skip them.
        let tree = self.tail.slot.tree()?;
        let upper = match (before, first_unwritten) {
            (Some(b), Some(u)) => Some(b.min(u)),
            (b, u) => b.or(u),
        };
        let stored = match upper {
            Some(upper) => tree.range(..upper.to_be_bytes().to_vec()),
            None => tree.iter(),
        };
        Ok(RevIter {
            name: self.tail.name.clone(),
            buffered: buffered.into_iter().rev().collect::<Vec<_>>().into_iter(),
            stored,
            segment: Vec::new().into_iter(),
            before,
            done: false,
            _marker: PhantomData,
        })
    }

    /// Records newest-first, keeping those `keep` accepts, at most `limit`.
    pub fn scan_rev(&self, limit: usize, mut keep: impl FnMut(&T) -> bool) -> StoreResult<Vec<T>> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        for record in self.iter_rev(None)? {
            let record = record?;
            if keep(&record) {
                out.push(record);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// How many records the log holds.
    pub fn len(&self) -> usize {
        lock(&self.tail.records).len() + self.tail.stored.load(Ordering::Acquire)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes the oldest records until at most `keep` remain, and any older ones that
    /// `expired` says have outlived their age; returns how many went. Whole segments go
    /// without being read; a segment cut in two is written back with its newer part.
    pub fn trim(&self, keep: usize, expired: Option<&dyn Fn(&T) -> bool>) -> StoreResult<usize> {
        let _one_at_a_time = lock(&self.tail.trimming);
        if expired.is_some() {
            // Ages are read from stored segments: the buffered records go there first, so
            // none outlives its age for want of being written (best effort: a full disk
            // keeps them buffered, and they go once it can be written).
            let _ = self.tail.write_out(&mut lock(&self.tail.records));
        }
        let mut removed = 0;
        loop {
            let excess = self.len().saturating_sub(keep);
            if excess == 0 && expired.is_none() {
                break;
            }
            let Some((key, value)) = self.tail.slot.with(|t| Ok(t.first()?))? else {
                // Nothing stored: the oldest records are the buffered ones (a tiny cap, or
                // a disk refusing writes).
                if excess > 0 {
                    let mut records = lock(&self.tail.records);
                    let n = excess.min(records.len());
                    records.drain(..n);
                    removed += n;
                }
                break;
            };
            let count = key_count(&key);
            let cut = if excess >= count {
                count
            } else {
                let segment: Vec<T> = Self::decode_segment(&self.tail.name, &value)?;
                let old = expired.map_or(0, |e| segment.iter().take_while(|r| e(r)).count());
                let cut = excess.max(old);
                if cut > 0 && cut < segment.len() {
                    let rest = segment.get(cut..).unwrap_or_default();
                    let (Some(first), Some(last)) = (rest.first(), rest.last()) else {
                        break;
                    };
                    let encoded = rest
                        .iter()
                        .map(|r| self.encode(r))
                        .collect::<StoreResult<Vec<_>>>()?;
                    let bytes = segment_value(encoded.iter().map(Vec::as_slice));
                    let mut batch = sled::Batch::default();
                    batch.remove(key.as_ref());
                    batch.insert(
                        segment_key(first.log_id(), rest.len(), last.log_id()),
                        bytes,
                    );
                    self.tail.slot.with(|t| Ok(t.apply_batch(batch)?))?;
                    self.forgot(&key, cut);
                    removed += cut;
                    // Appends may have gone on meanwhile: look again.
                    continue;
                }
                cut
            };
            if cut == 0 {
                break;
            }
            let gone = self.tail.slot.with(|t| {
                Ok(
                    t.compare_and_swap(key.as_ref(), Some(value.as_ref()), None as Option<&[u8]>)?
                        .is_ok(),
                )
            })?;
            if gone {
                self.forgot(&key, count);
                removed += count;
            }
        }
        Ok(removed)
    }

    fn forgot(&self, key: &[u8], count: usize) {
        let _ = self
            .tail
            .stored
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_sub(count))
            });
        lock(&self.tail.unflushed).retain(|(k, _, _)| k.as_slice() != key);
    }
}

/// Records of a [`Log`] newest-first (see [`Log::iter_rev`]); an error ends it.
pub struct RevIter<T> {
    name: String,
    buffered: std::vec::IntoIter<(u64, Vec<u8>)>,
    stored: sled::Iter,
    segment: std::vec::IntoIter<T>,
    before: Option<u64>,
    done: bool,
    _marker: PhantomData<fn() -> T>,
}

impl<T: Logged> Iterator for RevIter<T> {
    type Item = StoreResult<T>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if let Some((_, bytes)) = self.buffered.next() {
            let record = Log::<T>::decode(&self.name, &bytes);
            self.done = record.is_err();
            return Some(record);
        }
        loop {
            if let Some(record) = self.segment.next() {
                if self.before.is_none_or(|b| record.log_id() < b) {
                    return Some(Ok(record));
                }
                continue;
            }
            let (key, value) = match self.stored.next_back()? {
                Ok(kv) => kv,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e.into()));
                }
            };
            if key.len() == 8 {
                let record = Log::<T>::decode::<T>(&self.name, &value);
                match record {
                    Ok(r) if self.before.is_some_and(|b| r.log_id() >= b) => continue,
                    other => {
                        self.done = other.is_err();
                        return Some(other);
                    }
                }
            }
            match Log::<T>::decode_segment(&self.name, &value) {
                Ok(mut records) => {
                    records.reverse();
                    self.segment = records.into_iter();
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Rec {
        id: u64,
        n: u64,
    }

    impl Logged for Rec {
        fn log_id(&self) -> u64 {
            self.id
        }
    }

    fn numbers(log: &Log<Rec>, limit: usize) -> Vec<u64> {
        log.scan_rev(limit, |_| true)
            .unwrap()
            .into_iter()
            .map(|r| r.n)
            .collect()
    }

    #[test]
    fn log_reads_buffered_and_segmented_records_newest_first() {
        let store = Store::temporary().unwrap();
        let log: Log<Rec> = store.log("numbers").unwrap();
        let n = LOG_SEGMENT * 2 + 5;
        for i in 0..n as u64 {
            log.append(|id| Rec { id, n: i }).unwrap();
        }
        assert_eq!(
            lock(&log.tail.records).len(),
            5,
            "two segments written, five buffered"
        );
        assert_eq!(log.len(), n);
        let all = numbers(&log, 1000);
        let expected: Vec<u64> = (0..n as u64).rev().collect();
        assert_eq!(all, expected);
        assert_eq!(numbers(&log, 7), expected[..7].to_vec());
        let odd = log.scan_rev(3, |v| v.n % 2 == 1).unwrap();
        assert_eq!(odd.len(), 3);
        assert!(odd.iter().all(|v| v.n % 2 == 1));
        assert!(numbers(&log, 0).is_empty());
        // Paging by id: below the 10th newest, the rest, none twice.
        let ids: Vec<u64> = log.iter_rev(None).unwrap().map(|r| r.unwrap().id).collect();
        let below: Vec<u64> = log
            .iter_rev(Some(ids[9]))
            .unwrap()
            .map(|r| r.unwrap().id)
            .collect();
        assert_eq!(below, ids[10..].to_vec());
    }

    #[test]
    fn segments_from_before_compression_read_beside_new_ones() {
        let dir = tempfile::tempdir().unwrap();
        {
            // Two segments as earlier versions stored them: JSON arrays, uncompressed.
            let old = |ids: std::ops::Range<u64>| {
                let json: Vec<String> = ids.map(|i| format!(r#"{{"id":{i},"n":{i}}}"#)).collect();
                format!("[{}]", json.join(",")).into_bytes()
            };
            let store = Store::open(dir.path()).unwrap();
            let log: Log<Rec> = store.log("numbers").unwrap();
            log.tail
                .slot
                .with(|t| {
                    t.insert(segment_key(1, 3, 3), old(1..4))?;
                    t.insert(segment_key(4, 2, 5), old(4..6))?;
                    Ok(())
                })
                .unwrap();
            store.flush_blocking().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let log: Log<Rec> = store.log("numbers").unwrap();
        assert_eq!(log.len(), 5);
        for i in 0..LOG_SEGMENT as u64 + 3 {
            log.append(|id| Rec { id, n: 100 + i }).unwrap();
        }
        let read: Vec<Rec> = log.scan_rev(1000, |_| true).unwrap();
        assert_eq!(read.len(), 5 + LOG_SEGMENT + 3);
        assert_eq!(read.last(), Some(&Rec { id: 1, n: 1 }));
        assert!(read.windows(2).all(|w| w[0].id > w[1].id), "newest first");
        // Trimming cuts an old segment and writes its rest in the new form.
        assert_eq!(log.trim(read.len() - 1, None).unwrap(), 1);
        let after: Vec<Rec> = log.scan_rev(1000, |_| true).unwrap();
        assert_eq!(after, read[..read.len() - 1].to_vec());
    }

    #[test]
    fn a_damaged_segment_ends_a_read_with_an_error() {
        let store = Store::temporary().unwrap();
        let log: Log<Rec> = store.log("numbers").unwrap();
        for i in 0..LOG_SEGMENT as u64 {
            log.append(|id| Rec { id, n: i }).unwrap();
        }
        let (key, value) = log.tail.slot.with(|t| Ok(t.first()?)).unwrap().unwrap();
        let damaged = [&value[..5], &[0xff; 32][..]].concat();
        log.tail.slot.with(|t| Ok(t.insert(key, damaged)?)).unwrap();
        let read: Vec<StoreResult<Rec>> = log.iter_rev(None).unwrap().collect();
        assert!(
            matches!(read.last(), Some(Err(StoreError::Decode { .. }))),
            "{read:?}"
        );
    }

    #[test]
    fn trim_keeps_the_newest_and_cuts_segments() {
        // Three segments and a few buffered records; each trim below cuts the second
        // segment or goes past it.
        let total = 3 * LOG_SEGMENT as u64 + 4;
        let half = total / 2;
        let store = Store::temporary().unwrap();
        let log: Log<Rec> = store.log("numbers").unwrap();
        for i in 0..total {
            log.append(|id| Rec { id, n: i }).unwrap();
        }
        let count = |n: u64| usize::try_from(n).unwrap();
        assert_eq!(log.trim(count(total - half), None).unwrap(), count(half));
        assert_eq!(log.len(), count(total - half));
        assert_eq!(numbers(&log, 1000), (half..total).rev().collect::<Vec<_>>());
        let old = |r: &Rec| r.n < half + 10;
        assert_eq!(log.trim(1000, Some(&old)).unwrap(), 10);
        assert_eq!(
            numbers(&log, 1000),
            (half + 10..total).rev().collect::<Vec<_>>()
        );
        assert_eq!(log.trim(3, None).unwrap(), count(total - half - 10 - 3));
        assert_eq!(numbers(&log, 1000), vec![total - 1, total - 2, total - 3]);
    }

    #[test]
    fn records_not_yet_written_age_out_too() {
        let store = Store::temporary().unwrap();
        let log: Log<Rec> = store.log("numbers").unwrap();
        for i in 0..5u64 {
            log.append(|id| Rec { id, n: i }).unwrap();
        }
        assert_eq!(log.tail.unflushed_len(), 0, "all five still buffered");
        let old = |r: &Rec| r.n < 3;
        assert_eq!(log.trim(1000, Some(&old)).unwrap(), 3);
        assert_eq!(numbers(&log, 10), vec![4, 3]);
    }

    #[test]
    fn flush_export_and_clear_see_the_buffer() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let log: Log<Rec> = store.log("numbers").unwrap();
            for i in 0..3u64 {
                log.append(|id| Rec { id, n: i }).unwrap();
            }
            let dump = store.export_all().unwrap();
            let numbers_tree = dump.iter().find(|(name, _)| name == "numbers").unwrap();
            assert_eq!(numbers_tree.1.len(), 1, "one segment in the snapshot");
            log.append(|id| Rec { id, n: 3 }).unwrap();
            store.flush_blocking().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let log: Log<Rec> = store.log("numbers").unwrap();
        assert_eq!(numbers(&log, 10), vec![3, 2, 1, 0], "survives a reopen");
        let next = log.append(|id| Rec { id, n: 4 }).unwrap();
        assert!(next.id > 3, "ids continue above the stored ones");
        store.clear_all().unwrap();
        assert!(log.is_empty());
        store.drain_logs().unwrap();
        assert!(log.is_empty(), "a cleared buffer is not written later");
    }
}
