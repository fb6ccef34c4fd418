//! Hostile inputs are refused with typed errors before any expensive work.

use plexus_privacy::message::{MAX_MESSAGE_LEN, MessageError, Request};
use plexus_privacy::oblivious::{
    Gateway, GatewayKey, MAX_ENCAPSULATED_REQUEST_LEN, MAX_KEY_LIST_LEN, MAX_REQUEST_LEN,
    MIN_ENCAPSULATED_REQUEST_LEN, OhttpError, PublicKeyConfig, decode_key_list, encapsulate,
};
use plexus_privacy::token::{
    IssuerPublicKey, TOKEN_LEN, Token, TokenChallenge, TokenError, TokenRequest, TokenResponse,
};
use proptest::prelude::*;

use crate::tokens_round_trip_and_are_bound_to_one_provider::issuer;

fn gateway() -> Gateway {
    Gateway::new(vec![GatewayKey::generate(1).unwrap()]).unwrap()
}

#[test]
fn oversized_and_truncated_requests_are_refused_by_length() {
    let gw = gateway();
    let big = vec![1u8; MAX_ENCAPSULATED_REQUEST_LEN + 1];
    assert!(matches!(
        gw.decapsulate(&big),
        Err(OhttpError::Oversized { .. })
    ));
    let short = vec![1u8; MIN_ENCAPSULATED_REQUEST_LEN - 1];
    assert!(matches!(
        gw.decapsulate(&short),
        Err(OhttpError::Truncated { .. })
    ));
    let config = &gw.public_configs().unwrap()[0];
    assert!(matches!(
        encapsulate(config, &vec![0; MAX_REQUEST_LEN + 1]),
        Err(OhttpError::PlaintextTooLong { .. })
    ));
}

#[test]
fn a_request_for_an_unregistered_key_is_refused() {
    let gw = gateway();
    let other = GatewayKey::generate(9).unwrap().public_config().unwrap();
    let (enc, _) = encapsulate(&other, b"x").unwrap();
    assert!(matches!(
        gw.decapsulate(&enc),
        Err(OhttpError::UnknownKeyId(9))
    ));
    // Same key id, different key (a tagged key): authentication fails.
    let tagged = GatewayKey::generate(1).unwrap().public_config().unwrap();
    let (enc, _) = encapsulate(&tagged, b"x").unwrap();
    assert!(matches!(gw.decapsulate(&enc), Err(OhttpError::Decrypt)));
}

#[test]
fn tampered_ciphertexts_fail_authentication() {
    let gw = gateway();
    let config = &gw.public_configs().unwrap()[0];
    let (enc, _) = encapsulate(config, b"hello").unwrap();
    for i in [3, 10, enc.len() - 1] {
        let mut bad = enc.clone();
        bad[i] ^= 0x80;
        assert!(gw.decapsulate(&bad).is_err(), "byte {i}");
    }
    let mut bad = enc.clone();
    bad[8] ^= 1; // inside the encapsulated key
    assert!(matches!(gw.decapsulate(&bad), Err(OhttpError::Decrypt)));
    let mut aes256 = enc;
    aes256[6] = 2; // AEAD id: AES-256-GCM, not offered by this key
    assert!(matches!(
        gw.decapsulate(&aes256),
        Err(OhttpError::UnsupportedSuite)
    ));
}

#[test]
fn malformed_key_configurations_are_refused() {
    assert!(matches!(
        PublicKeyConfig::decode(&[1, 0, 0x20]),
        Err(OhttpError::Truncated { .. })
    ));
    let good = GatewayKey::generate(1).unwrap().public_config().unwrap();
    let mut p256 = good.encoded().to_vec();
    p256[2] = 0x10;
    assert!(matches!(
        PublicKeyConfig::decode(&p256),
        Err(OhttpError::UnsupportedSuite)
    ));
    let mut extra = good.encoded().to_vec();
    extra.push(0);
    assert!(matches!(
        PublicKeyConfig::decode(&extra),
        Err(OhttpError::MalformedKeyConfig)
    ));
    assert!(matches!(
        decode_key_list(&[0, 50, 1]),
        Err(OhttpError::MalformedKeyConfig)
    ));
    assert!(matches!(decode_key_list(&[]), Err(OhttpError::NoUsableKey)));
    assert!(matches!(
        decode_key_list(&vec![0; MAX_KEY_LIST_LEN + 1]),
        Err(OhttpError::Oversized { .. })
    ));
    assert!(matches!(
        Gateway::new(vec![
            GatewayKey::generate(1).unwrap(),
            GatewayKey::generate(1).unwrap()
        ]),
        Err(OhttpError::DuplicateKeyId(1))
    ));
    assert!(matches!(
        GatewayKey::derive(1, &[0; 16]),
        Err(OhttpError::ShortIkm)
    ));
}

#[test]
fn oversized_and_malformed_bhttp_is_refused() {
    assert!(matches!(
        Request::decode(&vec![0; MAX_MESSAGE_LEN + 1]),
        Err(MessageError::Oversized(_))
    ));
    assert!(matches!(
        Request::decode(&[0x40]),
        Err(MessageError::Malformed(_))
    ));
    assert!(matches!(
        Request::decode(&[9]),
        Err(MessageError::Malformed(_))
    ));
}

#[test]
fn malformed_token_messages_are_refused() {
    assert!(matches!(
        Token::decode(&[0; 10]),
        Err(TokenError::WrongLength { .. })
    ));
    let mut t = vec![0; TOKEN_LEN];
    t[1] = 1;
    assert_eq!(Token::decode(&t), Err(TokenError::WrongTokenType(1)));
    assert!(matches!(
        TokenRequest::decode(&[0, 2, 0]),
        Err(TokenError::WrongLength { .. })
    ));
    assert!(matches!(
        TokenResponse::decode(&[0; 255]),
        Err(TokenError::WrongLength { .. })
    ));
    assert!(matches!(
        issuer().issue(&[0; 3]),
        Err(TokenError::WrongLength { .. })
    ));
    assert_eq!(
        TokenChallenge::decode(&[0, 2, 0, 1, b'a', 5]),
        Err(TokenError::MalformedChallenge)
    );
    assert_eq!(
        TokenChallenge::decode(&[0, 2, 0, 1, b'a', 0, 0, 0, 7]),
        Err(TokenError::MalformedChallenge)
    );
    assert!(matches!(
        TokenChallenge::decode(&vec![0; 5000]),
        Err(TokenError::Oversized { .. })
    ));
    assert_eq!(
        IssuerPublicKey::from_spki(&[0x30, 0]),
        Err(TokenError::InvalidKey)
    );
    assert!(matches!(
        IssuerPublicKey::from_spki(&[0; 900]),
        Err(TokenError::Oversized { .. })
    ));
    // A blinded message not below the modulus is refused by the issuer.
    let mut req = vec![0, 2, issuer().public().truncated_key_id()];
    req.extend_from_slice(&[0xff; 256]);
    assert!(matches!(issuer().issue(&req), Err(TokenError::Crypto(_))));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_bytes_never_panic_the_gateway_or_the_token_decoders(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let gw = gateway();
        let mut req = bytes.clone();
        if let Some(first) = req.first_mut() { *first = 1; }
        prop_assert!(gw.decapsulate(&req).is_err());
        let _ = PublicKeyConfig::decode(&bytes);
        let _ = decode_key_list(&bytes);
        let _ = TokenChallenge::decode(&bytes);
        let _ = Token::decode(&bytes);
    }
}
