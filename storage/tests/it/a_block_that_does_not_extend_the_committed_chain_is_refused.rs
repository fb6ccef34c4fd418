use plexus_storage::StorageError;
use plexus_types::Hash;

use crate::support::{block, commit, next_block, open, writes};

#[test]
fn a_gap_in_heights_is_refused() {
    let (_dir, store) = open();
    // Nothing committed: only height 0 is accepted.
    let early = block(1, Hash::ZERO, Hash::ZERO, Vec::new());
    assert!(matches!(
        store.commit_block(&early, &writes(&[])),
        Err(StorageError::Gap {
            expected: 0,
            got: 1
        })
    ));
    let g = commit(&store, &writes(&[("a", Some("1"))]), Vec::new());
    let w = writes(&[("a", Some("3"))]);
    let skipping = block(
        2,
        g.digest(),
        store.root_with(&w).expect("root"),
        Vec::new(),
    );
    assert!(matches!(
        store.commit_block(&skipping, &w),
        Err(StorageError::Gap {
            expected: 1,
            got: 2
        })
    ));
    assert_eq!(store.committed_height(), Some(0));
}

#[test]
fn a_block_on_another_parent_is_refused() {
    let (_dir, store) = open();
    commit(&store, &writes(&[("a", Some("1"))]), Vec::new());
    let w = writes(&[("a", Some("2"))]);
    let mut fork = next_block(&store, &w, Vec::new());
    fork.header.parent = Hash([5; 32]);
    assert!(matches!(
        store.commit_block(&fork, &w),
        Err(StorageError::ParentMismatch { height: 1, .. })
    ));
    assert_eq!(store.committed_height(), Some(0));
}

#[test]
fn a_genesis_commit_needs_height_zero() {
    let (_dir, store) = open();
    let b = block(3, Hash::ZERO, Hash::ZERO, Vec::new());
    assert!(matches!(
        store.commit_genesis(&b, &writes(&[])),
        Err(StorageError::NotGenesis(3))
    ));
}
