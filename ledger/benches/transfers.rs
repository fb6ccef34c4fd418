//! Signed transfers applied per second through `execute_block` on a `MemStore`, one
//! thread, next to the named peer measured in the same run: a raw
//! `ed25519_dalek::VerifyingKey::verify_strict` loop over the same transactions
//! (the cost floor of checking each signature alone).
//!
//! Run with `cargo bench -p plexus-ledger --bench transfers`. Blocks of 5,000
//! transfers among 10,000 accounts.

use std::time::{Duration, Instant};

use plexus_ledger::{BlockEnv, Genesis, MemStore, execute_block, genesis};
use plexus_types::{Keypair, PLX, Payload, SignedTransaction, Transaction};

const ACCOUNTS: usize = 10_000;
const BLOCK_TXS: usize = 5_000;
const BLOCKS: usize = 4;

fn main() {
    let keys: Vec<Keypair> = (0..ACCOUNTS)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
            Keypair::from_seed(seed)
        })
        .collect();
    let mut g = Genesis::development(Keypair::from_label("validator").account());
    g.accounts.clear();
    g.params.faucet = None;
    for k in &keys {
        g.accounts.push(genesis::GenesisAccount {
            address: k.account(),
            balance: 1_000 * PLX,
        });
    }
    let mut store = MemStore::new();
    store.commit(genesis::writes(&g).expect("genesis"));

    // Sign every block up front: block b, tx i is account (b*BLOCK_TXS + i) % ACCOUNTS
    // paying the next account, with that sender's next nonce.
    let mut nonces = vec![0u64; ACCOUNTS];
    let blocks: Vec<Vec<SignedTransaction>> = (0..BLOCKS)
        .map(|b| {
            (0..BLOCK_TXS)
                .map(|i| {
                    let from = (b * BLOCK_TXS + i) % ACCOUNTS;
                    let to = (from + 1) % ACCOUNTS;
                    let nonce = nonces[from];
                    nonces[from] += 1;
                    Transaction {
                        chain_id: g.chain_id,
                        sender: keys[from].account(),
                        nonce,
                        fee: g.params.min_fee,
                        payload: Payload::Transfer {
                            to: keys[to].account(),
                            amount: 1 + i as u64,
                        },
                    }
                    .sign(&keys[from])
                })
                .collect()
        })
        .collect();

    // Peer: verify_strict, one signature at a time, over the same transactions.
    let prepared: Vec<(
        ed25519_dalek::VerifyingKey,
        Vec<u8>,
        ed25519_dalek::Signature,
    )> = blocks
        .iter()
        .flatten()
        .map(|t| {
            (
                ed25519_dalek::VerifyingKey::from_bytes(t.tx.sender.as_bytes()).expect("key"),
                t.tx.signing_bytes(),
                ed25519_dalek::Signature::from_bytes(&t.signature.0),
            )
        })
        .collect();
    let start = Instant::now();
    for (key, msg, sig) in &prepared {
        key.verify_strict(msg, sig).expect("signature");
    }
    let peer = per_second(prepared.len(), start.elapsed());

    // Ours: execute_block (batch signatures, nonces, balances, fees, events), then commit.
    let mut exec = Duration::ZERO;
    let mut commit = Duration::ZERO;
    for (b, txs) in blocks.iter().enumerate() {
        let env = BlockEnv {
            height: b as u64 + 1,
            timestamp_ms: 1_000 * (b as u64 + 1),
            proposer: Keypair::from_label("validator").account(),
        };
        let start = Instant::now();
        let out = execute_block(&store, &env, txs).expect("block applies");
        exec += start.elapsed();
        let start = Instant::now();
        store.commit(out.writes);
        commit += start.elapsed();
    }
    let total = BLOCKS * BLOCK_TXS;
    let ours = per_second(total, exec);
    let with_commit = per_second(total, exec + commit);
    println!(
        "signed transfers, {BLOCKS} blocks of {BLOCK_TXS} among {ACCOUNTS} accounts, one thread"
    );
    println!("  peer  ed25519_dalek verify_strict loop : {peer:>9.0} signatures/s");
    println!("  ours  execute_block                    : {ours:>9.0} transfers/s");
    println!("  ours  execute_block + MemStore commit  : {with_commit:>9.0} transfers/s");
    println!(
        "  ratio ours / peer                      : {:>9.2}",
        ours / peer
    );
    println!(
        "  target 10,000 transfers/s             : {}",
        if ours >= 10_000.0 { "met" } else { "NOT met" }
    );
}

fn per_second(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}
