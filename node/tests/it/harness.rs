//! Start validators in the deterministic runtime over the simulated network.

use std::{path::Path, time::Duration};

use commonware_p2p::simulated::{self, Link, Oracle};
use commonware_runtime::{Clock as _, Handle, Spawner as _, Supervisor as _, deterministic};
use commonware_utils::NZUsize;
use futures::channel::oneshot;
use plexus_ledger::{Genesis, genesis::GenesisAccount, genesis::GenesisValidator};
use plexus_node::{
    NodeConfig, NodeHandle,
    engine::{
        self, BACKFILL, BROADCAST, CERTIFICATES, Channels, PublicKey, RESOLVER, TRANSACTIONS, VOTES,
    },
};
use plexus_types::{AccountId, Hash, Keypair, PLX, Payload, SignedTransaction, Transaction};

/// Block interval of test chains: short, so simulated time stays small.
pub(crate) const INTERVAL_MS: u64 = 200;

/// Deterministic validator keys.
pub(crate) fn validator_keys(n: usize) -> Vec<Keypair> {
    (0..n)
        .map(|i| Keypair::from_label(&format!("test validator {i}")))
        .collect()
}

/// Deterministic funded user keys.
pub(crate) fn user_keys(n: usize) -> Vec<Keypair> {
    (0..n)
        .map(|i| Keypair::from_label(&format!("test user {i}")))
        .collect()
}

/// A genesis with these validators and these users funded with 1,000 PLX each.
pub(crate) fn genesis(validators: &[Keypair], users: &[Keypair]) -> Genesis {
    let mut genesis = Genesis::development(validators[0].account());
    genesis.params.block_interval_ms = INTERVAL_MS;
    genesis.validators = validators
        .iter()
        .map(|k| GenesisValidator {
            public_key: k.account(),
            bond: 0,
        })
        .collect();
    genesis.accounts = users
        .iter()
        .map(|k| GenesisAccount {
            address: k.account(),
            balance: 1_000 * PLX,
        })
        .collect();
    genesis
}

/// A signed transfer of one base unit from `from` to `to`.
pub(crate) fn transfer(
    genesis: &Genesis,
    from: &Keypair,
    to: AccountId,
    nonce: u64,
) -> SignedTransaction {
    let payload = Payload::Transfer { to, amount: 1 };
    Transaction {
        chain_id: genesis.chain_id,
        sender: from.account(),
        nonce,
        fee: genesis.params.min_fee_for(&payload),
        payload,
    }
    .sign(from)
}

/// The simulated network for `keys`, started, with `link` between every pair.
pub(crate) async fn network(
    context: &deterministic::Context,
    keys: &[Keypair],
    link: Option<Link>,
) -> Oracle<PublicKey, deterministic::Context> {
    let peers: Vec<PublicKey> = keys
        .iter()
        .map(|k| engine::public_key(&k.account()).expect("valid key"))
        .collect();
    let (network, oracle) = simulated::Network::new_with_peers(
        context.child("network"),
        simulated::Config {
            max_size: engine::max_message_size(keys.len()),
            max_peers_per_set: NZUsize!(keys.len()),
            disconnect_on_block: true,
            tracked_peer_sets: NZUsize!(1),
        },
        peers.clone(),
    )
    .await;
    network.start();
    if let Some(link) = link {
        for a in &peers {
            for b in &peers {
                if a != b {
                    oracle
                        .add_link(a.clone(), b.clone(), link.clone())
                        .await
                        .expect("link added");
                }
            }
        }
    }
    oracle
}

/// A running validator: its handle and the task whose abort crashes it.
pub(crate) struct Running {
    /// The node.
    pub(crate) handle: NodeHandle,
    /// The task owning every actor of the node.
    pub(crate) task: Handle<()>,
}

/// Start a validator with `config` over the simulated network.
pub(crate) async fn start(
    context: &deterministic::Context,
    oracle: &Oracle<PublicKey, deterministic::Context>,
    index: usize,
    config: NodeConfig,
) -> Running {
    let key = engine::public_key(&config.key.account()).expect("valid key");
    let control = oracle.control(key);
    let quota = engine::channel_quota();
    let channels = Channels {
        votes: control.register(VOTES, quota).await.expect("channel"),
        certificates: control
            .register(CERTIFICATES, quota)
            .await
            .expect("channel"),
        resolver: control.register(RESOLVER, quota).await.expect("channel"),
        broadcast: control.register(BROADCAST, quota).await.expect("channel"),
        backfill: control.register(BACKFILL, quota).await.expect("channel"),
        transactions: control
            .register(TRANSACTIONS, quota)
            .await
            .expect("channel"),
    };
    let manager = oracle.manager();
    let (ready, started) = oneshot::channel();
    let task = context
        .child("validator")
        .with_attribute("index", index)
        .spawn(move |context| async move {
            let handle = engine::start_with(context, config, channels, control, manager)
                .await
                .expect("node starts");
            let _ = ready.send(handle);
            futures::future::pending::<()>().await;
        });
    Running {
        handle: started.await.expect("node started"),
        task,
    }
}

/// Configuration for validator `key` storing its state under `dir`.
pub(crate) fn config(dir: &Path, genesis: &Genesis, key: &Keypair) -> NodeConfig {
    NodeConfig::new(dir, genesis.clone(), key.clone())
}

/// Wait (in simulated time) until every handle has committed `height`.
pub(crate) async fn wait_for_height(
    context: &deterministic::Context,
    handles: &[&NodeHandle],
    height: u64,
) {
    loop {
        if handles
            .iter()
            .all(|h| h.status().finalized_height >= height)
        {
            return;
        }
        for h in handles {
            assert_eq!(h.status().halted, None, "a validator halted");
        }
        context.sleep(Duration::from_millis(50)).await;
    }
}

/// `(height, digest, state root)` of every committed block up to `height`.
pub(crate) fn chain_of(handle: &NodeHandle, height: u64) -> Vec<(u64, Hash, Hash)> {
    let store = handle.store();
    (0..=height)
        .map(|h| {
            let block = store
                .block(h)
                .expect("store reads")
                .expect("block committed");
            let root = store
                .state_root(h)
                .expect("store reads")
                .expect("root stored");
            assert_eq!(
                block.header.state_root, root,
                "header root differs from the store's root at height {h}"
            );
            (h, block.digest(), root)
        })
        .collect()
}
