//! Commit, read and proof throughput of the store, each next to a named peer measured
//! in the same run: a plain redb table holding the same key-values without the tree
//! (same file system, same durability).
//!
//! Run with `cargo bench -p plexus-storage --bench commit`.

use std::time::{Duration, Instant};

use plexus_ledger::store::{StateReader, WriteSet};
use plexus_storage::{Store, verify_proof};
use plexus_types::{AccountId, Block, BlockHeader, Hash, block::tx_root};
use redb::{Database, Durability, ReadableDatabase, TableDefinition};
use sha2::{Digest, Sha256};

const PEER: TableDefinition<'static, &[u8], &[u8]> = TableDefinition::new("kv");
const PRELOAD_BLOCKS: u64 = 10;
const PRELOAD_PER_BLOCK: u64 = 10_000;
const READS: usize = 100_000;
const PROOFS: usize = 10_000;

/// A 32-byte account-like key for index `i`.
fn key(i: u64) -> Vec<u8> {
    let mut k = b"acct/".to_vec();
    k.extend_from_slice(&Sha256::digest(i.to_le_bytes()));
    k
}

/// A 64-byte value derived from the key index and a round.
fn value(i: u64, round: u64) -> Vec<u8> {
    let mut v = Sha256::digest([i.to_le_bytes(), round.to_le_bytes()].concat()).to_vec();
    v.extend_from_slice(&Sha256::digest(v.as_slice()));
    v
}

struct Bench {
    store: Store,
    peer: Database,
    height: u64,
    digest: Hash,
    keys: u64,
}

impl Bench {
    fn block(&self, root: Hash) -> Block {
        Block {
            header: BlockHeader {
                chain_id: 1,
                height: self.height,
                parent: self.digest,
                timestamp_ms: self.height,
                proposer: AccountId([1; 32]),
                tx_root: tx_root(&[]),
                state_root: root,
                consensus: Vec::new(),
            },
            txs: Vec::new(),
        }
    }

    /// Commit `writes` to both; returns (root_with, commit_block, peer) durations.
    /// With `cold`, the update root_with prepared is evicted first, so the commit
    /// computes the tree again (as when the block was verified on an unfinalized
    /// parent, under other pending writes).
    fn commit(&mut self, writes: &WriteSet, cold: bool) -> (Duration, Duration, Duration) {
        let start = Instant::now();
        let root = self.store.root_with(writes).expect("root_with");
        let root_with = start.elapsed();
        if cold {
            for i in 0..8u8 {
                let other = WriteSet::from([(vec![i], Some(vec![i]))]);
                self.store.root_with(&other).expect("root_with");
            }
        }
        let block = self.block(root);
        let start = Instant::now();
        self.store.commit_block(&block, writes).expect("commit");
        let commit = start.elapsed();
        self.height += 1;
        self.digest = block.digest();

        let start = Instant::now();
        let mut txn = self.peer.begin_write().expect("begin");
        txn.set_durability(Durability::Immediate)
            .expect("durability");
        {
            let mut table = txn.open_table(PEER).expect("table");
            for (k, v) in writes {
                match v {
                    Some(v) => table.insert(k.as_slice(), v.as_slice()).expect("insert"),
                    None => table.remove(k.as_slice()).expect("remove"),
                };
            }
        }
        txn.commit().expect("commit");
        (root_with, commit, start.elapsed())
    }

    /// `n` writes: half update existing keys, half insert new ones.
    fn writes(&mut self, n: u64, round: u64) -> WriteSet {
        let mut w = WriteSet::new();
        for j in 0..n / 2 {
            let i = (j * 7_919 + round * 104_729) % self.keys;
            w.insert(key(i), Some(value(i, round)));
        }
        for _ in n / 2..n {
            w.insert(key(self.keys), Some(value(self.keys, round)));
            self.keys += 1;
        }
        w
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bench = Bench {
        store: Store::open(dir.path().join("state.redb")).expect("open"),
        peer: Database::create(dir.path().join("peer.redb")).expect("peer"),
        height: 0,
        digest: Hash::ZERO,
        keys: 0,
    };

    // Preload a state of 100k keys.
    let start = Instant::now();
    for round in 0..PRELOAD_BLOCKS {
        let mut w = WriteSet::new();
        for _ in 0..PRELOAD_PER_BLOCK {
            w.insert(key(bench.keys), Some(value(bench.keys, round)));
            bench.keys += 1;
        }
        bench.commit(&w, false);
    }
    println!(
        "preloaded {} keys in {} blocks in {:.1} s (file system of {})",
        bench.keys,
        PRELOAD_BLOCKS,
        start.elapsed().as_secs_f64(),
        dir.path().display()
    );
    println!();
    println!(
        "commit per block (median), state of ~{}k keys, 64-byte values, half updates half inserts",
        bench.keys / 1000
    );
    println!(
        "commit_block after root_with of the same writes reuses its tree update; cold recomputes it"
    );
    println!(
        "{:>7} {:>13} {:>15} {:>14} {:>21} {:>12} {:>11}",
        "writes",
        "root_with ms",
        "commit (after)",
        "commit (cold)",
        "peer: redb insert ms",
        "ratio after",
        "ratio cold"
    );
    let mut round = 100;
    for (n, rounds) in [(1_000u64, 9), (10_000, 5)] {
        let (mut rw, mut warm, mut cold, mut peer) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for r in 0..2 * rounds {
            let w = bench.writes(n, round);
            round += 1;
            let is_cold = r % 2 == 1;
            let (a, b, c) = bench.commit(&w, is_cold);
            rw.push(a);
            if is_cold {
                cold.push(b);
            } else {
                warm.push(b);
            }
            peer.push(c);
        }
        let (rw, warm, cold, peer) = (median(rw), median(warm), median(cold), median(peer));
        println!(
            "{n:>7} {:>13.1} {:>15.1} {:>14.1} {:>21.1} {:>11.1}x {:>10.1}x",
            ms(rw),
            ms(warm),
            ms(cold),
            ms(peer),
            warm.as_secs_f64() / peer.as_secs_f64(),
            cold.as_secs_f64() / peer.as_secs_f64()
        );
    }

    // Point reads of existing keys.
    let sample: Vec<Vec<u8>> = (0..READS as u64)
        .map(|j| key((j * 7_919) % bench.keys))
        .collect();
    let start = Instant::now();
    for k in &sample {
        assert!(bench.store.get(k).expect("get").is_some());
    }
    let store_get = start.elapsed();
    let snapshot = bench.store.snapshot().expect("snapshot");
    let start = Instant::now();
    for k in &sample {
        assert!(snapshot.get(k).expect("get").is_some());
    }
    let snapshot_get = start.elapsed();
    let start = Instant::now();
    for k in &sample {
        let txn = bench.peer.begin_read().expect("read");
        let table = txn.open_table(PEER).expect("table");
        assert!(
            table
                .get(k.as_slice())
                .expect("get")
                .map(|v| v.value().to_vec())
                .is_some()
        );
    }
    let peer_get = start.elapsed();
    let txn = bench.peer.begin_read().expect("read");
    let table = txn.open_table(PEER).expect("table");
    let start = Instant::now();
    for k in &sample {
        assert!(
            table
                .get(k.as_slice())
                .expect("get")
                .map(|v| v.value().to_vec())
                .is_some()
        );
    }
    let peer_held = start.elapsed();
    println!();
    println!("point reads/s ({READS} existing keys)");
    println!(
        "  Store::get (a read transaction per get) {:>12.0}   peer: redb get, a transaction per get {:>12.0}   ratio {:.2}x",
        rate(READS, store_get),
        rate(READS, peer_get),
        peer_get.as_secs_f64() / store_get.as_secs_f64()
    );
    println!(
        "  Snapshot::get (one held transaction)    {:>12.0}   peer: redb get, one held transaction {:>12.0}   ratio {:.2}x",
        rate(READS, snapshot_get),
        rate(READS, peer_held),
        peer_held.as_secs_f64() / snapshot_get.as_secs_f64()
    );

    // Proofs: generation, then verification, of keys present and absent.
    let root = bench.store.latest_root().expect("root");
    let start = Instant::now();
    let proofs: Vec<_> = (0..PROOFS as u64)
        .map(|j| {
            let k = if j % 2 == 0 {
                key((j * 7_919) % bench.keys)
            } else {
                key(u64::MAX - j)
            };
            bench.store.prove(&k, None).expect("prove")
        })
        .collect();
    let prove = start.elapsed();
    let start = Instant::now();
    for p in &proofs {
        verify_proof(&root, p).expect("verify");
    }
    let verify = start.elapsed();
    let bytes: usize = proofs.iter().map(|p| p.proof.len()).sum();
    println!();
    println!(
        "proofs ({PROOFS}, half inclusion half exclusion, mean body {} bytes)",
        bytes / PROOFS
    );
    println!(
        "  Store::prove/s {:>10.0}   peer: redb get/s (a transaction per get) {:>10.0}   ratio {:.1}x slower",
        rate(PROOFS, prove),
        rate(READS, peer_get),
        prove.as_secs_f64() / PROOFS as f64 / (peer_get.as_secs_f64() / READS as f64)
    );
    println!("  verify_proof/s {:>10.0}", rate(PROOFS, verify));
}
