//! State sync: serve the state tree at a height in chunks with range proofs, and
//! rebuild a store from such chunks, checking each against a root the caller trusts
//! (from a certified header), so a new node starts at a recent height instead of
//! replaying every block.
//!
//! A chunk is the next leaves of the Jellyfish Merkle tree at one version in key-hash
//! order, each with its state key (the `state_keys` preimage table), and jmt's
//! `SparseMerkleRangeProof` of the siblings right of the last one. The receiving side
//! feeds them to jmt's `JellyfishMerkleRestore`, which checks every chunk against the
//! expected root before writing it; the restored store is written to a file of its
//! own and only renamed into place once the root of the whole tree matched.

use std::sync::Arc;

use jmt::{
    JellyfishMerkleIterator, KeyHash, Sha256Jmt,
    proof::SparseMerkleRangeProof,
    restore::{JellyfishMerkleRestore, StateSnapshotReceiver as _},
    storage::{NodeBatch, TreeWriter},
};
use plexus_types::{Block, Hash};
use redb::{Database, Durability, ReadableDatabase};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::{
    Committed, StorageError, Store,
    proof::key_hash,
    tables::{self, KEYS, LATEST, META, NODES, ROOTS, VALUES},
    tree::TreeView,
};

/// `(state key, value)` pairs.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Most entries one chunk carries.
pub const MAX_CHUNK_ENTRIES: usize = 4_096;

/// The next leaves of the state tree at `height`, in key-hash order, with the proof
/// that they are exactly the leaves up to the last one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChunk {
    /// The height (tree version) the chunk is from.
    pub height: u64,
    /// The state root at that height.
    pub root: Hash,
    /// `(state key, value)` pairs in increasing sha256(key) order.
    #[serde(with = "entries_hex")]
    pub entries: Entries,
    /// borsh of jmt's `SparseMerkleRangeProof<Sha256>` for the last entry (empty when
    /// there is none).
    #[serde(with = "hex_bytes")]
    pub proof: Vec<u8>,
    /// Whether the tree has no leaf after this chunk's last.
    pub done: bool,
}

impl StateChunk {
    /// The key hash to ask the next chunk after, if any entry came.
    pub fn last_key_hash(&self) -> Option<[u8; 32]> {
        self.entries.last().map(|(key, _)| key_hash(key).0)
    }
}

impl Store {
    /// Up to `limit` (at most [`MAX_CHUNK_ENTRIES`]) leaves of the state at the
    /// committed `height` whose key hash comes after `after` (from the first when
    /// `None`), with their range proof.
    pub fn state_chunk(
        &self,
        height: u64,
        after: Option<[u8; 32]>,
        limit: usize,
    ) -> Result<StateChunk, StorageError> {
        let limit = limit.clamp(1, MAX_CHUNK_ENTRIES);
        let txn = self.db.begin_read()?;
        let committed = txn
            .open_table(META)?
            .get(tables::META_COMMITTED)?
            .map(|v| v.value());
        if committed.is_none_or(|c| height > c) {
            return Err(StorageError::NotCommitted { height, committed });
        }
        crate::store::check_kept(height, &txn.open_table(META)?)?;
        let root = txn
            .open_table(ROOTS)?
            .get(height)?
            .map(|r| Hash(*r.value()))
            .ok_or_else(|| StorageError::Corrupt(format!("no state root at {height}")))?;
        let start = match after {
            None => Some([0u8; 32]),
            Some(after) => successor(after),
        };
        let view = Arc::new(TreeView {
            nodes: txn.open_table(NODES)?,
            values: txn.open_table(VALUES)?,
        });
        let keys = txn.open_table(KEYS)?;
        let mut entries = Vec::new();
        let mut done = true;
        if let Some(start) = start {
            let iter = JellyfishMerkleIterator::new(view.clone(), height, KeyHash(start))
                .map_err(StorageError::Tree)?;
            for item in iter {
                let (hash, value) = item.map_err(StorageError::Tree)?;
                if entries.len() == limit {
                    done = false;
                    break;
                }
                let key = keys
                    .get(&hash.0)?
                    .map(|k| k.value().to_vec())
                    .ok_or_else(|| {
                        StorageError::Corrupt(format!(
                            "no state key recorded for key hash {}",
                            hex::encode(hash.0)
                        ))
                    })?;
                entries.push((key, value));
            }
        }
        let proof = match entries.last() {
            Some((key, _)) => {
                let proof = Sha256Jmt::new(view.as_ref())
                    .get_range_proof(key_hash(key), height)
                    .map_err(StorageError::Tree)?;
                borsh::to_vec(&proof).map_err(|e| StorageError::Tree(e.into()))?
            }
            None => Vec::new(),
        };
        Ok(StateChunk {
            height,
            root,
            entries,
            proof,
            done,
        })
    }

    /// Start rebuilding, into this empty store, the state at `height` whose root is
    /// `root` (taken from a header whose finality certificate the caller checked).
    pub fn restore(&self, height: u64, root: Hash) -> Result<Restore<'_>, StorageError> {
        if self.committed().is_some() {
            return Err(StorageError::Corrupt(
                "state sync needs an empty store".into(),
            ));
        }
        let writer = Arc::new(Writer {
            db: self.db.clone(),
        });
        let inner =
            JellyfishMerkleRestore::<Sha256>::new_overwrite(writer, height, jmt::RootHash(root.0))
                .map_err(StorageError::Tree)?;
        Ok(Restore {
            store: self,
            height,
            root,
            inner,
            last: None,
            entries: 0,
        })
    }
}

/// A state sync in progress: feed it chunks in order, then [`Restore::finish`].
pub struct Restore<'a> {
    store: &'a Store,
    height: u64,
    root: Hash,
    inner: JellyfishMerkleRestore<Sha256>,
    last: Option<[u8; 32]>,
    entries: u64,
}

impl std::fmt::Debug for Restore<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Restore")
            .field("height", &self.height)
            .field("root", &self.root)
            .field("entries", &self.entries)
            .finish_non_exhaustive()
    }
}

/// Why a chunk was refused.
fn refused(why: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("state chunk refused: {why}"))
}

impl Restore<'_> {
    /// The key hash the next chunk must start after.
    pub fn after(&self) -> Option<[u8; 32]> {
        self.last
    }

    /// Leaves restored so far.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Check `chunk` against the expected root (its entries must be the next leaves
    /// in key-hash order and its proof must close them under the root) and write it.
    pub fn add_chunk(&mut self, chunk: &StateChunk) -> Result<(), StorageError> {
        if chunk.height != self.height || chunk.root != self.root {
            return Err(refused(format!(
                "it is from height {} root {}, not {} root {}",
                chunk.height, chunk.root, self.height, self.root
            )));
        }
        if chunk.entries.is_empty() {
            return Err(refused("no entries"));
        }
        if chunk.entries.len() > MAX_CHUNK_ENTRIES {
            return Err(refused("too many entries"));
        }
        let hashed: Vec<(KeyHash, Vec<u8>)> = chunk
            .entries
            .iter()
            .map(|(key, value)| (key_hash(key), value.clone()))
            .collect();
        let mut previous = self.last;
        for (hash, _) in &hashed {
            if previous.is_some_and(|p| hash.0 <= p) {
                return Err(refused("entries out of key-hash order"));
            }
            previous = Some(hash.0);
        }
        let proof: SparseMerkleRangeProof<Sha256> =
            borsh::from_slice(&chunk.proof).map_err(|e| refused(format!("proof: {e}")))?;
        // jmt checks the proof and writes the finished nodes and the values.
        self.inner
            .add_chunk(hashed, proof)
            .map_err(|e| refused(format!("{e:#}")))?;
        let txn = self.store.db.begin_write()?;
        {
            let mut latest = txn.open_table(LATEST)?;
            let mut keys = txn.open_table(KEYS)?;
            for (key, value) in &chunk.entries {
                latest.insert(key.as_slice(), value.as_slice())?;
                keys.insert(&key_hash(key).0, key.as_slice())?;
            }
        }
        txn.commit()?;
        self.last = previous;
        self.entries += chunk.entries.len() as u64;
        Ok(())
    }

    /// Close the tree, check its root, and record `block` (the block at the restored
    /// height, whose header commits to the root) and `genesis` (computed locally) as
    /// the store's only blocks: the store's committed height is then the restored one.
    pub fn finish(self, genesis: &Block, block: &Block) -> Result<Committed, StorageError> {
        let Self {
            store,
            height,
            root,
            inner,
            ..
        } = self;
        if block.header.height != height || block.header.state_root != root {
            return Err(refused("the block is not the one whose root was restored"));
        }
        if genesis.header.height != 0 || height == 0 {
            return Err(refused("state sync starts above genesis"));
        }
        inner.finish().map_err(StorageError::Tree)?;
        let mut txn = store.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        {
            let view = TreeView {
                nodes: txn.open_table(NODES)?,
                values: txn.open_table(VALUES)?,
            };
            let restored = Sha256Jmt::new(&view)
                .get_root_hash(height)
                .map_err(StorageError::Tree)?;
            if restored.0 != root.0 {
                return Err(StorageError::RootMismatch {
                    height,
                    claimed: root,
                    computed: Hash(restored.0),
                });
            }
            drop(view);
            let mut roots = txn.open_table(ROOTS)?;
            for b in [genesis, block] {
                crate::store::archive_block(&txn, b)?;
                roots.insert(b.header.height, &b.header.state_root.0)?;
            }
            txn.open_table(META)?
                .insert(tables::META_COMMITTED, height)?;
            // Blocks consensus held for the heights now committed are archived or
            // never will be: drop them.
            txn.open_table(crate::finalized::HELD)?
                .retain(|h, _| h > height)?;
            txn.open_table(crate::finalized::HELD_DIGESTS)?
                .retain(|_, h| h > height)?;
        }
        txn.commit()?;
        store.released_through(height);
        let tip = Committed {
            height,
            root,
            digest: block.digest(),
        };
        *store
            .tip
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(tip);
        Ok(tip)
    }
}

/// jmt's writer during a restore: each batch of finished nodes and values in one
/// redb transaction.
struct Writer {
    db: Arc<Database>,
}

impl TreeWriter for Writer {
    fn write_node_batch(&self, batch: &NodeBatch) -> anyhow::Result<()> {
        let txn = self.db.begin_write()?;
        {
            let mut nodes = txn.open_table(NODES)?;
            for (key, node) in batch.nodes() {
                nodes.insert(
                    tables::node_key(key)?.as_slice(),
                    borsh::to_vec(node)?.as_slice(),
                )?;
            }
            let mut values = txn.open_table(VALUES)?;
            for ((version, hash), value) in batch.values() {
                values.insert(
                    tables::value_key(*hash, *version).as_slice(),
                    tables::encode_value(value.as_deref()).as_slice(),
                )?;
            }
        }
        txn.commit()?;
        Ok(())
    }
}

/// The key hash right after `hash`, or `None` after the last one.
fn successor(mut hash: [u8; 32]) -> Option<[u8; 32]> {
    for byte in hash.iter_mut().rev() {
        if *byte == u8::MAX {
            *byte = 0;
        } else {
            *byte += 1;
            return Some(hash);
        }
    }
    None
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

mod entries_hex {
    use serde::{Deserialize, Deserializer, Serialize as _, Serializer};

    pub(super) fn serialize<S: Serializer>(
        entries: &[(Vec<u8>, Vec<u8>)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        entries
            .iter()
            .map(|(k, v)| [hex::encode(k), hex::encode(v)])
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<super::Entries, D::Error> {
        let pairs = Vec::<[String; 2]>::deserialize(d)?;
        pairs
            .into_iter()
            .map(|[k, v]| {
                Ok((
                    hex::decode(k).map_err(serde::de::Error::custom)?,
                    hex::decode(v).map_err(serde::de::Error::custom)?,
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use plexus_ledger::store::WriteSet;

    use super::*;
    use crate::{store::tests::block, verify_proof};

    /// A store with `n` keys at genesis, then some changed and deleted over 3 blocks.
    fn source(dir: &std::path::Path, n: u32) -> (Store, Vec<Block>) {
        let store = Store::open(dir.join("source.redb")).unwrap();
        let mut blocks = Vec::new();
        let mut parent = Hash::ZERO;
        for height in 0..4u64 {
            let mut writes = WriteSet::new();
            for i in 0..n {
                let key = format!("key {i}").into_bytes();
                let value = match (height, i % 7) {
                    (0, _) => Some(format!("value {i}").into_bytes()),
                    (2, 0) => None,
                    (h, 3) => Some(format!("value {i} at {h}").into_bytes()),
                    _ => continue,
                };
                writes.insert(key, value);
            }
            let root = store.root_with(&writes).unwrap();
            let b = block(height, parent, root);
            store.commit_block(&b, &writes).unwrap();
            parent = b.digest();
            blocks.push(b);
        }
        (store, blocks)
    }

    fn sync(from: &Store, to: &Store, height: u64, blocks: &[Block], limit: usize) -> Committed {
        let root = from.state_root(height).unwrap().unwrap();
        let mut restore = to.restore(height, root).unwrap();
        loop {
            let chunk = from.state_chunk(height, restore.after(), limit).unwrap();
            if !chunk.entries.is_empty() {
                restore.add_chunk(&chunk).unwrap();
            }
            if chunk.done {
                break;
            }
        }
        restore
            .finish(&blocks[0], &blocks[height as usize])
            .unwrap()
    }

    #[test]
    fn a_store_rebuilt_from_chunks_has_the_same_root_values_and_proofs_and_continues() {
        let dir = tempfile::tempdir().unwrap();
        let (from, blocks) = source(dir.path(), 500);
        let to = Store::open(dir.path().join("synced.redb")).unwrap();
        // Consensus may hold finalized blocks around the synced height already.
        to.hold_finalized(&blocks[1]).unwrap();
        to.hold_finalized(&blocks[3]).unwrap();
        // An older height than the tip, in small chunks.
        let tip = sync(&from, &to, 2, &blocks, 37);
        assert_eq!(tip.height, 2);
        assert_eq!(
            to.held_count(),
            1,
            "only the block above the synced height stays held"
        );
        assert_eq!(to.finalized_ranges().unwrap().ranges(), &[(0, 0), (2, 3)]);
        assert_eq!(to.finalized_block(1).unwrap(), None);
        assert_eq!(Some(tip.root), from.state_root(2).unwrap());
        for i in [0u32, 3, 6, 7, 499] {
            let key = format!("key {i}").into_bytes();
            assert_eq!(to.get_latest(&key).unwrap(), from.get_at(&key, 2).unwrap());
            let proof = to.prove(&key, None).unwrap();
            assert_eq!(
                verify_proof(&tip.root, &proof).unwrap(),
                from.get_at(&key, 2).unwrap()
            );
        }
        assert!(
            to.block(1).unwrap().is_none(),
            "no block below the sync height"
        );
        // The synced store commits the next block like the source did.
        let mut writes = WriteSet::new();
        for i in (0..500u32).filter(|i| i % 7 == 3) {
            writes.insert(
                format!("key {i}").into_bytes(),
                Some(format!("value {i} at 3").into_bytes()),
            );
        }
        assert_eq!(to.root_with(&writes).unwrap(), blocks[3].header.state_root);
        to.commit_block(&blocks[3], &writes).unwrap();
        assert_eq!(to.latest_root(), from.latest_root());
    }

    #[test]
    fn a_forged_or_reordered_chunk_is_refused_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (from, blocks) = source(dir.path(), 200);
        let root = from.state_root(3).unwrap().unwrap();
        let honest = from.state_chunk(3, None, 50).unwrap();

        let forged_value = {
            let mut chunk = honest.clone();
            chunk.entries[10].1 = b"a balance the chain never had".to_vec();
            chunk
        };
        let dropped = {
            let mut chunk = honest.clone();
            chunk.entries.remove(10);
            chunk
        };
        let reordered = {
            let mut chunk = honest.clone();
            chunk.entries.swap(3, 4);
            chunk
        };
        let other_root = {
            let mut chunk = honest.clone();
            chunk.root = Hash([7; 32]);
            chunk
        };
        for (what, chunk) in [
            ("a forged value", forged_value),
            ("a dropped entry", dropped),
            ("reordered entries", reordered),
            ("another root", other_root),
        ] {
            let to = Store::open(dir.path().join(format!("{what}.redb"))).unwrap();
            let mut restore = to.restore(3, root).unwrap();
            assert!(restore.add_chunk(&chunk).is_err(), "{what} accepted");
            assert_eq!(to.get_latest(b"key 10").unwrap(), None, "{what} wrote");
        }
        // A sync that never received every leaf cannot finish with the root.
        let to = Store::open(dir.path().join("partial.redb")).unwrap();
        let mut restore = to.restore(3, root).unwrap();
        restore.add_chunk(&honest).unwrap();
        assert!(restore.finish(&blocks[0], &blocks[3]).is_err());
        assert_eq!(to.committed(), None);
    }

    #[test]
    fn the_key_hash_successor_carries_and_ends_after_the_last() {
        assert_eq!(successor([0; 32]).unwrap()[31], 1);
        let mut carry = [0u8; 32];
        carry[31] = 0xff;
        let next = successor(carry).unwrap();
        assert_eq!((next[30], next[31]), (1, 0));
        assert_eq!(successor([0xff; 32]), None);
    }
}
