//! A whole issuer process started in-process from a config struct: it registers on
//! chain with its URL, OHTTP keys and RSA key, serves its gateway under the published
//! OHTTP key, and started again from the same folder finds the chain up to date.

use std::{net::SocketAddr, time::Duration};

use plexus_client::{
    Client,
    private::{PlainRequest, Route, send},
};
use plexus_issuer::{IssuerService, ServiceConfig, ServiceError, service::key_file};
use plexus_privacy::{oblivious::decode_key_list, token::IssuerKey};
use plexus_types::{Keypair, Netuid};
use reqwest::Url;
use tokio::sync::oneshot;

use crate::chain::{ServedChain, TestChain};

fn config(
    node: &Client,
    hotkey: &Keypair,
    netuid: Netuid,
    listen: SocketAddr,
    dir: &std::path::Path,
) -> ServiceConfig {
    ServiceConfig {
        node: node.clone(),
        hotkey: hotkey.clone(),
        netuid,
        listen,
        public_url: None,
        data_dir: dir.to_path_buf(),
        tx_timeout: Duration::from_secs(30),
    }
}

/// Wait until `hotkey` holds a validator permit on `netuid` (the next epoch).
async fn wait_for_permit(node: &Client, netuid: Netuid, hotkey: &Keypair) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let metagraph = node.metagraph(netuid).await.unwrap();
        if metagraph
            .neurons
            .iter()
            .any(|n| n.hotkey == hotkey.account() && n.validator_permit)
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no validator permit after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Run `service` until the sender is used; the task returns its result.
fn spawn(
    service: IssuerService,
) -> (
    oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), ServiceError>>,
) {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(service.run(async {
        let _ = stopped.await;
    }));
    (stop, task)
}

async fn stop(stop: oneshot::Sender<()>, task: tokio::task::JoinHandle<Result<(), ServiceError>>) {
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the issuer stops")
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issuer_service_registers_once_and_serves_under_the_published_key() {
    let served = ServedChain::start(TestChain::new(), Duration::from_millis(20)).await;
    let setup = served.chain.setup_subnet();
    let node = Client::new(&served.url).unwrap();
    wait_for_permit(&node, setup.netuid, &setup.hotkey).await;
    let dir = tempfile::tempdir().unwrap();
    let any_port = "127.0.0.1:0".parse().unwrap();

    let first = IssuerService::start(config(
        &node,
        &setup.hotkey,
        setup.netuid,
        any_port,
        dir.path(),
    ))
    .await
    .unwrap();
    assert!(first.registered().is_some(), "a new issuer registers");
    assert_eq!(first.hotkey(), setup.hotkey.account());
    let (url, listen) = (first.url().to_owned(), first.local_addr());
    assert_eq!(first.gateway_url(), format!("{url}/ohttp"));
    let der = std::fs::read(key_file(dir.path(), 0)).expect("the key is kept on disk");
    let key = IssuerKey::from_der(&der).unwrap();

    // The chain shows the URL, the OHTTP keys and the RSA key.
    let on_chain = node.issuer(&setup.hotkey.account()).await.unwrap().issuer;
    assert_eq!(on_chain.url, url);
    assert!(on_chain.keys.iter().any(|k| k.spki == key.public().spki()));
    let ohttp_key = decode_key_list(&on_chain.ohttp_keys).unwrap().remove(0);

    // The gateway opens requests sealed to the published key: one for a path it does
    // not serve is answered, sealed, with a 404.
    let (stopping, task) = spawn(first);
    let route = Route::direct(&Url::parse(&url).unwrap(), ohttp_key).unwrap();
    let request = PlainRequest {
        method: "GET".into(),
        path: "/v1/nothing".into(),
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
    assert_eq!(answer.status, 404);
    stop(stopping, task).await;

    // Started again from the same folder on the same address: same keys, same URL,
    // nothing to send.
    let again = IssuerService::start(config(
        &node,
        &setup.hotkey,
        setup.netuid,
        listen,
        dir.path(),
    ))
    .await
    .unwrap();
    assert_eq!(again.url(), url);
    assert_eq!(
        again.registered(),
        None,
        "an up-to-date issuer sends nothing"
    );
    let (stopping, task) = spawn(again);
    stop(stopping, task).await;
}
