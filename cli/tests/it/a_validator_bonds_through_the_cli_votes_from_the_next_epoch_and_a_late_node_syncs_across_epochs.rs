//! A set that follows stake, as operators run it: a chain of 10-block epochs with one
//! genesis validator; a second operator starts a node with its own key and bonds for
//! it with `plexus consensus bond --node-dir`; from the next epoch boundary the set has
//! two validators and both keep finalizing. A full node started later syncs its
//! state at the tip, certified by the set of the tip's epoch, which it followed from
//! the genesis set through the hand-overs (`/v1/proofs/validator-set/{e}`).

use std::{process::Command, time::Duration};

use plexus_types::{PLX, Payload};

use crate::support::{Node, genesis_file, json, ok, status, wait_for};

const EPOCH: u64 = 10;

#[test]
fn a_validator_bonds_through_the_cli_votes_from_the_next_epoch_and_a_late_node_syncs_across_epochs()
{
    let root = tempfile::tempdir().unwrap();
    let exe = env!("CARGO_BIN_EXE_plexus");
    let mut nodes = vec![
        Node::create(root.path().join("genesis-validator")),
        Node::create(root.path().join("newcomer")),
        Node::create(root.path().join("late")),
    ];
    let (genesis, hash) = genesis_file(
        root.path(),
        &[
            "--chain-id",
            "78",
            "--dev-faucet",
            "--block-interval-ms",
            "50",
            "--epoch-length",
            "10",
            "--min-bond",
            "100",
            "--validators",
            "1..4",
        ],
        &[nodes[0].key()],
    );
    let late_key = nodes[2].key().to_owned();
    nodes[0].start(&genesis, &hash, &[], &["--follower", &late_key]);
    let first = nodes[0].url();
    let bootstrapper = nodes[0].bootstrapper.clone();
    nodes[1].start(
        &genesis,
        &hash,
        &[bootstrapper.as_str()],
        &["--follower", &late_key],
    );
    let second = nodes[1].url();
    wait_for(
        "the chain to start",
        Duration::from_secs(60),
        &nodes,
        || status(&first).is_some_and(|(h, _)| h >= 2),
    );

    // Fund the newcomer's node key from the faucet, then bond for it with that key.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = plexus_client::Client::new(&first).unwrap();
    let newcomer = plexus_types::AccountId::parse(nodes[1].key()).unwrap();
    let fund = Payload::Transfer {
        to: newcomer,
        amount: 500 * PLX,
    };
    let faucet = plexus_ledger::genesis::dev_faucet();
    runtime
        .block_on(client.send_tx(&faucet, fund, None, Duration::from_secs(30)))
        .unwrap();
    let wallets = root.path().join("wallets");
    let bonded = ok(Command::new(exe)
        .arg("--wallets")
        .arg(&wallets)
        .args(["--node", &first, "consensus", "bond", "--node-dir"])
        .arg(&nodes[1].dir)
        .args(["--amount", "200"]));
    assert!(bonded.contains("Bonded 200"), "{bonded}");
    let bonded_at = status(&first).unwrap().0;

    // From the next boundary on, both keys are in the set, and both nodes finalize.
    let set = |url: &str| {
        json(&ok(Command::new(exe)
            .arg("--wallets")
            .arg(&wallets)
            .args(["--json", "--node", url, "consensus", "set"])))
    };
    wait_for(
        "the newcomer to enter the set",
        Duration::from_secs(120),
        &nodes,
        || {
            set(&first)["validators"]
                .as_array()
                .is_some_and(|v| v.len() == 2)
        },
    );
    let joined = status(&first).unwrap().0;
    assert!(
        joined / EPOCH > bonded_at / EPOCH,
        "entered within its bonding epoch"
    );
    let target = joined + 3 * EPOCH;
    wait_for(
        "both validators to finalize three more epochs",
        Duration::from_secs(180),
        &nodes,
        || {
            [&first, &second]
                .iter()
                .all(|u| status(u).is_some_and(|(h, _)| h >= target))
        },
    );
    let log = nodes[1].log();
    assert!(
        log.lines()
            .any(|l| l.contains("entering consensus epoch") && l.contains("member=true")),
        "the newcomer never voted:\n{log}"
    );
    // The newcomer's API agrees on the set, followed from the genesis.
    assert_eq!(set(&second)["validators"], set(&first)["validators"]);

    // A node started now syncs the state at the tip: its certificate is checked
    // under the two-validator set it followed through the hand-overs.
    nodes[2].start(
        &genesis,
        &hash,
        &[bootstrapper.as_str()],
        &["--full", "--state-sync", &second],
    );
    let late = nodes[2].url();
    let tip = status(&first).unwrap().0;
    wait_for(
        "the late node to follow past the tip it synced",
        Duration::from_secs(120),
        &nodes,
        || status(&late).is_some_and(|(h, _)| h >= tip + EPOCH),
    );
    let log = nodes[2].log();
    assert!(
        log.contains("state synced from"),
        "no state sync reported:\n{log}"
    );
}
