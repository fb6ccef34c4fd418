//! Finding 12: the URL a provider publishes on chain serves the private path (and a
//! health check) only. Anyone who reads it gets no free inference and no metrics.

use std::{sync::Arc, time::Duration};

use plexus_client::Client;
use plexus_inference::Engine;
use plexus_provider::{
    ApiAccess, OnChain, ProviderConfig, ProviderService, ServiceConfig, ServiceError,
    private::GatewayLimits,
};
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
    let hotkey = Keypair::from_label("public-provider");
    let config = |api: ApiAccess| ServiceConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        public_url: None,
        provider: ProviderConfig::default(),
        on_chain: Some(OnChain {
            node: Client::new(&served.url).unwrap(),
            netuid,
            coldkey: served.chain.faucet(),
            hotkey: hotkey.clone(),
            data_dir: dir.path().to_path_buf(),
            settle_every: Duration::from_secs(1),
            tx_timeout: Duration::from_secs(30),
        }),
        api,
        gateway: GatewayLimits::default(),
    };
    // The plain API may not listen beyond loopback without a key.
    let exposed = ApiAccess {
        listen: Some("0.0.0.0:0".parse().unwrap()),
        key: None,
    };
    let refused = ProviderService::start(config(exposed), engine.clone(), None).await;
    assert!(matches!(refused, Err(ServiceError::ExposedApi { .. })));
    let keyed = ApiAccess {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        key: Some("operator-secret".into()),
    };
    let service = ProviderService::start(config(keyed), engine, None)
        .await
        .unwrap();
    let api = format!("http://{}", service.api_addr().unwrap());
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
    // The public listener still says it is up.
    let health = http.get(format!("{public}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    // The operator's API answers only with its key.
    let without = http
        .post(format!("{api}/v1/chat/completions"))
        .json(&chat)
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), 401);
    let metrics = http.get(format!("{api}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 401);
    let with = http
        .post(format!("{api}/v1/chat/completions"))
        .bearer_auth("operator-secret")
        .json(&chat)
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), 200);
    assert!(with.text().await.unwrap().contains("free lunch"));

    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
