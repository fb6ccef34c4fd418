use std::{sync::Arc, thread};

use plexus_ledger::store::WriteSet;
use plexus_storage::verify_proof;
use plexus_types::{Block, Hash};

use crate::support::{block, open, writes};

/// A chain of 30 blocks, each moving a counter and adding a key, with the right roots
/// (computed on a scratch store).
fn chain() -> Vec<(Block, WriteSet)> {
    let (_dir, scratch) = open();
    let mut parent = Hash::ZERO;
    (0..30u64)
        .map(|h| {
            let w = writes(&[
                ("counter", Some(&h.to_string())),
                (&format!("k{h}"), Some("v")),
            ]);
            let b = block(h, parent, scratch.root_with(&w).expect("root"), Vec::new());
            scratch.commit_block(&b, &w).expect("commit");
            parent = b.digest();
            (b, w)
        })
        .collect()
}

#[test]
fn racing_finalizers_commit_each_height_once_and_readers_see_consistent_heights() {
    let chain = Arc::new(chain());
    let (_dir, store) = open();
    let store = Arc::new(store);
    let writers: Vec<_> = (0..3)
        .map(|_| {
            let (store, chain) = (Arc::clone(&store), Arc::clone(&chain));
            thread::spawn(move || {
                for (b, w) in chain.iter() {
                    assert_eq!(
                        store.commit_block(b, w).expect("commit"),
                        b.header.state_root
                    );
                }
            })
        })
        .collect();
    let reader = {
        let store = Arc::clone(&store);
        thread::spawn(move || {
            let mut last = None;
            while last < Some(29) {
                let Some(tip) = store.committed() else {
                    continue;
                };
                // The tip never moves back, and what it names is fully readable.
                assert!(Some(tip.height) >= last);
                last = Some(tip.height);
                let proof = store.prove(b"counter", Some(tip.height)).expect("prove");
                assert_eq!(proof.root, tip.root);
                let value = verify_proof(&tip.root, &proof).expect("verifies");
                assert_eq!(value, Some(tip.height.to_string().into_bytes()));
                let snapshot = store.snapshot().expect("snapshot");
                assert!(snapshot.height() >= Some(tip.height));
            }
        })
    };
    for w in writers {
        w.join().expect("writer");
    }
    reader.join().expect("reader");
    assert_eq!(store.committed_height(), Some(29));
    assert_eq!(
        store.committed().map(|t| t.digest),
        Some(chain[29].0.digest())
    );
}
