//! What a light client trusts, and the keys it checks against it.
//!
//! A [`TrustAnchor`] is a chain id and its validator set: from a genesis file handed
//! out of band, or pinned the first time a client meets the chain (trust on first use,
//! as SSH pins host keys) and refused if a node later names another. Every key a client
//! seals to is then read through [`Client::verified_endpoint`]: proven by a Merkle proof
//! against a header a quorum of those validators finalized, never taken from a node's
//! plain JSON.

use std::path::Path;

pub use plexus_ledger::credits::{Issuer, IssuerKey};
use plexus_ledger::{
    Genesis,
    credits::keys::{issuer_key, issuer_key_record_key},
    neurons::keys::endpoint_key,
};
use plexus_types::{AccountId, BlockHeader, Endpoint, Hash, Netuid, Uid};
use serde::{Deserialize, Serialize};

use crate::{Client, ClientError, Verified, verify};

/// Largest pinned-anchor file read, in bytes (1,024 validators fit easily).
const MAX_ANCHOR_BYTES: u64 = 1 << 20;

/// The chain a client trusts: its id and its validators' consensus keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustAnchor {
    /// The chain id every finality certificate signs for.
    pub chain_id: u64,
    /// The genesis validator set, whose quorum finalizes the blocks of epoch 0.
    pub validators: Vec<AccountId>,
    /// Blocks per consensus epoch; 0 when the genesis set finalizes every block. The
    /// set of a later epoch is followed from the genesis one through certified
    /// hand-overs ([`Client::validator_set`]).
    #[serde(default)]
    pub epoch_length: u64,
}

/// Why a trust anchor could not be had.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The node could not be read.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The pinned anchor cannot be read or written.
    #[error("cannot use the pinned chain {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The node serves another chain than the one pinned.
    #[error(
        "the node serves chain {served} with {validators} validator(s), not the chain pinned in {path} (chain {pinned}): it may be lying; remove the file only if you changed networks on purpose"
    )]
    Mismatch {
        /// The pinned file.
        path: String,
        /// The pinned chain id.
        pinned: u64,
        /// The chain id the node serves.
        served: u64,
        /// How many validators the node names.
        validators: usize,
    },
}

impl TrustAnchor {
    /// The anchor of the chain `genesis` starts.
    pub fn from_genesis(genesis: &Genesis) -> Self {
        Self {
            chain_id: genesis.chain_id,
            validators: genesis.validators.iter().map(|v| v.public_key).collect(),
            epoch_length: genesis.params.consensus.epoch_length,
        }
    }

    /// The chain `client`'s node serves, as it says (unverified: pin it with
    /// [`TrustAnchor::pinned`]).
    pub async fn served(client: &Client) -> Result<Self, ClientError> {
        let chain = client.chain().await?;
        Ok(Self {
            chain_id: chain.chain_id,
            validators: chain.validators.iter().map(|v| v.public_key).collect(),
            epoch_length: chain.params.consensus.epoch_length,
        })
    }

    /// The anchor pinned at `path`; at first use, the chain `client`'s node serves,
    /// written there. A node that later serves another chain is refused.
    pub async fn pinned(client: &Client, path: &Path) -> Result<Self, TrustError> {
        let file_error = |reason: String| TrustError::File {
            path: path.display().to_string(),
            reason,
        };
        let served = Self::served(client).await?;
        let pinned = match std::fs::metadata(path) {
            Ok(meta) if meta.len() > MAX_ANCHOR_BYTES => {
                return Err(file_error(format!("larger than {MAX_ANCHOR_BYTES} bytes")));
            }
            Ok(_) => {
                let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
                serde_json::from_str::<Self>(&text).map_err(|e| file_error(e.to_string()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| file_error(e.to_string()))?;
                }
                let text =
                    serde_json::to_vec_pretty(&served).map_err(|e| file_error(e.to_string()))?;
                write_new(path, &text).map_err(|e| file_error(e.to_string()))?;
                return Ok(served);
            }
            Err(e) => return Err(file_error(e.to_string())),
        };
        if pinned != served {
            return Err(TrustError::Mismatch {
                path: path.display().to_string(),
                pinned: pinned.chain_id,
                served: served.chain_id,
                validators: served.validators.len(),
            });
        }
        Ok(pinned)
    }
}

/// Write `bytes` to a new file at `path` atomically (a temporary file renamed).
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

impl Client {
    /// The header of the node's finalized tip, checked against its finality
    /// certificate under the set of its epoch, followed from `anchor`.
    pub async fn certified_tip(&self, anchor: &TrustAnchor) -> Result<BlockHeader, ClientError> {
        let tip = self.status().await?.node.finalized_height;
        self.certified_header_following(tip, anchor).await
    }

    /// What `hotkey` serves on `netuid` at the `trusted` header: its UID proven by a
    /// registration proof and its endpoint (URL, OHTTP keys, model, operator) by an
    /// endpoint proof, both against `trusted`'s state root. `None` when the hotkey is
    /// not registered there or serves nothing.
    pub async fn verified_endpoint(
        &self,
        netuid: Netuid,
        hotkey: &AccountId,
        trusted: &BlockHeader,
    ) -> Result<Option<(Uid, Endpoint)>, ClientError> {
        let registration = self
            .registration_proof(netuid, hotkey, Some(trusted.height))
            .await?;
        let key = plexus_ledger::registration_key(netuid, hotkey);
        let uid: Verified<Option<Uid>> = verify(
            &registration,
            &key,
            Some(trusted),
            "registration",
            |state| plexus_ledger::neurons::uid_of(state, netuid, hotkey),
        )?;
        let Some(uid) = uid.value else {
            return Ok(None);
        };
        let path = [
            "v1",
            "proofs",
            "endpoint",
            &netuid.to_string(),
            &uid.to_string(),
        ];
        let response = self
            .get(&path, &crate::height_query(Some(trusted.height)))
            .await?;
        let endpoint: Verified<Option<Endpoint>> = verify(
            &response,
            &endpoint_key(netuid, uid),
            Some(trusted),
            "endpoint",
            |state| plexus_ledger::neurons::endpoint(state, netuid, uid),
        )?;
        Ok(endpoint.value.map(|e| (uid, e)))
    }

    /// The credit issuer `hotkey` at the `trusted` header: its gateway URL, OHTTP keys,
    /// key ids and retirement, proven against `trusted`'s state root. `None` when it is
    /// no issuer there.
    pub async fn verified_issuer(
        &self,
        hotkey: &AccountId,
        trusted: &BlockHeader,
    ) -> Result<Option<Issuer>, ClientError> {
        let path = ["v1", "proofs", "issuer", &hotkey.to_string()];
        let response = self
            .get(&path, &crate::height_query(Some(trusted.height)))
            .await?;
        let issuer: Verified<Option<Issuer>> = verify(
            &response,
            &issuer_key(hotkey),
            Some(trusted),
            "issuer",
            |state| plexus_ledger::credits::issuer(state, hotkey),
        )?;
        Ok(issuer.value)
    }

    /// The credit issuer key `key_id` at the `trusted` header: its RSA SPKI, issuer,
    /// denomination, key epoch, escrow and distinct buyers, proven against `trusted`'s
    /// state root. `None` when no such key is on chain there.
    pub async fn verified_issuer_key(
        &self,
        key_id: &Hash,
        trusted: &BlockHeader,
    ) -> Result<Option<IssuerKey>, ClientError> {
        let path = ["v1", "proofs", "issuer-key", &key_id.to_string()];
        let response = self
            .get(&path, &crate::height_query(Some(trusted.height)))
            .await?;
        let key: Verified<Option<IssuerKey>> = verify(
            &response,
            &issuer_key_record_key(key_id),
            Some(trusted),
            "issuer key",
            |state| plexus_ledger::credits::issuer_key(state, key_id),
        )?;
        Ok(key.value)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use plexus_types::Keypair;

    use super::*;

    #[test]
    fn a_genesis_anchors_its_chain_id_and_validator_set() {
        let key = Keypair::from_label("validator").account();
        let genesis = Genesis::development(key);
        let anchor = TrustAnchor::from_genesis(&genesis);
        assert_eq!(anchor.chain_id, genesis.chain_id);
        assert_eq!(anchor.validators, vec![key]);
        let json = serde_json::to_string(&anchor).unwrap();
        assert_eq!(serde_json::from_str::<TrustAnchor>(&json).unwrap(), anchor);
    }
}
