//! Finding 12: the URL a provider publishes on chain serves the private path (and a
//! health check) only. Anyone who reads it gets no free inference and no metrics.

use std::{sync::Arc, time::Duration};

use plexus_client::Client;
use plexus_inference::Engine;
use plexus_provider::{OnChain, ProviderConfig, ProviderService, ServiceConfig};
use plexus_types::Keypair;
use serde_json::json;

use crate::{
    chain::{ServedChain, TestChain},
    support::{MODEL, Scripted},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_published_url_answers_no_plain_api_request() {
    let served = ServedChain::start(TestChain::new(), Duration::from_millis(20)).await;
    let netuid = served.chain.setup_subnet().netuid;
    let dir = tempfile::tempdir().unwrap();
    let engine: Arc<dyn Engine> = Scripted::new(vec!["free", " lunch"], Duration::ZERO);
    let config = ServiceConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        public_url: None,
        provider: ProviderConfig::default(),
        on_chain: Some(OnChain {
            node: Client::new(&served.url).unwrap(),
            netuid,
            coldkey: served.chain.faucet(),
            hotkey: Keypair::from_label("public-provider"),
            data_dir: dir.path().to_path_buf(),
            settle_every: Duration::from_secs(1),
            tx_timeout: Duration::from_secs(30),
        }),
    };
    let service = ProviderService::start(config, engine, None).await.unwrap();
    let public = service.url().to_owned();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(service.run(async {
        let _ = stopped.await;
    }));

    let http = reqwest::Client::new();
    let chat = json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]});
    let answer = http
        .post(format!("{public}/v1/chat/completions"))
        .json(&chat)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let text = answer.text().await.unwrap();
    assert!(
        status == 404 && !text.contains("free lunch"),
        "the public URL answered a plain chat request: {status} {text}"
    );
    for path in ["/v1/completions", "/v1/embeddings"] {
        let status = http
            .post(format!("{public}{path}"))
            .json(&json!({"model": MODEL, "prompt": "hi", "input": "hi"}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{path}");
    }
    for path in ["/v1/models", "/metrics"] {
        let status = http
            .get(format!("{public}{path}"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{path}");
    }

    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
