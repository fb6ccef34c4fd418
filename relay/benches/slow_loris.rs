//! Relay throughput unloaded and under a slow-loris flood of idle connections, and
//! their ratio (issue 15: within 10 % of the unloaded run).
//!
//! One process on loopback: a stub gateway answering `message/ohttp-res`, the relay
//! served by its real loop (`plexus_relay::serve_within` with the default limits),
//! and 32 clients posting 256-byte encapsulated requests through it as fast as they
//! can. Rounds alternate unloaded and flooded (in alternating order); the flood keeps `IDLE` connections
//! (default 500) open the way a slow-loris does: each sends half a request head and
//! reconnects as soon as the relay drops it. Run with
//! `cargo bench -p plexus-relay --bench slow_loris` (`IDLE=1500` floods past the
//! connection cap).

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Router, routing::post};
use plexus_relay::{Directory, RateConfig, Relay, RelayConfig, default_limits, serve_within};
use plexus_types::AccountId;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{TcpListener, TcpStream},
    sync::watch,
};

const CLIENTS: usize = 32;
const ROUND: Duration = Duration::from_secs(2);
const ROUNDS: usize = 6;

async fn gateway() -> SocketAddr {
    let app = Router::new().route(
        "/ohttp",
        post(|| async { ([("content-type", "message/ohttp-res")], vec![7u8; 256]) }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn relay(gateway: SocketAddr, target: AccountId) -> SocketAddr {
    let relay = Relay::new(RelayConfig {
        rate: RateConfig {
            per_second: 10_000_000,
            burst: 10_000_000,
            max_tracked: 1024,
        },
        allow_private_targets: true,
        ..RelayConfig::default()
    })
    .expect("relay");
    let mut directory = Directory::new();
    let url = plexus_relay::directory::check_url(&format!("http://{gateway}"), true).expect("url");
    directory.insert(target, url);
    relay.set_directory(directory);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(serve_within(
        listener,
        relay,
        &[],
        default_limits(),
        std::future::pending(),
    ));
    addr
}

/// Requests per second through the relay for one round, and the failures.
async fn round(http: &reqwest::Client, url: &str) -> (f64, u64) {
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CLIENTS {
        let (http, url) = (http.clone(), url.to_owned());
        let (ok, failed) = (Arc::clone(&ok), Arc::clone(&failed));
        workers.push(tokio::spawn(async move {
            while started.elapsed() < ROUND {
                let sent = http
                    .post(&url)
                    .header("content-type", "message/ohttp-req")
                    .body(vec![1u8; 256])
                    .send()
                    .await;
                let served = match sent {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
                if served {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let rate = ok.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    (rate, failed.load(Ordering::Relaxed))
}

/// Keep `n` slow-loris connections open to `addr` until `stop` turns true; the
/// number of reconnections (each one the relay dropping an idle connection).
fn flood(addr: SocketAddr, n: usize, stop: &watch::Receiver<bool>) -> Arc<AtomicU64> {
    let reconnects = Arc::new(AtomicU64::new(0));
    for _ in 0..n {
        let (mut stop, reconnects) = (stop.clone(), Arc::clone(&reconnects));
        tokio::spawn(async move {
            while !*stop.borrow() {
                let Ok(mut s) = TcpStream::connect(addr).await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let _ = s
                    .write_all(b"POST /v1/relay/x HTTP/1.1\r\nhost: relay\r\n")
                    .await;
                let mut buf = [0u8; 256];
                // Parked until the relay drops it or the bench ends: no polling.
                tokio::select! {
                    _ = s.read(&mut buf) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                reconnects.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    reconnects
}

fn main() {
    let idle: usize = std::env::var("IDLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async move {
        let target = AccountId([9; 32]);
        let gateway = gateway().await;
        let relay = relay(gateway, target).await;
        let url = format!("http://{relay}/v1/relay/{}", target.to_address());
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(CLIENTS)
            .build()
            .expect("client");
        // Warm up: connections pooled, code paths hot.
        let _ = round(&http, &url).await;
        let (mut unloaded, mut flooded) = (Vec::new(), Vec::new());
        let (mut failed_unloaded, mut failed_flooded, mut dropped) = (0, 0, 0);
        // Alternate which goes first, so drift in the machine's speed cancels out.
        for i in 0..ROUNDS {
            for flooding in [i % 2 == 1, i % 2 == 0] {
                if !flooding {
                    let (rate, failed) = round(&http, &url).await;
                    unloaded.push(rate);
                    failed_unloaded += failed;
                    continue;
                }
                let (stop, stopping) = watch::channel(false);
                let reconnects = flood(relay, idle, &stopping);
                tokio::time::sleep(Duration::from_millis(500)).await;
                let (rate, failed) = round(&http, &url).await;
                flooded.push(rate);
                failed_flooded += failed;
                stop.send_replace(true);
                dropped += reconnects.load(Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
        // Other work on the machine only slows a round down: the median and the best
        // round of each are the robust figures.
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
        let (bu, bf) = (best(&unloaded), best(&flooded));
        let (u, f) = (median(&mut unloaded), median(&mut flooded));
        println!("relay throughput, {CLIENTS} clients, {ROUNDS} rounds of {ROUND:?} each (median, best)");
        println!("  unloaded                     {u:>8.0} {bu:>8.0} req/s  ({failed_unloaded} failed)");
        println!(
            "  under {idle} idle connections  {f:>8.0} {bf:>8.0} req/s  ({failed_flooded} failed; the relay dropped {dropped} idle connections)"
        );
        println!("  ratio flooded / unloaded     {:>8.3} {:>8.3}", f / u, bf / bu);
    });
}
