//! One relation: a sled tree of JSON values, and the steps of a multi-relation change.

use super::{Slot, Store, StoreError, StoreResult};
use crate::recent::Recent;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::Arc;
use std::thread::LocalKey;

/// One step of an atomic change across relations (see [`Store::transact`]).
pub struct Op {
    pub(super) slot: Arc<Slot>,
    pub(super) key: Vec<u8>,
    pub(super) kind: OpKind,
}

pub(super) enum OpKind {
    Put(Vec<u8>),
    Remove,
    /// Precondition: the key holds exactly these bytes, or the whole change is refused.
    Expect(Vec<u8>),
}

/// A page of records in key order, and the key after which the next one starts.
pub struct Page<T> {
    pub records: Vec<(Vec<u8>, T)>,
    pub next: Option<Vec<u8>>,
}

/// The last few records one thread decoded from a table (see [`Table::get_recent`]).
pub type RecentDecodes<T> = Recent<Kept, T>;

/// Where a record kept in [`RecentDecodes`] came from.
pub struct Kept {
    /// The relation's generation it was read in, if no write was under way then.
    generation: Option<u64>,
    key: sled::IVec,
    bytes: sled::IVec,
}

/// A record as read from its relation, with the very bytes it was decoded from.
pub struct Stored<T> {
    pub value: T,
    bytes: sled::IVec,
}

/// One relation: a sled tree whose values are JSON-encoded `T`.
pub struct Table<T> {
    pub(super) slot: Arc<Slot>,
    pub(super) name: &'static str,
    pub(super) _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for Table<T> {
    fn clone(&self) -> Self {
        Self {
            slot: self.slot.clone(),
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
            slot: self.slot.clone(),
            key: key.as_ref().to_vec(),
            kind: OpKind::Put(self.encode(value)?),
        })
    }

    /// A removal, for [`Store::transact`].
    pub fn remove_op(&self, key: impl AsRef<[u8]>) -> Op {
        Op {
            slot: self.slot.clone(),
            key: key.as_ref().to_vec(),
            kind: OpKind::Remove,
        }
    }

    /// A precondition (the record is still exactly `value`), for [`Store::transact`].
    pub fn expect_op(&self, key: impl AsRef<[u8]>, value: &T) -> StoreResult<Op> {
        Ok(Op {
            slot: self.slot.clone(),
            key: key.as_ref().to_vec(),
            kind: OpKind::Expect(self.encode(value)?),
        })
    }

    pub fn get(&self, key: impl AsRef<[u8]>) -> StoreResult<Option<T>> {
        self.slot
            .read(|t| Ok(t.get(key.as_ref())?))?
            .map(|v| self.decode(&v))
            .transpose()
    }

    /// [`Table::get`], answered from what this thread decoded not long ago (`recent`) while
    /// nothing has written the relation since it was read, and otherwise read from the
    /// store (decoding again only if the stored bytes changed). The hot records behind
    /// every call (a session, a login) are then neither read from sled nor decoded each
    /// time, yet a change or removal is seen at once: every write to the relation, and
    /// every swap of its tree (reset, snapshot restore, reopen), moves its generation
    /// first (see `slot.rs`). Only a copy is handed out.
    pub fn get_recent(
        &self,
        key: impl AsRef<[u8]>,
        recent: &'static LocalKey<RefCell<RecentDecodes<T>>>,
    ) -> StoreResult<Option<T>>
    where
        T: Clone,
    {
        let key = key.as_ref();
        let generation = self.slot.stable_generation();
        if let Some(generation) = generation {
            let kept = recent.with_borrow(|recent| {
                recent.find(|kept| kept.generation == Some(generation) && kept.key == key)
            });
            if kept.is_some() {
                return Ok(kept);
            }
        }
        let Some(bytes) = self.slot.read(|t| Ok(t.get(key)?))? else {
            return Ok(None);
        };
        // Reusable later only if no write started while it was read.
        let generation = generation.filter(|g| self.slot.unchanged_since(*g));
        let value = match recent.with_borrow(|recent| recent.find(|kept| kept.bytes == bytes)) {
            Some(value) => value,
            None => self.decode(&bytes)?,
        };
        let kept = Kept {
            generation,
            key: key.into(),
            bytes,
        };
        recent.with_borrow_mut(|recent| {
            recent.keep_replacing(|other| other.key == key, kept, value.clone())
        });
        Ok(Some(value))
    }

    pub fn put(&self, key: impl AsRef<[u8]>, value: &T) -> StoreResult<()> {
        let bytes = self.encode(value)?;
        self.slot.with(|t| {
            t.insert(key.as_ref(), bytes)?;
            Ok(())
        })
    }

    /// Inserts only if the key is absent; returns false when it already existed.
    pub fn insert_new(&self, key: impl AsRef<[u8]>, value: &T) -> StoreResult<bool> {
        let bytes = self.encode(value)?;
        self.slot.with(|t| {
            Ok(
                t.compare_and_swap(key.as_ref(), None as Option<&[u8]>, Some(bytes))?
                    .is_ok(),
            )
        })
    }

    pub fn remove(&self, key: impl AsRef<[u8]>) -> StoreResult<Option<T>> {
        self.slot
            .with(|t| Ok(t.remove(key.as_ref())?))?
            .map(|v| self.decode(&v))
            .transpose()
    }

    /// Removes the record only if it still holds exactly `expected` (an atomic take: of
    /// several concurrent callers, exactly one gets `true`).
    pub fn remove_if_unchanged(&self, key: impl AsRef<[u8]>, expected: &T) -> StoreResult<bool> {
        let bytes = self.encode(expected)?;
        self.slot.with(|t| {
            Ok(
                t.compare_and_swap(key.as_ref(), Some(bytes), None as Option<&[u8]>)?
                    .is_ok(),
            )
        })
    }

    /// A record and the bytes it was read from, for [`Table::replace_stored`]: a change
    /// made only if nothing changed it since, without encoding the old record again.
    pub fn get_stored(&self, key: impl AsRef<[u8]>) -> StoreResult<Option<Stored<T>>> {
        let Some(bytes) = self.slot.read(|t| Ok(t.get(key.as_ref())?))? else {
            return Ok(None);
        };
        Ok(Some(Stored {
            value: self.decode(&bytes)?,
            bytes,
        }))
    }

    /// [`Table::replace_if_unchanged`] for a record read with [`Table::get_stored`].
    pub fn replace_stored(
        &self,
        key: impl AsRef<[u8]>,
        expected: &Stored<T>,
        new: &T,
    ) -> StoreResult<bool> {
        let new = self.encode(new)?;
        self.slot.with(|t| {
            Ok(
                t.compare_and_swap(key.as_ref(), Some(&expected.bytes), Some(new))?
                    .is_ok(),
            )
        })
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
        self.slot.with(|t| {
            Ok(t.compare_and_swap(key.as_ref(), Some(old), Some(new))?
                .is_ok())
        })
    }

    /// All records in key order.
    pub fn all(&self) -> StoreResult<Vec<(Vec<u8>, T)>> {
        self.slot.read(|t| {
            t.iter()
                .map(|r| {
                    let (k, v) = r?;
                    Ok((k.to_vec(), self.decode(&v)?))
                })
                .collect()
        })
    }

    /// Records whose key starts with `prefix`, in key order (index scans).
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> StoreResult<Vec<(Vec<u8>, T)>> {
        self.slot.read(|t| {
            t.scan_prefix(prefix.as_ref())
                .map(|r| {
                    let (k, v) = r?;
                    Ok((k.to_vec(), self.decode(&v)?))
                })
                .collect()
        })
    }

    /// The first `limit` records in ascending key order (the oldest of an index by time).
    pub fn first(&self, limit: usize) -> StoreResult<Vec<(Vec<u8>, T)>> {
        self.slot.read(|t| {
            t.iter()
                .take(limit)
                .map(|r| {
                    let (k, v) = r?;
                    Ok((k.to_vec(), self.decode(&v)?))
                })
                .collect()
        })
    }

    /// Records newest-first (descending key order), keeping those `keep` accepts, at most `limit`.
    pub fn scan_rev(&self, limit: usize, mut keep: impl FnMut(&T) -> bool) -> StoreResult<Vec<T>> {
        self.slot.read(|t| {
            let mut out = Vec::new();
            for r in t.iter().rev() {
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
        })
    }

    /// Up to `limit` records in key order after the key `after` (from the first without
    /// it), and where the next page starts (`None` once this page reached the end).
    pub fn page(&self, after: Option<&[u8]>, limit: usize) -> StoreResult<Page<T>> {
        use std::ops::Bound;
        let from = after.map_or(Bound::Unbounded, |k| Bound::Excluded(k.to_vec()));
        self.slot.read(|t| {
            let mut records = Vec::new();
            for r in t.range::<Vec<u8>, _>((from, Bound::Unbounded)) {
                let (k, v) = r?;
                if records.len() >= limit {
                    let next = records.last().map(|(k, _): &(Vec<u8>, T)| k.clone());
                    return Ok(Page { records, next });
                }
                records.push((k.to_vec(), self.decode(&v)?));
            }
            Ok(Page {
                records,
                next: None,
            })
        })
    }

    /// How many records the relation holds (a walk over its keys; an error ends it).
    pub fn len(&self) -> usize {
        // sled's own `len` counts the errors of a failed store too, forever.
        self.slot
            .read(|t| Ok(t.iter().keys().take_while(Result::is_ok).count()))
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.slot.read(|t| Ok(t.first()?.is_none())).unwrap_or(true)
    }

    pub fn clear(&self) -> StoreResult<()> {
        self.slot.with(|t| {
            t.clear()?;
            Ok(())
        })
    }
}

impl Store {
    /// Applies `ops` all-or-nothing, across relations and across a crash: preconditions
    /// (`Table::expect`) are checked first, and if one fails nothing is written and the
    /// result is `false`. Concurrent transactions are serialised by sled, so of two that
    /// expect the same value only one succeeds.
    pub fn transact(&self, ops: &[Op]) -> StoreResult<bool> {
        use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
        let _writing: Vec<_> = ops.iter().map(|op| op.slot.writing()).collect();
        let mut trees: Vec<sled::Tree> = Vec::new();
        let mut slots = Vec::with_capacity(ops.len());
        for op in ops {
            let tree = op.slot.tree()?;
            let slot = match trees.iter().position(|t| t.name() == tree.name()) {
                Some(i) => i,
                None => {
                    trees.push(tree);
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
            Err(TransactionError::Storage(e)) => Err(self.noted(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    thread_local! {
        static RECENT: RefCell<RecentDecodes<Vec<String>>> =
            const { RefCell::new(RecentDecodes::new()) };
    }

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn a_stored_record_is_replaced_only_while_unchanged() {
        let store = Store::temporary().unwrap();
        let table: Table<Vec<String>> = store.table("stored-test").unwrap();
        table.put("a", &words(&["one"])).unwrap();
        let stored = table.get_stored("a").unwrap().unwrap();
        assert_eq!(stored.value, words(&["one"]));
        assert!(table
            .replace_stored("a", &stored, &words(&["two"]))
            .unwrap());
        assert_eq!(table.get("a").unwrap(), Some(words(&["two"])));
        // Read before that change: refused, and the newer record stays.
        assert!(!table
            .replace_stored("a", &stored, &words(&["three"]))
            .unwrap());
        assert_eq!(table.get("a").unwrap(), Some(words(&["two"])));
        table.remove("a").unwrap();
        assert!(!table
            .replace_stored("a", &stored, &words(&["four"]))
            .unwrap());
        assert_eq!(table.get("a").unwrap(), None);
        assert!(table.get_stored("a").unwrap().is_none());
    }

    #[test]
    fn recent_decodes_see_every_change_and_removal_and_stay_bounded() {
        let store = Store::temporary().unwrap();
        let table: Table<Vec<String>> = store.table("recent-test").unwrap();
        table.put("a", &words(&["one"])).unwrap();
        assert_eq!(
            table.get_recent("a", &RECENT).unwrap(),
            Some(words(&["one"]))
        );
        // The second read is answered from the decode kept by the first.
        assert_eq!(
            table.get_recent("a", &RECENT).unwrap(),
            Some(words(&["one"]))
        );
        table.put("a", &words(&["two"])).unwrap();
        assert_eq!(
            table.get_recent("a", &RECENT).unwrap(),
            Some(words(&["two"]))
        );
        table.remove("a").unwrap();
        assert_eq!(table.get_recent("a", &RECENT).unwrap(), None);
        assert_eq!(table.get_recent("missing", &RECENT).unwrap(), None);

        for i in 0..20 {
            let key = format!("k{i}");
            table.put(&key, &words(&[&key])).unwrap();
            assert_eq!(
                table.get_recent(&key, &RECENT).unwrap(),
                Some(words(&[&key]))
            );
        }
        RECENT.with_borrow(|recent| assert_eq!(recent.len(), 8));
        // An old record no longer kept is decoded again, and right.
        assert_eq!(
            table.get_recent("k0", &RECENT).unwrap(),
            Some(words(&["k0"]))
        );
    }
}
