//! A whole provider process started in-process from a config struct and an engine:
//! off chain it serves the OpenAI API only; on chain it registers, publishes its
//! endpoint and OHTTP keys, and serves `/v1/models` over `/ohttp`, and in the clear
//! on the operator's loopback API listener only.

use std::{sync::Arc, time::Duration};

use plexus_client::{
    Client,
    private::{PlainRequest, Route, send},
};
use plexus_inference::Engine;
use plexus_privacy::oblivious::decode_key_list;
use plexus_provider::{
    ApiAccess, OnChain, ProviderConfig, ProviderService, ServiceConfig, private::GatewayLimits,
};
use plexus_types::Keypair;
use reqwest::Url;
use tokio::sync::oneshot;

use crate::{
    chain::{ServedChain, TestChain},
    support::{MODEL, Scripted},
};

fn engine() -> Arc<dyn Engine> {
    Scripted::new(vec!["Hello"], Duration::ZERO)
}

fn config(on_chain: Option<OnChain>) -> ServiceConfig {
    ServiceConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        public_url: None,
        provider: ProviderConfig::default(),
        on_chain,
        api: ApiAccess {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            key: None,
        },
        gateway: GatewayLimits::default(),
    }
}

/// Run `service` in the background; the sender stops it.
fn spawn(
    service: ProviderService,
) -> (
    oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), plexus_provider::ServiceError>>,
) {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(service.run(async {
        let _ = stopped.await;
    }));
    (stop, task)
}

/// Stop the service and wait for it to return cleanly.
async fn stop_and_wait(
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), plexus_provider::ServiceError>>,
) {
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the service stops")
        .unwrap()
        .unwrap();
}

async fn models(base: &str) -> serde_json::Value {
    let response = reqwest::get(format!("{base}/v1/models")).await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_chain_it_serves_the_openai_api_and_no_private_path() {
    let service = ProviderService::start(config(None), engine(), None)
        .await
        .unwrap();
    let base = format!("http://{}", service.local_addr());
    assert_eq!(service.url(), base);
    assert!(service.announced().is_none());
    assert!(service.gateway_url().is_none());
    let (stop, task) = spawn(service);

    assert_eq!(models(&base).await["data"][0]["id"], MODEL);
    let ohttp = reqwest::Client::new()
        .post(format!("{base}/ohttp"))
        .header("content-type", "message/ohttp-req")
        .body(vec![0u8; 64])
        .send()
        .await
        .unwrap();
    assert_eq!(ohttp.status(), 404, "no private path off chain");

    stop_and_wait(stop, task).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_chain_it_registers_publishes_its_keys_and_serves_models_over_ohttp() {
    let served = ServedChain::start(TestChain::new(), Duration::from_millis(20)).await;
    let netuid = served.chain.setup_subnet().netuid;
    let node = Client::new(&served.url).unwrap();
    let hotkey = Keypair::from_label("provider-hotkey");
    let dir = tempfile::tempdir().unwrap();
    let on_chain = OnChain {
        node: node.clone(),
        netuid,
        coldkey: served.chain.faucet(),
        hotkey: hotkey.clone(),
        data_dir: dir.path().to_path_buf(),
        settle_every: Duration::from_secs(1),
        tx_timeout: Duration::from_secs(30),
    };
    let service = ProviderService::start(config(Some(on_chain)), engine(), None)
        .await
        .unwrap();
    let (on, announced) = service.announced().unwrap();
    let announced = announced.clone();
    assert_eq!(on, netuid);
    assert!(announced.registered.is_some() && announced.served.is_some());
    let base = service.url().to_owned();
    let api = format!("http://{}", service.api_addr().unwrap());
    assert_ne!(api, base);
    assert_eq!(service.gateway_url(), Some(format!("{base}/ohttp")));
    assert!(dir.path().join("ohttp.seed").is_file());
    let (stop, task) = spawn(service);

    // The chain shows the endpoint: the URL, the model and the OHTTP keys to use.
    let metagraph = node.metagraph(netuid).await.unwrap();
    let neuron = metagraph
        .neurons
        .iter()
        .find(|n| n.hotkey == hotkey.account())
        .expect("the provider is registered");
    assert_eq!(neuron.uid, announced.uid);
    let endpoint = neuron.endpoint.clone().expect("the provider serves");
    assert_eq!(
        (endpoint.url.as_str(), endpoint.model.as_str()),
        (base.as_str(), MODEL)
    );
    let key = decode_key_list(&endpoint.ohttp_keys).unwrap().remove(0);

    // In the clear on the operator's loopback listener (never on the published URL),
    // and over the private path with the published key (listing the models costs no
    // credit).
    assert_eq!(models(&api).await["data"][0]["id"], MODEL);
    let route = Route::direct(&Url::parse(&base).unwrap(), key).unwrap();
    let request = PlainRequest {
        method: "GET".into(),
        path: "/v1/models".into(),
        body: Vec::new(),
        tokens: Vec::new(),
    };
    let answer = send(
        &reqwest::Client::new(),
        &route,
        &request,
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200);
    let listed: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(listed["data"][0]["id"], MODEL);

    stop_and_wait(stop, task).await;
}
