use plexus_storage::StorageError;

use crate::support::{block, commit, open, transfer, writes};

#[test]
fn committing_a_committed_block_again_returns_its_root_and_changes_nothing() {
    let (_dir, store) = open();
    let w0 = writes(&[("a", Some("1"))]);
    let g = commit(&store, &w0, Vec::new());
    let w1 = writes(&[("a", Some("2"))]);
    let b1 = commit(&store, &w1, vec![transfer("alice", 0)]);

    // Replayed after a restart, in height order: both are no-ops.
    assert_eq!(
        store.commit_genesis(&g, &w0).expect("replay 0"),
        g.header.state_root
    );
    assert_eq!(
        store.commit_block(&b1, &w1).expect("replay 1"),
        b1.header.state_root
    );
    // Even with other writes: a committed height is never re-applied.
    assert_eq!(
        store
            .commit_block(&b1, &writes(&[("z", Some("9"))]))
            .expect("replay"),
        b1.header.state_root
    );
    assert_eq!(store.committed_height(), Some(1));
    assert_eq!(store.get_latest(b"a").expect("get"), Some(b"2".to_vec()));
    assert_eq!(store.get_latest(b"z").expect("get"), None);
}

#[test]
fn a_different_block_at_a_committed_height_is_a_conflict() {
    let (_dir, store) = open();
    let g = commit(&store, &writes(&[("a", Some("1"))]), Vec::new());
    let b1 = commit(&store, &writes(&[("a", Some("2"))]), Vec::new());
    let mut other = b1.clone();
    other.header.timestamp_ms += 1;
    let err = store
        .commit_block(&other, &writes(&[("a", Some("2"))]))
        .expect_err("conflict");
    match err {
        StorageError::Conflict {
            height,
            committed,
            offered,
        } => {
            assert_eq!(height, 1);
            assert_eq!(committed, b1.digest());
            assert_eq!(offered, other.digest());
        }
        other => panic!("expected a conflict, got {other}"),
    }
    let other_genesis = block(
        0,
        g.header.parent,
        g.header.state_root,
        vec![transfer("x", 0)],
    );
    assert!(matches!(
        store.commit_genesis(&other_genesis, &writes(&[])),
        Err(StorageError::Conflict { height: 0, .. })
    ));
}

#[test]
fn reopening_the_file_gives_the_same_tip_roots_state_and_idempotence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.redb");
    let (blocks, roots) = {
        let store = plexus_storage::Store::open(&path).expect("open");
        let mut blocks = Vec::new();
        for h in 0..5u64 {
            let w = writes(&[
                ("counter", Some(&h.to_string())),
                (&format!("k{h}"), Some("v")),
            ]);
            blocks.push((commit(&store, &w, vec![transfer("alice", h)]), w));
        }
        let roots: Vec<_> = (0..5).map(|h| store.state_root(h).expect("root")).collect();
        (blocks, roots)
    };
    let store = plexus_storage::Store::open(&path).expect("reopen");
    assert_eq!(store.committed_height(), Some(4));
    assert_eq!(
        store.committed().map(|t| t.digest),
        Some(blocks[4].0.digest())
    );
    for h in 0..5u64 {
        assert_eq!(store.state_root(h).expect("root"), roots[h as usize]);
    }
    assert_eq!(
        store.get_latest(b"counter").expect("get"),
        Some(b"4".to_vec())
    );
    for (b, w) in &blocks {
        assert_eq!(
            store.commit_block(b, w).expect("replay"),
            b.header.state_root
        );
    }
    // And the chain continues.
    commit(&store, &writes(&[("counter", Some("5"))]), Vec::new());
    assert_eq!(store.committed_height(), Some(5));
}
