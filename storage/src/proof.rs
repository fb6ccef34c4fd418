//! State proofs a light client checks against a trusted state root.
//!
//! This module uses no database: a client that trusts only a finalized header's
//! `state_root` calls [`verify_proof`] on a [`StateProof`] that any node served.
//!
//! The proof body is jmt's `SparseMerkleProof<Sha256>` in borsh encoding (a stable,
//! canonical binary format), shown as hex in JSON. Keys are hashed with sha256 into
//! the tree; the leaf commits to sha256 of the value.

use jmt::{KeyHash, RootHash, proof::SparseMerkleProof};
use plexus_types::Hash;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Largest encoded proof body accepted: a leaf and 256 siblings of at most 65 bytes
/// each, with their length prefix, fit well below this.
pub const MAX_PROOF_BYTES: usize = 20 * 1024;

/// Largest key a proof may name; state keys are far shorter.
pub const MAX_PROOF_KEY_BYTES: usize = 4 * 1024;

/// Why a proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProofError {
    /// The proof claims a root other than the trusted one.
    #[error("proof is for root {claimed}, not the trusted root {trusted}")]
    RootMismatch {
        /// The root the caller trusts.
        trusted: Hash,
        /// The root the proof names.
        claimed: Hash,
    },
    /// The proof body or key exceeds its size bound.
    #[error("{field} has {len} bytes, above the limit of {max}")]
    TooLarge {
        /// Which part was too large.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The largest length accepted.
        max: usize,
    },
    /// The proof body could not be decoded.
    #[error("malformed proof: {0}")]
    Malformed(String),
    /// The proof does not link the key and value (or their absence) to the root.
    #[error("proof does not verify: {0}")]
    Invalid(String),
}

/// A proof that `key` holds `value` (or nothing, when `value` is `None`) in the state
/// whose root is `root`, committed at `height`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateProof {
    /// The committed height the proof is taken at.
    pub height: u64,
    /// The state root at `height` (the `state_root` of that block's header).
    pub root: Hash,
    /// The state key.
    #[serde(with = "plexus_types::hex_bytes")]
    pub key: Vec<u8>,
    /// The value under `key`, or `None` for an exclusion proof.
    #[serde(with = "hex_option")]
    pub value: Option<Vec<u8>>,
    /// The borsh-encoded `jmt::proof::SparseMerkleProof<Sha256>`.
    #[serde(with = "plexus_types::hex_bytes")]
    pub proof: Vec<u8>,
}

/// Check `proof` against the trusted `root`: an inclusion proof when `proof.value` is
/// `Some`, an exclusion proof when it is `None`. Returns the proven value.
pub fn verify_proof(root: &Hash, proof: &StateProof) -> Result<Option<Vec<u8>>, ProofError> {
    if proof.root != *root {
        return Err(ProofError::RootMismatch {
            trusted: *root,
            claimed: proof.root,
        });
    }
    if proof.key.len() > MAX_PROOF_KEY_BYTES {
        return Err(ProofError::TooLarge {
            field: "key",
            len: proof.key.len(),
            max: MAX_PROOF_KEY_BYTES,
        });
    }
    let sparse = decode_proof(&proof.proof)?;
    sparse
        .verify(RootHash(root.0), key_hash(&proof.key), proof.value.as_ref())
        .map_err(|e| ProofError::Invalid(e.to_string()))?;
    Ok(proof.value.clone())
}

/// The tree position of a state key: sha256 of the key, as `jmt::KeyHash::with::<Sha256>`.
pub(crate) fn key_hash(key: &[u8]) -> KeyHash {
    KeyHash(Sha256::digest(key).into())
}

/// Encode a jmt proof for [`StateProof::proof`].
#[cfg(feature = "db")]
pub(crate) fn encode_proof(proof: &SparseMerkleProof<Sha256>) -> Result<Vec<u8>, ProofError> {
    borsh::to_vec(proof).map_err(|e| ProofError::Malformed(e.to_string()))
}

/// Decode a proof body, refusing anything above [`MAX_PROOF_BYTES`].
fn decode_proof(bytes: &[u8]) -> Result<SparseMerkleProof<Sha256>, ProofError> {
    if bytes.len() > MAX_PROOF_BYTES {
        return Err(ProofError::TooLarge {
            field: "proof",
            len: bytes.len(),
            max: MAX_PROOF_BYTES,
        });
    }
    borsh::from_slice(bytes).map_err(|e| ProofError::Malformed(e.to_string()))
}

/// Serde helper: optional bytes as hex, or `null`.
mod hex_option {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        bytes: &Option<Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => s.serialize_some(&hex::encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| hex::decode(text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hash_matches_jmt_own_key_hashing() {
        for key in [&b""[..], b"a", b"balance/plx1xyz", &[0xff; 300]] {
            assert_eq!(key_hash(key), KeyHash::with::<Sha256>(key));
        }
    }

    #[test]
    fn hostile_proof_bytes_are_refused_without_panicking() {
        let mut proof = StateProof {
            height: 0,
            root: Hash([7; 32]),
            key: b"k".to_vec(),
            value: None,
            proof: vec![0xff; 64],
        };
        assert!(matches!(
            verify_proof(&Hash([7; 32]), &proof),
            Err(ProofError::Malformed(_))
        ));
        proof.proof = vec![0; MAX_PROOF_BYTES + 1];
        assert!(matches!(
            verify_proof(&Hash([7; 32]), &proof),
            Err(ProofError::TooLarge { field: "proof", .. })
        ));
        assert!(matches!(
            verify_proof(&Hash([8; 32]), &proof),
            Err(ProofError::RootMismatch { .. })
        ));
    }

    #[test]
    fn a_proof_round_trips_through_json_with_hex_fields() {
        let proof = StateProof {
            height: 3,
            root: Hash([1; 32]),
            key: b"key".to_vec(),
            value: Some(vec![0xab, 0xcd]),
            proof: vec![0, 1, 2],
        };
        let json = serde_json::to_value(&proof).expect("serialize");
        assert_eq!(json["value"], "abcd");
        assert_eq!(json["key"], "6b6579");
        assert_eq!(json["proof"], "000102");
        let back: StateProof = serde_json::from_value(json).expect("deserialize");
        assert_eq!(back, proof);
        let absent = StateProof {
            value: None,
            ..proof
        };
        let json = serde_json::to_value(&absent).expect("serialize");
        assert!(json["value"].is_null());
        assert_eq!(
            serde_json::from_value::<StateProof>(json).expect("deserialize"),
            absent
        );
    }
}
