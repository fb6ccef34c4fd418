//! Finding 15: requests that pay nothing (the model list, refusals) persist nothing, so
//! a flood of them cannot grow the spent store or serialise paying requests behind
//! fsyncs.

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
            &json!({"model": "scripted-1"}),
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
