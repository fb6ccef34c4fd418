//! RFC 9474 Appendix A, RSABSSA-SHA384-PSS-Deterministic: with the published salt and
//! blind injected (4096-bit key), blinding, blind signing and finalizing reproduce every published value.

use blind_rsa_signatures::reexports::crypto_bigint::{BoxedUint, NonZero};
use blind_rsa_signatures::{BlindSignature, SecretKeySha384PSSDeterministic, Signature};
use rsa::RsaPrivateKey;

use crate::scripted::ScriptedRng;
use crate::vectors::{self, Vector};

/// An integer with the precision of its big-endian encoding (the RFC 9474 vectors
/// use a 4096-bit modulus, RFC 9578 a 2048-bit one).
fn uint(b: &[u8]) -> BoxedUint {
    BoxedUint::from_be_slice(b, u32::try_from(b.len() * 8).unwrap()).unwrap()
}

/// The secret key from the published p, q, d, e, n.
pub(crate) fn secret_key(v: &Vector) -> SecretKeySha384PSSDeterministic {
    let big = |name: &str| BoxedUint::from_be_slice_vartime(&v[name]);
    let mut inner =
        RsaPrivateKey::from_components(big("n"), big("e"), big("d"), vec![big("p"), big("q")])
            .unwrap();
    inner.precompute().unwrap();
    SecretKeySha384PSSDeterministic::new(inner)
}

/// Randomness that makes the blinding step choose `salt` and the blind whose inverse
/// is `inv` (RFC 9474 publishes the inverse).
pub(crate) fn blinding_rng(salt: &[u8], inv: &[u8], n: &[u8]) -> ScriptedRng {
    let n = NonZero::new(uint(n)).unwrap();
    let r: BoxedUint = Option::from(uint(inv).invert_mod(&n)).unwrap();
    scripted_blind(salt, &r)
}

/// Randomness that makes the blinding step choose `salt` and the blind `r`.
pub(crate) fn scripted_blind(salt: &[u8], r: &BoxedUint) -> ScriptedRng {
    // `crypto-bigint` draws the blind as little-endian bytes of the modulus width.
    let mut bytes = salt.to_vec();
    bytes.extend_from_slice(&r.to_le_bytes());
    ScriptedRng(bytes)
}

#[test]
fn the_deterministic_vector_reproduces_blinded_message_blind_signature_and_signature() {
    let v = vectors::one("rfc9474_sha384_pss_deterministic.txt");
    assert!(v["msg_prefix"].is_empty());
    assert_eq!(v["input_msg"], v["msg"]);
    let sk = secret_key(&v);
    let pk = sk.public_key().unwrap();
    assert_eq!(pk.components().n(), v["n"]);

    let mut rng = blinding_rng(&v["salt"], &v["inv"], &v["n"]);
    let blinding = pk.blind(&mut rng, &v["msg"]).unwrap();
    assert!(rng.0.is_empty(), "all injected randomness consumed");
    assert!(blinding.msg_randomizer.is_none());
    assert_eq!(blinding.blind_message.0, v["blinded_msg"]);
    assert_eq!(blinding.secret.0, v["inv"]);

    let blind_sig = sk.blind_sign(&v["blinded_msg"]).unwrap();
    assert_eq!(blind_sig.0, v["blind_sig"]);

    let sig = pk
        .finalize(
            &BlindSignature(v["blind_sig"].clone()),
            &blinding,
            &v["msg"],
        )
        .unwrap();
    assert_eq!(sig.0, v["sig"]);
    pk.verify(&Signature(v["sig"].clone()), None, &v["msg"])
        .unwrap();
}

#[test]
fn the_published_signature_does_not_verify_for_another_message() {
    let v = vectors::one("rfc9474_sha384_pss_deterministic.txt");
    let pk = secret_key(&v).public_key().unwrap();
    let mut other = v["msg"].clone();
    other[0] ^= 1;
    assert!(
        pk.verify(&Signature(v["sig"].clone()), None, &other)
            .is_err()
    );
}
