//! OHTTP round trips: client to gateway and back, across key rotation, for any
//! request and response (property test).

use plexus_privacy::message::{Request, Response};
use plexus_privacy::oblivious::{Gateway, GatewayKey, OhttpError, decode_key_list, encapsulate};
use plexus_privacy::padding::pad_to_bucket;
use proptest::prelude::*;

fn gateway() -> Gateway {
    Gateway::new(vec![
        GatewayKey::generate(1).unwrap(),
        GatewayKey::derive(2, &[7; 32]).unwrap(),
    ])
    .unwrap()
}

#[test]
fn a_padded_chat_request_round_trips_with_either_live_key() {
    let gw = gateway();
    let configs = decode_key_list(&gw.key_list().unwrap()).unwrap();
    assert_eq!(
        configs.iter().map(|c| c.key_id()).collect::<Vec<_>>(),
        [1, 2]
    );
    for config in &configs {
        let request = Request {
            method: b"POST".to_vec(),
            scheme: b"https".to_vec(),
            authority: b"provider.example".to_vec(),
            path: b"/v1/chat/completions".to_vec(),
            headers: vec![(b"content-type".to_vec(), b"application/json".to_vec())],
            body: br#"{"messages":[{"role":"user","content":"hi"}]}"#.to_vec(),
        };
        let plaintext = pad_to_bucket(request.encode().unwrap()).unwrap();
        assert_eq!(plaintext.len(), 4096);
        let (enc, pending) = encapsulate(config, &plaintext).unwrap();
        let opened = gw.decapsulate(&enc).unwrap();
        assert_eq!(opened.key_id, config.key_id());
        assert_eq!(Request::decode(&opened.request).unwrap(), request);
        let response = Response {
            status: 200,
            headers: vec![],
            body: b"{}".to_vec(),
        };
        let sealed = opened.response.seal(&response.encode().unwrap()).unwrap();
        assert_eq!(
            Response::decode(&pending.open(&sealed).unwrap()).unwrap(),
            response
        );
    }
}

#[test]
fn a_derived_key_is_the_same_key_after_a_restart() {
    let a = GatewayKey::derive(3, &[9; 32]).unwrap();
    let b = GatewayKey::derive(3, &[9; 32]).unwrap();
    assert_eq!(a.public_config().unwrap(), b.public_config().unwrap());
    let (enc, _) = encapsulate(&a.public_config().unwrap(), b"x").unwrap();
    assert!(Gateway::new(vec![b]).unwrap().decapsulate(&enc).is_ok());
}

#[test]
fn a_replayed_request_opens_again_but_has_the_same_replay_id() {
    let gw = gateway();
    let config = &gw.public_configs().unwrap()[0];
    let (enc, _) = encapsulate(config, b"once").unwrap();
    let first = gw.decapsulate(&enc).unwrap();
    let second = gw.decapsulate(&enc).unwrap();
    assert_eq!(first.replay_id, second.replay_id);
    let (other, _) = encapsulate(config, b"once").unwrap();
    assert_ne!(gw.decapsulate(&other).unwrap().replay_id, first.replay_id);
}

#[test]
fn a_response_sealed_for_another_request_does_not_open() {
    let gw = gateway();
    let config = &gw.public_configs().unwrap()[0];
    let (enc_a, pending_a) = encapsulate(config, b"a").unwrap();
    let (enc_b, _pending_b) = encapsulate(config, b"b").unwrap();
    let _ = gw.decapsulate(&enc_a).unwrap();
    let sealed_b = gw
        .decapsulate(&enc_b)
        .unwrap()
        .response
        .seal(b"for b")
        .unwrap();
    assert!(matches!(
        pending_a.open(&sealed_b),
        Err(OhttpError::Decrypt)
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn any_request_and_response_round_trip(
        path in "/[a-z0-9/]{0,40}",
        header in proptest::collection::vec(any::<u8>(), 0..64),
        body in proptest::collection::vec(any::<u8>(), 0..3000),
        status in 200u16..600,
        answer in proptest::collection::vec(any::<u8>(), 0..3000),
    ) {
        let gw = gateway();
        let config = &gw.public_configs().unwrap()[1];
        let request = Request {
            method: b"POST".to_vec(),
            scheme: b"https".to_vec(),
            authority: b"p.example".to_vec(),
            path: path.into_bytes(),
            headers: vec![(b"x-test".to_vec(), header)],
            body,
        };
        let plaintext = pad_to_bucket(request.encode().unwrap()).unwrap();
        let (enc, pending) = encapsulate(config, &plaintext).unwrap();
        let opened = gw.decapsulate(&enc).unwrap();
        prop_assert_eq!(Request::decode(&opened.request).unwrap(), request);
        let response = Response { status, headers: vec![], body: answer };
        let sealed = opened.response.seal(&response.encode().unwrap()).unwrap();
        prop_assert_eq!(Response::decode(&pending.open(&sealed).unwrap()).unwrap(), response);
    }
}
