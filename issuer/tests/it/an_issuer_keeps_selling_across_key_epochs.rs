//! The issuer service follows the chain's key schedule: on a chain whose key epochs
//! last a couple of seconds it registers each epoch's key before the epoch starts, a
//! buyer buys on the current key in epoch after epoch, and a deposit bought on an
//! epoch's key is still issued after that epoch ended.

use std::time::Duration;

use plexus_client::{Client, private::Route};
use plexus_issuer::{IssuerService, ServiceConfig};
use plexus_privacy::{
    oblivious::decode_key_list,
    token::{IssuerPublicKey, TokenVerifier},
};
use plexus_session::issuance::{IssuanceOrder, fetch_tokens};
use plexus_types::{Keypair, Payload};
use reqwest::Url;

use crate::chain::{ServedChain, TestChain};

/// Blocks per key epoch.
const PERIOD: u64 = 40;

async fn wait_for_height(node: &Client, height: u64) {
    tokio::time::timeout(Duration::from_secs(60), async {
        while node.tip_height().await.unwrap() < height {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the chain advances");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issuer_on_a_chain_with_a_short_key_period_keeps_selling_across_epochs() {
    let chain = TestChain::with_params(|p| p.issuer_key_period = PERIOD);
    let served = ServedChain::start(chain, Duration::from_millis(50)).await;
    let setup = served.chain.setup_subnet();
    let node = Client::new(&served.url).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !node
        .metagraph(setup.netuid)
        .await
        .unwrap()
        .neurons
        .iter()
        .any(|n| n.hotkey == setup.hotkey.account() && n.validator_permit)
    {
        assert!(tokio::time::Instant::now() < deadline, "no permit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
    .unwrap();
    let url = Url::parse(service.url()).unwrap();
    let issuer = service.hotkey();
    let first = u64::from(service.key_epoch());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(service.run(async {
        let _ = stopped.await;
    }));

    let chain_id = node.chain().await.unwrap().chain_id;
    let buyer = setup.owner.clone();
    let origin = Keypair::from_label("provider").account().to_address();
    let http = reqwest::Client::new();
    let mut pending = None;
    for epoch in first + 1..first + 4 {
        // Just after the boundary: the epoch's key was registered a whole epoch ago.
        wait_for_height(&node, epoch * PERIOD + 2).await;
        let on_chain = node.issuer(&issuer).await.unwrap().issuer;
        let key = on_chain
            .keys
            .iter()
            .find(|k| k.on_sale && u64::from(k.key_epoch) == epoch)
            .unwrap_or_else(|| panic!("no key on sale in epoch {epoch}"))
            .clone();
        assert!(
            key.registered_at < epoch * PERIOD,
            "the key of epoch {epoch} was on chain before its epoch"
        );
        let sent = node
            .send_tx(
                &buyer,
                Payload::BuyCredits {
                    issuer,
                    denomination: 1,
                    key_epoch: key.key_epoch,
                    credits: 10,
                },
                None,
                Duration::from_secs(30),
            )
            .await
            .unwrap_or_else(|e| panic!("buying in epoch {epoch}: {e}"));
        let deposit = node
            .deposits_of(&buyer.account())
            .await
            .unwrap()
            .deposits
            .into_iter()
            .find(|d| d.block == sent.height)
            .unwrap();
        let public = IssuerPublicKey::from_spki(&key.spki).unwrap();
        let ohttp = decode_key_list(&on_chain.ohttp_keys).unwrap().remove(0);
        let route = Route::direct(&url, ohttp).unwrap();
        // The deposit of the previous epoch is issued now, after its epoch ended.
        if let Some((deposit, public)) = pending.take() {
            issue(
                &http, &route, chain_id, &buyer, issuer, deposit, &public, &origin,
            )
            .await;
        }
        pending = Some((deposit.id, public));
    }
    let on_chain = node.issuer(&issuer).await.unwrap().issuer;
    let route = Route::direct(
        &url,
        decode_key_list(&on_chain.ohttp_keys).unwrap().remove(0),
    )
    .unwrap();
    let (deposit, public) = pending.unwrap();
    issue(
        &http, &route, chain_id, &buyer, issuer, deposit, &public, &origin,
    )
    .await;

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[allow(clippy::too_many_arguments)]
async fn issue(
    http: &reqwest::Client,
    route: &Route,
    chain_id: u64,
    buyer: &Keypair,
    issuer: plexus_types::AccountId,
    deposit: u64,
    public: &IssuerPublicKey,
    origin: &str,
) {
    let order = IssuanceOrder {
        chain_id,
        deposit,
        buyer,
        issuer: &issuer,
        key: public,
    };
    let tokens = fetch_tokens(http, route, order, &vec![origin.to_owned(); 10])
        .await
        .unwrap_or_else(|e| panic!("deposit {deposit} was not issued: {e}"));
    let mut verifier = TokenVerifier::new();
    verifier.add_key(&issuer.to_address(), public.clone());
    for credit in &tokens {
        verifier
            .verify_for_origin(&credit.token.encode(), origin)
            .unwrap();
    }
}
