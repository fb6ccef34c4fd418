//! The Jellyfish Merkle tree over redb tables: jmt reads nodes and value history
//! through [`TreeView`], and hands back batches that the store writes itself.

use anyhow::{Context, bail};
use jmt::{
    KeyHash, OwnedValue, RootHash, Sha256Jmt, Version,
    storage::{LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch},
};
use plexus_ledger::store::WriteSet;
use redb::ReadableTable;

use crate::{proof::key_hash, tables};

/// jmt's view of the tree: the node table and the value-history table, read inside
/// one redb transaction (read or write), so every read sees one consistent state.
pub(crate) struct TreeView<N, V> {
    /// `jmt_nodes`.
    pub(crate) nodes: N,
    /// `jmt_values`.
    pub(crate) values: V,
}

impl<N, V> TreeReader for TreeView<N, V>
where
    N: ReadableTable<&'static [u8], &'static [u8]>,
    V: ReadableTable<&'static [u8], &'static [u8]>,
{
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let key = tables::node_key(node_key)?;
        match self.nodes.get(key.as_slice())? {
            Some(bytes) => Ok(Some(
                borsh::from_slice(bytes.value()).context("undecodable tree node")?,
            )),
            None => Ok(None),
        }
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(tables::value_as_of(&self.values, key_hash, max_version)?)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only jmt's snapshot restore asks for this; the store never restores.
        bail!("restoring a tree from a snapshot is not supported")
    }
}

impl<N, V> TreeView<N, V>
where
    N: ReadableTable<&'static [u8], &'static [u8]>,
    V: ReadableTable<&'static [u8], &'static [u8]>,
{
    /// Apply `writes` on top of the tree at `version - 1` (the empty tree for version
    /// 0), as version `version`, without writing: the new root and what to persist.
    pub(crate) fn apply(
        &self,
        writes: &WriteSet,
        version: Version,
    ) -> anyhow::Result<(RootHash, TreeUpdateBatch)> {
        let tree = Sha256Jmt::new(self);
        if !writes.is_empty() && writes.values().all(Option::is_some) {
            // Insertions only: jmt's batch path hashes each new node once instead of
            // once per key below it. Both paths give the same root (the root depends on
            // content only), which the tests check.
            let set = writes
                .iter()
                .filter_map(|(key, value)| value.as_ref().map(|v| (key_hash(key), v.clone())))
                .collect();
            let (mut roots, batch) = tree.batch_put_value_sets(vec![set], None, version)?;
            let root = roots.pop().context("jmt returned no root")?;
            Ok((root, batch))
        } else {
            let set = writes
                .iter()
                .map(|(key, value)| (key_hash(key), value.clone()));
            tree.put_value_set(set, version)
        }
    }
}

#[cfg(test)]
mod tests {
    use redb::{Database, ReadableDatabase};

    use super::*;
    use crate::tables::{NODES, VALUES};

    fn set(range: std::ops::Range<u32>, tag: &str) -> WriteSet {
        range
            .map(|i| {
                (
                    format!("k{i}").into_bytes(),
                    Some(format!("{tag}{i}").into_bytes()),
                )
            })
            .collect()
    }

    #[test]
    fn the_batch_path_and_the_per_key_path_give_the_same_root_on_a_populated_tree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::create(dir.path().join("t.redb")).expect("db");
        let txn = db.begin_write().expect("write");
        {
            let view = TreeView {
                nodes: txn.open_table(NODES).expect("nodes"),
                values: txn.open_table(VALUES).expect("values"),
            };
            let (_, batch) = view.apply(&set(0..300, "a"), 0).expect("apply");
            let TreeView {
                mut nodes,
                mut values,
            } = view;
            for (key, node) in batch.node_batch.nodes() {
                let key = tables::node_key(key).expect("key");
                let node = borsh::to_vec(node).expect("node");
                nodes
                    .insert(key.as_slice(), node.as_slice())
                    .expect("insert");
            }
            for ((version, key_hash), value) in batch.node_batch.values() {
                let key = tables::value_key(*key_hash, *version);
                let value = tables::encode_value(value.as_deref());
                values
                    .insert(key.as_slice(), value.as_slice())
                    .expect("insert");
            }
        }
        txn.commit().expect("commit");

        let txn = db.begin_read().expect("read");
        let view = TreeView {
            nodes: txn.open_table(NODES).expect("nodes"),
            values: txn.open_table(VALUES).expect("values"),
        };
        // Updates of half the keys and as many new keys, inserts only: the batch path.
        let writes = set(150..450, "b");
        let (batch_root, _) = view.apply(&writes, 1).expect("batch path");
        let per_key = writes.iter().map(|(k, v)| (key_hash(k), v.clone()));
        let (per_key_root, _) = Sha256Jmt::new(&view)
            .put_value_set(per_key, 1)
            .expect("per-key path");
        assert_eq!(batch_root, per_key_root);
    }
}
