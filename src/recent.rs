//! A worker's last few results of a pure function, by what they were computed from. Clients
//! send the same input again and again (the same SOAP body, calls under one session), so a
//! copy of an earlier result spares the work; a different input is computed afresh.

use std::collections::VecDeque;

/// The last [`Recent::KEPT`] (input, result) pairs one thread computed, newest first; the
/// oldest goes when a new one comes. Only copies of results are handed out.
pub struct Recent<K, V> {
    entries: VecDeque<(K, V)>,
}

impl<K, V: Clone> Recent<K, V> {
    pub const KEPT: usize = 8;

    pub const fn new() -> Self {
        Self {
            entries: VecDeque::new(),
        }
    }

    /// A copy of the result kept for the first input that `matches`.
    pub fn find(&self, matches: impl Fn(&K) -> bool) -> Option<V> {
        self.entries
            .iter()
            .find(|(input, _)| matches(input))
            .map(|(_, value)| value.clone())
    }

    pub fn keep(&mut self, input: K, value: V) {
        if self.entries.len() >= Self::KEPT {
            self.entries.pop_back();
        }
        self.entries.push_front((input, value));
    }

    /// [`Recent::keep`], after dropping what is kept for inputs that `replaces` (an older
    /// result for the same input).
    pub fn keep_replacing(&mut self, replaces: impl Fn(&K) -> bool, input: K, value: V) {
        self.entries.retain(|(kept, _)| !replaces(kept));
        self.keep(input, value);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<K, V: Clone> Default for Recent<K, V> {
    fn default() -> Self {
        Self::new()
    }
}
