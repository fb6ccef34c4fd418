//! A malicious node (or anyone on its `http://` link) lists a credit issuer with the
//! attacker's RSA token key, or with the attacker's OHTTP key for the issuer's
//! gateway, or makes a key made for one victim look old and crowded. A wallet that
//! paid into the listed key and blinded to it would hold tokens the attacker can tag
//! (its own key signs only this victim's tokens) or would hand the attacker its
//! issuance request. The purchase proves the issuer record and the key against a
//! header the anchored validators finalized: it refuses before paying, and a paid
//! deposit is blinded and sealed only to keys proven the same way.

use crate::support::{counting_relay, send, serve, start_node};
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    extract::Request,
    http::{Method, StatusCode},
};
use plexus_client::{Client, trust::TrustAnchor};
use plexus_privacy::{
    oblivious::{GatewayKey, encode_key_list},
    token::IssuerKey,
};
use plexus_session::issuance::{self, BuyError, KeyPolicy};
use plexus_types::{
    Endpoint, Hash, Hyperparams, Keypair, Mechanism, PLX, Payload, credits::IssuerKeySpec,
};

/// What the malicious node changes in every issuer it lists.
#[derive(Clone, Copy)]
enum Forgery {
    /// Its keys' RSA SPKI becomes the attacker's (the key ids stay).
    RsaKey,
    /// Its gateway's OHTTP keys become the attacker's.
    OhttpKey,
    /// Its keys look a year old and shared by a crowd.
    Crowd,
}

/// The node's API, forwarded (transactions too), with every credit issuer forged.
async fn malicious_node(honest: String, forgery: Forgery, rsa: Vec<u8>, ohttp: Vec<u8>) -> String {
    let (rsa, ohttp) = (hex::encode(rsa), hex::encode(ohttp));
    let app = Router::new().fallback(move |request: Request| {
        let (honest, rsa, ohttp) = (honest.clone(), rsa.clone(), ohttp.clone());
        async move {
            let path = request.uri().to_string();
            let method = request.method().clone();
            let content_type = request.headers().get("content-type").cloned();
            let body = axum::body::to_bytes(request.into_body(), 1 << 20)
                .await
                .unwrap();
            let http = reqwest::Client::new();
            let mut forward = if method == Method::POST {
                http.post(format!("{honest}{path}")).body(body)
            } else {
                http.get(format!("{honest}{path}"))
            };
            if let Some(ct) = content_type {
                forward = forward.header("content-type", ct.to_str().unwrap());
            }
            let answer = forward.send().await.unwrap();
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
            let mut body: serde_json::Value = answer.json().await.unwrap();
            if path.starts_with("/v1/credits/issuers") {
                forge(&mut body, forgery, &rsa, &ohttp);
            }
            (status, axum::Json(body))
        }
    });
    serve(app).await
}

/// Forge every issuer object (one with `keys` and `ohttp_keys`) inside `value`.
fn forge(value: &mut serde_json::Value, forgery: Forgery, rsa: &str, ohttp: &str) {
    match value {
        serde_json::Value::Object(map) => {
            if map.contains_key("keys") && map.contains_key("ohttp_keys") {
                if let Forgery::OhttpKey = forgery {
                    map.insert("ohttp_keys".into(), ohttp.into());
                }
                for key in map["keys"].as_array_mut().unwrap() {
                    match forgery {
                        Forgery::RsaKey => key["spki"] = rsa.into(),
                        Forgery::Crowd => {
                            key["buyers"] = 1_000.into();
                            key["age_blocks"] = 1_000_000.into();
                        }
                        Forgery::OhttpKey => {}
                    }
                }
            } else {
                map.values_mut().for_each(|v| forge(v, forgery, rsa, ohttp));
            }
        }
        serde_json::Value::Array(items) => {
            items.iter_mut().for_each(|v| forge(v, forgery, rsa, ohttp));
        }
        _ => {}
    }
}

/// The buyer's account nonce.
async fn nonce(client: &Client, who: &Keypair) -> u64 {
    client.account(&who.account()).await.unwrap().nonce
}

/// Nothing was paid since the buyer's nonce was `before`, and nothing reached the relay.
async fn nothing_paid_or_sent(
    honest: &Client,
    buyer: &Keypair,
    before: u64,
    reached: &AtomicUsize,
) {
    assert_eq!(nonce(honest, buyer).await, before, "nothing was paid");
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "nothing reached the relay"
    );
}

#[test]
fn a_forged_issuer_key_from_a_malicious_node_is_never_paid_or_blinded_to() {
    let dir = tempfile::tempdir().unwrap();
    let (api, _stop) = start_node(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let honest_url = format!("http://{api}");
        let honest = Client::new(&honest_url).unwrap();
        let (owner, buyer) = (Keypair::from_label("owner"), Keypair::from_label("buyer"));
        let (issuer, provider) = (
            Keypair::from_label("issuer"),
            Keypair::from_label("provider"),
        );
        let faucet = plexus_ledger::genesis::dev_faucet();
        for to in [owner.account(), buyer.account()] {
            let fund = Payload::Transfer {
                to,
                amount: 10_000 * PLX,
            };
            send(&honest, &faucet, fund).await;
        }
        let subnet = Payload::CreateSubnet {
            name: "inference".into(),
            mechanism: Mechanism::Inference,
            hyperparams: Hyperparams {
                tempo: 3,
                ..Hyperparams::default()
            },
        };
        send(&honest, &owner, subnet).await;
        let netuid = honest.subnets().await.unwrap().subnets[0].netuid;
        for hot in [&issuer, &provider] {
            let register = Payload::Register {
                netuid,
                hotkey: hot.account(),
            };
            send(&honest, &owner, register).await;
        }
        let stake = Payload::AddStake {
            hotkey: issuer.account(),
            amount: 100 * PLX,
        };
        send(&honest, &owner, stake).await;
        let real_ohttp = GatewayKey::derive(1, &[1; 32]).unwrap();
        let endpoint = Endpoint {
            url: "http://127.0.0.1:9".into(),
            ohttp_keys: encode_key_list(&[real_ohttp.public_config().unwrap()]).unwrap(),
            model: "m".into(),
            weights_hash: Hash::ZERO,
            operator: "provider".into(),
        };
        send(&honest, &provider, Payload::Serve { netuid, endpoint }).await;
        // The issuer's validator permit comes with the subnet's next epoch.
        let real_rsa = IssuerKey::generate().unwrap();
        let register = Payload::RegisterIssuer {
            netuid,
            url: "http://127.0.0.1:9".into(),
            ohttp_keys: encode_key_list(&[real_ohttp.public_config().unwrap()]).unwrap(),
            keys: vec![IssuerKeySpec {
                denomination: 1,
                key_epoch: 0,
                spki: real_rsa.public().spki().to_vec(),
            }],
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while honest
            .send_tx(&issuer, register.clone(), None, Duration::from_secs(60))
            .await
            .is_err()
        {
            assert!(std::time::Instant::now() < deadline, "no validator permit");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }

        // The genesis validator set, as a genesis file handed out of band gives it.
        let anchor = TrustAnchor::served(&honest).await.unwrap();
        let attacker_rsa = IssuerKey::generate().unwrap();
        let attacker_ohttp = GatewayKey::derive(1, &[2; 32]).unwrap();
        let attacker_ohttp = encode_key_list(&[attacker_ohttp.public_config().unwrap()]).unwrap();
        let reached = Arc::new(AtomicUsize::new(0));
        let relay = counting_relay(&[issuer.account().to_string()], reached.clone()).await;
        let lying = |forgery| {
            malicious_node(
                honest_url.clone(),
                forgery,
                attacker_rsa.public().spki().to_vec(),
                attacker_ohttp.clone(),
            )
        };

        // The attacker's RSA key, and the attacker's OHTTP key: nothing is paid, and
        // nothing reaches the relay.
        for forgery in [Forgery::RsaKey, Forgery::OhttpKey] {
            let node = Client::new(&lying(forgery).await).unwrap();
            let before = nonce(&honest, &buyer).await;
            let refused = issuance::buy(&node, &anchor, &buyer, 10, None, &relay).await;
            nothing_paid_or_sent(&honest, &buyer, before, &reached).await;
            let refused = refused.unwrap_err();
            assert!(
                matches!(refused, BuyError::IssuerKeyNotOnChain { .. }),
                "{refused}"
            );
            assert!(
                refused.to_string().contains("nothing was paid"),
                "{refused}"
            );
        }

        // A key nobody else bought on, dressed up as old and crowded: the wallet's
        // policy is judged on the proven key, so it is still refused.
        let node = Client::new(&lying(Forgery::Crowd).await).unwrap();
        let policy = KeyPolicy {
            min_key_age_blocks: 0,
            min_key_buyers: 5,
        };
        let before = nonce(&honest, &buyer).await;
        let refused =
            issuance::buy_with_policy(&node, &anchor, &buyer, 10, None, &relay, policy).await;
        nothing_paid_or_sent(&honest, &buyer, before, &reached).await;
        let refused = refused.unwrap_err();
        assert!(
            matches!(refused, BuyError::KeyTooFewBuyers { buyers: 0, .. }),
            "{refused}"
        );

        // A deposit paid honestly is never blinded to the attacker's key nor sealed to
        // its gateway key when fetched through a lying node.
        let buy = Payload::BuyCredits {
            issuer: issuer.account(),
            denomination: 1,
            key_epoch: 0,
            credits: 10,
        };
        send(&honest, &buyer, buy).await;
        let deposit = honest.deposits_of(&buyer.account()).await.unwrap().deposits[0].id;
        for forgery in [Forgery::RsaKey, Forgery::OhttpKey] {
            let node = Client::new(&lying(forgery).await).unwrap();
            let refused = issuance::resume(&node, &anchor, &buyer, deposit, &relay).await;
            assert_eq!(
                reached.load(Ordering::SeqCst),
                0,
                "nothing reached the relay"
            );
            let refused = refused.unwrap_err();
            assert!(
                matches!(refused, BuyError::IssuerKeyNotOnChain { .. }),
                "{refused}"
            );
        }
        // Listed honestly, the same issuer key is proven.
        let key_id = Hash(real_rsa.public().key_id());
        let proven = issuance::prove_issuer_key(&honest, &anchor, &issuer.account(), &key_id)
            .await
            .unwrap();
        assert_eq!(proven.key.spki, real_rsa.public().spki());
    });
}
