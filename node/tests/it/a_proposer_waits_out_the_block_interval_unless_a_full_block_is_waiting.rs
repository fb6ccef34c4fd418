use std::time::Duration;

use commonware_runtime::{Runner as _, deterministic};

use crate::harness::{config, genesis, network, start, transfer, user_keys, validator_keys};

#[test]
fn a_proposer_waits_out_the_block_interval_unless_a_full_block_is_waiting() {
    const INTERVAL_MS: u64 = 5_000;
    const MAX_TXS: usize = 4;
    let dir = tempfile::tempdir().expect("temp dir");
    let runner = deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(11)
            .with_timeout(Some(Duration::from_secs(300))),
    );
    runner.start(|context| async move {
        let keys = validator_keys(1);
        let users = user_keys(1);
        let mut genesis = genesis(&keys, &users);
        genesis.params.block_interval_ms = INTERVAL_MS;
        let oracle = network(&context, &keys, None).await;
        let mut node_config = config(dir.path(), &genesis, &keys[0]);
        node_config.max_block_txs = MAX_TXS;
        let node = start(&context, &oracle, 0, node_config).await;
        let mut finalized = node.handle.subscribe();

        // Idle: blocks come one interval apart.
        let first = finalized.recv().await.expect("block");
        let second = finalized.recv().await.expect("block");
        let idle_gap = second.block.header.timestamp_ms - first.block.header.timestamp_ms;
        assert!(idle_gap >= INTERVAL_MS, "idle blocks {idle_gap} ms apart");

        // Three full blocks' worth waiting: they go out without waiting.
        let to = keys[0].account();
        for nonce in 0..(3 * MAX_TXS as u64) {
            node.handle
                .submit(transfer(&genesis, &users[0], to, nonce))
                .expect("admitted");
        }
        let mut previous = second.block.header.timestamp_ms;
        let mut full = 0;
        while full < 3 {
            let block = finalized.recv().await.expect("block");
            let gap = block.block.header.timestamp_ms - previous;
            previous = block.block.header.timestamp_ms;
            if block.block.txs.len() == MAX_TXS {
                full += 1;
                if full > 1 {
                    assert!(gap < INTERVAL_MS, "a full block waited {gap} ms");
                }
            }
        }
        drop(node);
    });
}
