//! Transfer finality latency on one node: submit → finalized, through the real binary and
//! API, next to the API's own round trip on the same node (the floor a client sees) and
//! the chain's configured block interval.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    process::Command,
    time::{Duration, Instant},
};

use plexus_ledger::genesis::dev_faucet;
use plexus_types::{Keypair, Payload, Transaction};

const SAMPLES: usize = 30;

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let port = |_: ()| {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let api = format!("127.0.0.1:{}", port(()));
    let p2p = format!("127.0.0.1:{}", port(()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_plexus"))
        .args(["node", "--dir"])
        .arg(dir.path().join("node"))
        .args(["--api", &api, "--p2p", &p2p])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = plexus_client::Client::new(&format!("http://{api}")).unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while client
            .status()
            .await
            .map(|s| s.node.finalized_height)
            .unwrap_or(0)
            < 1
        {
            assert!(Instant::now() < deadline, "the node did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let chain = client.chain().await.unwrap();
        let faucet = dev_faucet();
        let mut finality = Vec::new();
        let mut round_trip = Vec::new();
        for i in 0..SAMPLES {
            let started = Instant::now();
            client.status().await.unwrap();
            round_trip.push(started.elapsed());
            let nonce = client.next_nonce(&faucet.account()).await.unwrap();
            let tx = Transaction {
                chain_id: chain.chain_id,
                sender: faucet.account(),
                nonce,
                fee: chain.params.min_fee,
                payload: Payload::Transfer {
                    to: Keypair::from_label(&format!("bench-{i}")).account(),
                    amount: 1_000,
                },
            }
            .sign(&faucet);
            let started = Instant::now();
            let hash = client.submit(&tx).await.unwrap();
            client
                .wait_for_tx(&hash, Duration::from_secs(30))
                .await
                .unwrap();
            finality.push(started.elapsed());
        }
        finality.sort();
        round_trip.sort();
        let interval = Duration::from_millis(chain.params.block_interval_ms);
        let (p50, p99) = (percentile(&finality, 50), percentile(&finality, 99));
        println!("transfer finality on one node ({SAMPLES} transfers, debug or release as built)");
        println!("  submit → finalized   p50 {p50:>10.1?}   p99 {p99:>10.1?}");
        println!(
            "  peer: API round trip p50 {:>10.1?}   p99 {:>10.1?}",
            percentile(&round_trip, 50),
            percentile(&round_trip, 99)
        );
        println!("  block interval (pacing target) {interval:?}");
        println!(
            "  ratio finality p50 / block interval = {:.2}; / API round trip = {:.0}x",
            p50.as_secs_f64() / interval.as_secs_f64(),
            p50.as_secs_f64() / percentile(&round_trip, 50).as_secs_f64()
        );
    });
    let _ = child.kill();
    let _ = child.wait();
}
