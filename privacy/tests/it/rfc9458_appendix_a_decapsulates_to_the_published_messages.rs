//! RFC 9458 Appendix A: the published key configuration, encapsulated request and
//! encapsulated response.
//!
//! `ohttp` 0.8 cannot import a raw X25519 private key (only generate or derive one),
//! so the published request is opened with the HPKE primitives that `ohttp` itself
//! builds on (`hpke` 0.14, AES-128-GCM), following RFC 9458 sections 4.3 and 4.4 step
//! by step; our own code parses the key configuration, seals to it, and decodes the
//! BHTTP plaintexts.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem, OpModeR};
use plexus_privacy::message::{Request, Response};
use plexus_privacy::oblivious::{
    ENC_LEN, PublicKeyConfig, REQUEST_HEADER_LEN, ReplayId, TAG_LEN, decode_key_list, encapsulate,
    encode_key_list,
};
use sha2::{Digest, Sha256};

use crate::vectors;

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .into()
}

/// HKDF-Expand for outputs of at most one hash length.
fn hkdf_expand(prk: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let mut m = info.to_vec();
    m.push(1);
    hmac_sha256(prk, &m)[..len].to_vec()
}

#[test]
fn the_published_key_configuration_parses_and_reencodes() {
    let v = vectors::one("rfc9458_appendix_a.txt");
    let config = PublicKeyConfig::decode(&v["key_config"]).unwrap();
    assert_eq!(config.key_id(), 1);
    assert_eq!(config.encoded(), v["key_config"].as_slice());
    assert_eq!(&config.encoded()[3..35], v["pkR"].as_slice());
    let list = encode_key_list(std::slice::from_ref(&config)).unwrap();
    assert_eq!(decode_key_list(&list).unwrap(), vec![config]);
}

#[test]
fn the_published_request_decapsulates_with_the_published_private_key() {
    let v = vectors::one("rfc9458_appendix_a.txt");
    let enc_request = &v["encapsulated_request"];
    let (header, rest) = enc_request.split_at(REQUEST_HEADER_LEN);
    let (enc, ct) = rest.split_at(ENC_LEN);
    assert_eq!(
        header,
        &v["key_config"][..3]
            .iter()
            .chain(&[0, 1, 0, 1])
            .copied()
            .collect::<Vec<u8>>()[..]
    );
    assert_eq!(enc, v["enc"].as_slice());

    let mut info = b"message/bhttp request".to_vec();
    info.push(0);
    info.extend_from_slice(header);
    assert_eq!(info, v["info"]);

    let sk = <X25519HkdfSha256 as Kem>::PrivateKey::from_bytes(&v["skR"]).unwrap();
    let encapped = <X25519HkdfSha256 as Kem>::EncappedKey::from_bytes(enc).unwrap();
    let mut ctx = hpke::setup_receiver::<
        hpke::aead::AesGcm128,
        hpke::kdf::HkdfSha256,
        X25519HkdfSha256,
    >(&OpModeR::Base, &sk, &encapped, &info)
    .unwrap();
    let request = ctx.open(ct, b"").unwrap();
    assert_eq!(request, v["request"]);

    // The plaintext is the BHTTP request `GET https://example.com/`.
    let decoded = Request::decode(&request).unwrap();
    assert_eq!(decoded.method, b"GET");
    assert_eq!(decoded.scheme, b"https");
    assert_eq!(decoded.authority, b"example.com");
    assert_eq!(decoded.path, b"/");
    assert!(decoded.headers.is_empty() && decoded.body.is_empty());

    // Response keys (RFC 9458 section 4.4) and the published encapsulated response.
    let mut secret = [0u8; 16];
    ctx.export(b"message/bhttp response", &mut secret).unwrap();
    assert_eq!(secret.as_slice(), v["exported_secret"].as_slice());
    let enc_response = &v["encapsulated_response"];
    let (nonce, ct) = enc_response.split_at(16);
    assert_eq!(nonce, v["response_nonce"].as_slice());
    let salt = [enc, nonce].concat();
    let prk = hmac_sha256(&salt, &secret);
    let key = hkdf_expand(&prk, b"key", 16);
    let aead_nonce = hkdf_expand(&prk, b"nonce", 12);
    assert_eq!(key, v["aead_key"]);
    assert_eq!(aead_nonce, v["aead_nonce"]);
    let cipher = Aes128Gcm::new_from_slice(&key).unwrap();
    let response = cipher
        .decrypt(&Nonce::try_from(aead_nonce.as_slice()).unwrap(), ct)
        .unwrap();
    assert_eq!(response, v["response"]);
    let decoded = Response::decode(&response).unwrap();
    assert_eq!(decoded.status, 200);
    assert!(decoded.body.is_empty());
}

#[test]
fn our_client_seals_to_the_published_configuration() {
    let v = vectors::one("rfc9458_appendix_a.txt");
    let config = PublicKeyConfig::decode(&v["key_config"]).unwrap();
    let (enc_request, _pending) = encapsulate(&config, &v["request"]).unwrap();
    assert_eq!(
        &enc_request[..REQUEST_HEADER_LEN],
        &v["encapsulated_request"][..REQUEST_HEADER_LEN]
    );
    assert_eq!(
        enc_request.len(),
        REQUEST_HEADER_LEN + ENC_LEN + v["request"].len() + TAG_LEN
    );
    // Same length as the published request, different ephemeral key.
    assert_eq!(enc_request.len(), v["encapsulated_request"].len());
    assert_ne!(
        ReplayId::of(&enc_request),
        ReplayId::of(&v["encapsulated_request"])
    );
}
