//! The README's walk-through, through the binary: wallet, faucet, subnet, register,
//! stake, commit and reveal weights, and emission visible in `plexus subnet show`.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{LocalNet, fails, ok};

fn json(cmd: &mut std::process::Command) -> Value {
    serde_json::from_str(&ok(cmd.arg("--json"))).expect("--json prints JSON")
}

#[test]
fn a_newcomer_runs_the_economy_from_the_command_line() {
    let net = LocalNet::start();
    let cli = || net.cli();

    // A wallet with two hotkeys, funded by the development faucet.
    let created = json(cli().args(["wallet", "create", "--name", "alice", "--hotkey", "miner"]));
    assert!(
        created["coldkey_mnemonic"]
            .as_str()
            .unwrap()
            .split(' ')
            .count()
            == 12
    );
    ok(cli().args([
        "wallet",
        "create",
        "--name",
        "alice",
        "--hotkey",
        "validator",
    ]));
    ok(cli().args(["wallet", "faucet", "--name", "alice", "--amount", "500"]));
    let balance = json(cli().args(["wallet", "balance", "--name", "alice"]));
    assert_eq!(balance["balance"].as_u64(), Some(500 * plexus_types::PLX));

    // A subnet where both hotkeys register; the validator is staked.
    let subnet = json(cli().args([
        "subnet",
        "create",
        "--name",
        "alice",
        "--subnet-name",
        "demo",
    ]));
    let netuid = subnet["netuid"]
        .as_u64()
        .expect("the new netuid")
        .to_string();
    for hotkey in ["miner", "validator"] {
        ok(cli().args([
            "subnet", "register", "--name", "alice", "--hotkey", hotkey, "--netuid", &netuid,
        ]));
    }
    ok(cli().args([
        "stake",
        "add",
        "--name",
        "alice",
        "--hotkey",
        "validator",
        "--amount",
        "100",
    ]));
    let stakes = json(cli().args(["stake", "list", "--name", "alice"]));
    assert_eq!(stakes.as_array().unwrap().len(), 1);

    // Mistakes get errors that say what to do next.
    let stderr = fails(cli().args([
        "weights",
        "reveal",
        "--name",
        "alice",
        "--hotkey",
        "validator",
        "--netuid",
        &netuid,
    ]));
    assert!(
        stderr.contains("run `plexus weights commit` first"),
        "{stderr}"
    );
    let stderr = fails(cli().args([
        "wallet", "transfer", "--name", "alice", "--to", "plx1nope", "--amount", "1",
    ]));
    assert!(stderr.contains("plx1"), "{stderr}");

    // Wait for the validator's permit (one epoch), commit, reveal in the next epoch.
    let show = |cli: &dyn Fn() -> std::process::Command| {
        let mut cmd = cli();
        json(cmd.args(["subnet", "show", &netuid]))
    };
    let wait_for_epoch_after = |cli: &dyn Fn() -> std::process::Command, epoch: u64| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let now = show(cli)["subnet"]["epoch_index"].as_u64().unwrap();
            if now > epoch {
                return now;
            }
            assert!(Instant::now() < deadline, "no epoch after {epoch}");
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    let epoch = show(&cli)["subnet"]["epoch_index"].as_u64().unwrap();
    let epoch = wait_for_epoch_after(&cli, epoch);
    ok(cli().args([
        "weights",
        "commit",
        "--name",
        "alice",
        "--hotkey",
        "validator",
        "--netuid",
        &netuid,
        "--weights",
        "0:1.0",
    ]));
    let epoch = wait_for_epoch_after(&cli, epoch);
    ok(cli().args([
        "weights",
        "reveal",
        "--name",
        "alice",
        "--hotkey",
        "validator",
        "--netuid",
        &netuid,
    ]));
    wait_for_epoch_after(&cli, epoch);

    // Emission landed: the miner earns incentive, the validator dividends.
    let shown = show(&cli);
    let neurons = shown["metagraph"]["neurons"].as_array().unwrap();
    let miner = &neurons[0];
    let validator = &neurons[1];
    assert_eq!(miner["incentive"].as_u64(), Some(65535), "{shown}");
    assert_eq!(validator["dividends"].as_u64(), Some(65535), "{shown}");
    assert!(miner["emission"].as_u64().unwrap() > 0);
    assert!(validator["emission"].as_u64().unwrap() > 0);
    assert!(
        miner["stake"].as_u64().unwrap() > 0,
        "miner emission becomes stake"
    );

    // The human table shows the same.
    let table = ok(cli().args(["subnet", "show", &netuid]));
    assert!(
        table.contains("INCENTIVE") && table.contains("1.0000"),
        "{table}"
    );

    // At human speed: `weights set` on a commit-reveal subnet commits, waits for the
    // next epoch by itself and reveals, so nobody has to type the reveal in time.
    let set = json(cli().args([
        "weights",
        "set",
        "--name",
        "alice",
        "--hotkey",
        "validator",
        "--netuid",
        &netuid,
        "--weights",
        "0:0.5",
    ]));
    let committed = set["commit"]["height"].as_u64().unwrap();
    let revealed = set["reveal"]["height"].as_u64().unwrap();
    assert!(revealed > committed, "{set}");
    let stderr = fails(cli().args([
        "weights",
        "reveal",
        "--name",
        "alice",
        "--hotkey",
        "validator",
        "--netuid",
        &netuid,
    ]));
    assert!(
        stderr.contains("run `plexus weights commit` first"),
        "the revealed commit is forgotten: {stderr}"
    );
}
