//! State sync: a full node started once a validator has finalized 2,000 blocks takes
//! the state at the validator's tip (`plexus node --full --state-sync URL`), every
//! chunk checked against a certified root, then follows the chain from there. It
//! serves a balance proof that verifies against a header certified by the genesis
//! validators, and its archive holds no block between genesis and the sync height.

use std::{process::Command, time::Duration};

use plexus_storage::Store;
use plexus_types::{AccountId, Keypair, PLX, Payload, Transaction};

use crate::support::{Node, json, ok, status, wait_for};

const SYNC_AFTER: u64 = 2_000;

#[test]
fn a_full_node_started_after_2000_blocks_syncs_the_state_and_never_fetches_the_old_blocks() {
    let root = tempfile::tempdir().unwrap();
    let exe = env!("CARGO_BIN_EXE_plexus");
    let mut nodes = vec![
        Node::create(root.path().join("validator")),
        Node::create(root.path().join("full")),
    ];
    let genesis = root.path().join("genesis.json");
    ok(Command::new(exe)
        .args(["genesis", "init", "--chain-id", "77", "--dev-faucet"])
        .args(["--block-interval-ms", "10", "--file"])
        .arg(&genesis));
    ok(Command::new(exe)
        .args(["genesis", "add-validator", nodes[0].key(), "--file"])
        .arg(&genesis));
    let hash = json(&ok(Command::new(exe)
        .args(["--json", "genesis", "show", "--file"])
        .arg(&genesis)))["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let full_key = nodes[1].key().to_owned();
    nodes[0].start(&genesis, &hash, &[], &["--follower", &full_key]);
    let validator = nodes[0].url();

    // Accounts funded early, so the state the full node syncs holds them.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = plexus_client::Client::new(&validator).unwrap();
    wait_for(
        "the validator to start",
        Duration::from_secs(60),
        &nodes,
        || status(&validator).is_some_and(|(h, _)| h >= 2),
    );
    let faucet = plexus_ledger::genesis::dev_faucet();
    let users: Vec<Keypair> = (0..20)
        .map(|i| Keypair::from_label(&format!("synced user {i}")))
        .collect();
    runtime.block_on(async {
        let chain = client.chain().await.unwrap();
        let nonce = client.next_nonce(&faucet.account()).await.unwrap();
        let mut hashes = Vec::new();
        for (k, user) in users.iter().enumerate() {
            let tx = Transaction {
                chain_id: chain.chain_id,
                sender: faucet.account(),
                nonce: nonce + k as u64,
                fee: chain.params.min_fee,
                payload: Payload::Transfer {
                    to: user.account(),
                    amount: (k as u64 + 1) * PLX,
                },
            }
            .sign(&faucet);
            hashes.push(client.submit(&tx).await.unwrap());
        }
        for hash in hashes {
            client
                .wait_for_tx(&hash, Duration::from_secs(30))
                .await
                .unwrap();
        }
    });
    wait_for(
        "2,000 finalized blocks",
        Duration::from_secs(300),
        &nodes,
        || status(&validator).is_some_and(|(h, _)| h >= SYNC_AFTER),
    );

    let bootstrapper = nodes[0].bootstrapper.clone();
    nodes[1].start(
        &genesis,
        &hash,
        &[bootstrapper.as_str()],
        &["--full", "--state-sync", &validator],
    );
    let full = nodes[1].url();
    let target = status(&validator).unwrap().0;
    wait_for(
        "the full node to reach the validator's tip",
        Duration::from_secs(120),
        &nodes,
        || status(&full).is_some_and(|(h, _)| h >= target + 10),
    );
    let log = nodes[1].log();
    let synced_at: u64 = log
        .lines()
        .find_map(|l| l.split("height ").nth(1))
        .and_then(|rest| rest.split(',').next())
        .and_then(|h| h.parse().ok())
        .unwrap_or_else(|| panic!("no state sync reported:\n{log}"));
    assert!(synced_at >= SYNC_AFTER, "synced at {synced_at}");

    // A balance proof from the full node, against a header whose finality
    // certificate the genesis validator signed.
    let full_client = plexus_client::Client::new(&full).unwrap();
    let validators: [AccountId; 1] = [nodes[0].key().parse().unwrap()];
    runtime.block_on(async {
        let height = full_client.status().await.unwrap().node.finalized_height;
        let header = full_client
            .certified_header(height, 77, &validators)
            .await
            .unwrap();
        for (k, user) in users.iter().enumerate() {
            let proven = full_client
                .verified_account_at(&user.account(), &header)
                .await
                .unwrap();
            assert_eq!(proven.value.balance, (k as u64 + 1) * PLX);
        }
    });

    // The full node's archive: genesis, then nothing until the sync height.
    nodes[1].service.take().unwrap().kill();
    let store = Store::open(nodes[1].dir.join(plexus_node::STATE_FILE)).unwrap();
    assert!(store.block(0).unwrap().is_some());
    for height in 1..synced_at {
        assert!(
            store.block(height).unwrap().is_none(),
            "the full node holds block {height}, below its sync height {synced_at}"
        );
    }
    assert!(store.block(synced_at + 1).unwrap().is_some());
    eprintln!(
        "synced at height {synced_at} (validator at {target}); followed to {}",
        store.committed_height().unwrap()
    );
}
