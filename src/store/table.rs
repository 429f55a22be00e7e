//! One relation: a sled tree of JSON values, and the steps of a multi-relation change.

use super::{StoreError, StoreResult};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::marker::PhantomData;

/// One step of an atomic change across relations (see [`Store::transact`]).
pub struct Op {
    pub(super) tree: sled::Tree,
    pub(super) key: Vec<u8>,
    pub(super) kind: OpKind,
}

pub(super) enum OpKind {
    Put(Vec<u8>),
    Remove,
    /// Precondition: the key holds exactly these bytes, or the whole change is refused.
    Expect(Vec<u8>),
}

/// One relation: a sled tree whose values are JSON-encoded `T`.
pub struct Table<T> {
    pub(super) tree: sled::Tree,
    pub(super) name: &'static str,
    pub(super) _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for Table<T> {
    fn clone(&self) -> Self {
        Self {
            tree: self.tree.clone(),
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
            tree: self.tree.clone(),
            key: key.as_ref().to_vec(),
            kind: OpKind::Put(self.encode(value)?),
        })
    }

    /// A removal, for [`Store::transact`].
    pub fn remove_op(&self, key: impl AsRef<[u8]>) -> Op {
        Op {
            tree: self.tree.clone(),
            key: key.as_ref().to_vec(),
            kind: OpKind::Remove,
        }
    }

    /// A precondition (the record is still exactly `value`), for [`Store::transact`].
    pub fn expect_op(&self, key: impl AsRef<[u8]>, value: &T) -> StoreResult<Op> {
        Ok(Op {
            tree: self.tree.clone(),
            key: key.as_ref().to_vec(),
            kind: OpKind::Expect(self.encode(value)?),
        })
    }

    pub fn get(&self, key: impl AsRef<[u8]>) -> StoreResult<Option<T>> {
        self.tree
            .get(key.as_ref())?
            .map(|v| self.decode(&v))
            .transpose()
    }

    pub fn put(&self, key: impl AsRef<[u8]>, value: &T) -> StoreResult<()> {
        let bytes = self.encode(value)?;
        self.tree.insert(key.as_ref(), bytes)?;
        Ok(())
    }

    /// Inserts only if the key is absent; returns false when it already existed.
    pub fn insert_new(&self, key: impl AsRef<[u8]>, value: &T) -> StoreResult<bool> {
        let bytes = self.encode(value)?;
        Ok(self
            .tree
            .compare_and_swap(key.as_ref(), None as Option<&[u8]>, Some(bytes))?
            .is_ok())
    }

    pub fn remove(&self, key: impl AsRef<[u8]>) -> StoreResult<Option<T>> {
        self.tree
            .remove(key.as_ref())?
            .map(|v| self.decode(&v))
            .transpose()
    }

    /// Removes the record only if it still holds exactly `expected` (an atomic take: of
    /// several concurrent callers, exactly one gets `true`).
    pub fn remove_if_unchanged(&self, key: impl AsRef<[u8]>, expected: &T) -> StoreResult<bool> {
        let bytes = self.encode(expected)?;
        Ok(self
            .tree
            .compare_and_swap(key.as_ref(), Some(bytes), None as Option<&[u8]>)?
            .is_ok())
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
        Ok(self
            .tree
            .compare_and_swap(key.as_ref(), Some(old), Some(new))?
            .is_ok())
    }

    /// All records in key order.
    pub fn all(&self) -> StoreResult<Vec<(Vec<u8>, T)>> {
        self.tree
            .iter()
            .map(|r| {
                let (k, v) = r?;
                Ok((k.to_vec(), self.decode(&v)?))
            })
            .collect()
    }

    /// Records whose key starts with `prefix`, in key order (index scans).
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> StoreResult<Vec<(Vec<u8>, T)>> {
        self.tree
            .scan_prefix(prefix.as_ref())
            .map(|r| {
                let (k, v) = r?;
                Ok((k.to_vec(), self.decode(&v)?))
            })
            .collect()
    }

    /// The first `limit` records in ascending key order (the oldest of an index by time).
    pub fn first(&self, limit: usize) -> StoreResult<Vec<(Vec<u8>, T)>> {
        self.tree
            .iter()
            .take(limit)
            .map(|r| {
                let (k, v) = r?;
                Ok((k.to_vec(), self.decode(&v)?))
            })
            .collect()
    }

    /// Records newest-first (descending key order), keeping those `keep` accepts, at most `limit`.
    pub fn scan_rev(&self, limit: usize, mut keep: impl FnMut(&T) -> bool) -> StoreResult<Vec<T>> {
        let mut out = Vec::new();
        for r in self.tree.iter().rev() {
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
    }

    pub fn len(&self) -> usize {
        self.tree.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    pub fn clear(&self) -> StoreResult<()> {
        self.tree.clear()?;
        Ok(())
    }
}
