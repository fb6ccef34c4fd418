use std::time::Duration;

use commonware_consensus::{Reporter as _, marshal::Update};
use commonware_cryptography::{Digested, Digestible as _};
use commonware_runtime::{Runner as _, deterministic};
use commonware_utils::{Acknowledgement as _, acknowledgement::Exact};
use plexus_node::engine::ConsensusBlock;

use crate::harness::{config, genesis, network, start, user_keys, validator_keys, wait_for_height};

#[test]
fn a_block_delivered_twice_is_applied_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let runner = deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(3)
            .with_timeout(Some(Duration::from_secs(60))),
    );
    runner.start(|context| async move {
        let keys = validator_keys(1);
        let genesis = genesis(&keys, &user_keys(1));
        let oracle = network(&context, &keys, None).await;
        let node = start(&context, &oracle, 0, config(dir.path(), &genesis, &keys[0])).await;
        wait_for_height(&context, &[&node.handle], 3).await;

        let store = node.handle.store();
        let block = store
            .block(2)
            .expect("store reads")
            .expect("block 2 committed");
        let root = store.state_root(2).expect("store reads");
        let wrapped = ConsensusBlock::new(block.clone()).expect("wraps");
        let digest = wrapped.digest();
        let mut events = node.handle.subscribe();
        let mut finalizer = node.handle.finalizer();

        // Redeliver block 2 twice, as marshal does after a restart: each delivery is
        // acknowledged and changes nothing.
        for _ in 0..2 {
            let (ack, waiter) = Exact::handle();
            assert!(
                finalizer
                    .report(Update::Block(
                        Digested::precomputed(wrapped.clone(), digest),
                        ack
                    ))
                    .accepted()
            );
            waiter.await.expect("redelivered block acknowledged");
        }
        assert_eq!(store.state_root(2).expect("store reads"), root);
        assert_eq!(store.block(2).expect("store reads"), Some(block));

        // The chain keeps going, and no block is published twice.
        let before = node.handle.status().finalized_height;
        wait_for_height(&context, &[&node.handle], before + 2).await;
        let mut heights = Vec::new();
        while let Ok(event) = events.try_recv() {
            heights.push(event.height);
        }
        assert!(!heights.is_empty());
        assert!(heights.iter().all(|h| *h > before));
        assert!(heights.windows(2).all(|w| w[1] == w[0] + 1));
        drop(node);
    });
}
