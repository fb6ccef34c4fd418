//! Every bundle a buyer can pay for is issued in full: the buyer's session asks the
//! issuer service over OHTTP, exactly as `plexus credits buy` does, and each token
//! verifies under the issuer's key. A bundle whose issuance cannot reach the issuer
//! would leave its payment in escrow for good. The issuer serves them while a
//! slow-loris holds more idle connections than it allows.

use std::time::Duration;

use plexus_client::{Client, private::Route};
use plexus_issuer::{IssuerService, ServiceConfig};
use plexus_privacy::{
    oblivious::decode_key_list,
    token::{IssuerPublicKey, TokenVerifier},
};
use plexus_session::issuance::{IssuanceOrder, fetch_tokens};
use plexus_types::{Keypair, Payload, credits::CREDIT_BUNDLES};
use reqwest::Url;

use crate::chain::{ServedChain, TestChain};

/// Wait until `hotkey` holds a validator permit on `netuid` (the next epoch).
async fn wait_for_permit(node: &Client, netuid: u16, hotkey: &Keypair) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !node
        .metagraph(netuid)
        .await
        .unwrap()
        .neurons
        .iter()
        .any(|n| n.hotkey == hotkey.account() && n.validator_permit)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no permit after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_offered_bundle_including_1000_credits_is_issued_in_full() {
    let served = ServedChain::start(TestChain::new(), Duration::from_millis(20)).await;
    let setup = served.chain.setup_subnet();
    let node = Client::new(&served.url).unwrap();
    wait_for_permit(&node, setup.netuid, &setup.hotkey).await;
    let dir = tempfile::tempdir().unwrap();
    let service = IssuerService::start(ServiceConfig {
        node: node.clone(),
        hotkey: setup.hotkey.clone(),
        netuid: setup.netuid,
        listen: "127.0.0.1:0".parse().unwrap(),
        public_url: None,
        data_dir: dir.path().to_path_buf(),
        tx_timeout: Duration::from_secs(30),
    })
    .await
    .unwrap()
    .with_limits(plexus_serve::Limits {
        max_connections: 16,
        header_timeout: Duration::from_secs(30),
        ..plexus_issuer::service::default_limits()
    });
    let url = Url::parse(service.url()).unwrap();
    let listen = service.local_addr();
    let issuer = service.hotkey();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(service.run(async {
        let _ = stopped.await;
    }));

    let on_chain = node.issuer(&issuer).await.unwrap().issuer;
    let key = on_chain
        .keys
        .iter()
        .find(|k| k.denomination == 1 && k.on_sale)
        .unwrap();
    let public = IssuerPublicKey::from_spki(&key.spki).unwrap();
    let config = decode_key_list(&on_chain.ohttp_keys).unwrap().remove(0);
    let route = Route::direct(&url, config).unwrap();
    let chain_id = node.chain().await.unwrap().chain_id;
    let mut verifier = TokenVerifier::new();
    verifier.add_key(&issuer.to_address(), public.clone());
    let buyer = setup.owner.clone();
    let origin = Keypair::from_label("provider").account().to_address();
    let http = reqwest::Client::new();
    // A slow-loris holds more connections than the issuer allows, all idle: buyers
    // are still served (the idlest connection makes room for each new one).
    let mut idle = Vec::new();
    for _ in 0..64 {
        idle.push(tokio::net::TcpStream::connect(listen).await.unwrap());
    }

    for credits in CREDIT_BUNDLES {
        let sent = node
            .send_tx(
                &buyer,
                Payload::BuyCredits {
                    issuer,
                    denomination: 1,
                    key_epoch: key.key_epoch,
                    credits,
                },
                None,
                Duration::from_secs(30),
            )
            .await
            .unwrap();
        let deposit = node
            .deposits_of(&buyer.account())
            .await
            .unwrap()
            .deposits
            .into_iter()
            .find(|d| d.block == sent.height)
            .unwrap();
        assert_eq!(deposit.tokens, credits);
        let order = IssuanceOrder {
            chain_id,
            deposit: deposit.id,
            buyer: &buyer,
            issuer: &issuer,
            key: &public,
        };
        let origins = vec![origin.clone(); credits as usize];
        let credits_issued = fetch_tokens(&http, &route, order, &origins)
            .await
            .unwrap_or_else(|e| panic!("the {credits}-credit bundle was not issued: {e}"));
        assert_eq!(credits_issued.len(), credits as usize);
        for credit in &credits_issued {
            verifier
                .verify_for_origin(&credit.token.encode(), &origin)
                .unwrap();
        }
    }
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
