//! State sync against replay from genesis, for a state of 100,000 accounts.
//!
//! A source store is built by executing a chain whose blocks of 1,000 faucet
//! transfers create 100,000 accounts. Then, in the same run:
//! - replay: a fresh store executes every block from genesis (signature checks,
//!   ledger rules, tree updates, durable commits), as a node without state sync must;
//! - state sync: a fresh store takes the state at the tip in chunks of 4,096 leaves,
//!   each encoded to JSON and back as the API serves it and checked against the
//!   root by jmt's restore (`plexus_storage::Restore`).
//!
//! `PLEXUS_BENCH_ACCOUNTS` changes the number of accounts (default 100,000).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use plexus_ledger::{BlockEnv, ChainParams, Genesis, execute_block};
use plexus_storage::{MAX_CHUNK_ENTRIES, StateChunk, Store};
use plexus_types::{Block, BlockHeader, Keypair, Payload, Transaction, block::tx_root};

const PER_BLOCK: usize = 1_000;

fn main() {
    let accounts: usize = std::env::var("PLEXUS_BENCH_ACCOUNTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let validator = Keypair::from_label("state sync bench validator");
    let faucet = Keypair::from_label("state sync bench faucet");
    let mut genesis = Genesis::empty(9, ChainParams::default());
    genesis.add_validator(validator.account()).unwrap();
    genesis
        .add_account(faucet.account(), 1_000_000 * plexus_types::PLX)
        .unwrap();
    let genesis_block = plexus_node::engine::genesis_block(&genesis).unwrap();
    let genesis_writes = plexus_ledger::genesis::writes(&genesis).unwrap();
    let fee = genesis.params.min_fee;

    // The chain: blocks of faucet transfers, each to a new account.
    let started = Instant::now();
    let source = Store::open(dir.path().join("source.redb")).unwrap();
    source
        .commit_genesis(&genesis_block, &genesis_writes)
        .unwrap();
    let mut blocks = vec![genesis_block.clone()];
    let mut nonce = 0;
    while (nonce as usize) < accounts {
        let parent = blocks.last().unwrap();
        let height = parent.header.height + 1;
        let count = PER_BLOCK.min(accounts - nonce as usize);
        let txs: Vec<_> = (0..count)
            .map(|_| {
                let to = Keypair::from_label(&format!("account {nonce}")).account();
                let tx = Transaction {
                    chain_id: genesis.chain_id,
                    sender: faucet.account(),
                    nonce,
                    fee,
                    payload: Payload::Transfer { to, amount: 1_000 },
                }
                .sign(&faucet);
                nonce += 1;
                tx
            })
            .collect();
        let env = BlockEnv {
            height,
            timestamp_ms: height,
            proposer: validator.account(),
        };
        let output = execute_block(&source, &env, &txs).unwrap();
        let header = BlockHeader {
            chain_id: genesis.chain_id,
            height,
            parent: parent.digest(),
            timestamp_ms: height,
            proposer: validator.account(),
            tx_root: tx_root(&txs),
            state_root: source.root_with(&output.writes).unwrap(),
            consensus: Vec::new(),
        };
        let block = Block { header, txs };
        source.commit_block(&block, &output.writes).unwrap();
        blocks.push(block);
    }
    let tip = blocks.last().unwrap().clone();
    let built = started.elapsed();

    // Replay from genesis into a fresh store.
    let started = Instant::now();
    let replay = Store::open(dir.path().join("replay.redb")).unwrap();
    replay
        .commit_genesis(&genesis_block, &genesis_writes)
        .unwrap();
    for block in &blocks[1..] {
        let env = BlockEnv {
            height: block.header.height,
            timestamp_ms: block.header.timestamp_ms,
            proposer: block.header.proposer,
        };
        let output = execute_block(&replay, &env, &block.txs).unwrap();
        replay.commit_block(block, &output.writes).unwrap();
    }
    let replayed = started.elapsed();
    assert_eq!(replay.latest_root(), source.latest_root());

    // State sync into a fresh store, chunks through their JSON wire form.
    let started = Instant::now();
    let synced = Store::open(dir.path().join("synced.redb")).unwrap();
    let mut restore = synced
        .restore(tip.header.height, tip.header.state_root)
        .unwrap();
    let (mut chunks, mut bytes) = (0, 0);
    loop {
        let served = source
            .state_chunk(tip.header.height, restore.after(), MAX_CHUNK_ENTRIES)
            .unwrap();
        let wire = serde_json::to_vec(&served).unwrap();
        bytes += wire.len();
        let chunk: StateChunk = serde_json::from_slice(&wire).unwrap();
        if !chunk.entries.is_empty() {
            restore.add_chunk(&chunk).unwrap();
            chunks += 1;
        }
        if chunk.done {
            break;
        }
    }
    let entries = restore.entries();
    restore.finish(&genesis_block, &tip).unwrap();
    let sync = started.elapsed();
    assert_eq!(synced.latest_root(), source.latest_root());

    let secs = |d: Duration| d.as_secs_f64();
    println!(
        "state sync: {accounts} accounts over {} blocks (built in {:.1} s), {} build, {} cores",
        blocks.len() - 1,
        secs(built),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "  replay from genesis (peer)  {:>8.2} s   {} blocks re-executed",
        secs(replayed),
        blocks.len() - 1
    );
    println!(
        "  state sync                  {:>8.2} s   {entries} leaves in {chunks} chunks, {:.1} MB of JSON",
        secs(sync),
        bytes as f64 / 1e6
    );
    println!(
        "  state sync vs replay: {:.2}x the time ({:.1}x faster)",
        secs(sync) / secs(replayed),
        secs(replayed) / secs(sync)
    );
}
