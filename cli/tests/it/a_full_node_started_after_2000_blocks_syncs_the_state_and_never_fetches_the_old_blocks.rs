//! State sync: a full node started once a validator has finalized 2,000 blocks takes
//! the state at the validator's tip (`plexus node --full --state-sync URL`), every
//! chunk checked against a certified root, then follows the chain from there. It
//! serves a balance proof that verifies against a header certified by the genesis
//! validators, and its archive holds no block between genesis and the sync height.
//! A snapshot of the full node (`plexus node snapshot`) then starts a third node the
//! same way, from the file.

use std::{process::Command, time::Duration};

use plexus_storage::Store;
use plexus_types::{AccountId, Keypair, PLX, Payload, Transaction};

use crate::support::{Node, genesis_file, json, ok, status, wait_for};

const SYNC_AFTER: u64 = 2_000;

#[test]
fn a_full_node_started_after_2000_blocks_syncs_the_state_and_never_fetches_the_old_blocks() {
    let root = tempfile::tempdir().unwrap();
    let exe = env!("CARGO_BIN_EXE_plexus");
    let mut nodes = vec![
        Node::create(root.path().join("validator")),
        Node::create(root.path().join("full")),
        Node::create(root.path().join("restored")),
    ];
    let (genesis, hash) = genesis_file(
        root.path(),
        &[
            "--chain-id",
            "77",
            "--dev-faucet",
            "--block-interval-ms",
            "10",
        ],
        &[nodes[0].key()],
    );
    let (full_key, restored_key) = (nodes[1].key().to_owned(), nodes[2].key().to_owned());
    nodes[0].start(
        &genesis,
        &hash,
        &[],
        &["--follower", &full_key, "--follower", &restored_key],
    );
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

    // A backup: a snapshot of the full node, restored into a third node.
    let snapshot = root.path().join("snapshot.jsonl");
    let taken = json(&ok(Command::new(exe)
        .args(["--json", "node", "snapshot", "--from", &full, "--genesis"])
        .arg(&genesis)
        .arg("--out")
        .arg(&snapshot)));
    let snapshot_at = taken["height"].as_u64().unwrap();
    assert!(snapshot_at > synced_at);
    let snapshot_arg = snapshot.display().to_string();
    nodes[2].start(
        &genesis,
        &hash,
        &[bootstrapper.as_str()],
        &["--full", "--state-sync", &snapshot_arg],
    );
    let restored = nodes[2].url();
    wait_for(
        "the restored node to follow past its snapshot",
        Duration::from_secs(120),
        &nodes,
        || status(&restored).is_some_and(|(h, _)| h >= snapshot_at + 10),
    );

    // Each archive: genesis, then nothing until the height its state came from.
    for (node, from) in [(1, synced_at), (2, snapshot_at)] {
        nodes[node].service.take().unwrap().kill();
        let store = Store::open(nodes[node].dir.join(plexus_node::STATE_FILE)).unwrap();
        assert!(store.block(0).unwrap().is_some());
        for height in 1..from {
            assert!(
                store.block(height).unwrap().is_none(),
                "node {node} holds block {height}, below the height {from} it synced at"
            );
        }
        assert!(store.block(from + 1).unwrap().is_some());
        let top = store.committed_height().unwrap();
        // The block after the sync height, executed on the synced state, has the
        // validator's root.
        let header = runtime.block_on(client.block(from + 1)).unwrap().header;
        assert_eq!(
            store.state_root(from + 1).unwrap(),
            Some(header.state_root),
            "node {node} diverged right after its sync height"
        );
        eprintln!(
            "node {node} started from height {from} (validator at {target}); followed to {top}"
        );
    }
}
