use plexus_storage::{FinalizedRanges, Store};
use plexus_types::Hash;

use crate::support::{block, commit, next_block, open, transfer, writes};

/// `block` reads back by its height and its digest as a finalized block.
fn finalized_reads_give(store: &Store, block: &plexus_types::Block) {
    let height = block.header.height;
    assert_eq!(
        store.finalized_block(height).expect("reads").as_ref(),
        Some(block)
    );
    assert_eq!(
        store
            .finalized_block_by_digest(&block.digest())
            .expect("reads")
            .as_ref(),
        Some(block)
    );
}

/// The writes of height `h` in these tests.
fn writes_at(h: u64) -> plexus_ledger::store::WriteSet {
    writes(&[("h", Some(&h.to_string()))])
}

#[test]
fn a_held_block_reads_back_until_its_commit_moves_it_and_then_it_is_archived_once() {
    let (_dir, store) = open();
    commit(&store, &writes_at(0), Vec::new());
    let b1 = next_block(&store, &writes_at(1), vec![transfer("alice", 0)]);

    store.hold_finalized(&b1).expect("held");
    assert_eq!(store.held_count(), 1);
    finalized_reads_give(&store, &b1);
    // Held is not committed: the archive's own reads do not see it yet.
    assert_eq!(store.block(1).expect("reads"), None);
    assert_eq!(store.tx(&b1.txs[0].hash()).expect("reads"), None);
    assert_eq!(
        store.finalized_ranges().expect("ranges").ranges(),
        &[(0, 1)]
    );

    store.commit_block(&b1, &writes_at(1)).expect("commit");
    assert_eq!(store.held_count(), 0, "the commit took the block over");
    assert_eq!(store.block(1).expect("reads"), Some(b1.clone()));
    finalized_reads_give(&store, &b1);
    assert_eq!(
        store.finalized_ranges().expect("ranges").ranges(),
        &[(0, 1)]
    );

    // Holding a block at a committed height changes nothing.
    store.hold_finalized(&b1).expect("ignored");
    assert_eq!(store.held_count(), 0);
}

#[test]
fn blocks_finalized_ahead_of_execution_leave_gaps_that_show_as_missing() {
    let (_dir, store) = open();
    let genesis = commit(&store, &writes_at(0), Vec::new());
    // Consensus finalized heights 3 and 5 before 1, 2 and 4 arrived (a backfill).
    let b3 = block(3, Hash([3; 32]), Hash([33; 32]), Vec::new());
    let b5 = block(5, Hash([5; 32]), Hash([55; 32]), Vec::new());
    store.hold_finalized(&b3).expect("held");
    store.hold_finalized(&b5).expect("held");
    let ranges = store.finalized_ranges().expect("ranges");
    assert_eq!(ranges.ranges(), &[(0, 0), (3, 3), (5, 5)]);
    assert_eq!(ranges.missing(0, 10), vec![1, 2, 4]);
    assert_eq!(ranges.next_gap(0), (Some(0), Some(3)));
    assert_eq!(ranges.last(), Some(5));

    // A second block for a held height is ignored: the first finalized one stays.
    let other3 = block(3, Hash([9; 32]), Hash([99; 32]), Vec::new());
    store.hold_finalized(&other3).expect("ignored");
    assert_eq!(store.finalized_block(3).expect("reads"), Some(b3));
    assert_eq!(
        store
            .finalized_block_by_digest(&other3.digest())
            .expect("reads"),
        None
    );
    assert_eq!(store.committed().expect("tip").digest, genesis.digest());
}

#[test]
fn held_blocks_survive_a_reopen_once_synced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.redb");
    let b1;
    {
        let store = Store::open(&path).expect("open");
        commit(&store, &writes_at(0), Vec::new());
        b1 = next_block(&store, &writes_at(1), vec![transfer("bob", 0)]);
        store.hold_finalized(&b1).expect("held");
        store.sync_finalized().expect("synced");
    }
    let store = Store::open(&path).expect("reopen");
    assert_eq!(store.held_count(), 1);
    assert_eq!(store.finalized_block(1).expect("reads"), Some(b1.clone()));
    assert_eq!(
        store.finalized_ranges().expect("ranges"),
        FinalizedRanges::from_heights([0, 1])
    );
    store.commit_block(&b1, &writes_at(1)).expect("commit");
    assert_eq!(store.held_count(), 0);
}

#[test]
fn a_pruned_archive_shows_genesis_and_the_kept_heights_only() {
    let (_dir, store) = open();
    for h in 0..6 {
        commit(&store, &writes_at(h), Vec::new());
    }
    store.prune(4).expect("pruned");
    let ranges = store.finalized_ranges().expect("ranges");
    assert_eq!(ranges.ranges(), &[(0, 0), (4, 5)]);
    assert_eq!(store.finalized_block(2).expect("reads"), None);
    assert!(store.finalized_block(4).expect("reads").is_some());
}
