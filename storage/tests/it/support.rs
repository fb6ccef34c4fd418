//! Blocks, write sets and stores for the tests.

use plexus_ledger::store::WriteSet;
use plexus_storage::Store;
use plexus_types::{
    AccountId, Block, BlockHeader, Hash, Keypair, Payload, SignedTransaction, Transaction,
    block::tx_root,
};
use tempfile::TempDir;

/// A fresh store in a temporary directory (kept alive by the returned guard).
pub(crate) fn open() -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("state.redb")).expect("open store");
    (dir, store)
}

/// A write set from string pairs; `None` deletes.
pub(crate) fn writes(entries: &[(&str, Option<&str>)]) -> WriteSet {
    entries
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
        .collect()
}

/// A signed transfer from the key named `label`.
pub(crate) fn transfer(label: &str, nonce: u64) -> SignedTransaction {
    let key = Keypair::from_label(label);
    Transaction {
        chain_id: 1,
        sender: key.account(),
        nonce,
        fee: 1,
        payload: Payload::Transfer {
            to: AccountId([7; 32]),
            amount: 10 + nonce,
        },
    }
    .sign(&key)
}

/// A block at `height` on `parent` that claims `state_root`.
pub(crate) fn block(
    height: u64,
    parent: Hash,
    state_root: Hash,
    txs: Vec<SignedTransaction>,
) -> Block {
    Block {
        header: BlockHeader {
            chain_id: 1,
            height,
            parent,
            timestamp_ms: 1_700_000_000_000 + height,
            proposer: AccountId([3; 32]),
            tx_root: tx_root(&txs),
            state_root,
            consensus: Vec::new(),
        },
        txs,
    }
}

/// The block that extends the store's tip with `writes` and `txs`, with the right root.
pub(crate) fn next_block(store: &Store, writes: &WriteSet, txs: Vec<SignedTransaction>) -> Block {
    let (height, parent) = match store.committed() {
        Some(tip) => (tip.height + 1, tip.digest),
        None => (0, Hash::ZERO),
    };
    let root = store.root_with(writes).expect("root_with");
    block(height, parent, root, txs)
}

/// Build, commit and return the next block.
pub(crate) fn commit(store: &Store, writes: &WriteSet, txs: Vec<SignedTransaction>) -> Block {
    let block = next_block(store, writes, txs);
    let root = store.commit_block(&block, writes).expect("commit");
    assert_eq!(root, block.header.state_root);
    block
}
