use std::{path::PathBuf, time::Duration};

use commonware_p2p::simulated::Link;
use commonware_runtime::{Clock as _, Runner as _, deterministic};
use commonware_utils::probability;
use plexus_types::{Hash, Keypair};

use crate::harness::{
    Running, chain_of, config, genesis, network, start, transfer, user_keys, validator_keys,
    wait_for_height,
};

const VALIDATORS: usize = 4;

/// Links that delay, jitter and drop messages.
fn lossy() -> Link {
    Link {
        latency: Duration::from_millis(40),
        jitter: Duration::from_millis(20),
        success_rate: probability!(0.85),
    }
}

/// Submit `count` transfers per user through validator 0 (which never crashes, so
/// no transaction is lost with a mempool); relaying lets every leader include them.
fn submit_round(
    nodes: &[Running],
    users: &[Keypair],
    genesis: &plexus_ledger::Genesis,
    first_nonce: u64,
    count: u64,
) {
    for (i, user) in users.iter().enumerate() {
        let to = users[(i + 1) % users.len()].account();
        for nonce in first_nonce..first_nonce + count {
            nodes[0]
                .handle
                .submit(transfer(genesis, user, to, nonce))
                .expect("admitted");
        }
    }
}

/// Run the whole scenario with `seed`; returns validator 0's chain and each
/// validator's chain up to the final height.
fn scenario(seed: u64) -> Vec<Vec<(u64, Hash, Hash)>> {
    let dirs: Vec<tempfile::TempDir> = (0..VALIDATORS)
        .map(|_| tempfile::tempdir().expect("temp dir"))
        .collect();
    let paths: Vec<PathBuf> = dirs.iter().map(|d| d.path().to_path_buf()).collect();
    let keys = validator_keys(VALIDATORS);
    let users = user_keys(6);
    let genesis = genesis(&keys, &users);

    // Phase one: four validators; one crashes, the others go on, it restarts and
    // catches up. The phase ends abruptly (an unclean shutdown of everyone).
    let config_one = deterministic::Config::new()
        .with_seed(seed)
        .with_timeout(Some(Duration::from_secs(900)));
    let (phase_one, checkpoint) = {
        let (paths, keys, users, genesis) =
            (paths.clone(), keys.clone(), users.clone(), genesis.clone());
        deterministic::Runner::new(config_one).start_and_recover(|context| async move {
            let oracle = network(&context, &keys, Some(lossy())).await;
            let mut nodes = Vec::new();
            for (i, key) in keys.iter().enumerate() {
                nodes.push(start(&context, &oracle, i, config(&paths[i], &genesis, key)).await);
            }
            submit_round(&nodes, &users, &genesis, 0, 2);
            wait_for_height(
                &context,
                &nodes.iter().map(|n| &n.handle).collect::<Vec<_>>(),
                4,
            )
            .await;

            // Crash validator 3.
            let crashed = nodes.pop().expect("four nodes");
            crashed.task.abort();
            drop(crashed);
            context.sleep(Duration::from_millis(100)).await;
            submit_round(&nodes, &users, &genesis, 2, 2);
            wait_for_height(
                &context,
                &nodes.iter().map(|n| &n.handle).collect::<Vec<_>>(),
                10,
            )
            .await;

            // Restart it from its storage; it catches up and the network goes on.
            nodes.push(start(&context, &oracle, 3, config(&paths[3], &genesis, &keys[3])).await);
            submit_round(&nodes, &users, &genesis, 4, 2);
            wait_for_height(
                &context,
                &nodes.iter().map(|n| &n.handle).collect::<Vec<_>>(),
                14,
            )
            .await;
            wait_for_empty_mempools(&context, &nodes).await;
            let heights: Vec<u64> = nodes
                .iter()
                .map(|n| n.handle.status().finalized_height)
                .collect();
            drop(nodes);
            heights
        })
    };
    assert!(phase_one.iter().all(|h| *h >= 14));

    // Phase two: every validator restarts from the checkpoint and its own storage.
    let final_height = 20;
    deterministic::Runner::from(checkpoint).start(|context| async move {
        let oracle = network(&context, &keys, Some(lossy())).await;
        let mut nodes = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            nodes.push(start(&context, &oracle, i, config(&paths[i], &genesis, key)).await);
        }
        submit_round(&nodes, &users, &genesis, 6, 1);
        wait_for_height(
            &context,
            &nodes.iter().map(|n| &n.handle).collect::<Vec<_>>(),
            final_height,
        )
        .await;
        wait_for_empty_mempools(&context, &nodes).await;
        let height = nodes
            .iter()
            .map(|n| n.handle.status().finalized_height)
            .min()
            .unwrap_or(final_height);
        let chains: Vec<_> = nodes.iter().map(|n| chain_of(&n.handle, height)).collect();
        // Every transfer (6 users, nonces 0 to 6) was finalized exactly once, and
        // leaders other than the validator they were submitted to included some.
        let (count, proposers) = transactions(&nodes[0], &chains[0]);
        assert_eq!(count, 6 * 7);
        assert!(
            proposers > 1,
            "only the receiving validator included transactions"
        );
        drop(nodes);
        drop(dirs);
        chains
    })
}

/// Wait (in simulated time) until every submitted transaction is finalized.
async fn wait_for_empty_mempools(context: &deterministic::Context, nodes: &[Running]) {
    while nodes.iter().any(|n| n.handle.mempool_len() > 0) {
        context.sleep(Duration::from_millis(50)).await;
    }
}

/// Transactions in the committed blocks of `chain` as stored by `node`, and how many
/// distinct validators proposed the blocks that hold them.
fn transactions(node: &Running, chain: &[(u64, Hash, Hash)]) -> (usize, usize) {
    let store = node.handle.store();
    let mut count = 0;
    let mut proposers = std::collections::BTreeSet::new();
    for (height, _, _) in chain {
        let block = store.block(*height).expect("reads").expect("committed");
        if !block.txs.is_empty() {
            proposers.insert(block.header.proposer);
        }
        count += block.txs.len();
    }
    (count, proposers.len())
}

#[test]
fn four_validators_on_lossy_links_agree_on_every_state_root_through_crashes_and_restarts() {
    let first = scenario(42);
    for chain in &first[1..] {
        assert_eq!(chain, &first[0], "validators disagree");
    }
    // The same seed ends in the same state.
    let second = scenario(42);
    assert_eq!(first, second, "the same seed must end identically");
}
