//! The browser app (`web/`) pins its transaction encoder, issuance signing bytes, header
//! digest, state-proof verifier, score-report signature check, private path (BHTTP, OHTTP, chunked OHTTP) and
//! key transparency (a provider's OHTTP keys, and an issuer's OHTTP keys and RSA token
//! key, proven under a certified header) to
//! `web/test/vectors.json`; its unit tests check the TypeScript against that file and
//! this test checks the Rust crates against it, so the two cannot drift apart.
//!
//! `PLEXUS_BLESS_WEB_VECTORS=1` rewrites the file from Rust. The sealed requests in
//! `private` are the browser's (made with a fixed ephemeral key) and are kept; Rust
//! opens them and, when blessing, seals the responses the browser's tests then open.
//! To renew them: bless here, then `cd web && PLEXUS_BLESS_WEB_VECTORS=1 npx vitest
//! run test/private.test.ts`, then bless here again.

use std::path::PathBuf;

use axum::http::StatusCode;
use plexus_api::{ApiState, wire::ProofResponse};
use plexus_ledger::{
    MemStore, account_key,
    credits::keys::{issuer_key, issuer_key_record_key},
    neurons::keys::endpoint_key,
    registration_key,
};
use plexus_privacy::{
    chunked, message,
    oblivious::{Gateway, GatewayKey},
    padding::{frame_event, pad_to_bucket},
    token::{Token, authorization_value},
};
use plexus_storage::{StateProof, verify_proof};
use plexus_types::{
    AccountId, BlockHeader, Decode as _, Encode as _, Endpoint, Hash, Keypair, PLX, Payload,
    Transaction,
    credits::{IssuerKeySpec, issuance_signing_bytes},
    data::{SignedReport, report_signing_bytes},
    finality::{FinalityCertificate, finalize_message, verify_finality},
};
use serde_json::{Value, json};

use crate::support::{TestChain, changing_set, get, key, validator};

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web/test/vectors.json")
}

/// The key of `wallet`'s pinned abandon-about vector.
fn abandon_about() -> Keypair {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(
        "6b11d5b0470924c37b07f53043b5759a5a3dd2df8ff53202bc1e2c6584944062",
        &mut seed,
    )
    .unwrap();
    Keypair::from_seed(seed)
}

fn signed(tx: Transaction, key: &Keypair) -> Value {
    let unsigned = hex::encode(tx.encode());
    let signed = tx.sign(key);
    json!({
        "unsigned": unsigned,
        "signed": hex::encode(signed.encode()),
        "hash": signed.hash().to_hex(),
    })
}

async fn rust_vectors() -> Value {
    let me = abandon_about();
    let transfer = Transaction {
        chain_id: 7,
        sender: me.account(),
        nonce: 3,
        fee: 1000,
        payload: Payload::Transfer {
            to: me.account(),
            amount: 123_456_789,
        },
    };
    let buy = Transaction {
        chain_id: 7,
        sender: me.account(),
        nonce: 4,
        fee: 1000,
        payload: Payload::BuyCredits {
            issuer: me.account(),
            denomination: 1,
            key_epoch: 2,
            credits: 10,
        },
    };
    let stake = |nonce, payload| Transaction {
        chain_id: 7,
        sender: me.account(),
        nonce,
        fee: 1000,
        payload,
    };
    let add_stake = stake(
        5,
        Payload::AddStake {
            hotkey: me.account(),
            amount: 42 * PLX,
        },
    );
    let remove_stake = stake(
        6,
        Payload::RemoveStake {
            hotkey: me.account(),
            amount: 1,
        },
    );
    let header = BlockHeader {
        chain_id: 7,
        height: 5,
        parent: Hash([0x11; 32]),
        timestamp_ms: 1_700_000_000_000,
        proposer: me.account(),
        tx_root: Hash([0x22; 32]),
        state_root: Hash([0x33; 32]),
        consensus: vec![0xab, 0xcd],
    };

    // A real account proof from the API over a real store.
    let chain = TestChain::new();
    let state = chain.state();
    let bob = key("bob");
    plexus_api::Backend::submit(
        &chain,
        chain.transfer(&chain.faucet(), bob.account(), 3 * PLX),
    )
    .unwrap();
    chain.produce_block();
    let (status, response) = get(&state, &format!("/v1/proofs/account/{}", bob.account())).await;
    assert_eq!(status, StatusCode::OK, "{response}");
    let parsed: ProofResponse = serde_json::from_value(response.clone()).unwrap();
    let digest = BlockHeader::try_from(&parsed.header).unwrap().digest();
    let (status, absent) = get(
        &state,
        &format!("/v1/proofs/account/{}", key("nobody").account()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{absent}");

    json!({
        "key": { "secret": hex::encode(me.secret_bytes()), "address": me.account().to_address() },
        "transfer": signed(transfer, &me),
        "buy_credits": signed(buy, &me),
        "add_stake": signed(add_stake, &me),
        "remove_stake": signed(remove_stake, &me),
        "data_report": data_report(&me),
        "pricing": pricing(),
        "issuance": {
            "chain_id": 7, "deposit": 2, "requests": ["0102", "03"],
            "bytes": hex::encode(issuance_signing_bytes(7, 2, &[vec![1, 2], vec![3]])),
        },
        "header": { "header": plexus_api::wire::Header::from(&header), "digest": header.digest().to_hex() },
        "account_proof": {
            "address": bob.account().to_address(),
            "response": response,
            "digest": digest.to_hex(),
            "balance": 3 * PLX,
            "nonce": 0,
        },
        "absent_proof": {
            "address": key("nobody").account().to_address(),
            "response": absent,
        },
        "endpoint_proof": endpoint_proof().await,
        "hand_over": hand_over().await,
    })
}

/// The body of `GET path`, which must answer 200.
async fn fetch_ok(state: &ApiState, path: String) -> Value {
    let (status, body) = get(state, &path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// Epochs of this many blocks in the hand-over vector.
const HAND_OVER_EPOCH: u64 = 4;

/// A chain whose set changes (`support::changing_set`: three genesis validators; a
/// newcomer bonds in epoch 0 and one genesis validator unbonds in epoch 1), served to
/// epoch 3: the chain, every
/// hand-over (the set proof at each boundary and the boundary's certificate), and the
/// tip with its certificate.
async fn hand_over() -> Value {
    let (chain, _, _) = changing_set(HAND_OVER_EPOCH);
    let state = chain.state();
    let tip = chain.store_handle().committed_height().unwrap();
    let fetch = |path: String| fetch_ok(&state, path);
    let mut hand_overs = Vec::new();
    for epoch in 1..=tip / HAND_OVER_EPOCH {
        let boundary = epoch * HAND_OVER_EPOCH - 1;
        let set: Vec<String> = plexus_ledger::validators::set(chain.store_handle().as_ref(), epoch)
            .unwrap()
            .unwrap()
            .iter()
            .map(|k| hex::encode(k.0))
            .collect();
        hand_overs.push(json!({
            "epoch": epoch,
            "proof": fetch(format!("/v1/proofs/validator-set/{epoch}")).await,
            "finalization": fetch(format!("/v1/blocks/{boundary}/finalization")).await,
            "set": set,
        }));
    }
    json!({
        "chain": fetch("/v1/chain".into()).await,
        "height": tip,
        "block": fetch(format!("/v1/blocks/{tip}")).await,
        "finalization": fetch(format!("/v1/blocks/{tip}/finalization")).await,
        "hand_overs": hand_overs,
    })
}

/// Check the pinned hand-over vector with the Rust verifiers: each boundary header is
/// finalized by the set before, and proves the next set under its root.
fn check_hand_over(pinned: &Value) {
    let chain_id = pinned["chain"]["chain_id"].as_u64().unwrap();
    let mut set: Vec<AccountId> = pinned["chain"]["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| AccountId::parse(v["public_key"].as_str().unwrap()).unwrap())
        .collect();
    for step in pinned["hand_overs"].as_array().unwrap() {
        let response: ProofResponse = serde_json::from_value(step["proof"].clone()).unwrap();
        let header = BlockHeader::try_from(&response.header).unwrap();
        let finalization: plexus_api::wire::FinalizationView =
            serde_json::from_value(step["finalization"].clone()).unwrap();
        verify_finality(chain_id, &set, &header.digest(), &finalization.certificate).unwrap();
        let proof = StateProof::try_from(&response.proof).unwrap();
        verify_proof(&header.state_root, &proof).unwrap();
        let value = proof.value.expect("a set");
        set = value[4..]
            .chunks(32)
            .map(|k| AccountId(k.try_into().unwrap()))
            .collect();
        let pinned_set: Vec<String> = serde_json::from_value(step["set"].clone()).unwrap();
        assert_eq!(
            set.iter().map(|k| hex::encode(k.0)).collect::<Vec<_>>(),
            pinned_set
        );
    }
}

/// A provider serving the `private` vectors' OHTTP key on subnet 1, as a node serves
/// it: the chain's anchor, the tip's header and finality certificate (signed by the
/// development validator), the registration and endpoint proofs at that header, and
/// the metagraph; plus an attacker's key a lying node would list instead, and a hotkey
/// that is not registered. The same hotkey is a credit issuer (`issuer`): its record
/// and 1-credit key proofs at that header and the issuer list, with an attacker's RSA
/// key a lying node would list instead.
async fn endpoint_proof() -> Value {
    let chain = TestChain::new();
    let state = chain.state();
    let setup = chain.setup_subnet();
    // The hotkey's validator permit, which an issuer needs, comes with the first epoch.
    chain.produce_blocks(12);
    let ohttp_keys = plexus_privacy::oblivious::encode_key_list(&[gateway()
        .public_configs()
        .unwrap()
        .remove(0)])
    .unwrap();
    let serve = chain.tx(
        &setup.hotkey,
        Payload::Serve {
            netuid: setup.netuid,
            endpoint: Endpoint {
                url: "http://127.0.0.1:8090".into(),
                ohttp_keys: ohttp_keys.clone(),
                model: "SmolLM2-135M-Instruct".into(),
                weights_hash: Hash([0x5a; 32]),
                operator: "provider-operator".into(),
            },
        },
        0,
    );
    plexus_api::Backend::submit(&chain, serve).unwrap();
    let rsa = plexus_privacy::token::IssuerKey::generate().unwrap();
    let attacker_rsa = plexus_privacy::token::IssuerKey::generate().unwrap();
    let register = chain.tx(
        &setup.hotkey,
        Payload::RegisterIssuer {
            netuid: setup.netuid,
            url: "http://127.0.0.1:9100".into(),
            ohttp_keys: ohttp_keys.clone(),
            keys: vec![IssuerKeySpec {
                denomination: 1,
                key_epoch: 0,
                spki: rsa.public().spki().to_vec(),
            }],
        },
        1,
    );
    plexus_api::Backend::submit(&chain, register).unwrap();
    let tip = chain.produce_block();
    let key_id = Hash(rsa.public().key_id());
    let attacker = GatewayKey::derive(1, &[8; 32]).unwrap();
    let forged =
        plexus_privacy::oblivious::encode_key_list(&[attacker.public_config().unwrap()]).unwrap();
    let mut certificate = FinalityCertificate {
        epoch: 0,
        view: tip.height + 3,
        parent_view: tip.height + 2,
        payload: tip.digest,
        signers: vec![0],
        signatures: Vec::new(),
    };
    let signature = validator().sign(&finalize_message(chain.chain_id(), &certificate));
    certificate.signatures.push(signature);
    let hotkey = setup.hotkey.account();
    let fetch = |path: String| fetch_ok(&state, path);
    let netuid = setup.netuid;
    let height = tip.height;
    json!({
        "netuid": netuid,
        "hotkey": hotkey.to_address(),
        "uid": 0,
        "ohttp_keys": hex::encode(&ohttp_keys),
        "forged_ohttp_keys": hex::encode(&forged),
        "chain": fetch("/v1/chain".into()).await,
        "block": fetch(format!("/v1/blocks/{height}")).await,
        "finalization": plexus_api::wire::FinalizationView {
            height,
            digest: tip.digest,
            certificate,
        },
        "registration": fetch(format!("/v1/proofs/registration/{netuid}/{hotkey}?height={height}")).await,
        "endpoint": fetch(format!("/v1/proofs/endpoint/{netuid}/0?height={height}")).await,
        "metagraph": fetch(format!("/v1/subnets/{netuid}/metagraph")).await,
        "subnets": fetch("/v1/subnets".into()).await,
        "unregistered": {
            "hotkey": key("nobody").account().to_address(),
            "registration": fetch(format!("/v1/proofs/registration/{netuid}/{}?height={height}", key("nobody").account())).await,
        },
        "issuer": {
            "hotkey": hotkey.to_address(),
            "url": "http://127.0.0.1:9100",
            "key_id": key_id.to_hex(),
            "spki": hex::encode(rsa.public().spki()),
            "forged_spki": hex::encode(attacker_rsa.public().spki()),
            "forged_key_id": hex::encode(attacker_rsa.public().key_id()),
            "issuers": fetch("/v1/credits/issuers".into()).await,
            "record": fetch(format!("/v1/proofs/issuer/{hotkey}?height={height}")).await,
            "key": fetch(format!("/v1/proofs/issuer-key/{key_id}?height={height}")).await,
            "forged_key": fetch(format!("/v1/proofs/issuer-key/{}?height={height}", hex::encode(attacker_rsa.public().key_id()))).await,
        },
    })
}

/// Check the pinned key-transparency vector with the Rust verifiers: the certificate
/// finalizes the header under the chain's validators, both proofs verify against its
/// state root, and the proven endpoint holds the pinned keys, not the forged ones.
fn check_endpoint_proof(pinned: &Value) {
    let chain_id = pinned["chain"]["chain_id"].as_u64().unwrap();
    let validators: Vec<AccountId> = pinned["chain"]["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| AccountId::parse(v["public_key"].as_str().unwrap()).unwrap())
        .collect();
    let served: plexus_api::wire::Header =
        serde_json::from_value(pinned["block"]["header"].clone()).unwrap();
    let header = BlockHeader::try_from(&served).unwrap();
    let finalization: plexus_api::wire::FinalizationView =
        serde_json::from_value(pinned["finalization"].clone()).unwrap();
    verify_finality(
        chain_id,
        &validators,
        &header.digest(),
        &finalization.certificate,
    )
    .unwrap();
    let netuid = u16::try_from(pinned["netuid"].as_u64().unwrap()).unwrap();
    let proven = |response: &Value, key: &[u8]| {
        let response: ProofResponse = serde_json::from_value(response.clone()).unwrap();
        assert_eq!(
            BlockHeader::try_from(&response.header).unwrap().digest(),
            header.digest()
        );
        let proof = StateProof::try_from(&response.proof).unwrap();
        assert_eq!(proof.key, key);
        verify_proof(&header.state_root, &proof).unwrap();
        proof.value
    };
    let hotkey = AccountId::parse(pinned["hotkey"].as_str().unwrap()).unwrap();
    let uid = proven(&pinned["registration"], &registration_key(netuid, &hotkey)).unwrap();
    assert_eq!(uid, 0u16.to_le_bytes());
    let value = proven(&pinned["endpoint"], &endpoint_key(netuid, 0)).unwrap();
    let endpoint = Endpoint::decode(&value).unwrap();
    assert_eq!(hex::encode(&endpoint.ohttp_keys), pinned["ohttp_keys"]);
    assert_ne!(pinned["ohttp_keys"], pinned["forged_ohttp_keys"]);
    let nobody = AccountId::parse(pinned["unregistered"]["hotkey"].as_str().unwrap()).unwrap();
    assert_eq!(
        proven(
            &pinned["unregistered"]["registration"],
            &registration_key(netuid, &nobody)
        ),
        None
    );

    // The issuer: its record holds the pinned OHTTP keys and lists the key, whose SPKI
    // is the pinned one; the attacker's key is proven absent.
    let issuer = &pinned["issuer"];
    let hotkey = AccountId::parse(issuer["hotkey"].as_str().unwrap()).unwrap();
    let key_id = Hash::from_hex(issuer["key_id"].as_str().unwrap()).unwrap();
    let decoded = |key: Vec<u8>, value: Option<Vec<u8>>| {
        let mut state = MemStore::new();
        state.commit([(key, value)].into_iter().collect());
        state
    };
    let record_key = issuer_key(&hotkey);
    let value = proven(&issuer["record"], &record_key);
    let record = plexus_ledger::credits::issuer(&decoded(record_key, value), &hotkey)
        .unwrap()
        .unwrap();
    assert_eq!(hex::encode(&record.ohttp_keys), pinned["ohttp_keys"]);
    assert_eq!(record.url, issuer["url"]);
    assert_eq!(record.key_ids, vec![key_id]);
    let key_key = issuer_key_record_key(&key_id);
    let value = proven(&issuer["key"], &key_key);
    let key = plexus_ledger::credits::issuer_key(&decoded(key_key, value), &key_id)
        .unwrap()
        .unwrap();
    assert_eq!(hex::encode(&key.spki), issuer["spki"]);
    assert_eq!(
        (key.issuer, key.denomination, key.key_epoch),
        (hotkey, 1, 0)
    );
    assert_ne!(issuer["spki"], issuer["forged_spki"]);
    let forged_id = Hash::from_hex(issuer["forged_key_id"].as_str().unwrap()).unwrap();
    assert_eq!(
        proven(&issuer["forged_key"], &issuer_key_record_key(&forged_id)),
        None
    );
}

/// Check a pinned proof with the Rust verifier: the header digest, the root, the proof.
fn check_proof(pinned: &Value) {
    let response: ProofResponse = serde_json::from_value(pinned["response"].clone()).unwrap();
    let header = BlockHeader::try_from(&response.header).unwrap();
    let proof = StateProof::try_from(&response.proof).unwrap();
    if let Some(digest) = pinned["digest"].as_str() {
        assert_eq!(header.digest().to_hex(), digest);
    }
    let address = AccountId::parse(pinned["address"].as_str().unwrap()).unwrap();
    assert_eq!(proof.key, account_key(&address));
    assert_eq!(proof.root, header.state_root);
    verify_proof(&header.state_root, &proof).unwrap();
}

/// A validator's signed score report, as `GET /v1/data/tasks/{id}/reports` serves it
/// (non-ASCII text included, so both ends hash the same UTF-8).
fn data_report(me: &Keypair) -> Value {
    let report = r#"{"task":11,"note":"fidélité ✓"}"#.to_string();
    let signed = SignedReport::sign(me, 11, report.clone());
    json!({
        "task": 11,
        "validator": me.account().to_address(),
        "report": report,
        "bytes": hex::encode(report_signing_bytes(11, &report)),
        "signature": hex::encode(signed.signature.0),
    })
}

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn gateway() -> Gateway {
    Gateway::new(vec![GatewayKey::derive(1, &[7; 32]).unwrap()]).unwrap()
}

/// The events of the pinned streamed answer, as a provider frames them.
const EVENTS: [&str; 3] = [
    "data: {\"choices\":[{\"delta\":{\"content\":\"Par\"}}]}\n\n",
    "data: {\"choices\":[{\"delta\":{\"content\":\"is.\"},\"finish_reason\":\"stop\"}]}\n\n",
    "data: [DONE]\n\n",
];

/// The private-path vectors: what Rust derives alone, then (given the browser's sealed
/// requests in `pinned`) checks that they open to the same BHTTP and, when `bless`,
/// seals the responses.
fn private_vectors(pinned: &Value, bless: bool) -> Value {
    let config = gateway().public_configs().unwrap().remove(0);
    let mut token = vec![0x00, 0x02];
    for (byte, len) in [(1u8, 32), (2, 32), (3, 32), (4, 256)] {
        token.extend(std::iter::repeat_n(byte, len));
    }
    let body = br#"{"max_tokens":256,"messages":[{"content":"hi","role":"user"}],"model":"m","stream":true,"temperature":0}"#;
    // Exactly what `plexus_client::private::PlainRequest::to_bhttp` builds.
    let bhttp = pad_to_bucket(
        message::Request {
            method: b"POST".to_vec(),
            scheme: b"https".to_vec(),
            authority: b"provider.plexus".to_vec(),
            path: b"/v1/chat/completions".to_vec(),
            headers: vec![
                (b"content-type".to_vec(), b"application/json".to_vec()),
                (
                    b"authorization".to_vec(),
                    authorization_value(&[Token::decode(&token).unwrap()]).into_bytes(),
                ),
            ],
            body: body.to_vec(),
        }
        .encode()
        .unwrap(),
    )
    .unwrap();
    let answer = pad_to_bucket(
        message::Response {
            status: 200,
            headers: vec![(b"content-type".to_vec(), b"application/json".to_vec())],
            body: br#"{"ok":true}"#.to_vec(),
        }
        .encode()
        .unwrap(),
    )
    .unwrap();
    let head = message::Response {
        status: 200,
        headers: vec![(b"content-type".to_vec(), b"text/event-stream".to_vec())],
        body: Vec::new(),
    }
    .encode()
    .unwrap();
    let mut out = json!({
        "ikm": hex::encode([7u8; 32]),
        "config": hex::encode(config.encoded()),
        "ekm": hex::encode([9u8; 32]),
        "token": hex::encode(&token),
        "body": String::from_utf8(body.to_vec()).unwrap(),
        "bhttp": hex::encode(&bhttp),
        "answer": hex::encode(&answer),
        "events": EVENTS,
        "request": pinned["request"],
        "response": pinned["response"],
        "chunked_request": pinned["chunked_request"],
        "chunked_response": pinned["chunked_response"],
    });
    if pinned["request"].is_string() {
        let opened = gateway().decapsulate(&unhex(&pinned["request"])).unwrap();
        assert_eq!(
            opened.request, bhttp,
            "the browser's sealed request opens to other BHTTP"
        );
        if bless {
            out["response"] = json!(hex::encode(opened.response.seal(&answer).unwrap()));
        }
    }
    if pinned["chunked_request"].is_string() {
        let opened = chunked::decapsulate(&gateway(), &unhex(&pinned["chunked_request"])).unwrap();
        assert_eq!(
            opened.request, bhttp,
            "the browser's chunked request opens to other BHTTP"
        );
        if bless {
            let mut sealer = opened.response;
            let mut sealed = sealer.seal_chunk(&frame_event(&head).unwrap()).unwrap();
            for event in EVENTS {
                sealed.extend(
                    sealer
                        .seal_chunk(&frame_event(event.as_bytes()).unwrap())
                        .unwrap(),
                );
            }
            sealed.extend(sealer.finish().unwrap());
            out["chunked_response"] = json!(hex::encode(sealed));
        }
    }
    out
}

/// What requests cost: the one pricing rule (`plexus_types::credits::credits_for`),
/// which the web app's `creditsFor` follows.
fn pricing() -> Value {
    use plexus_types::credits::{CHAT_PATH, COMPLETIONS_PATH, EMBEDDINGS_PATH, MODELS_PATH};
    let long =
        json!({"max_tokens": 1, "messages": [{"role": "user", "content": "é".repeat(20_000)}]})
            .to_string();
    let inputs: Vec<String> = (0..600).map(|i| i.to_string()).collect();
    let many = json!({ "input": inputs }).to_string();
    let cases: Vec<(&str, String)> = [
        (CHAT_PATH, r#"{}"#),
        (CHAT_PATH, r#"not json"#),
        (CHAT_PATH, r#"{"max_tokens":1}"#),
        (CHAT_PATH, r#"{"max_tokens":256}"#),
        (CHAT_PATH, r#"{"max_tokens":512}"#),
        (CHAT_PATH, r#"{"max_tokens":513}"#),
        (CHAT_PATH, r#"{"max_tokens":4096}"#),
        (
            CHAT_PATH,
            r#"{"max_completion_tokens":2048,"max_tokens":1}"#,
        ),
        (
            CHAT_PATH,
            r#"{"max_completion_tokens":null,"max_tokens":2048}"#,
        ),
        (CHAT_PATH, r#"{"max_tokens":"many"}"#),
        (CHAT_PATH, r#"{"max_tokens":-5}"#),
        (CHAT_PATH, r#"{"max_tokens":1.5}"#),
        (CHAT_PATH, r#"[512]"#),
        (CHAT_PATH, r#"{"max_tokens":100,"n":4}"#),
        (CHAT_PATH, r#"{"n":0}"#),
        (CHAT_PATH, r#"{"n":"two","max_tokens":300}"#),
        (COMPLETIONS_PATH, r#"{"max_tokens":16,"n":8}"#),
        (
            COMPLETIONS_PATH,
            r#"{"max_completion_tokens":1,"max_tokens":4096}"#,
        ),
        (COMPLETIONS_PATH, r#"{"prompt":"hi"}"#),
        (EMBEDDINGS_PATH, r#"{"input":"one"}"#),
        (EMBEDDINGS_PATH, r#"{"input":["a","b"]}"#),
        (EMBEDDINGS_PATH, r#"{"input":[9906,1917,0,0,0]}"#),
        (EMBEDDINGS_PATH, r#"{"input":[[9906],[1917,0]]}"#),
        (EMBEDDINGS_PATH, r#"{"input":[]}"#),
        (MODELS_PATH, ""),
    ]
    .into_iter()
    .map(|(p, b)| (p, b.to_owned()))
    .chain([(CHAT_PATH, long), (EMBEDDINGS_PATH, many)])
    .collect();
    Value::Array(
        cases
            .iter()
            .map(|(path, body)| {
                json!({
                    "path": path,
                    "body": body,
                    "credits": plexus_types::credits::credits_for(path, body.as_bytes()),
                })
            })
            .collect(),
    )
}

#[tokio::test]
async fn the_pinned_web_vectors_are_what_the_rust_crates_produce() {
    let bless = std::env::var_os("PLEXUS_BLESS_WEB_VECTORS").is_some();
    let mut fresh = rust_vectors().await;
    let before: Value = std::fs::read_to_string(vectors_path())
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    fresh["private"] = private_vectors(&before["private"], bless);
    if bless {
        let text = serde_json::to_string_pretty(&fresh).unwrap() + "\n";
        std::fs::write(vectors_path(), text).unwrap();
    }
    let pinned: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors_path()).unwrap()).unwrap();
    for field in [
        "key",
        "transfer",
        "buy_credits",
        "add_stake",
        "remove_stake",
        "issuance",
        "header",
        "pricing",
    ] {
        assert_eq!(
            pinned[field], fresh[field],
            "web/test/vectors.json: {field}"
        );
    }
    for field in ["config", "token", "body", "bhttp", "answer", "events"] {
        assert_eq!(
            pinned["private"][field], fresh["private"][field],
            "web/test/vectors.json: private.{field}"
        );
    }
    for field in ["request", "chunked_request", "response", "chunked_response"] {
        assert!(
            pinned["private"][field].is_string(),
            "web/test/vectors.json: private.{field} is missing (see this file's doc)"
        );
    }
    check_proof(&pinned["account_proof"]);
    check_proof(&pinned["absent_proof"]);
    check_endpoint_proof(&pinned["endpoint_proof"]);
    check_hand_over(&pinned["hand_over"]);
}
