use std::time::Duration;

use commonware_runtime::{Runner as _, deterministic};

use crate::harness::{
    chain_of, config, genesis, network, start, transfer, user_keys, validator_keys, wait_for_height,
};

#[test]
fn one_validator_finalizes_transactions_and_each_header_commits_the_stored_root() {
    let dir = tempfile::tempdir().expect("temp dir");
    let runner = deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(7)
            .with_timeout(Some(Duration::from_secs(120))),
    );
    runner.start(|context| async move {
        let keys = validator_keys(1);
        let users = user_keys(3);
        let genesis = genesis(&keys, &users);
        let oracle = network(&context, &keys, None).await;
        let node = start(&context, &oracle, 0, config(dir.path(), &genesis, &keys[0])).await;
        let mut finalized = node.handle.subscribe();

        for (i, user) in users.iter().enumerate() {
            let to = users[(i + 1) % users.len()].account();
            for nonce in 0..5 {
                node.handle
                    .submit(transfer(&genesis, user, to, nonce))
                    .expect("admitted");
            }
        }
        assert_eq!(node.handle.mempool_len(), 15);

        // Every transaction lands in a finalized block, in height order.
        let mut included = 0;
        let mut last = 0;
        while included < 15 {
            let block = finalized.recv().await.expect("finalized block");
            assert_eq!(block.height, last + 1, "blocks arrive in height order");
            last = block.height;
            assert_eq!(block.digest, block.block.digest());
            included += block.block.txs.len();
        }
        assert_eq!(included, 15);
        wait_for_height(&context, &[&node.handle], last + 2).await;

        // Each header's state root is the store's root at that height, and the state
        // shows every transfer applied.
        let chain = chain_of(&node.handle, last + 2);
        assert_eq!(chain.len() as u64, last + 3);
        let store = node.handle.store();
        for user in &users {
            let account = plexus_ledger::query::account(store.as_ref(), &user.account())
                .expect("account reads");
            assert_eq!(account.nonce, 5);
        }
        assert_eq!(node.handle.mempool_len(), 0);
        let status = node.handle.status();
        assert!(status.finalized_height >= last + 2);
        assert_eq!(status.halted, None);
        assert!(node.handle.metrics().contains("plexus_finalized_height"));
        drop(node);
    });
}
