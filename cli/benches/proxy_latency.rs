//! What the private path adds end to end: an OpenAI-style client asks `plexus
//! proxy` (private path: session, relay, the provider's OHTTP gateway, credits) and,
//! as the peer, the provider's plain OpenAI API directly, the same 4-token question
//! interleaved, on a loopback `plexus devnet` with the real model. Prints p50/p99 of
//! both and the added latency, for whole answers and for the first content delta of
//! streamed ones (the gateway sends streamed answers on a fixed tick).
//!
//! `cargo bench -p plexus-cli --bench proxy_latency` (release, as users build it;
//! `--profile dev` works too, slower). PROXY_LATENCY_N sets the requests per side,
//! default 40.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{
    io::Read as _,
    time::{Duration, Instant},
};

#[path = "support/devnet.rs"]
mod devnet;

use devnet::{free_base, start, wait_ready};
use serde_json::{Value, json};

fn body(stream: bool) -> Value {
    json!({
        "model": "SmolLM2-135M-Instruct",
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        "max_tokens": 4,
        "temperature": 0,
        "stream": stream,
    })
}

/// A whole answer: the time to the last byte.
fn whole(http: &reqwest::blocking::Client, base: &str) -> Duration {
    let start = Instant::now();
    let r = http
        .post(format!("{base}/v1/chat/completions"))
        .json(&body(false))
        .timeout(Duration::from_secs(120))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.bytes().unwrap();
    start.elapsed()
}

/// A streamed answer: the time to the first content delta.
fn first_delta(http: &reqwest::blocking::Client, base: &str) -> Duration {
    let start = Instant::now();
    let mut r = http
        .post(format!("{base}/v1/chat/completions"))
        .json(&body(true))
        .timeout(Duration::from_secs(120))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let mut first = None;
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        if first.is_none() && String::from_utf8_lossy(&seen).contains("\"content\":\"") {
            first = Some(start.elapsed());
        }
    }
    first.unwrap_or_else(|| start.elapsed())
}

/// Buy `credits` for the devnet's user wallet, issued at once.
fn buy_credits(dir: &std::path::Path, ready: &Value, credits: u64) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plexus"))
        .env("PLEXUS_HOME", dir)
        .env("PLEXUS_WALLETS", dir.join("wallets"))
        .env("PLEXUS_PASSWORD", "devnet")
        .env("PLEXUS_NODE", ready["node"].as_str().unwrap())
        .env("PLEXUS_RELAY", ready["relay"].as_str().unwrap())
        .args([
            "--json",
            "credits",
            "buy",
            "--name",
            "user",
            "--now",
            "--credits",
        ])
        .arg(credits.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
    (at(0.5), at(0.99))
}

fn report(what: &str, direct: Vec<Duration>, private: Vec<Duration>) {
    let n = direct.len();
    // Requests alternate, so pairing them cancels the load that drifts over the run.
    let mut paired: Vec<f64> = direct
        .iter()
        .zip(&private)
        .map(|(d, p)| (p.as_secs_f64() - d.as_secs_f64()) * 1e3)
        .collect();
    paired.sort_by(f64::total_cmp);
    let paired_median = paired[paired.len() / 2];
    let (d50, d99) = stats(direct);
    let (p50, p99) = stats(private);
    println!("{what}, {n} each, loopback devnet, SmolLM2-135M, max_tokens 4");
    println!("  provider API directly (peer)  p50 {d50:.1} ms  p99 {d99:.1} ms");
    println!("  plexus proxy + relay + OHTTP  p50 {p50:.1} ms  p99 {p99:.1} ms");
    println!(
        "  added p50 {:.1} ms  p99 {:.1} ms (target < 2 ms at p50); ratio p50 {:.3}x",
        p50 - d50,
        p99 - d99,
        p50 / d50
    );
    println!("  median of paired differences {paired_median:.1} ms");
}

fn main() {
    let n: usize = std::env::var("PROXY_LATENCY_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let dir = tempfile::tempdir().unwrap();
    let mut child = start(dir.path(), free_base());
    let ready = wait_ready(dir.path(), &mut child);
    let proxy = ready["proxy"].as_str().unwrap().to_owned();
    let direct = ready["provider_api"].as_str().unwrap().to_owned();
    // Each question costs the proxy 2 credits; the devnet funds 100, and bundles are
    // 10, 100 or 1000 credits.
    assert!(2 * (10 + 2 * n) <= 1100, "PROXY_LATENCY_N at most 265");
    buy_credits(dir.path(), &ready, 1000);
    let http = reqwest::blocking::Client::new();
    // Warm up both (the proxy's first request proves keys and may buy credits).
    for _ in 0..5 {
        whole(&http, &direct);
        whole(&http, &proxy);
    }
    let (mut d, mut p) = (Vec::new(), Vec::new());
    for _ in 0..n {
        d.push(whole(&http, &direct));
        p.push(whole(&http, &proxy));
    }
    report("whole answers", d, p);
    let (mut d, mut p) = (Vec::new(), Vec::new());
    for _ in 0..n / 2 {
        d.push(first_delta(&http, &direct));
        p.push(first_delta(&http, &proxy));
    }
    report("streamed answers, time to the first content delta", d, p);
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    child.wait().unwrap();
}
