use std::time::Duration;

use commonware_runtime::{Runner as _, Storage as _, deterministic};
use plexus_node::MIN_PRUNE_KEEP;

use crate::harness::{config, genesis, network, start, user_keys, validator_keys, wait_for_height};

/// Heights between two prunes (the node's `PRUNE_EVERY`).
const PRUNE_EVERY: u64 = 64;

#[test]
fn a_pruning_node_keeps_a_bounded_window_of_state_blocks_and_certificates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let runner = deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(11)
            .with_timeout(Some(Duration::from_secs(900))),
    );
    runner.start(|context| async move {
        let keys = validator_keys(1);
        let genesis = genesis(&keys, &user_keys(1));
        let oracle = network(&context, &keys, None).await;
        let mut settings = config(dir.path(), &genesis, &keys[0]);
        settings.prune = Some(MIN_PRUNE_KEEP);
        let partition = format!("plexus_{}", hex::encode(&keys[0].account().0[..8]));
        let node = start(&context, &oracle, 0, settings).await;

        let target = MIN_PRUNE_KEEP + 4 * PRUNE_EVERY + 1;
        wait_for_height(&context, &[&node.handle], target).await;
        let tip = node.handle.status().finalized_height;
        let store = node.handle.store();
        let oldest = store.oldest_height().expect("reads");
        assert!(
            oldest + MIN_PRUNE_KEEP + PRUNE_EVERY >= tip && oldest + MIN_PRUNE_KEEP <= tip,
            "keeps between {MIN_PRUNE_KEEP} and {} heights: oldest {oldest}, tip {tip}",
            MIN_PRUNE_KEEP + PRUNE_EVERY
        );

        // Blocks: genesis's header and the kept window.
        assert!(store.block(1).expect("reads").is_none());
        assert!(store.block(oldest).expect("reads").is_some());
        assert_eq!(
            store.finalized_ranges().expect("ranges").ranges()[1].0,
            oldest
        );

        // Certificates: the old ones are gone with their blocks, the recent ones kept.
        assert_eq!(node.handle.finalization(1).await, None);
        assert_eq!(node.handle.finalization(PRUNE_EVERY).await, None);
        assert!(node.handle.finalization(tip).await.is_some());
        assert!(
            node.handle
                .finalization(oldest + PRUNE_EVERY)
                .await
                .is_some()
        );
        let sections = context
            .scan(&format!("{partition}-finalizations-pruned-value"))
            .await
            .expect("the pruning node keeps certificates in the prunable archive");
        assert!(
            sections.len() as u64 <= (MIN_PRUNE_KEEP + PRUNE_EVERY) / PRUNE_EVERY + 1,
            "{} certificate sections for a window of {MIN_PRUNE_KEEP} heights",
            sections.len()
        );
        assert!(
            context
                .scan(&format!("{partition}-finalizations-freezer-value"))
                .await
                .is_err(),
            "no unprunable certificate archive"
        );
    });
}
