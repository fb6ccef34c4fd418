//! The ledger's only view of storage: point reads, and a write set it hands back.
//!
//! The ledger never performs I/O itself. Callers pass something that implements
//! [`StateReader`] (the committed store, or a fork-aware overlay of unfinalized
//! blocks over it), and receive a [`WriteSet`] to commit or discard.

use std::collections::BTreeMap;

use thiserror::Error;

/// Why the backing store could not answer a read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// The backend failed (disk error, corruption); the message is for operators.
    #[error("state backend failed: {0}")]
    Backend(String),
}

/// Keys mapped to their new value, or `None` for a deletion. Ordered, so
/// committing it is deterministic.
pub type WriteSet = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Point reads of the state.
pub trait StateReader {
    /// The value under `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
}

impl<T: StateReader + ?Sized> StateReader for &T {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get(key)
    }
}

/// Buffered writes over a base reader; reads see the buffered writes first.
#[derive(Debug)]
pub struct Overlay<R> {
    base: R,
    writes: WriteSet,
}

impl<R: StateReader> Overlay<R> {
    /// Start an empty overlay on `base`.
    pub fn new(base: R) -> Self {
        Self {
            base,
            writes: WriteSet::new(),
        }
    }

    /// Start an overlay on `base` that already holds `writes`.
    pub fn with_writes(base: R, writes: WriteSet) -> Self {
        Self { base, writes }
    }

    /// Buffer a write.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, Some(value));
    }

    /// Buffer a deletion.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }

    /// The buffered writes.
    pub fn writes(&self) -> &WriteSet {
        &self.writes
    }

    /// Take the buffered writes, dropping the base.
    pub fn into_writes(self) -> WriteSet {
        self.writes
    }

    /// Merge another write set on top of this one (later writes win).
    pub fn extend(&mut self, writes: WriteSet) {
        self.writes.extend(writes);
    }

    /// The base reader.
    pub fn base(&self) -> &R {
        &self.base
    }
}

impl<R: StateReader> StateReader for Overlay<R> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.writes.get(key) {
            Some(value) => Ok(value.clone()),
            None => self.base.get(key),
        }
    }
}

/// An in-memory store for tests, simulations and `plexus sim`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemStore {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Apply a write set.
    pub fn commit(&mut self, writes: WriteSet) {
        for (key, value) in writes {
            match value {
                Some(value) => self.entries.insert(key, value),
                None => self.entries.remove(&key),
            };
        }
    }

    /// Every entry, in key order.
    pub fn entries(&self) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        &self.entries
    }
}

impl StateReader for MemStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.entries.get(key).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlay_reads_its_own_writes_and_deletions_first() {
        let mut base = MemStore::new();
        base.commit(WriteSet::from([(b"a".to_vec(), Some(b"1".to_vec()))]));
        let mut overlay = Overlay::new(&base);
        assert_eq!(overlay.get(b"a").unwrap(), Some(b"1".to_vec()));
        overlay.put(b"b".to_vec(), b"2".to_vec());
        overlay.delete(b"a".to_vec());
        assert_eq!(overlay.get(b"a").unwrap(), None);
        assert_eq!(overlay.get(b"b").unwrap(), Some(b"2".to_vec()));
        assert_eq!(base.get(b"b").unwrap(), None);
    }
}
