//! Finding 3: a request the provider refuses (400, 404, 429, 503) keeps its tokens:
//! they are neither spent nor queued for settlement, and they pay for a later answer.

use std::time::Duration;

use plexus_provider::ProviderConfig;
use serde_json::json;

use crate::{
    gateway::{start, tokens},
    support::{MODEL, Scripted},
};

fn chat(max_tokens: u32) -> serde_json::Value {
    json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": max_tokens})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_unknown_busy_and_closed_answers_spend_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Scripted::new(vec!["a", "b", "c"], Duration::from_millis(400));
    let config = ProviderConfig {
        concurrency: 1,
        queue: 0,
        ..ProviderConfig::default()
    };
    let p = std::sync::Arc::new(start(&dir.path().join("spent.redb"), engine, config).await);
    let path = "/v1/chat/completions";

    let mut bad = chat(4);
    bad["temperature"] = json!(5);
    let mut unknown = chat(4);
    unknown["model"] = json!("no-such-model");
    for (body, want) in [(bad, 400), (unknown, 404)] {
        let paid = tokens(1);
        let (status, answer) = p.send(path, &body, paid.clone()).await;
        assert_eq!(status, want, "{answer}");
        assert!(!p.is_spent(&paid[0]), "a {want} spent the token");
    }

    // The only slot is taken: the next request is turned away (429) unspent.
    let busy = {
        let p = std::sync::Arc::clone(&p);
        tokio::spawn(async move { p.send(path, &chat(3), tokens(1)).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let paid = tokens(1);
    let (status, answer) = p.send(path, &chat(3), paid.clone()).await;
    assert_eq!(status, 429, "{answer}");
    assert!(!p.is_spent(&paid[0]), "a 429 spent the token");
    assert_eq!(busy.await.unwrap().0, 200);
    assert_eq!(
        p.gateway.spent().unsettled(10).unwrap().len(),
        1,
        "only the answered request is queued for settlement"
    );
    // The refused token still pays for an answer.
    assert_eq!(p.send(path, &chat(1), paid).await.0, 200);

    // A provider shutting down answers 503, unspent.
    p.provider.shut_down();
    let paid = tokens(1);
    let (status, answer) = p.send(path, &chat(1), paid.clone()).await;
    assert_eq!(status, 503, "{answer}");
    assert!(!p.is_spent(&paid[0]), "a 503 spent the token");
    assert_eq!(p.gateway.spent().unsettled(10).unwrap().len(), 2);
}
