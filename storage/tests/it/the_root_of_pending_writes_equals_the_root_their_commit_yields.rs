use plexus_ledger::store::WriteSet;
use plexus_storage::StorageError;

use crate::support::{block, commit, open, writes};

#[test]
fn root_with_predicts_the_root_of_each_commit_and_writes_nothing() {
    let (_dir, store) = open();
    assert_eq!(store.committed_height(), None);
    assert_eq!(store.latest_root(), None);

    let genesis_writes = writes(&[("alice", Some("100")), ("bob", Some("50"))]);
    let predicted = store.root_with(&genesis_writes).expect("root_with");
    // Predicting writes nothing.
    assert_eq!(store.committed_height(), None);
    assert_eq!(store.get_latest(b"alice").expect("get"), None);
    let genesis = block(0, plexus_types::Hash::ZERO, predicted, Vec::new());
    assert_eq!(
        store
            .commit_genesis(&genesis, &genesis_writes)
            .expect("genesis"),
        predicted
    );
    assert_eq!(store.state_root(0).expect("root"), Some(predicted));
    assert_eq!(store.latest_root(), Some(predicted));

    // Inserts, updates, deletions, deletions of absent keys, and an empty block.
    for w in [
        writes(&[("carol", Some("1"))]),
        writes(&[("alice", Some("99")), ("bob", None), ("nobody", None)]),
        WriteSet::new(),
        writes(&[("bob", Some("5")), ("carol", None)]),
    ] {
        let predicted = store.root_with(&w).expect("root_with");
        let b = commit(&store, &w, Vec::new());
        assert_eq!(b.header.state_root, predicted);
        assert_eq!(store.latest_root(), Some(predicted));
    }
    assert_eq!(store.committed_height(), Some(4));
}

#[test]
fn cumulative_pending_writes_of_several_unfinalized_blocks_give_the_root_of_the_last() {
    let (_dir, store) = open();
    commit(
        &store,
        &writes(&[("a", Some("1")), ("b", Some("2"))]),
        Vec::new(),
    );

    // Two unfinalized blocks: their cumulative writes (later wins) give block 2's root.
    let w1 = writes(&[("a", Some("10")), ("c", Some("3"))]);
    let w2 = writes(&[("c", None), ("d", Some("4"))]);
    let mut cumulative = w1.clone();
    cumulative.extend(w2.clone());
    let pending_root = store.root_with(&cumulative).expect("root_with");

    commit(&store, &w1, Vec::new());
    // After block 1 is finalized, the same cumulative set still gives the same root.
    assert_eq!(
        store.root_with(&cumulative).expect("root_with"),
        pending_root
    );
    let b2 = commit(&store, &w2, Vec::new());
    assert_eq!(b2.header.state_root, pending_root);
}

#[test]
fn a_block_whose_header_root_is_not_the_root_of_its_writes_is_refused_and_nothing_is_written() {
    let (_dir, store) = open();
    let g = commit(&store, &writes(&[("a", Some("1"))]), Vec::new());
    let w = writes(&[("a", Some("2"))]);
    let wrong = block(1, g.digest(), plexus_types::Hash([1; 32]), Vec::new());
    let err = store.commit_block(&wrong, &w).expect_err("wrong root");
    assert!(
        matches!(err, StorageError::RootMismatch { height: 1, .. }),
        "{err}"
    );
    assert_eq!(store.committed_height(), Some(0));
    assert_eq!(store.get_latest(b"a").expect("get"), Some(b"1".to_vec()));
    // The right block still commits.
    commit(&store, &w, Vec::new());
    assert_eq!(store.get_latest(b"a").expect("get"), Some(b"2".to_vec()));
}
