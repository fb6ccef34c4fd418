//! Finding 15: requests that pay nothing (the model list, refusals) persist nothing, so
//! a flood of them cannot grow the spent store or serialise paying requests behind
//! fsyncs; and the gateway takes on a bounded rate of encapsulations, answering the
//! rest with a plain 429 before decapsulating them.

use std::time::Duration;

use plexus_provider::ProviderConfig;
use serde_json::json;

use crate::{
    gateway::{start, tokens},
    support::Scripted,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_and_refused_requests_leave_the_spent_store_empty() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Scripted::new(vec!["a"], Duration::ZERO);
    let p = start(
        &dir.path().join("spent.redb"),
        engine,
        ProviderConfig::default(),
    )
    .await;
    let route = plexus_client::private::Route::direct(&p.url, p.config.clone()).unwrap();
    for _ in 0..40 {
        let request = plexus_client::private::PlainRequest {
            method: "GET".into(),
            path: "/v1/models".into(),
            body: Vec::new(),
            tokens: Vec::new(),
        };
        let answer = plexus_client::private::send(&p.http, &route, &request, crate::gateway::T)
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
    }
    // Refused: no token, a bad body.
    let (status, _) = p
        .send(
            "/v1/chat/completions",
            &json!({"model": "scripted-1", "messages": [{"role": "user", "content": "hi"}]}),
            vec![],
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = p
        .send("/v1/chat/completions", &json!({"messages": 3}), tokens(1))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        p.gateway.spent().len().unwrap(),
        0,
        "requests that paid nothing were written to disk"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_beyond_the_gateway_rate_is_turned_away_at_the_door() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Scripted::new(vec!["a"], Duration::ZERO);
    let limits = plexus_provider::private::GatewayLimits {
        per_second: 1,
        burst: 5,
        admitting: 64,
    };
    let p = crate::gateway::start_with(
        &dir.path().join("spent.redb"),
        engine,
        ProviderConfig::default(),
        limits,
    )
    .await;
    let route = plexus_client::private::Route::direct(&p.url, p.config.clone()).unwrap();
    let request = plexus_client::private::PlainRequest {
        method: "GET".into(),
        path: "/v1/models".into(),
        body: Vec::new(),
        tokens: Vec::new(),
    };
    let mut answered = 0;
    for _ in 0..20 {
        if plexus_client::private::send(&p.http, &route, &request, crate::gateway::T)
            .await
            .is_ok_and(|a| a.status == 200)
        {
            answered += 1;
        }
    }
    assert!(
        (5..=7).contains(&answered),
        "{answered} of 20 went through a gateway allowing a burst of 5 and 1 per second"
    );
    let raw = p
        .http
        .post(p.url.join("ohttp").unwrap())
        .header("content-type", "message/ohttp-req")
        .body(vec![0u8; 64])
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 429);
    assert_eq!(raw.headers()["retry-after"], "1");
}
