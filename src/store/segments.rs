//! How a [`Log`](super::Log) is stored: segments of records under keys that say their
//! first id, count and last id, and the tail of records not yet written (or not yet
//! durable), kept so that a reopened store gets them back.

use super::{lock, Slot, StoreResult};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Records per stored segment of a [`Log`]. Sled writes each insert's bytes more than once
/// (a leaf is rewritten whole as its changes pile up), so fewer, larger segments cost it
/// less per record: at 128 rather than 32 a busy event log writes half the bytes and a
/// SOAP Generate with a worker per core runs about 1.5% faster. A query reading the
/// newest events decodes at most one segment more than it returns.
pub(super) const LOG_SEGMENT: usize = 128;

/// Segment keys: the first record's id, the record count and the last record's id (all
/// big-endian, so keys sort by first id). Keys of 12 bytes (no last id) and of 8 bytes (a
/// single record) were written by earlier versions and are still read.
const SEGMENT_KEY_LEN: usize = 20;
const OLD_SEGMENT_KEY_LEN: usize = 12;

/// Records kept in memory at most per log while they cannot be written (a full disk); the
/// oldest are given up beyond that, and counted.
pub(super) const MAX_PENDING: usize = 20_000;

/// Records not yet written: (id, JSON), in id order.
pub(super) type Buffered = Vec<(u64, Vec<u8>)>;

/// A segment written to sled but not yet known durable: (key, value, records).
type Unflushed = (Vec<u8>, Vec<u8>, usize);

/// The first byte of a compressed segment value, which no JSON starts with: values
/// written before segments were compressed are their JSON array as is, and still read.
const COMPRESSED: u8 = 0;

/// What a compressed segment may say it holds at most: a damaged length is refused as
/// damage rather than allocated.
const MAX_SEGMENT_JSON: usize = 64 << 20;

/// A segment's stored value: the JSON array of `records`, LZ4-compressed behind
/// [`COMPRESSED`]. Sled copies, checksums and writes every stored byte several times (its
/// pages are rewritten whole as they fill), and an event log's neighbours are alike: a
/// segment of 128 events shrinks several-fold, and with it most of what sled does.
pub(super) fn segment_value<'a>(records: impl Iterator<Item = &'a [u8]> + Clone) -> Vec<u8> {
    let size = records.clone().map(|r| r.len() + 1).sum::<usize>() + 1;
    let mut json = Vec::with_capacity(size);
    json.push(b'[');
    for (i, record) in records.enumerate() {
        if i > 0 {
            json.push(b',');
        }
        json.extend_from_slice(record);
    }
    json.push(b']');
    let compressed = lz4_flex::block::compress_prepend_size(&json);
    let mut value = Vec::with_capacity(1 + compressed.len());
    value.push(COMPRESSED);
    value.extend_from_slice(&compressed);
    value
}

/// A stored segment's JSON array, from either form [`segment_value`] reads.
pub(super) fn segment_json(value: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, String> {
    let Some((&COMPRESSED, compressed)) = value.split_first() else {
        return Ok(std::borrow::Cow::Borrowed(value));
    };
    let size = compressed
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u32::from_le_bytes(b) as usize)
        .ok_or("a compressed segment without its length")?;
    if size > MAX_SEGMENT_JSON {
        return Err(format!("a compressed segment claims {size} bytes"));
    }
    let json = lz4_flex::block::decompress(compressed.get(4..).unwrap_or_default(), size)
        .map_err(|e| format!("a compressed segment does not decompress: {e}"))?;
    if json.len() != size {
        return Err(format!(
            "a compressed segment holds {} bytes, not the {size} it claims",
            json.len()
        ));
    }
    Ok(std::borrow::Cow::Owned(json))
}

pub(super) fn segment_key(first: u64, count: usize, last: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(SEGMENT_KEY_LEN);
    key.extend_from_slice(&first.to_be_bytes());
    key.extend_from_slice(&u32::try_from(count).unwrap_or(u32::MAX).to_be_bytes());
    key.extend_from_slice(&last.to_be_bytes());
    key
}

fn be_u64(bytes: Option<&[u8]>) -> Option<u64> {
    let mut n = [0u8; 8];
    n.copy_from_slice(bytes.filter(|b| b.len() == 8)?);
    Some(u64::from_be_bytes(n))
}

/// How many records a stored key holds.
pub(super) fn key_count(key: &[u8]) -> usize {
    match key.get(8..OLD_SEGMENT_KEY_LEN) {
        Some(count) => {
            let mut n = [0u8; 4];
            n.copy_from_slice(count);
            u32::from_be_bytes(n) as usize
        }
        None => 1,
    }
}

/// The highest id a stored key holds (a lower bound for the old 12-byte keys).
fn key_last_id(key: &[u8]) -> u64 {
    let first = be_u64(key.get(..8)).unwrap_or(0);
    match key.len() {
        SEGMENT_KEY_LEN => be_u64(key.get(OLD_SEGMENT_KEY_LEN..)).unwrap_or(first),
        OLD_SEGMENT_KEY_LEN => first + key_count(key).saturating_sub(1) as u64,
        _ => first,
    }
}

/// The buffered tail of a [`Log`], and what it has written but sled has not yet made
/// durable (written again should the store have to be reopened).
pub(super) struct LogTail {
    pub(super) name: String,
    pub(super) slot: Arc<Slot>,
    pub(super) records: Mutex<Buffered>,
    pub(super) unflushed: Mutex<VecDeque<Unflushed>>,
    /// Records in the tree.
    pub(super) stored: AtomicUsize,
    /// Records given up because they could not be written in time.
    pub(super) lost: AtomicU64,
    /// Held while trimming: two trims cutting the same segment would both write its rest.
    pub(super) trimming: Mutex<()>,
}

impl LogTail {
    pub(super) fn open(slot: Arc<Slot>) -> StoreResult<Self> {
        let tail = Self {
            name: slot.name.clone(),
            slot,
            records: Mutex::default(),
            unflushed: Mutex::default(),
            stored: AtomicUsize::new(0),
            lost: AtomicU64::new(0),
            trimming: Mutex::new(()),
        };
        tail.recount()?;
        Ok(tail)
    }

    /// Counts the records in the tree again (after a reopen or an import).
    pub(super) fn recount(&self) -> StoreResult<()> {
        let stored = self.slot.with(|t| {
            let mut n = 0;
            for key in t.iter().keys() {
                n += key_count(&key?);
            }
            Ok(n)
        })?;
        self.stored.store(stored, Ordering::Release);
        Ok(())
    }

    /// The highest id stored or buffered (0 when empty).
    pub(super) fn max_id(&self) -> StoreResult<u64> {
        let stored = self
            .slot
            .with(|t| Ok(t.last()?.map(|(k, _)| key_last_id(&k))))?
            .unwrap_or(0);
        let buffered = lock(&self.records).last().map_or(0, |(id, _)| *id);
        Ok(stored.max(buffered))
    }

    /// Writes `records` as one segment and empties the buffer (kept on error, for the
    /// next attempt).
    pub(super) fn write_out(&self, records: &mut Buffered) -> StoreResult<()> {
        let (Some(&(first_id, _)), Some(&(last_id, _))) = (records.first(), records.last()) else {
            return Ok(());
        };
        let key = segment_key(first_id, records.len(), last_id);
        let value = segment_value(records.iter().map(|(_, r)| r.as_slice()));
        self.slot.with(|t| {
            t.insert(key.as_slice(), value.as_slice())?;
            Ok(())
        })?;
        let count = records.len();
        self.stored.fetch_add(count, Ordering::AcqRel);
        let mut unflushed = lock(&self.unflushed);
        unflushed.push_back((key, value, count));
        // Bounded too: the oldest are given up (they are in sled's memory, and survive
        // unless the store has to be reopened).
        let mut pending: usize = unflushed.iter().map(|(_, _, n)| n).sum();
        while pending > MAX_PENDING {
            let Some((_, _, n)) = unflushed.pop_front() else {
                break;
            };
            pending -= n;
        }
        records.clear();
        Ok(())
    }

    pub(super) fn unflushed_len(&self) -> usize {
        lock(&self.unflushed).len()
    }

    /// The first `count` unflushed segments are durable now.
    pub(super) fn made_durable(&self, count: usize) {
        let mut unflushed = lock(&self.unflushed);
        let n = count.min(unflushed.len());
        unflushed.drain(..n);
    }

    /// Writes the segments that were not yet durable again (into a reopened store).
    pub(super) fn rewrite_unflushed(&self) -> StoreResult<()> {
        let segments: Vec<Unflushed> = lock(&self.unflushed).iter().cloned().collect();
        self.slot.with(|t| {
            for (key, value, _) in &segments {
                t.insert(key.as_slice(), value.as_slice())?;
            }
            Ok(())
        })
    }

    /// The tree was emptied (reset).
    pub(super) fn forget_stored(&self) {
        self.stored.store(0, Ordering::Release);
        lock(&self.unflushed).clear();
    }

    pub(super) fn pending(&self) -> usize {
        let unflushed: usize = lock(&self.unflushed).iter().map(|(_, _, n)| n).sum();
        lock(&self.records).len() + unflushed
    }

    pub(super) fn lost(&self) -> u64 {
        self.lost.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| {
                format!(
                    r#"{{"id":{i},"type":"VLSI_JWT_TOKEN_GENERATED","user":"VLSIM\\administrator","message":"User VLSIM\\administrator generated a JWT token valid for 30 minutes"}}"#
                )
                .into_bytes()
            })
            .collect()
    }

    #[test]
    fn segments_are_stored_compressed_and_read_back_exactly() {
        for n in [0, 1, LOG_SEGMENT] {
            let records = events(n);
            let value = segment_value(records.iter().map(Vec::as_slice));
            assert_eq!(value.first(), Some(&COMPRESSED));
            let json = segment_json(&value).unwrap();
            let expected = format!(
                "[{}]",
                records
                    .iter()
                    .map(|r| String::from_utf8(r.clone()).unwrap())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            assert_eq!(String::from_utf8(json.to_vec()).unwrap(), expected);
            if n == LOG_SEGMENT {
                assert!(
                    value.len() * 4 < expected.len(),
                    "{} of {}",
                    value.len(),
                    expected.len()
                );
            }
        }
    }

    #[test]
    fn segments_written_before_compression_read_as_they_are() {
        let old = br#"[{"id":1},{"id":2}]"#;
        assert!(matches!(segment_json(old), Ok(std::borrow::Cow::Borrowed(json)) if json == old));
    }

    #[test]
    fn a_damaged_compressed_segment_is_an_error() {
        let good = segment_value(events(LOG_SEGMENT).iter().map(Vec::as_slice));
        let mut huge_claim = good.clone();
        huge_claim.splice(1..5, u32::MAX.to_le_bytes());
        let mut short_claim = good.clone();
        short_claim.splice(1..5, 10u32.to_le_bytes());
        for damaged in [
            vec![COMPRESSED],
            vec![COMPRESSED, 1, 0],
            huge_claim,
            short_claim,
            good[..good.len() / 2].to_vec(),
            [&good[..5], &[0xff; 40][..]].concat(),
        ] {
            assert!(segment_json(&damaged).is_err(), "{damaged:?}");
        }
    }
}
