use std::collections::BTreeMap;

use plexus_ledger::store::{StateReader, WriteSet};
use plexus_storage::verify_proof;
use proptest::prelude::*;

use crate::support::{commit, open};

/// Up to 8 blocks of up to 24 writes over 48 keys; a third of the writes delete.
fn chain() -> impl Strategy<Value = Vec<WriteSet>> {
    let write = (
        0u8..48,
        prop_oneof![1 => Just(None), 2 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(Some)],
    );
    let block = proptest::collection::btree_map(
        write.clone().prop_map(|(k, _)| k),
        write.prop_map(|(_, v)| v),
        0..24,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(k, v)| (key(k), v))
            .collect::<WriteSet>()
    });
    proptest::collection::vec(block, 1..8)
}

fn key(k: u8) -> Vec<u8> {
    format!("key/{k}").into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn committed_heights_match_a_fresh_store_holding_the_final_state_and_proofs_verify(blocks in chain()) {
        let (_d1, store) = open();
        let mut model = BTreeMap::<Vec<u8>, Vec<u8>>::new();
        let mut history = Vec::new();
        for w in &blocks {
            commit(&store, w, Vec::new());
            for (k, v) in w {
                match v {
                    Some(v) => { model.insert(k.clone(), v.clone()); }
                    None => { model.remove(k); }
                }
            }
            history.push(model.clone());
        }

        // A fresh store with the final state written in one block has the same root.
        let (_d2, fresh) = open();
        let final_state: WriteSet = model.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
        commit(&fresh, &final_state, Vec::new());
        prop_assert_eq!(store.latest_root(), fresh.latest_root());

        // Every key's proof verifies at every height and matches the model.
        for (height, state) in history.iter().enumerate() {
            let height = height as u64;
            let root = store.state_root(height).expect("root").expect("committed");
            for k in (0u8..48).map(key) {
                let proof = store.prove(&k, Some(height)).expect("prove");
                let proven = verify_proof(&root, &proof).expect("verifies");
                prop_assert_eq!(&proven, &state.get(&k).cloned());
                prop_assert_eq!(&store.get_at(&k, height).expect("get_at"), &proven);
            }
        }
        // The latest table agrees with the model.
        let snapshot = store.snapshot().expect("snapshot");
        for k in (0u8..48).map(key) {
            prop_assert_eq!(&store.get(&k).expect("get"), &model.get(&k).cloned());
            prop_assert_eq!(&snapshot.get(&k).expect("get"), &model.get(&k).cloned());
        }
    }
}
