//! How long a newcomer waits: from `plexus devnet` on an empty folder to the first
//! private chat answer through its funded proxy, then the same after a restart
//! (resume), against the peer: the same question asked of the provider's plain API
//! (no relay, no OHTTP, no credits) in the same run.
//!
//! `cargo bench -p plexus-cli --bench devnet_first_answer` (target: under 60 s once
//! built).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{
    process::Child,
    time::{Duration, Instant},
};

#[path = "support/devnet.rs"]
mod devnet;

use devnet::{free_base, start, wait_ready};
use serde_json::{Value, json};

fn ask(base: &str) -> String {
    let body = json!({
        "model": "SmolLM2-135M-Instruct",
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        "max_tokens": 16,
        "temperature": 0,
    });
    let v: Value = reqwest::blocking::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .json(&body)
        .timeout(Duration::from_secs(300))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn stop(mut child: Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    child.wait().unwrap();
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let base = free_base();

    for (label, fresh) in [("empty folder", true), ("resume", false)] {
        if !fresh {
            std::fs::remove_file(dir.path().join("ready.json")).unwrap();
        }
        let t0 = Instant::now();
        let mut child = start(dir.path(), base);
        let ready = wait_ready(dir.path(), &mut child);
        let up = t0.elapsed();
        let answer = ask(ready["proxy"].as_str().unwrap());
        let first = t0.elapsed();
        let t1 = Instant::now();
        let direct = ask(ready["provider_api"].as_str().unwrap());
        let peer = t1.elapsed();
        let t2 = Instant::now();
        let private = ask(ready["proxy"].as_str().unwrap());
        let warm = t2.elapsed();
        assert!(answer.contains("Paris"), "{answer}");
        assert_eq!(direct, private);
        println!(
            "devnet ({label}): ready {:.1} s, first private answer at {:.1} s ({:.2}x of the 60 s target)\n  warm private answer {:.0} ms vs provider API directly (peer) {:.0} ms: ratio {:.2}x",
            up.as_secs_f64(),
            first.as_secs_f64(),
            first.as_secs_f64() / 60.0,
            warm.as_secs_f64() * 1e3,
            peer.as_secs_f64() * 1e3,
            warm.as_secs_f64() / peer.as_secs_f64()
        );
        stop(child);
    }
}
