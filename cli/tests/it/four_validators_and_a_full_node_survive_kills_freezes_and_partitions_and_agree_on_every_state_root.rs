//! A real network on loopback: four validator `plexus node` processes built from a
//! genesis made with `plexus genesis`, meeting through authenticated discovery from
//! bootstrappers, and a full node (`--full`) that follows them and takes every
//! transaction. While transfers flow, a random validator is SIGKILLed at a random
//! moment and restarted, another is frozen (SIGSTOP) and thawed, and another is
//! partitioned away (every connection to or from it cut while it keeps running,
//! `partition.rs`) and healed. Every node, the full node included, must end with the
//! same block and state root at every height, and every transfer seen finalized must
//! be in every node's archive at the height it was seen at.

use std::{
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use nix::sys::signal::{Signal, kill};
use plexus_ledger::genesis::dev_faucet;
use plexus_storage::Store;
use plexus_types::Hash;

use crate::{
    partition::Partition,
    support::{Node, SplitMix, faucet_burst, json, ok, status, wait_for},
};

const VALIDATORS: usize = 4;
/// The full node's index in the list of nodes.
const FULL: usize = VALIDATORS;

/// Send bursts of transfers from the faucet through `url` until `stop`; record
/// (hash, height) of each one seen finalized.
fn pump(url: String, stop: Arc<AtomicBool>) -> Vec<(Hash, u64)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let faucet = dev_faucet();
        let client = plexus_client::Client::new(&url)
            .unwrap()
            .with_timeout(Duration::from_secs(3));
        let mut finalized = Vec::new();
        let mut i = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let (Ok(chain), Ok(nonce)) = (
                client.chain().await,
                client.next_nonce(&faucet.account()).await,
            ) else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            let mut hashes = Vec::new();
            for tx in faucet_burst(&chain, nonce, 6, &mut i, 40) {
                match client.submit(&tx).await {
                    Ok(hash) => hashes.push(hash),
                    Err(_) => break,
                }
            }
            for hash in hashes {
                match client.wait_for_tx(&hash, Duration::from_secs(15)).await {
                    Ok(view) => {
                        finalized.push((hash, view.height.expect("finalized has a height")))
                    }
                    Err(_) => break,
                }
            }
        }
        finalized
    })
}

#[test]
fn four_validators_and_a_full_node_survive_kills_freezes_and_partitions_and_agree_on_every_state_root()
 {
    let mut rng = SplitMix::from_env("PLEXUS_NETWORK_SEED");
    let root = tempfile::tempdir().unwrap();
    let exe = env!("CARGO_BIN_EXE_plexus");

    // Each operator makes a key; one writes the genesis with every validator's key
    // and everyone checks its hash.
    let mut nodes: Vec<Node> = (0..=VALIDATORS)
        .map(|i| match i {
            FULL => Node::create(root.path().join("full")),
            i => Node::create(root.path().join(format!("v{i}"))),
        })
        .collect();
    let genesis = root.path().join("genesis.json");
    ok(Command::new(exe)
        .args(["genesis", "init", "--chain-id", "4242", "--dev-faucet"])
        .args(["--block-interval-ms", "300", "--file"])
        .arg(&genesis));
    for node in &nodes[..VALIDATORS] {
        ok(Command::new(exe)
            .args(["genesis", "add-validator", node.key(), "--file"])
            .arg(&genesis));
    }
    let shown = json(&ok(Command::new(exe)
        .args(["--json", "genesis", "show", "--file"])
        .arg(&genesis)));
    let hash = shown["hash"].as_str().unwrap().to_owned();
    assert_eq!(shown["validators"].as_array().unwrap().len(), VALIDATORS);

    // Every node advertises a forwarder in front of its listener, so the test can
    // partition it. Each validator dials the next two and serves the full node;
    // discovery finds the rest. The full node dials two validators.
    let partition = Partition::new(
        &nodes
            .iter()
            .map(|n| n.p2p.parse().unwrap())
            .collect::<Vec<_>>(),
    );
    let bootstrappers: Vec<String> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{}@{}", n.key(), partition.address(i)))
        .collect();
    let advertised: Vec<String> = (0..nodes.len()).map(|i| partition.address(i)).collect();
    let dial = |i: usize| -> Vec<&str> {
        (1..=2)
            .map(|d| bootstrappers[(i + d) % VALIDATORS].as_str())
            .collect()
    };
    let full_key = nodes[FULL].key().to_owned();
    let serve_full = |i: usize| -> Vec<&str> {
        vec![
            "--follower",
            full_key.as_str(),
            "--external-address",
            advertised[i].as_str(),
        ]
    };
    let start = |nodes: &mut Vec<Node>, i: usize| {
        let extra = match i {
            FULL => vec!["--full", "--external-address", advertised[FULL].as_str()],
            i => serve_full(i),
        };
        let dial_from = if i == FULL { VALIDATORS - 1 } else { i };
        nodes[i].start(&genesis, &hash, &dial(dial_from), &extra);
        partition.set_pid(i, nodes[i].service.as_ref().expect("started").pid());
    };
    for i in 0..=VALIDATORS {
        start(&mut nodes, i);
    }
    let urls: Vec<String> = nodes.iter().map(Node::url).collect();
    wait_for(
        "the validators to finalize and connect, and the full node to follow",
        Duration::from_secs(90),
        &nodes,
        || {
            urls[..VALIDATORS]
                .iter()
                .all(|u| status(u).is_some_and(|(h, peers)| h >= 2 && peers >= VALIDATORS - 1))
                && status(&urls[FULL]).is_some_and(|(h, peers)| h >= 2 && peers >= 1)
        },
    );

    // Users talk to the full node only.
    let stop = Arc::new(AtomicBool::new(false));
    let pumper = {
        let (url, stop) = (urls[FULL].clone(), stop.clone());
        std::thread::spawn(move || pump(url, stop))
    };
    let highest = |urls: &[String]| {
        urls.iter()
            .filter_map(|u| status(u))
            .map(|(h, _)| h)
            .max()
            .unwrap_or(0)
    };

    for round in 0..3 {
        // SIGKILL a random validator at a random moment; restart it after a while.
        let victim = rng.below(VALIDATORS as u64) as usize;
        std::thread::sleep(Duration::from_millis(500 + rng.below(2_500)));
        nodes[victim].service.take().expect("running").kill();
        let down = Duration::from_millis(500 + rng.below(2_500));
        std::thread::sleep(down);
        let target = highest(&urls);
        start(&mut nodes, victim);
        wait_for(
            &format!("v{victim} to catch up after its restart"),
            Duration::from_secs(90),
            &nodes,
            || status(&urls[victim]).is_some_and(|(h, _)| h > target),
        );

        // Freeze another: the other three (and the full node) go on without it.
        let frozen = (victim + 1 + rng.below(VALIDATORS as u64 - 1) as usize) % VALIDATORS;
        let before = highest(&urls);
        kill(nodes[frozen].pid(), Signal::SIGSTOP).unwrap();
        let others: Vec<String> = (0..=VALIDATORS)
            .filter(|&k| k != frozen)
            .map(|k| urls[k].clone())
            .collect();
        wait_for(
            &format!("the others to finalize while v{frozen} is frozen"),
            Duration::from_secs(60),
            &nodes,
            || {
                others
                    .iter()
                    .all(|u| status(u).is_some_and(|(h, _)| h >= before + 5))
            },
        );
        kill(nodes[frozen].pid(), Signal::SIGCONT).unwrap();
        let target = highest(&others);
        wait_for(
            &format!("v{frozen} to catch up after it thawed"),
            Duration::from_secs(90),
            &nodes,
            || status(&urls[frozen]).is_some_and(|(h, _)| h >= target),
        );

        // Partition a third away: it keeps running (its API answers) but finalizes
        // nothing while the others go on; once healed it catches up.
        let cut = (frozen + 1 + rng.below(VALIDATORS as u64 - 1) as usize) % VALIDATORS;
        let before = highest(&urls);
        partition.cut(cut);
        let rest: Vec<String> = (0..=VALIDATORS)
            .filter(|&k| k != cut)
            .map(|k| urls[k].clone())
            .collect();
        wait_for(
            &format!("the others to finalize while v{cut} is partitioned away"),
            Duration::from_secs(60),
            &nodes,
            || {
                rest.iter()
                    .all(|u| status(u).is_some_and(|(h, _)| h >= before + 5))
            },
        );
        let (isolated, _) = status(&urls[cut]).expect("a partitioned node still answers");
        assert!(
            isolated + 3 < highest(&rest),
            "v{cut} kept finalizing ({isolated}) while partitioned away"
        );
        partition.heal();
        let target = highest(&rest);
        wait_for(
            &format!("v{cut} to catch up after the partition healed"),
            Duration::from_secs(90),
            &nodes,
            || status(&urls[cut]).is_some_and(|(h, _)| h >= target),
        );
        eprintln!(
            "round {round}: killed v{victim} for {down:?}, froze v{frozen}, partitioned v{cut} (stuck at {isolated}); height {}",
            highest(&urls)
        );
    }
    stop.store(true, Ordering::Relaxed);
    let finalized = pumper.join().unwrap();
    assert!(
        finalized.len() >= 10,
        "only {} transfers finalized",
        finalized.len()
    );
    let top = finalized.iter().map(|(_, h)| *h).max().unwrap();
    wait_for(
        "every node to pass the last transfer's height",
        Duration::from_secs(60),
        &nodes,
        || {
            urls.iter()
                .all(|u| status(u).is_some_and(|(h, _)| h >= top))
        },
    );
    for node in &mut nodes {
        node.service.take().expect("running").kill();
    }

    // The same block and state root at every height on every node, the full node
    // included; no finalized transfer lost anywhere.
    let stores: Vec<Store> = nodes
        .iter()
        .map(|n| Store::open(n.dir.join(plexus_node::STATE_FILE)).unwrap())
        .collect();
    let common = stores
        .iter()
        .map(|s| s.committed_height().unwrap())
        .min()
        .unwrap();
    assert!(common >= top);
    for height in 0..=common {
        let digest = stores[0]
            .block(height)
            .unwrap()
            .expect("block")
            .header
            .digest();
        let root = stores[0].state_root(height).unwrap();
        for (k, store) in stores.iter().enumerate().skip(1) {
            let block = store.block(height).unwrap().expect("block");
            assert_eq!(block.header.digest(), digest, "node {k} block at {height}");
            assert_eq!(
                store.state_root(height).unwrap(),
                root,
                "node {k} root at {height}"
            );
        }
    }
    for (hash, height) in &finalized {
        for (k, store) in stores.iter().enumerate() {
            let tx = store
                .tx(hash)
                .unwrap()
                .unwrap_or_else(|| panic!("node {k} lost finalized tx {hash}"));
            assert_eq!(tx.height, *height, "tx {hash} moved on node {k}");
        }
    }
    eprintln!(
        "{} transfers through the full node finalized over {common} blocks: all five nodes agree on every block and root",
        finalized.len()
    );
}
