//! `/v1/proofs`: state proofs with the header they verify against.

use plexus_storage::StateProof;
use plexus_types::Hash;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{WireError, blocks::Header, hex, hex_decode};

/// A state proof, field for field (convert to `plexus_storage::StateProof` to verify).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Proof {
    /// The committed height the proof is taken at.
    pub height: u64,
    /// The state root it proves against (the header's `state_root`).
    #[schema(value_type = String)]
    pub root: Hash,
    /// The state key, hex.
    pub key: String,
    /// The value under the key, hex, or `null` for an exclusion proof.
    pub value: Option<String>,
    /// The borsh-encoded `jmt` sparse Merkle proof, hex.
    pub proof: String,
}

impl From<&StateProof> for Proof {
    fn from(p: &StateProof) -> Self {
        Self {
            height: p.height,
            root: p.root,
            key: hex(&p.key),
            value: p.value.as_deref().map(hex),
            proof: hex(&p.proof),
        }
    }
}

impl TryFrom<&Proof> for StateProof {
    type Error = WireError;

    fn try_from(p: &Proof) -> Result<Self, WireError> {
        Ok(Self {
            height: p.height,
            root: p.root,
            key: hex_decode(&p.key).ok_or(WireError::BadHex("key"))?,
            value: p
                .value
                .as_deref()
                .map(|v| hex_decode(v).ok_or(WireError::BadHex("value")))
                .transpose()?,
            proof: hex_decode(&p.proof).ok_or(WireError::BadHex("proof"))?,
        })
    }
}

/// `GET /v1/proofs/...`: a state proof and the header of the block it was taken at,
/// so a client checks `proof.root == header.state_root` and then the proof itself.
/// The header must in turn be checked against a finality certificate for full
/// light-client security (not yet served).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProofResponse {
    /// The proof.
    pub proof: Proof,
    /// The header of the block at `proof.height`.
    pub header: Header,
}
