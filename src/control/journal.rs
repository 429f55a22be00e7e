//! A bounded journal of recent requests and responses (secrets redacted when read), newest first.
//! Bounded so memory stays flat under load; size 0 disables it.

use crate::surface::Surface;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Bodies are recorded up to this many bytes.
pub const BODY_EXCERPT: usize = 4096;

#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub body_bytes: usize,
    pub truncated: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: u64,
    pub time: String,
    pub surface: Surface,
    pub operation: String,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    pub latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub injected_fault: Option<String>,
    pub request: Recorded,
    pub response: Recorded,
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub surface: Option<Surface>,
    pub operation: Option<String>,
    pub status: Option<u16>,
    pub limit: usize,
}

pub struct Journal {
    capacity: usize,
    entries: Mutex<VecDeque<Entry>>,
    next_id: AtomicU64,
}

impl Journal {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
            next_id: AtomicU64::new(1),
        }
    }

    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn push(&self, entry: Entry) {
        if self.capacity == 0 {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        while entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    /// Newest first.
    pub fn list(&self, filter: &Filter) -> Vec<Entry> {
        let Ok(entries) = self.entries.lock() else {
            return Vec::new();
        };
        entries
            .iter()
            .rev()
            .filter(|e| filter.surface.is_none_or(|s| e.surface == s))
            .filter(|e| {
                filter
                    .operation
                    .as_ref()
                    .is_none_or(|o| e.operation.eq_ignore_ascii_case(o))
            })
            .filter(|e| filter.status.is_none_or(|s| e.status == s))
            .take(filter.limit.max(1))
            .map(Entry::redacted)
            .collect()
    }
}

impl Entry {
    /// A copy fit to show: bodies pass through the redactor. Bodies are kept raw in the
    /// ring and redacted when read, so the request path pays only for a copy of the
    /// excerpt, not for the regexes (reads of the journal are rare, requests are not).
    fn redacted(&self) -> Entry {
        let mut e = self.clone();
        e.request.body = super::redact::redact_body(&e.request.body);
        e.response.body = super::redact::redact_body(&e.response.body);
        e
    }
}

/// A body excerpt (not yet redacted: see [`Entry::redacted`]), cut at `BODY_EXCERPT` bytes.
pub fn excerpt(bytes: &[u8]) -> (String, bool) {
    let truncated = bytes.len() > BODY_EXCERPT;
    let cut = bytes.get(..BODY_EXCERPT).unwrap_or(bytes);
    (String::from_utf8_lossy(cut).into_owned(), truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(j: &Journal, op: &str) -> Entry {
        let rec = Recorded {
            headers: vec![],
            body: String::new(),
            body_bytes: 0,
            truncated: false,
        };
        Entry {
            id: j.next_id(),
            time: String::new(),
            surface: Surface::Vlsi,
            operation: op.into(),
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            status: 200,
            latency_ms: 0.0,
            injected_fault: None,
            request: rec.clone(),
            response: rec,
        }
    }

    #[test]
    fn stays_bounded_and_lists_newest_first() {
        let j = Journal::new(3);
        for i in 0..10 {
            j.push(entry(&j, &format!("op{i}")));
        }
        assert_eq!(j.len(), 3);
        let all = j.list(&Filter {
            limit: 10,
            ..Default::default()
        });
        assert_eq!(all[0].operation, "op9");
        let off = Journal::new(0);
        off.push(entry(&off, "x"));
        assert!(off.is_empty());
    }
}
