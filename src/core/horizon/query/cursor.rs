//! Server-side cursors of `QueryService_Create`, kept in memory per session.

use super::entity::QueryEntity;
use super::{to_i64, AuditEventSummary, QueryPage};
use std::collections::HashMap;
use std::sync::Mutex;

/// Server-side cursors of `QueryService_Create`, by query id.
#[derive(Default)]
pub struct QueryCursors {
    pub(super) inner: Mutex<HashMap<String, Cursor>>,
}

pub(super) struct Cursor {
    pub(super) entity: QueryEntity,
    pub(super) session_id: String,
    /// Offset of `items[0]` in the full result list.
    pub(super) starting_offset: usize,
    pub(super) items: Vec<AuditEventSummary>,
    /// Items already served.
    pub(super) position: usize,
    pub(super) page_size: usize,
}

impl Cursor {
    pub(super) fn next_page(&mut self, id: &str) -> QueryPage {
        let start = self.position.min(self.items.len());
        let end = start.saturating_add(self.page_size).min(self.items.len());
        let results = self
            .items
            .get(start..end)
            .map(<[_]>::to_vec)
            .unwrap_or_default();
        self.position = end;
        QueryPage {
            entity: self.entity,
            id: Some(id.to_string()),
            starting_offset: to_i64(self.starting_offset.saturating_add(start)),
            remaining_count: Some(to_i64(self.items.len().saturating_sub(end))),
            results,
        }
    }
}

impl QueryCursors {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cursor>> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
