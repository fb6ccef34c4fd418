use plexus_ledger::store::WriteSet;

use crate::support::{commit, open, writes};

#[test]
fn the_same_writes_split_differently_reach_the_same_root() {
    let blocks = [
        writes(&[("a", Some("1")), ("b", Some("2")), ("c", Some("3"))]),
        writes(&[("b", None), ("d", Some("4"))]),
        writes(&[("a", Some("11")), ("e", Some("5")), ("x", None)]),
        writes(&[("b", Some("22"))]),
    ];

    // One block per write set.
    let (_d1, many) = open();
    for w in &blocks {
        commit(&many, w, Vec::new());
    }

    // Everything in one genesis block.
    let (_d2, one) = open();
    let mut all = WriteSet::new();
    for w in &blocks {
        all.extend(w.clone());
    }
    commit(&one, &all, Vec::new());

    // The final state only, written as inserts, after an empty genesis.
    let (_d3, flat) = open();
    commit(&flat, &WriteSet::new(), Vec::new());
    let live: WriteSet = all
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    commit(&flat, &live, Vec::new());

    assert_eq!(many.latest_root(), one.latest_root());
    assert_eq!(many.latest_root(), flat.latest_root());
}

#[test]
fn deleting_every_key_returns_the_root_of_the_empty_tree() {
    let (_d1, store) = open();
    let empty = commit(&store, &WriteSet::new(), Vec::new())
        .header
        .state_root;
    commit(
        &store,
        &writes(&[("a", Some("1")), ("b", Some("2"))]),
        Vec::new(),
    );
    assert_ne!(store.latest_root(), Some(empty));
    commit(&store, &writes(&[("a", None), ("b", None)]), Vec::new());
    assert_eq!(store.latest_root(), Some(empty));
}
