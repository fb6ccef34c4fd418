//! Gateway keys rotate on the chain's key schedule: a provider publishes the keys of
//! the current and next key epoch, and once an epoch (and its grace) is over, a
//! request sealed to its key is refused as an unknown key, while a key valid now
//! still serves.

use std::time::Duration;

use plexus_client::{
    Client,
    private::{PlainRequest, PrivateError, Route, send},
};
use plexus_privacy::oblivious::{PublicKeyConfig, decode_key_list};
use plexus_provider::{
    ApiAccess, OnChain, ProviderConfig, ProviderService, ServiceConfig, private::GatewayLimits,
};
use plexus_types::{Keypair, Netuid};
use reqwest::Url;

use crate::{
    chain::{ServedChain, TestChain},
    support::Scripted,
};

/// Blocks per key epoch on this chain.
const PERIOD: u64 = 20;

async fn published(node: &Client, netuid: Netuid, hotkey: &Keypair) -> Vec<PublicKeyConfig> {
    let neurons = node.metagraph(netuid).await.unwrap().neurons;
    let n = neurons
        .iter()
        .find(|n| n.hotkey == hotkey.account())
        .expect("the provider is registered");
    decode_key_list(&n.endpoint.as_ref().expect("it serves").ohttp_keys).unwrap()
}

async fn list_models(base: &str, key: PublicKeyConfig) -> Result<u16, PrivateError> {
    let route = Route::direct(&Url::parse(base).unwrap(), key).unwrap();
    let request = PlainRequest {
        method: "GET".into(),
        path: "/v1/models".into(),
        body: Vec::new(),
        tokens: Vec::new(),
    };
    send(
        &reqwest::Client::new(),
        &route,
        &request,
        Duration::from_secs(20),
    )
    .await
    .map(|a| a.status)
}

async fn wait_for_height(node: &Client, height: u64) {
    tokio::time::timeout(Duration::from_secs(60), async {
        while node.tip_height().await.unwrap() < height {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the chain advances");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_sealed_to_a_retired_gateway_key_is_refused() {
    let chain = TestChain::with_params(|p| p.issuer_key_period = PERIOD);
    let served = ServedChain::start(chain, Duration::from_millis(50)).await;
    let netuid = served.chain.setup_subnet().netuid;
    let node = Client::new(&served.url).unwrap();
    let hotkey = Keypair::from_label("rotating-provider");
    let dir = tempfile::tempdir().unwrap();
    let config = ServiceConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        public_url: None,
        provider: ProviderConfig::default(),
        on_chain: Some(OnChain {
            node: node.clone(),
            netuid,
            coldkey: served.chain.faucet(),
            hotkey: hotkey.clone(),
            data_dir: dir.path().to_path_buf(),
            settle_every: Duration::from_secs(1),
            tx_timeout: Duration::from_secs(30),
        }),
        api: ApiAccess::default(),
        gateway: GatewayLimits::default(),
    };
    let engine = Scripted::new(vec!["Hello"], Duration::ZERO);
    let service = ProviderService::start(config, engine, None).await.unwrap();
    let base = service.url().to_owned();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(service.run(async {
        let _ = stopped.await;
    }));

    // The key listed first is the current epoch's: it opens now.
    let start = node.tip_height().await.unwrap();
    let old = published(&node, netuid, &hotkey).await.remove(0);
    assert_eq!(list_models(&base, old.clone()).await.unwrap(), 200);

    // Two epochs (and the grace) later the key's window is over.
    let epoch = start / PERIOD;
    wait_for_height(&node, (epoch + 2) * PERIOD + PERIOD / 2 + 5).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    match list_models(&base, old.clone()).await {
        Err(PrivateError::Refused { status, body, .. }) => {
            assert_eq!(status, 400);
            assert!(body.contains("unknown_ohttp_key"), "{body}");
        }
        other => panic!("a request sealed to a retired key got {other:?}"),
    }

    // The chain lists fresh keys, without the retired one, and they serve.
    let now = published(&node, netuid, &hotkey).await;
    assert!(now.iter().all(|k| k.encoded() != old.encoded()));
    for key in now {
        assert_eq!(list_models(&base, key).await.unwrap(), 200);
    }

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the service stops")
        .unwrap()
        .unwrap();
}
