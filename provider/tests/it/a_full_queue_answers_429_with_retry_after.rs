use std::time::Duration;

use crate::support::{Scripted, call, chat, post, provider};
use plexus_provider::ProviderConfig;

#[tokio::test]
async fn beyond_the_running_and_waiting_slots_requests_get_429_with_retry_after() {
    let config = ProviderConfig {
        concurrency: 1,
        queue: 1,
        ..ProviderConfig::default()
    };
    let engine = Scripted::new(vec!["a"; 20], Duration::from_millis(20));
    let (p, app) = provider(engine, config);
    // One runs and one waits...
    let spawn = |app: axum::Router| {
        tokio::spawn(async move { call(&app, post("/v1/chat/completions", &chat(false))).await })
    };
    let running = spawn(app.clone());
    while !p.metrics().contains("plexus_provider_running 1") {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let waiting = spawn(app.clone());
    while !p.metrics().contains("plexus_provider_queue_depth 1") {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // ...so the third is turned away at once.
    let (status, headers, body) = call(&app, post("/v1/chat/completions", &chat(false))).await;
    assert_eq!(status, 429);
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert_eq!(running.await.unwrap().0, 200);
    assert_eq!(waiting.await.unwrap().0, 200);
    // Shut down: new requests are refused with 503.
    p.shut_down();
    let (status, _, _) = call(&app, post("/v1/chat/completions", &chat(false))).await;
    assert_eq!(status, 503);
}
