//! The redb tables and the byte layout of their keys and values.
//!
//! | table | key | value |
//! |---|---|---|
//! | `jmt_nodes` | version (u64 BE) ‖ borsh(nibble path) | borsh(`jmt::storage::Node`) |
//! | `jmt_values` | sha256(key) ‖ version (u64 BE) | 0 (deleted) or 1 ‖ value |
//! | `state_latest` | state key | value (absent keys are removed) |
//! | `block_headers` | height | encoded `BlockHeader` |
//! | `block_txs` | (height, index) | encoded `SignedTransaction` |
//! | `block_heights` | block digest | height |
//! | `tx_index` | transaction hash | (height, index) |
//! | `state_roots` | height | state root after that block |
//! | `state_keys` | sha256(key) | state key (the preimage, for state sync) |
//! | `stale_nodes` | version it went stale at (u64 BE) ‖ `jmt_nodes` key | empty |
//! | `stale_values` | version it went stale at (u64 BE) ‖ `jmt_values` key | empty |
//! | `meta` | name | u64 (`schema`, `committed_height`) |
//!
//! Versions of the tree are block heights. Every version is kept unless the node
//! prunes ([`crate::Store::prune`]): the stale tables say which nodes and value
//! entries a version replaced, so pruning up to a height deletes exactly what no
//! kept version reads, and `meta`'s `oldest_height` records the first kept height.

use jmt::{KeyHash, Version, storage::NodeKey};
use redb::TableDefinition;

/// Tree nodes by node key.
pub(crate) const NODES: TableDefinition<'static, &[u8], &[u8]> = TableDefinition::new("jmt_nodes");
/// Value history by key hash and version.
pub(crate) const VALUES: TableDefinition<'static, &[u8], &[u8]> =
    TableDefinition::new("jmt_values");
/// The latest committed value of every live key.
pub(crate) const LATEST: TableDefinition<'static, &[u8], &[u8]> =
    TableDefinition::new("state_latest");
/// Finalized block headers by height.
pub(crate) const HEADERS: TableDefinition<'static, u64, &[u8]> =
    TableDefinition::new("block_headers");
/// Finalized transactions by height and position.
pub(crate) const BLOCK_TXS: TableDefinition<'static, (u64, u32), &[u8]> =
    TableDefinition::new("block_txs");
/// Block heights by block digest.
pub(crate) const HEIGHTS: TableDefinition<'static, &[u8; 32], u64> =
    TableDefinition::new("block_heights");
/// Transaction positions by transaction hash.
pub(crate) const TX_INDEX: TableDefinition<'static, &[u8; 32], (u64, u32)> =
    TableDefinition::new("tx_index");
/// State roots by height.
pub(crate) const ROOTS: TableDefinition<'static, u64, &[u8; 32]> =
    TableDefinition::new("state_roots");
/// Named counters.
pub(crate) const META: TableDefinition<'static, &str, u64> = TableDefinition::new("meta");
/// Preimages of the tree's key hashes: state sync serves leaves with their keys.
pub(crate) const KEYS: TableDefinition<'static, &[u8; 32], &[u8]> =
    TableDefinition::new("state_keys");

/// `meta` entry: the layout version of this file.
pub(crate) const META_SCHEMA: &str = "schema";
/// `meta` entry: the last committed height (absent before genesis).
pub(crate) const META_COMMITTED: &str = "committed_height";
/// `meta` entry: the first height whose state and block are kept (absent: 0).
pub(crate) const META_OLDEST: &str = "oldest_height";
/// Tree nodes by the version that replaced them.
pub(crate) const STALE_NODES: TableDefinition<'static, &[u8], &[u8]> =
    TableDefinition::new("stale_nodes");
/// Value-history entries by the version that replaced them.
pub(crate) const STALE_VALUES: TableDefinition<'static, &[u8], &[u8]> =
    TableDefinition::new("stale_values");

/// A stale-table key: the version something went stale at, then its own key.
pub(crate) fn stale_key(since: Version, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + key.len());
    out.extend_from_slice(&since.to_be_bytes());
    out.extend_from_slice(key);
    out
}
/// The layout version this code writes.
pub(crate) const SCHEMA_VERSION: u64 = 1;

/// The `jmt_nodes` key of a node: version first, so a pruner can walk by version.
pub(crate) fn node_key(key: &NodeKey) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::with_capacity(8 + 1 + 33);
    out.extend_from_slice(&key.version().to_be_bytes());
    borsh::to_writer(&mut out, key.nibble_path())?;
    Ok(out)
}

/// The `jmt_values` key of a key hash at a version.
pub(crate) fn value_key(key_hash: KeyHash, version: Version) -> [u8; 40] {
    let mut out = [0u8; 40];
    out[..32].copy_from_slice(&key_hash.0);
    out[32..].copy_from_slice(&version.to_be_bytes());
    out
}

/// The value `key_hash` held as of `version` in the value history: `Ok(None)` when
/// it held none (never written, or deleted), `Err` when the entry does not decode.
pub(crate) fn value_as_of(
    values: &impl redb::ReadableTable<&'static [u8], &'static [u8]>,
    key_hash: KeyHash,
    version: Version,
) -> Result<Option<Vec<u8>>, crate::StorageError> {
    let low = value_key(key_hash, 0);
    let high = value_key(key_hash, version);
    let Some(entry) = values.range(low.as_slice()..=high.as_slice())?.next_back() else {
        return Ok(None);
    };
    let (_, bytes) = entry?;
    decode_value(bytes.value())
        .ok_or_else(|| crate::StorageError::Corrupt("undecodable value history entry".into()))
}

/// Encode a value-history entry.
pub(crate) fn encode_value(value: Option<&[u8]>) -> Vec<u8> {
    match value {
        None => vec![0],
        Some(value) => {
            let mut out = Vec::with_capacity(1 + value.len());
            out.push(1);
            out.extend_from_slice(value);
            out
        }
    }
}

/// Decode a value-history entry; `None` when the tag is not 0 or 1.
pub(crate) fn decode_value(bytes: &[u8]) -> Option<Option<Vec<u8>>> {
    match bytes.split_first() {
        Some((0, [])) => Some(None),
        Some((1, value)) => Some(Some(value.to_vec())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_entries_round_trip_and_bad_tags_are_refused() {
        assert_eq!(decode_value(&encode_value(None)), Some(None));
        assert_eq!(decode_value(&encode_value(Some(b""))), Some(Some(vec![])));
        assert_eq!(
            decode_value(&encode_value(Some(b"xy"))),
            Some(Some(b"xy".to_vec()))
        );
        assert_eq!(decode_value(&[]), None);
        assert_eq!(decode_value(&[0, 1]), None);
        assert_eq!(decode_value(&[2]), None);
    }

    #[test]
    fn value_keys_order_by_key_hash_then_version() {
        let a = KeyHash([1; 32]);
        let b = KeyHash([2; 32]);
        assert!(value_key(a, 1) < value_key(a, 2));
        assert!(value_key(a, 256) < value_key(a, 257));
        assert!(value_key(a, u64::MAX) < value_key(b, 0));
    }
}
