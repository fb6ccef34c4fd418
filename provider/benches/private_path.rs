//! What the private path costs: a small chat request through the relay and the
//! provider's OHTTP gateway (seal, relay hop, decapsulate, replay check, token verify
//! and durable spend, seal the answer) against the same request sent straight to the
//! provider's OpenAI API, both on loopback sockets, with an engine that answers at
//! once (generation excluded). Also the issuer's signing throughput against the bare
//! RFC 9474 blind signature of `blind-rsa-signatures`.
//!
//! `cargo bench -p plexus-provider --bench private_path` (PRIVATE_PATH_N sets the
//! requests per side, default 400).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use plexus_client::private::{PlainRequest, Route, send};
use plexus_inference::{
    Engine, EngineInfo, FinishReason, Generation, GenerationRequest, ModelInfo, Output, Usage,
};
use plexus_privacy::{
    oblivious::{Gateway, GatewayKey},
    token::{IssuerKey, Token, TokenChallenge, begin_issuance},
};
use plexus_provider::{
    Provider, ProviderConfig,
    private::{GatewayLimits, Keyring, PrivateGateway, private_router},
    router,
    spent::SpentStore,
};
use plexus_relay::{Relay, RelayConfig, directory::Directory};
use plexus_types::{Hash, Keypair};
use reqwest::Url;

/// Answers "ok" at once.
struct Instant1(ModelInfo);

impl Engine for Instant1 {
    fn model(&self) -> &ModelInfo {
        &self.0
    }
    fn generate(&self, _request: GenerationRequest) -> Generation {
        let items = vec![
            Ok(Output::Text {
                text: "ok".into(),
                tokens: vec![1],
                logprobs: Vec::new(),
            }),
            Ok(Output::Finished {
                reason: FinishReason::Stop,
                usage: Usage {
                    prompt_tokens: 5,
                    completion_tokens: 1,
                },
            }),
        ];
        Box::pin(futures::stream::iter(items))
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn body() -> Vec<u8> {
    serde_json::json!({
        "model": "instant",
        "messages": [{"role": "user", "content": "Say ok."}],
        "max_tokens": 8,
    })
    .to_string()
    .into_bytes()
}

fn token(key: &IssuerKey, issuer: &str, origin: &str) -> Token {
    let challenge = TokenChallenge::for_origin(issuer, origin);
    let (request, pending) = begin_issuance(key.public(), &challenge).unwrap();
    pending
        .finalize(&key.issue(&request.encode()).unwrap().encode())
        .unwrap()
}

fn main() {
    let n: usize = std::env::var("PRIVATE_PATH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let issuer_key = IssuerKey::generate().unwrap();
    let provider_hotkey = Keypair::from_label("bench-provider").account();
    let issuer_name = Keypair::from_label("bench-issuer").account().to_address();
    let origin = provider_hotkey.to_address();

    runtime.block_on(async {
        let info = ModelInfo {
            id: "instant".into(),
            weights_hash: Hash([1; 32]),
            context_length: 2048,
            engine: EngineInfo {
                name: "instant".into(),
                version: "1".into(),
                quantization: "none".into(),
                kernel: "none".into(),
            },
        };
        let provider = Provider::new(
            Arc::new(Instant1(info)),
            None,
            ProviderConfig {
                concurrency: 4,
                ..ProviderConfig::default()
            },
        );
        let api = router(provider.clone());
        let ohttp = Gateway::new(vec![GatewayKey::derive(1, &[3; 32]).unwrap()]).unwrap();
        let config = ohttp.public_configs().unwrap().remove(0);
        let gateway = PrivateGateway::new(
            ohttp,
            origin.clone(),
            SpentStore::open(dir.path().join("spent.redb")).unwrap(),
            provider,
            GatewayLimits {
                per_second: 1_000_000,
                burst: 1_000_000,
                admitting: 1024,
            },
        );
        let mut keyring = Keyring::new();
        keyring.add(&issuer_name, issuer_key.public().clone(), 1);
        gateway.set_keyring(keyring);
        // The public listener serves only the private path; the plain API has its own.
        let app = private_router(gateway);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let provider_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, api).await.unwrap() });

        let relay = Relay::new(RelayConfig {
            allow_private_targets: true,
            rate: plexus_relay::RateConfig {
                per_second: 1_000_000,
                burst: 1_000_000,
                ..plexus_relay::RateConfig::default()
            },
            ..RelayConfig::default()
        })
        .unwrap();
        let mut directory = Directory::new();
        directory.insert(provider_hotkey, Url::parse(&provider_url).unwrap());
        relay.set_directory(directory);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay_url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(plexus_relay::serve(listener, relay, std::future::pending()));

        let tokens: Vec<Token> = (0..n + 20)
            .map(|_| token(&issuer_key, &issuer_name, &origin))
            .collect();
        let route = Route::via_relay(&relay_url, &provider_hotkey, config).unwrap();
        let http = reqwest::Client::new();
        let direct_url = format!("{api_url}/v1/chat/completions");
        let (mut direct, mut private) = (Vec::with_capacity(n), Vec::with_capacity(n));
        // Warm up both paths, then interleave so drift hits both equally.
        for (i, t) in tokens.into_iter().enumerate() {
            let start = Instant::now();
            let r = http
                .post(&direct_url)
                .header("content-type", "application/json")
                .body(body())
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
            r.bytes().await.unwrap();
            let d = start.elapsed();
            let request = PlainRequest {
                method: "POST".into(),
                path: "/v1/chat/completions".into(),
                body: body(),
                tokens: vec![t],
            };
            let start = Instant::now();
            let answer = send(&http, &route, &request, Duration::from_secs(10))
                .await
                .unwrap();
            let p = start.elapsed();
            assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
            if i >= 20 {
                direct.push(d);
                private.push(p);
            }
        }
        direct.sort();
        private.sort();
        let (d50, d99) = (percentile(&direct, 0.5), percentile(&direct, 0.99));
        let (p50, p99) = (percentile(&private, 0.5), percentile(&private, 0.99));
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!("private path vs direct, {n} small chat requests each, loopback, instant engine");
        println!("  direct (peer)   p50 {:.3} ms  p99 {:.3} ms", ms(d50), ms(d99));
        println!("  relay+OHTTP     p50 {:.3} ms  p99 {:.3} ms", ms(p50), ms(p99));
        println!(
            "  added           p50 {:.3} ms  p99 {:.3} ms  (target <= 2 ms at p50); ratio p50 {:.2}x",
            ms(p50) - ms(d50),
            ms(p99) - ms(d99),
            ms(p50) / ms(d50)
        );
    });

    // Issuer throughput: our issue (decode, key check, sign) vs the bare blind signature.
    let requests: Vec<Vec<u8>> = (0..200)
        .map(|_| {
            let challenge = TokenChallenge::for_origin(&issuer_name, &origin);
            begin_issuance(issuer_key.public(), &challenge)
                .unwrap()
                .0
                .encode()
        })
        .collect();
    let start = Instant::now();
    for r in &requests {
        issuer_key.issue(r).unwrap();
    }
    let ours = requests.len() as f64 / start.elapsed().as_secs_f64();
    let secret = blind_rsa_signatures::SecretKeySha384PSSDeterministic::from_der(
        &issuer_key.to_der().unwrap(),
    )
    .unwrap();
    let start = Instant::now();
    for r in &requests {
        secret.blind_sign(&r[3..]).unwrap();
    }
    let bare = requests.len() as f64 / start.elapsed().as_secs_f64();
    println!("issuer, one core, 2048-bit RSA");
    println!("  blind-rsa-signatures blind_sign (peer)  {bare:.0} tokens/s");
    println!(
        "  IssuerKey::issue                         {ours:.0} tokens/s  (ratio {:.2}x)",
        ours / bare
    );
}
