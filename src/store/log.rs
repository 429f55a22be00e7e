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
    /// Records appended while it runs are left to the next trim: chasing them under a
    /// sustained load rewrote the oldest segment again and again, a few records at a time.
    pub fn trim(&self, keep: usize, expired: Option<&dyn Fn(&T) -> bool>) -> StoreResult<usize> {
        let _one_at_a_time = lock(&self.tail.trimming);
        if expired.is_some() {
            // Ages are read from stored segments: the buffered records go there first, so
            // none outlives its age for want of being written (best effort: a full disk
            // keeps them buffered, and they go once it can be written).
            let _ = self.tail.write_out(&mut lock(&self.tail.records));
        }
        let mut removed = 0;
        let over_at_start = self.len().saturating_sub(keep);
        loop {
            let excess = over_at_start
                .saturating_sub(removed)
                .min(self.len().saturating_sub(keep));
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
                    // Done: the cut covered the excess and every expired record (they
                    // lead the segment), so the rest is within budget and age.
                    break;
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
mod tests;
