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
    /// Who the call acted as, where the core learnt it (a session's principal, the user an
    /// event names).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub request: Recorded,
    pub response: Recorded,
}

/// An entry without its headers and bodies (what a list of entries shows).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub id: u64,
    pub time: String,
    pub surface: Surface,
    pub operation: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub latency_ms: f64,
    pub injected_fault: Option<String>,
    pub user: Option<String>,
}

/// A JWT found in a recorded body, without its signature (so it proves nothing and can be
/// shown): base64url header and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedJwt {
    /// `request` or `response`.
    pub found_in: &'static str,
    pub header: String,
    pub payload: String,
}

/// One entry fit to show in full: redacted, with the JWTs its bodies carried.
#[derive(Debug, Clone)]
pub struct Detail {
    pub entry: Entry,
    pub tokens: Vec<UnsignedJwt>,
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub surface: Option<Surface>,
    pub operation: Option<String>,
    pub status: Option<u16>,
    /// The status's hundreds digit: 2 for 2xx, 4 for 4xx...
    pub status_class: Option<u16>,
    /// Case-insensitive text anywhere in the entry: operation, path, query, user, injected
    /// fault, or its redacted bodies.
    pub text: Option<String>,
    pub limit: usize,
}

impl Filter {
    fn keeps(&self, e: &Entry) -> bool {
        self.surface.is_none_or(|s| e.surface == s)
            && self
                .operation
                .as_ref()
                .is_none_or(|o| e.operation.eq_ignore_ascii_case(o))
            && self.status.is_none_or(|s| e.status == s)
            && self.status_class.is_none_or(|c| e.status / 100 == c)
    }
}

fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// Whether `e`'s fields other than its bodies mention `text`.
fn mentions(e: &Entry, text: &str) -> bool {
    [
        e.operation.as_str(),
        e.path.as_str(),
        e.query.as_str(),
        e.method.as_str(),
        e.user.as_deref().unwrap_or(""),
        e.injected_fault.as_deref().unwrap_or(""),
    ]
    .iter()
    .any(|f| contains_ignoring_case(f, text))
}

pub struct Journal {
    capacity: usize,
    entries: Mutex<VecDeque<Entry>>,
    next_id: AtomicU64,
    /// Tells this process's entry ids from an earlier run's (events outlive the journal).
    run: u32,
}

impl Journal {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
            next_id: AtomicU64::new(1),
            run: rand::random::<u32>(),
        }
    }

    /// The id events carry for entry `id` of this run: `RUN-ID`.
    pub fn request_id(&self, id: u64) -> String {
        crate::core::request::request_id(self.run, id)
    }

    /// The context a journaled request runs in (see [`crate::core::request::RequestContext`]).
    pub fn context(&self, id: u64) -> std::rc::Rc<crate::core::request::RequestContext> {
        crate::core::request::RequestContext::new(self.run, id)
    }

    /// The entry id of a request id made by [`Journal::request_id`] in this run.
    pub fn entry_of(&self, request_id: &str) -> Option<u64> {
        let (run, id) = request_id.split_once('-')?;
        let run = u32::from_str_radix(run, 16).ok()?;
        (run == self.run).then(|| id.parse().ok()).flatten()
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

    /// Newest first, redacted. A `text` filter is ignored here (see [`Journal::summaries`]).
    pub fn list(&self, filter: &Filter) -> Vec<Entry> {
        let Ok(entries) = self.entries.lock() else {
            return Vec::new();
        };
        entries
            .iter()
            .rev()
            .filter(|e| filter.keeps(e))
            .take(filter.limit.max(1))
            .map(Entry::redacted)
            .collect()
    }

    /// Newest first, without headers and bodies. The text filter looks at the redacted
    /// bodies: a search never tells whether a secret was sent.
    pub fn summaries(&self, filter: &Filter) -> Vec<Summary> {
        let limit = filter.limit.max(1);
        let text = filter
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let Some(text) = text else {
            let Ok(entries) = self.entries.lock() else {
                return Vec::new();
            };
            return entries
                .iter()
                .rev()
                .filter(|e| filter.keeps(e))
                .take(limit)
                .map(Entry::summary)
                .collect();
        };
        // Under the lock only a cheap scan; redaction (regexes) happens after it.
        let candidates: Vec<Entry> = match self.entries.lock() {
            Ok(entries) => entries
                .iter()
                .rev()
                .filter(|e| filter.keeps(e))
                .filter(|e| {
                    mentions(e, text)
                        || contains_ignoring_case(&e.request.body, text)
                        || contains_ignoring_case(&e.response.body, text)
                        || contains_ignoring_case(super::redact::REDACTED_MARKS, text)
                })
                .cloned()
                .collect(),
            Err(_) => return Vec::new(),
        };
        candidates
            .into_iter()
            .filter(|e| {
                mentions(e, text) || {
                    let shown = e.redacted();
                    contains_ignoring_case(&shown.request.body, text)
                        || contains_ignoring_case(&shown.response.body, text)
                }
            })
            .take(limit)
            .map(|e| e.summary())
            .collect()
    }

    /// Entry `id`, redacted, with the JWTs its bodies carried (signatures dropped).
    pub fn detail(&self, id: u64) -> Option<Detail> {
        let raw = self
            .entries
            .lock()
            .ok()?
            .iter()
            .rev()
            .find(|e| e.id == id)
            .cloned()?;
        let mut tokens = Vec::new();
        for (found_in, body) in [
            ("request", &raw.request.body),
            ("response", &raw.response.body),
        ] {
            for (header, payload) in super::redact::jwt_parts(body) {
                let token = UnsignedJwt {
                    found_in,
                    header: header.to_string(),
                    payload: payload.to_string(),
                };
                if !tokens.contains(&token) {
                    tokens.push(token);
                }
            }
        }
        Some(Detail {
            entry: raw.redacted(),
            tokens,
        })
    }
}

impl Entry {
    fn summary(&self) -> Summary {
        Summary {
            id: self.id,
            time: self.time.clone(),
            surface: self.surface,
            operation: self.operation.clone(),
            method: self.method.clone(),
            path: self.path.clone(),
            status: self.status,
            latency_ms: self.latency_ms,
            injected_fault: self.injected_fault.clone(),
            user: self.user.clone(),
        }
    }

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
            user: None,
            request: rec.clone(),
            response: rec,
        }
    }

    #[test]
    fn request_ids_name_entries_of_this_run_only() {
        let j = Journal::new(3);
        let id = j.request_id(42);
        assert_eq!(j.entry_of(&id), Some(42));
        let other = Journal::new(3);
        if other.run != j.run {
            assert_eq!(other.entry_of(&id), None);
        }
        assert_eq!(j.entry_of("zz-1"), None);
        assert_eq!(j.entry_of("42"), None);
    }

    #[test]
    fn summaries_filter_by_class_and_redacted_text() {
        let j = Journal::new(10);
        let mut e = entry(&j, "POST /api/login");
        e.status = 401;
        e.request.body = r#"{"loginId":"a@b","password":"hunter2"}"#.into();
        j.push(e);
        j.push(entry(&j, "JwtToken_Generate"));
        let find = |class: Option<u16>, text: &str| {
            j.summaries(&Filter {
                status_class: class,
                text: Some(text.into()),
                limit: 10,
                ..Default::default()
            })
            .len()
        };
        assert_eq!(find(Some(4), ""), 1);
        assert_eq!(find(None, "A@B"), 1, "bodies, case-insensitively");
        assert_eq!(find(None, "hunter2"), 0, "never a redacted secret");
        assert_eq!(find(None, "[redacted]"), 1);
        assert_eq!(find(Some(2), "jwttoken"), 1);
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
