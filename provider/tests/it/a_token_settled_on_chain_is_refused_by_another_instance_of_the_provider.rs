//! Finding 17: two instances of one provider (or one restored from an old disk) each
//! keep their own spent store. A token the first one served and settled on chain must
//! not buy a second answer from the other.

use std::time::Duration;

use plexus_provider::ProviderConfig;
use serde_json::json;

use crate::{
    gateway::{start, tokens},
    support::{MODEL, Scripted},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_gateway_with_its_own_store_refuses_a_token_settled_by_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let engine = || Scripted::new(vec!["a"], Duration::ZERO);
    let first = start(
        &dir.path().join("a.redb"),
        engine(),
        ProviderConfig::default(),
    )
    .await;
    let second = start(
        &dir.path().join("b.redb"),
        engine(),
        ProviderConfig::default(),
    )
    .await;
    let chat =
        json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1});
    let paid = tokens(1);
    let (status, _) = first
        .send("/v1/chat/completions", &chat, paid.clone())
        .await;
    assert_eq!(status, 200);
    // The first instance settles it on chain.
    let (status, answer) = second.send("/v1/chat/completions", &chat, paid).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("token_already_settled")),
        "the token bought a second answer: {answer}"
    );
}
