//! Type 0x0002 tokens: issue, finalize, verify at the named provider only.

use std::sync::OnceLock;

use plexus_privacy::token::{
    IssuerKey, TOKEN_LEN, TOKEN_REQUEST_LEN, Token, TokenChallenge, TokenError, TokenVerifier,
    authorization_value, begin_issuance, parse_authorization,
};
use proptest::prelude::*;

/// Key generation takes a while: share one issuer key across tests.
pub(crate) fn issuer() -> &'static IssuerKey {
    static KEY: OnceLock<IssuerKey> = OnceLock::new();
    KEY.get_or_init(|| IssuerKey::generate().unwrap())
}

fn verifier() -> TokenVerifier {
    let mut v = TokenVerifier::new();
    v.add_key("issuer.plexus", issuer().public().clone());
    v
}

/// A token for provider `origin`, encoded.
pub(crate) fn token_for(origin: &str) -> Vec<u8> {
    let challenge = TokenChallenge::for_origin("issuer.plexus", origin);
    let (request, pending) = begin_issuance(issuer().public(), &challenge).unwrap();
    let response = issuer().issue(&request.encode()).unwrap();
    pending.finalize(&response.encode()).unwrap().encode()
}

#[test]
fn a_token_is_accepted_by_its_provider_and_refused_by_another() {
    let token = token_for("provider-a.plexus");
    assert_eq!(token.len(), TOKEN_LEN);
    let ok = verifier()
        .verify_for_origin(&token, "provider-a.plexus")
        .unwrap();
    assert_eq!(ok.issuer_name, "issuer.plexus");
    assert_eq!(ok.token_key_id, issuer().public().key_id());
    assert_eq!(
        verifier().verify_for_origin(&token, "provider-b.plexus"),
        Err(TokenError::WrongChallenge)
    );
}

#[test]
fn tokens_travel_in_a_private_token_authorization_header() {
    let tokens: Vec<Vec<u8>> = (0..3).map(|_| token_for("provider-a.plexus")).collect();
    let decoded: Vec<Token> = tokens.iter().map(|t| Token::decode(t).unwrap()).collect();
    let value = authorization_value(&decoded);
    assert!(value.starts_with("PrivateToken token="));
    assert_eq!(parse_authorization(&value).unwrap(), tokens);
    for t in parse_authorization(&value).unwrap() {
        assert!(
            verifier()
                .verify_for_origin(&t, "provider-a.plexus")
                .is_ok()
        );
    }
    let quoted = format!(
        "privatetoken token=\"{}\"",
        &value["PrivateToken token=".len()..value.find(',').unwrap()]
    );
    assert_eq!(
        parse_authorization(&quoted).unwrap(),
        vec![tokens[0].clone()]
    );
    for bad in [
        "Bearer abc",
        "PrivateToken nonce=abc",
        "PrivateToken token=!!",
        "PrivateToken token=AAAA",
        "",
    ] {
        assert!(parse_authorization(bad).is_err(), "{bad}");
    }
    assert!(matches!(
        parse_authorization(&"x".repeat(100_000)),
        Err(TokenError::Oversized { .. })
    ));
}

#[test]
fn a_token_from_an_unknown_issuer_key_is_refused() {
    let token = token_for("provider-a.plexus");
    assert_eq!(
        TokenVerifier::new().verify_for_origin(&token, "provider-a.plexus"),
        Err(TokenError::UnknownKey)
    );
}

#[test]
fn the_issuer_key_survives_export_and_import_with_the_same_key_id() {
    let again = IssuerKey::from_der(&issuer().to_der().unwrap()).unwrap();
    assert_eq!(again.public(), issuer().public());
    assert_eq!(again.public().key_id(), issuer().public().key_id());
}

#[test]
fn a_request_for_another_key_is_refused() {
    let challenge = TokenChallenge::for_origin("issuer.plexus", "p");
    let (request, _) = begin_issuance(issuer().public(), &challenge).unwrap();
    let mut bytes = request.encode();
    assert_eq!(bytes.len(), TOKEN_REQUEST_LEN);
    bytes[2] ^= 1;
    assert_eq!(issuer().issue(&bytes), Err(TokenError::KeyMismatch));
}

#[test]
fn a_tampered_response_does_not_finalize() {
    let challenge = TokenChallenge::for_origin("issuer.plexus", "p");
    let (request, pending) = begin_issuance(issuer().public(), &challenge).unwrap();
    let mut response = issuer().issue(&request.encode()).unwrap().encode();
    response[10] ^= 1;
    assert_eq!(pending.finalize(&response), Err(TokenError::BadSignature));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn any_challenge_round_trips_and_its_token_verifies(
        issuer_name in "[a-z.]{1,30}",
        context in proptest::option::of(proptest::array::uniform32(any::<u8>())),
        origins in proptest::collection::vec("[a-z0-9.-]{1,20}", 0..4),
    ) {
        let challenge = TokenChallenge {
            token_type: 2,
            issuer_name: issuer_name.clone(),
            redemption_context: context.map(|c| c.to_vec()).unwrap_or_default(),
            origin_info: origins,
        };
        let encoded = challenge.encode().unwrap();
        prop_assert_eq!(&TokenChallenge::decode(&encoded).unwrap(), &challenge);
        let (request, pending) = begin_issuance(issuer().public(), &challenge).unwrap();
        let response = issuer().issue(&request.encode()).unwrap();
        let token = pending.finalize(&response.encode()).unwrap().encode();
        let mut v = TokenVerifier::new();
        v.add_key(&issuer_name, issuer().public().clone());
        prop_assert!(v.verify(&token, &challenge).is_ok());
    }
}
