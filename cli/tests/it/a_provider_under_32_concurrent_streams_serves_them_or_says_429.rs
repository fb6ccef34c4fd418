//! Load on loopback: 32 clients stream chat completions at once from a provider with
//! one slot and a short queue. Every answer is either a complete stream or a 429 with
//! `Retry-After`; nothing else. Memory after several rounds stays where the first
//! round left it.

use std::time::{Duration, Instant};

use futures::StreamExt as _;

use crate::support::{ProviderProcess, default_model, plexus};

/// Concurrent clients.
const CLIENTS: usize = 32;
/// Rounds of `CLIENTS` requests.
const ROUNDS: usize = 3;

#[derive(Debug, Default)]
struct Tally {
    complete: usize,
    too_many: usize,
    other: Vec<String>,
}

async fn one(http: reqwest::Client, url: String, i: usize) -> Result<bool, String> {
    let body = serde_json::json!({
        "model": "SmolLM2-135M-Instruct",
        "messages": [{"role": "user", "content": format!("Count from {i} to {}.", i + 5)}],
        "max_tokens": 12,
        "temperature": 0,
        "stream": true,
    });
    let response = http
        .post(format!("{url}/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    match response.status().as_u16() {
        200 => {
            let mut text = String::new();
            let mut body = response.bytes_stream();
            while let Some(chunk) = body.next().await {
                text.push_str(&String::from_utf8_lossy(&chunk.map_err(|e| e.to_string())?));
            }
            if text.trim_end().ends_with("data: [DONE]") && !text.contains("\"error\"") {
                Ok(true)
            } else {
                Err(format!("incomplete stream: {text}"))
            }
        }
        429 => {
            let retry = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
            match retry {
                Some(secs) if secs >= 1 => Ok(false),
                _ => Err("429 without a Retry-After".to_owned()),
            }
        }
        status => Err(format!(
            "status {status}: {}",
            response.text().await.unwrap_or_default()
        )),
    }
}

async fn round(url: &str) -> Tally {
    let http = reqwest::Client::new();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| tokio::spawn(one(http.clone(), url.to_owned(), i)))
        .collect();
    let mut tally = Tally::default();
    for task in tasks {
        match task.await.unwrap() {
            Ok(true) => tally.complete += 1,
            Ok(false) => tally.too_many += 1,
            Err(e) => tally.other.push(e),
        }
    }
    tally
}

#[test]
fn a_provider_under_32_concurrent_streams_serves_them_or_says_429() {
    default_model();
    let dir = tempfile::tempdir().unwrap();
    let provider = ProviderProcess::start(
        plexus(&dir.path().join("wallets")),
        dir.path(),
        &["--slots", "1", "--queue", "8", "--no-embeddings"],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut rss = Vec::new();
    for r in 0..ROUNDS {
        let started = Instant::now();
        let tally = runtime.block_on(round(&provider.api_url));
        rss.push(provider.rss_kib());
        println!(
            "round {r}: {} complete, {} refused with 429, {:?}, provider RSS {} MiB",
            tally.complete,
            tally.too_many,
            started.elapsed(),
            rss[r] / 1024
        );
        assert!(
            tally.other.is_empty(),
            "unexpected answers: {:?}",
            tally.other
        );
        // One slot and eight places in line: at least those are served.
        assert!(tally.complete >= 9, "{tally:?}");
        assert_eq!(tally.complete + tally.too_many, CLIENTS);
        std::thread::sleep(Duration::from_millis(200));
    }
    // Stable memory: later rounds do not grow past the first by more than 32 MiB.
    let first = rss[0];
    let last = *rss.last().unwrap();
    assert!(
        last <= first + 32 * 1024,
        "provider RSS grew from {first} KiB to {last} KiB"
    );
    let metrics = reqwest::blocking::get(format!("{}/metrics", provider.api_url))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("plexus_provider_queue_depth 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"status="429""#),
        "the test did not push the provider to 429:\n{metrics}"
    );
}
