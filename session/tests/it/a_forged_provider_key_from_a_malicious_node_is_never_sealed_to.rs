//! A malicious node (or anyone on its `http://` link) lists a provider with the
//! attacker's OHTTP key: a client that sealed to it would hand the attacker its prompt
//! and its tokens. The session proves every key against a header the anchored
//! validators finalized, so it refuses, sends nothing and spends nothing.

use crate::support::{counting_relay, serve, serving_provider, start_node};
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum::{Router, extract::Request, http::StatusCode};
use plexus_client::{Client, trust::TrustAnchor};
use plexus_privacy::oblivious::{GatewayKey, encode_key_list};
use plexus_session::{
    SendError, Session,
    store::{CreditStore, StoredCredit},
};
use plexus_types::Keypair;

/// The node's API, forwarded, with every metagraph's OHTTP keys replaced by `forged`.
async fn malicious_node(honest: String, forged: Vec<u8>) -> String {
    let forged = hex::encode(forged);
    let app = Router::new().fallback(move |request: Request| {
        let (honest, forged) = (honest.clone(), forged.clone());
        async move {
            let path = request.uri().to_string();
            let answer = reqwest::get(format!("{honest}{path}")).await.unwrap();
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
            let mut body: serde_json::Value = answer.json().await.unwrap();
            if path.ends_with("/metagraph") {
                for neuron in body["neurons"].as_array_mut().unwrap() {
                    if neuron["endpoint"].is_object() {
                        neuron["endpoint"]["ohttp_keys"] = forged.clone().into();
                    }
                }
            }
            (status, axum::Json(body))
        }
    });
    serve(app).await
}

#[test]
fn a_forged_provider_key_from_a_malicious_node_is_never_sealed_to() {
    let dir = tempfile::tempdir().unwrap();
    let (api, _stop) = start_node(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let honest_url = format!("http://{api}");
        let honest = Client::new(&honest_url).unwrap();
        let (coldkey, provider) = (
            Keypair::from_label("owner"),
            Keypair::from_label("provider"),
        );
        let real = GatewayKey::derive(1, &[1; 32]).unwrap();
        serving_provider(&honest, &coldkey, &provider, &real).await;

        // The genesis validator set, as a genesis file handed out of band gives it.
        let anchor = TrustAnchor::served(&honest).await.unwrap();
        let attacker = GatewayKey::derive(1, &[2; 32]).unwrap();
        let forged = encode_key_list(&[attacker.public_config().unwrap()]).unwrap();
        let lying = Client::new(&malicious_node(honest_url, forged).await).unwrap();
        let reached = Arc::new(AtomicUsize::new(0));
        let relay = counting_relay(&[], reached.clone()).await;

        // The wallet holds tokens for the provider: sealing would spend them.
        let store_path = dir.path().join("credits.enc");
        let store = CreditStore::open(&store_path, &coldkey).unwrap();
        let mut token = vec![0x00, 0x02];
        token.resize(plexus_privacy::token::TOKEN_LEN, 7);
        store
            .add([StoredCredit {
                issuer: "issuer".into(),
                origin: provider.account().to_address(),
                denomination: 1,
                token: hex::encode(token),
            }])
            .unwrap();
        let session = Session::new(lying, relay.clone(), store, anchor.clone());

        let listed = session
            .provider(&provider.account())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            listed.config,
            attacker.public_config().unwrap(),
            "the node lies"
        );
        let body =
            br#"{"model":"m","messages":[{"role":"user","content":"secret"}],"max_tokens":8}"#;
        let refused = session
            .send(&listed, "/v1/chat/completions", body.to_vec(), false)
            .await
            .unwrap_err();
        assert!(
            matches!(refused, SendError::KeyNotOnChain { .. }),
            "{refused}"
        );
        assert_eq!(
            reached.load(Ordering::SeqCst),
            0,
            "nothing reached the relay"
        );
        assert_eq!(session.credits(), 1, "no token was spent");

        // The same provider listed honestly is proven and sealed to.
        let store = CreditStore::open(&store_path, &coldkey).unwrap();
        let session = Session::new(
            Client::new(&format!("http://{api}")).unwrap(),
            relay,
            store,
            anchor,
        );
        let listed = session
            .provider(&provider.account())
            .await
            .unwrap()
            .unwrap();
        session.prove_key(&listed).await.unwrap();
        let answer = session
            .send(&listed, "/v1/chat/completions", body.to_vec(), false)
            .await;
        assert!(answer.is_err(), "the counting relay answers 502");
        assert_eq!(
            reached.load(Ordering::SeqCst),
            1,
            "the honest key is sealed to"
        );
    });
}
