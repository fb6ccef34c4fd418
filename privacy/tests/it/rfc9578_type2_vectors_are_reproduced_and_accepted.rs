//! RFC 9578 Appendix A.2 (token type 0x0002): with the published nonce, salt and
//! blind injected (the 32-byte nonce, the 48-byte PSS salt, the blind r), our client produces the published TokenRequest, our issuer the
//! published TokenResponse, and finalizing gives the published Token, which our
//! verifier accepts.

use blind_rsa_signatures::PublicKeySha384PSSDeterministic;
use plexus_privacy::token::{
    IssuerKey, IssuerPublicKey, Token, TokenChallenge, TokenError, TokenVerifier,
    begin_issuance_with,
};
use sha2::{Digest, Sha256};

use crate::rfc9474_deterministic_vector_blinds_and_signs_to_the_published_values::scripted_blind;
use crate::vectors;
use blind_rsa_signatures::reexports::crypto_bigint::BoxedUint;

const FILE: &str = "rfc9578_type2_issuance.txt";

#[test]
fn every_published_issuance_is_reproduced_byte_for_byte() {
    let all = vectors::load(FILE);
    assert_eq!(all.len(), 5);
    for v in all {
        let issuer = IssuerKey::from_pem(std::str::from_utf8(&v["skS"]).unwrap()).unwrap();
        assert_eq!(issuer.public().spki(), v["pkS"].as_slice());
        let public = IssuerPublicKey::from_spki(&v["pkS"]).unwrap();
        let key_id: [u8; 32] = Sha256::digest(&v["pkS"]).into();
        assert_eq!(public.key_id(), key_id);

        let challenge = TokenChallenge::decode(&v["token_challenge"]).unwrap();
        assert_eq!(challenge.encode().unwrap(), v["token_challenge"]);

        let nonce: [u8; 32] = v["nonce"].as_slice().try_into().unwrap();
        let modulus = PublicKeySha384PSSDeterministic::from_spki(&v["pkS"])
            .unwrap()
            .components()
            .n();
        assert_eq!(modulus.len(), 256);
        // RFC 9578 publishes the blind r itself (RFC 9474 publishes its inverse).
        let r = BoxedUint::from_be_slice(&v["blind"], 2048).unwrap();
        let mut rng = scripted_blind(&v["salt"], &r);
        let (request, pending) = begin_issuance_with(&public, &challenge, nonce, &mut rng).unwrap();
        assert!(rng.0.is_empty(), "all injected randomness consumed");
        assert_eq!(request.encode(), v["token_request"]);

        let response = issuer.issue(&v["token_request"]).unwrap();
        assert_eq!(response.encode(), v["token_response"]);

        let token = pending.finalize(&v["token_response"]).unwrap();
        assert_eq!(token.encode(), v["token"]);

        let mut verifier = TokenVerifier::new();
        verifier.add_key(&challenge.issuer_name, public);
        let ok = verifier.verify(&v["token"], &challenge).unwrap();
        assert_eq!(ok.nonce, nonce);
        assert_eq!(Token::decode(&v["token"]).unwrap().token_key_id, key_id);
    }
}

#[test]
fn a_published_token_is_refused_for_another_challenge_or_an_unknown_key() {
    let v = &vectors::load(FILE)[1];
    let challenge = TokenChallenge::decode(&v["token_challenge"]).unwrap();
    let public = IssuerPublicKey::from_spki(&v["pkS"]).unwrap();
    let empty = TokenVerifier::new();
    assert_eq!(
        empty.verify(&v["token"], &challenge),
        Err(TokenError::UnknownKey)
    );
    let mut verifier = TokenVerifier::new();
    verifier.add_key(&challenge.issuer_name, public);
    let mut other = challenge.clone();
    other.origin_info = vec!["elsewhere.example".to_owned()];
    assert_eq!(
        verifier.verify(&v["token"], &other),
        Err(TokenError::WrongChallenge)
    );
    let mut forged = v["token"].clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert_eq!(
        verifier.verify(&forged, &challenge),
        Err(TokenError::BadSignature)
    );
}
