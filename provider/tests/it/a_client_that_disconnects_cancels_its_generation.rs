use std::{sync::atomic::Ordering, time::Duration};

use futures::StreamExt;
use http_body_util::BodyStream;
use plexus_provider::ProviderConfig;
use tower::ServiceExt;

use crate::support::{Scripted, call, chat, post, provider};

#[tokio::test]
async fn dropping_a_stream_stops_the_engine_and_frees_the_slot() {
    let config = ProviderConfig {
        concurrency: 1,
        queue: 0,
        ..ProviderConfig::default()
    };
    let engine = Scripted::new(vec!["tok"; 1000], Duration::from_millis(5));
    let (p, app) = provider(engine.clone(), config);
    let mut request = chat(true);
    request["max_tokens"] = 1000.into();
    let response = app
        .clone()
        .oneshot(post("/v1/chat/completions", &request))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = BodyStream::new(response.into_body());
    // Read a few events, then hang up.
    for _ in 0..3 {
        body.next().await.unwrap().unwrap();
    }
    drop(body);
    tokio::time::timeout(Duration::from_secs(5), async {
        while engine.cancelled.load(Ordering::SeqCst) == 0
            || !p.metrics().contains("plexus_provider_running 0")
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the generation was not cancelled");
    // The slot is free again: with no queue, a new request is served, not refused.
    let mut short = chat(false);
    short["max_tokens"] = 2.into();
    let (status, _, _) = call(&app, post("/v1/chat/completions", &short)).await;
    assert_eq!(status, 200);
}
