//! Crash safety: SIGKILL the node while transfers flow, restart it, and check that
//! every transaction seen finalized is still there at the same height, and that
//! replaying the archived blocks from genesis without interruption reproduces the
//! state root of every height.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use plexus_ledger::{BlockEnv, execute_block, genesis::dev_faucet};
use plexus_storage::Store;
use plexus_types::Hash;

use crate::support::{NodeProcess, SplitMix, faucet_burst};

/// Send transfers from the faucet until `stop`, recording (hash, height) of each one seen finalized.
fn pump(url: String, stop: Arc<AtomicBool>, seed: u64) -> Vec<(Hash, u64)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let client = plexus_client::Client::new(&url)
            .unwrap()
            .with_timeout(Duration::from_secs(3));
        let faucet = dev_faucet();
        let mut finalized = Vec::new();
        let mut i = seed;
        while !stop.load(Ordering::Relaxed) {
            let (chain, nonce) = match (
                client.chain().await,
                client.next_nonce(&faucet.account()).await,
            ) {
                (Ok(chain), Ok(nonce)) => (chain, nonce),
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("pump stops: {e}");
                    break;
                }
            };
            // A burst of transfers with consecutive nonces, then wait for all of them.
            let mut hashes = Vec::new();
            for tx in faucet_burst(&chain, nonce, 8, &mut i, 50) {
                match client.submit(&tx).await {
                    Ok(hash) => hashes.push(hash),
                    Err(e) => {
                        eprintln!("submit failed: {e}");
                        break;
                    }
                }
            }
            for hash in hashes {
                match client.wait_for_tx(&hash, Duration::from_secs(10)).await {
                    Ok(view) => {
                        finalized.push((hash, view.height.expect("finalized has a height")))
                    }
                    Err(e) => {
                        eprintln!("wait failed: {e}");
                        break;
                    }
                }
            }
        }
        finalized
    })
}

#[test]
fn a_node_killed_at_random_moments_loses_no_finalized_transaction() {
    let mut rng = SplitMix::from_env("PLEXUS_CRASH_SEED");
    let dir = tempfile::tempdir().unwrap();
    let mut finalized: Vec<(Hash, u64)> = Vec::new();

    for round in 0..4 {
        let mut node = NodeProcess::start(dir.path());
        let stop = Arc::new(AtomicBool::new(false));
        let pumper = {
            let (url, stop) = (node.url(), stop.clone());
            let seed = rng.next();
            std::thread::spawn(move || pump(url, stop, seed))
        };
        // Kill at a random moment between 0.5 and 4 seconds of traffic.
        let wait = 500 + rng.next() % 3_500;
        std::thread::sleep(Duration::from_millis(wait));
        node.kill();
        stop.store(true, Ordering::Relaxed);
        let seen = pumper.join().unwrap();
        eprintln!(
            "round {round}: killed after {wait} ms, {} transfers seen finalized",
            seen.len()
        );
        finalized.extend(seen);
    }
    assert!(
        !finalized.is_empty(),
        "some transfers must have been finalized"
    );

    // Every transaction seen finalized is archived at the height it was seen at.
    let store = Store::open(dir.path().join("node").join(plexus_node::STATE_FILE)).unwrap();
    let committed = store.committed_height().expect("the node committed blocks");
    for (hash, height) in &finalized {
        let indexed = store
            .tx(hash)
            .unwrap()
            .unwrap_or_else(|| panic!("finalized tx {hash} lost"));
        assert_eq!(indexed.height, *height, "tx {hash} moved");
    }

    // An uninterrupted replay from genesis reaches the same root at every height.
    let replay_dir = tempfile::tempdir().unwrap();
    let replay = Store::open(replay_dir.path().join("replay.redb")).unwrap();
    let genesis_text =
        std::fs::read_to_string(dir.path().join("node").join(plexus_node::GENESIS_FILE)).unwrap();
    let genesis = plexus_ledger::Genesis::from_json(&genesis_text).unwrap();
    let genesis_block = store.block(0).unwrap().unwrap();
    replay
        .commit_genesis(
            &genesis_block,
            &plexus_ledger::genesis::writes(&genesis).unwrap(),
        )
        .unwrap();
    for height in 1..=committed {
        let block = store.block(height).unwrap().unwrap();
        let env = BlockEnv {
            height,
            timestamp_ms: block.header.timestamp_ms,
            proposer: block.header.proposer,
        };
        let output = execute_block(&replay, &env, &block.txs).unwrap();
        let root = replay.commit_block(&block, &output.writes).unwrap();
        assert_eq!(root, block.header.state_root, "height {height}");
        assert_eq!(
            Some(root),
            store.state_root(height).unwrap(),
            "height {height}"
        );
    }
    eprintln!(
        "{} finalized transfers over {committed} blocks survived 4 SIGKILLs",
        finalized.len()
    );
}
