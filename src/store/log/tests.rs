//! The log's reads, segments, trims and damage, on a temporary store.

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

#[test]
fn a_trim_leaves_what_arrives_meanwhile_to_the_next() {
    // `expired` is called while the trim runs: each call appends a record, as requests
    // do under load. The trim removes what was over budget when it began and ends.
    let store = Store::temporary().unwrap();
    let log: Log<Rec> = store.log("numbers").unwrap();
    let total = 2 * LOG_SEGMENT as u64;
    for i in 0..total {
        log.append(|id| Rec { id, n: i }).unwrap();
    }
    let arrived = std::cell::Cell::new(0u64);
    let arriving = |_: &Rec| {
        if arrived.get() < 50 {
            log.append(|id| Rec {
                id,
                n: total + arrived.get(),
            })
            .unwrap();
            arrived.set(arrived.get() + 1);
        }
        false
    };
    let keep = usize::try_from(total).unwrap() - 3;
    assert_eq!(log.trim(keep, Some(&arriving)).unwrap(), 3);
    assert!(arrived.get() >= 1, "the trim read a segment it cut");
    let left = usize::try_from(arrived.get()).unwrap();
    assert_eq!(log.len(), keep + left);
    assert_eq!(numbers(&log, 1).first(), Some(&(total + arrived.get() - 1)));
    // The next trim takes the rest.
    assert_eq!(log.trim(keep, None).unwrap(), left);
    assert_eq!(numbers(&log, 1000).last(), Some(&(3 + arrived.get())));
}
