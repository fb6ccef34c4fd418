//! Throughput and finality of a real network on loopback: finalized transfers per
//! second and submit → finalized latency (p50, p99) through four validator `plexus
//! node` processes, next to one validator measured the same way in the same run.
//!
//! Both chains get the same genesis shape: a 250 ms block interval and `SENDERS`
//! funded accounts. Each sender submits bursts of `BURST` transfers with consecutive
//! nonces to one of the validators' APIs (spread round-robin) and waits until the
//! block stream of validator 0 shows all of them finalized; a transfer's latency runs
//! from its submission to the arrival of its block on that stream. Throughput counts
//! the transfers finalized in the measured window after a warm-up.
//!
//! `PLEXUS_BENCH_SECS` (default 20) sets the measured window.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::BTreeMap,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::StreamExt as _;
use plexus_client::{Client, StreamEvent};
use plexus_ledger::{ChainParams, Genesis};
use plexus_types::{Hash, Keypair, PLX, Payload, Transaction};

const SENDERS: usize = 256;
const BURST: u64 = 24;
const INTERVAL_MS: u64 = 250;
const WARM_UP: Duration = Duration::from_secs(3);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

/// Validator processes from one genesis, killed on drop.
struct Network {
    children: Vec<Child>,
    urls: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Drop for Network {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start(validators: usize, senders: &[Keypair]) -> Network {
    let dir = tempfile::tempdir().unwrap();
    let keys: Vec<Keypair> = (0..validators)
        .map(|i| Keypair::from_label(&format!("bench validator {i}")))
        .collect();
    let mut genesis = Genesis::empty(
        4242,
        ChainParams {
            block_interval_ms: INTERVAL_MS,
            ..ChainParams::default()
        },
    );
    for key in &keys {
        genesis.add_validator(key.account()).unwrap();
    }
    for sender in senders {
        genesis.add_account(sender.account(), 1_000 * PLX).unwrap();
    }
    let genesis_file = dir.path().join("genesis.json");
    std::fs::write(&genesis_file, genesis.to_json()).unwrap();
    let p2p: Vec<String> = (0..validators)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let apis: Vec<String> = (0..validators)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let children = (0..validators)
        .map(|i| {
            let node = dir.path().join(format!("v{i}"));
            write_key(&node, &keys[i]);
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_plexus"));
            cmd.args(["node", "--dir"])
                .arg(&node)
                .arg("--genesis")
                .arg(&genesis_file)
                .args(["--api", &apis[i], "--p2p", &p2p[i], "--local-p2p"])
                .args(["--no-data-store"])
                .env("PLEXUS_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if validators > 1 {
                let next = (i + 1) % validators;
                let bootstrapper = format!("{}@{}", keys[next].account(), p2p[next]);
                cmd.args(["--bootstrapper", &bootstrapper]);
            }
            cmd.spawn().unwrap()
        })
        .collect();
    Network {
        children,
        urls: apis.iter().map(|a| format!("http://{a}")).collect(),
        _dir: dir,
    }
}

fn write_key(dir: &Path, key: &Keypair) {
    std::fs::create_dir_all(dir).unwrap();
    let seed = hex::encode(key.secret_bytes());
    std::fs::write(dir.join(plexus_node::KEY_FILE), format!("{seed}\n")).unwrap();
}

struct Measured {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    samples: usize,
}

async fn measure(network: &Network, senders: &[Keypair], window: Duration) -> Measured {
    let first = Client::new(&network.urls[0]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    while first
        .status()
        .await
        .map(|s| s.node.finalized_height)
        .unwrap_or(0)
        < 2
    {
        assert!(Instant::now() < deadline, "the network did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let chain = first.chain().await.unwrap();

    // When each transfer's block reached validator 0's block stream.
    let finalized: Arc<Mutex<BTreeMap<Hash, Instant>>> = Arc::default();
    let mut stream = first.subscribe_blocks().await.unwrap();
    let seen = finalized.clone();
    let watcher = tokio::spawn(async move {
        while let Some(Ok(event)) = stream.next().await {
            if let StreamEvent::Block(block) = event {
                let now = Instant::now();
                let mut seen = seen.lock().unwrap();
                for hash in block.tx_hashes {
                    seen.insert(hash, now);
                }
            }
        }
    });

    let started = Instant::now();
    let stop_at = started + WARM_UP + window;
    let submitted: Arc<Mutex<Vec<(Hash, Instant)>>> = Arc::default();
    let tasks: Vec<_> = senders
        .iter()
        .enumerate()
        .map(|(i, sender)| {
            let url = network.urls[i % network.urls.len()].clone();
            let (sender, chain_id, fee) = (sender.clone(), chain.chain_id, chain.params.min_fee);
            let (finalized, submitted) = (finalized.clone(), submitted.clone());
            tokio::spawn(async move {
                let client = Client::new(&url)
                    .unwrap()
                    .with_timeout(Duration::from_secs(10));
                let to = Keypair::from_label(&format!("bench recipient {i}")).account();
                let mut nonce = 0;
                while Instant::now() < stop_at {
                    let mut burst = Vec::new();
                    for _ in 0..BURST {
                        let tx = Transaction {
                            chain_id,
                            sender: sender.account(),
                            nonce,
                            fee,
                            payload: Payload::Transfer { to, amount: 1 },
                        }
                        .sign(&sender);
                        let at = Instant::now();
                        match client.submit(&tx).await {
                            Ok(hash) => {
                                burst.push(hash);
                                submitted.lock().unwrap().push((hash, at));
                                nonce += 1;
                            }
                            Err(_) => break,
                        }
                    }
                    let give_up = Instant::now() + Duration::from_secs(20);
                    while Instant::now() < give_up {
                        let done = {
                            let finalized = finalized.lock().unwrap();
                            burst.iter().all(|h| finalized.contains_key(h))
                        };
                        if done {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    if burst.is_empty() {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    watcher.abort();

    let (from, to) = (started + WARM_UP, stop_at);
    let finalized = finalized.lock().unwrap();
    let submitted = submitted.lock().unwrap();
    let in_window = finalized
        .values()
        .filter(|at| **at >= from && **at < to)
        .count();
    let mut latencies: Vec<Duration> = submitted
        .iter()
        .filter(|(_, at)| *at >= from && *at < to)
        .filter_map(|(hash, at)| finalized.get(hash).map(|done| done.duration_since(*at)))
        .collect();
    latencies.sort();
    assert!(!latencies.is_empty(), "no transfer finalized in the window");
    Measured {
        per_second: in_window as f64 / window.as_secs_f64(),
        p50: percentile(&latencies, 50),
        p99: percentile(&latencies, 99),
        samples: latencies.len(),
    }
}

fn main() {
    let window = Duration::from_secs(
        std::env::var("PLEXUS_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(20),
    );
    let senders: Vec<Keypair> = (0..SENDERS)
        .map(|i| Keypair::from_label(&format!("bench sender {i}")))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for validators in [1, 4] {
        let network = start(validators, &senders);
        let measured = runtime.block_on(measure(&network, &senders, window));
        drop(network);
        rows.push((validators, measured));
    }
    println!(
        "network: {SENDERS} senders in bursts of {BURST}, {INTERVAL_MS} ms block interval, {} s measured after {} s warm-up, release build, loopback, {} cores",
        window.as_secs(),
        WARM_UP.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<14} {:>16} {:>13} {:>13} {:>9}",
        "validators", "finalized tx/s", "p50 finality", "p99 finality", "samples"
    );
    for (validators, m) in &rows {
        println!(
            "{:<14} {:>16.0} {:>10.0} ms {:>10.0} ms {:>9}",
            validators,
            m.per_second,
            m.p50.as_secs_f64() * 1e3,
            m.p99.as_secs_f64() * 1e3,
            m.samples
        );
    }
    let (one, four) = (&rows[0].1, &rows[1].1);
    println!(
        "4 validators vs 1 (peer: one validator, same run): throughput {:.2}×, p50 latency {:.2}×",
        four.per_second / one.per_second,
        four.p50.as_secs_f64() / one.p50.as_secs_f64()
    );
    println!(
        "targets with 4 validators: >= 5,000 finalized tx/s ({}), p50 < 1 s ({})",
        if four.per_second >= 5_000.0 {
            "met"
        } else {
            "NOT met"
        },
        if four.p50 < Duration::from_secs(1) {
            "met"
        } else {
            "NOT met"
        }
    );
}
