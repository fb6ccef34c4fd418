//! Pruning: delete the state versions and blocks below a height, keeping the disk
//! bounded on nodes that do not serve history.
//!
//! Every commit records what its version replaced (`stale_nodes`, `stale_values`):
//! a node or value entry replaced at version `v` is read only by versions below `v`.
//! Pruning up to height `h` deletes everything replaced at or below `h`, the blocks
//! below `h` (genesis's header stays: a node checks its genesis against it), their
//! transaction index entries and roots, and records `h` as the oldest kept height, so
//! reads and proofs below it fail with [`StorageError::Pruned`] instead of with a
//! missing node.

use plexus_types::{BlockHeader, Decode as _, SignedTransaction};
use redb::{ReadableDatabase as _, ReadableTable as _};

use crate::{
    StorageError, Store,
    tables::{
        self, BLOCK_TXS, HEADERS, HEIGHTS, META, NODES, ROOTS, STALE_NODES, STALE_VALUES, TX_INDEX,
        VALUES,
    },
};

/// What one call to [`Store::prune`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// The first height kept now.
    pub oldest: u64,
    /// Tree nodes deleted.
    pub nodes: u64,
    /// Value-history entries deleted.
    pub values: u64,
    /// Blocks deleted.
    pub blocks: u64,
}

impl Store {
    /// The first height whose state and block are kept (0 until pruned).
    pub fn oldest_height(&self) -> Result<u64, StorageError> {
        let txn = self.db.begin_read()?;
        Ok(txn
            .open_table(META)?
            .get(tables::META_OLDEST)?
            .map_or(0, |v| v.value()))
    }

    /// Keep the state versions and blocks from `keep_from` (at most the committed
    /// height) and delete the rest, in one durable transaction.
    pub fn prune(&self, keep_from: u64) -> Result<Pruned, StorageError> {
        let txn = self.db.begin_write()?;
        let mut done = Pruned::default();
        {
            let mut meta = txn.open_table(META)?;
            let Some(committed) = meta.get(tables::META_COMMITTED)?.map(|v| v.value()) else {
                return Ok(done);
            };
            let oldest = meta.get(tables::META_OLDEST)?.map_or(0, |v| v.value());
            let keep_from = keep_from.min(committed);
            done.oldest = oldest.max(keep_from);
            if keep_from <= oldest {
                return Ok(done);
            }
            // Everything replaced at a version up to `keep_from`.
            let end = tables::stale_key(keep_from + 1, &[]);
            let mut stale_nodes = txn.open_table(STALE_NODES)?;
            let mut nodes = txn.open_table(NODES)?;
            for entry in stale_nodes.extract_from_if(..end.as_slice(), |_, _| true)? {
                let (key, _) = entry?;
                if nodes.remove(&key.value()[8..])?.is_some() {
                    done.nodes += 1;
                }
            }
            let mut stale_values = txn.open_table(STALE_VALUES)?;
            let mut values = txn.open_table(VALUES)?;
            for entry in stale_values.extract_from_if(..end.as_slice(), |_, _| true)? {
                let (key, _) = entry?;
                if values.remove(&key.value()[8..])?.is_some() {
                    done.values += 1;
                }
            }
            // The blocks below, but genesis's header.
            let mut headers = txn.open_table(HEADERS)?;
            let mut heights = txn.open_table(HEIGHTS)?;
            let mut roots = txn.open_table(ROOTS)?;
            let mut block_txs = txn.open_table(BLOCK_TXS)?;
            let mut tx_index = txn.open_table(TX_INDEX)?;
            for height in oldest.max(1)..keep_from {
                if let Some(header) = headers.remove(height)? {
                    let digest = BlockHeader::decode(header.value())
                        .map_err(|e| StorageError::Corrupt(format!("header at {height}: {e}")))?
                        .digest();
                    heights.remove(&digest.0)?;
                    done.blocks += 1;
                }
                roots.remove(height)?;
                for entry in
                    block_txs.extract_from_if((height, 0)..=(height, u32::MAX), |_, _| true)?
                {
                    let (_, tx) = entry?;
                    let hash = SignedTransaction::decode(tx.value())
                        .map_err(|e| {
                            StorageError::Corrupt(format!("transaction at {height}: {e}"))
                        })?
                        .hash();
                    tx_index.remove(&hash.0)?;
                }
            }
            meta.insert(tables::META_OLDEST, keep_from)?;
        }
        txn.commit()?;
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use plexus_ledger::store::WriteSet;
    use plexus_types::{Block, Hash};
    use redb::ReadableTableMetadata as _;

    use super::*;
    use crate::verify_proof;

    /// Height `h`'s writes: keys updated, inserted and deleted at different rates.
    fn writes(h: u64) -> WriteSet {
        let mut w = WriteSet::new();
        for i in 0..40u64 {
            let key = format!("key {i}").into_bytes();
            match (h, i % 5) {
                (0, _) => {
                    w.insert(key, Some(format!("v{i}@0").into_bytes()));
                }
                (h, 0) => {
                    w.insert(key, Some(format!("v{i}@{h}").into_bytes()));
                }
                (h, 1) if h % 3 == 0 => {
                    w.insert(key, None);
                }
                (h, 1) if h % 3 == 1 => {
                    w.insert(key, Some(format!("back {i}@{h}").into_bytes()));
                }
                _ => {}
            }
        }
        w.insert(format!("new at {h}").into_bytes(), Some(vec![1]));
        w
    }

    fn commit(store: &Store, h: u64, parent: Hash) -> Block {
        let w = writes(h);
        let block = crate::store::tests::block(h, parent, store.root_with(&w).unwrap());
        store.commit_block(&block, &w).unwrap();
        block
    }

    fn nodes(store: &Store) -> u64 {
        let txn = store.db.begin_read().unwrap();
        txn.open_table(NODES).unwrap().len().unwrap()
    }

    #[test]
    fn a_pruned_store_serves_and_proves_every_kept_height_refuses_older_ones_and_keeps_committing()
    {
        let dir = tempfile::tempdir().unwrap();
        let pruned = Store::open(dir.path().join("pruned.redb")).unwrap();
        let archive = Store::open(dir.path().join("archive.redb")).unwrap();
        let mut parent = Hash::ZERO;
        for h in 0..50 {
            parent = commit(&pruned, h, parent).digest();
            commit(
                &archive,
                h,
                if h == 0 {
                    Hash::ZERO
                } else {
                    archive.block(h - 1).unwrap().unwrap().digest()
                },
            );
        }
        let before = nodes(&pruned);
        let done = pruned.prune(30).unwrap();
        assert_eq!(done.oldest, 30);
        assert_eq!(done.blocks, 29, "blocks 1 to 29");
        assert!(nodes(&pruned) < before && done.nodes > 0, "{done:?}");
        assert!(done.values > 0, "{done:?}");
        assert_eq!(pruned.oldest_height().unwrap(), 30);

        for h in 30..50u64 {
            let root = archive.state_root(h).unwrap().unwrap();
            assert_eq!(pruned.state_root(h).unwrap(), Some(root));
            for i in [0u64, 1, 2, 5, 6] {
                let key = format!("key {i}").into_bytes();
                let expected = archive.get_at(&key, h).unwrap();
                assert_eq!(pruned.get_at(&key, h).unwrap(), expected, "key {i} at {h}");
                let proof = pruned.prove(&key, Some(h)).unwrap();
                assert_eq!(verify_proof(&root, &proof).unwrap(), expected);
            }
        }
        for h in [1u64, 10, 29] {
            assert!(matches!(
                pruned.get_at(b"key 0", h),
                Err(StorageError::Pruned { height, oldest: 30 }) if height == h
            ));
            assert!(matches!(
                pruned.prove(b"key 0", Some(h)),
                Err(StorageError::Pruned { .. })
            ));
            assert!(pruned.block(h).unwrap().is_none());
        }
        assert!(pruned.block(0).unwrap().is_some(), "genesis's header stays");
        assert!(pruned.state_chunk(29, None, 10).is_err());
        assert!(pruned.state_chunk(30, None, 10).is_ok());

        // Pruning again below the oldest height does nothing; the chain goes on.
        assert_eq!(pruned.prune(20).unwrap().nodes, 0);
        for h in 50..60 {
            parent = commit(&pruned, h, parent).digest();
            commit(&archive, h, archive.block(h - 1).unwrap().unwrap().digest());
            assert_eq!(pruned.latest_root(), archive.latest_root(), "height {h}");
        }
        pruned.prune(55).unwrap();
        assert_eq!(pruned.latest_root(), archive.latest_root());
        for h in 55..60 {
            let key = b"key 5".to_vec();
            assert_eq!(
                pruned.get_at(&key, h).unwrap(),
                archive.get_at(&key, h).unwrap()
            );
        }
    }
}
