//! Finding 17: two instances of one provider (or one restored from an old disk) each
//! keep their own spent store. A token the first one served and settled on chain must
//! not buy a second answer from the other.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::future::BoxFuture;
use plexus_provider::{ProviderConfig, private::SettledNonces};
use serde_json::json;

use crate::{
    gateway::{start, tokens},
    support::{MODEL, Scripted},
};

/// The chain's settled nonces, as both instances read them from their node.
#[derive(Default)]
struct Chain {
    settled: Mutex<Vec<[u8; 32]>>,
    down: std::sync::atomic::AtomicBool,
}

impl SettledNonces for Chain {
    fn first_settled<'a>(
        &'a self,
        nonces: &'a [[u8; 32]],
    ) -> BoxFuture<'a, Result<Option<usize>, String>> {
        Box::pin(async move {
            if self.down.load(std::sync::atomic::Ordering::SeqCst) {
                return Err("the node does not answer".to_owned());
            }
            let settled = self.settled.lock().unwrap();
            Ok(nonces.iter().position(|n| settled.contains(n)))
        })
    }
}

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
    let chain = Arc::new(Chain::default());
    first.gateway.set_settled_nonces(chain.clone());
    second.gateway.set_settled_nonces(chain.clone());
    let chat =
        json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1});
    let paid = tokens(1);
    let (status, _) = first
        .send("/v1/chat/completions", &chat, paid.clone())
        .await;
    assert_eq!(status, 200);
    // The first instance settles it on chain.
    for token in first.gateway.spent().unsettled(10).unwrap() {
        let nonce = plexus_provider::private::token_nonce(&token).unwrap();
        chain.settled.lock().unwrap().push(nonce);
    }
    assert_eq!(chain.settled.lock().unwrap().as_slice(), &[paid[0].nonce]);
    let (status, answer) = second
        .send("/v1/chat/completions", &chat, paid.clone())
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("token_already_settled")),
        "the token bought a second answer: {answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_cannot_reach_the_chain_serves_nothing_and_spends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Scripted::new(vec!["a"], Duration::ZERO);
    let p = start(
        &dir.path().join("a.redb"),
        engine,
        ProviderConfig::default(),
    )
    .await;
    let chain = Arc::new(Chain::default());
    chain.down.store(true, std::sync::atomic::Ordering::SeqCst);
    p.gateway.set_settled_nonces(chain.clone());
    let chat =
        json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1});
    let paid = tokens(1);
    let (status, answer) = p.send("/v1/chat/completions", &chat, paid.clone()).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (503, Some("chain_unavailable"))
    );
    assert!(!p.is_spent(&paid[0]));
    chain.down.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(p.send("/v1/chat/completions", &chat, paid).await.0, 200);
}
