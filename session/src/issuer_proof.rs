//! The issuer keys a purchase pays into, blinds with and seals to, proven against a
//! header the anchored validators finalized.
//!
//! A node lists issuers as plain JSON. A lying node (or anyone on its `http://` link)
//! could list an RSA token key of its own, signing only this buyer's tokens and so
//! tagging every request they pay for, or an OHTTP key of its own for the issuer's
//! gateway, reading the issuance request. Before paying, and again before blinding and
//! sealing, the listed issuer record and key are checked against state proofs under a
//! certified tip, as provider keys are (RFC 9576 §6.3: every client must see the same
//! issuer key).

use plexus_client::{
    Client,
    trust::{Issuer, IssuerKey, TrustAnchor},
    wire::{IssuerInfo, IssuerKeyInfo},
};
use plexus_privacy::{
    oblivious::{PublicKeyConfig, decode_key_list},
    token::IssuerPublicKey,
};
use plexus_types::{AccountId, BlockHeader, Hash};

use crate::issuance::{BuyError, KeyPolicy};

/// An issuer record and one of its keys, as the chain holds them at `header`.
#[derive(Debug, Clone)]
pub struct ProvenIssuerKey {
    /// The certified header both were proven under.
    pub header: BlockHeader,
    /// The issuer: its gateway URL and OHTTP keys, key ids, retirement.
    pub issuer: Issuer,
    /// The key: its RSA SPKI, denomination, key epoch, distinct buyers.
    pub key: IssuerKey,
}

/// Prove issuer `hotkey`'s record and its key `key_id` under the finalized tip of
/// `client`'s node, checked against `anchor`. [`BuyError::IssuerGone`] or
/// [`BuyError::IssuerKeyGone`] when the chain proves either absent;
/// [`BuyError::IssuerKeyNotOnChain`] when no proof holds.
pub async fn prove_issuer_key(
    client: &Client,
    anchor: &TrustAnchor,
    hotkey: &AccountId,
    key_id: &Hash,
) -> Result<ProvenIssuerKey, BuyError> {
    let refused = |reason: String| BuyError::IssuerKeyNotOnChain {
        issuer: *hotkey,
        reason,
    };
    let header = client
        .certified_tip(anchor)
        .await
        .map_err(|e| refused(e.to_string()))?;
    let issuer = client
        .verified_issuer(hotkey, &header)
        .await
        .map_err(|e| refused(e.to_string()))?
        .ok_or(BuyError::IssuerGone)?;
    let key = client
        .verified_issuer_key(key_id, &header)
        .await
        .map_err(|e| refused(e.to_string()))?
        .ok_or(BuyError::IssuerKeyGone)?;
    if key.issuer != *hotkey {
        return Err(refused(format!(
            "block {} proves key {key_id} is issuer {}'s",
            header.height, key.issuer
        )));
    }
    let proven = ProvenIssuerKey {
        header,
        issuer,
        key,
    };
    // The chain names a key by the hash of its SPKI: the proven SPKI must hash to it.
    let public = proven.public_key()?;
    if public.key_id() != key_id.0 {
        return Err(refused(format!(
            "the proven SPKI does not hash to key id {key_id}"
        )));
    }
    Ok(proven)
}

impl ProvenIssuerKey {
    /// The RSA key tokens are blinded with.
    pub fn public_key(&self) -> Result<IssuerPublicKey, BuyError> {
        IssuerPublicKey::from_spki(&self.key.spki)
            .map_err(|e| BuyError::BadIssuerKey(e.to_string()))
    }

    /// The issuer gateway's OHTTP key issuance requests are sealed to (its newest).
    pub fn ohttp_config(&self) -> Result<PublicKeyConfig, BuyError> {
        decode_key_list(&self.issuer.ohttp_keys)
            .map_err(|e| BuyError::BadIssuerKey(e.to_string()))?
            .into_iter()
            .last()
            .ok_or_else(|| BuyError::BadIssuerKey("no OHTTP key published".into()))
    }

    /// Blocks since the key was published, at the proven header.
    pub fn age_blocks(&self) -> u64 {
        self.header.height.saturating_sub(self.key.registered_at)
    }

    /// Whether what a node listed is what the chain holds: the gateway URL and OHTTP
    /// keys, the key's SPKI, denomination and key epoch; when `buying`, also that the
    /// issuer is not retired and lists the key among its open keys (the one a
    /// `BuyCredits` for its denomination and epoch pays into).
    pub fn check_listing(
        &self,
        listed: &IssuerInfo,
        key: &IssuerKeyInfo,
        buying: bool,
    ) -> Result<(), BuyError> {
        let at = self.header.height;
        let refused = |what: &str| {
            Err(BuyError::IssuerKeyNotOnChain {
                issuer: self.issuer.hotkey,
                reason: format!("block {at} proves another {what}"),
            })
        };
        if listed.hotkey != self.issuer.hotkey || key.key_id != self.key.key_id {
            return refused("issuer or key id");
        }
        if listed.ohttp_keys != self.issuer.ohttp_keys {
            return refused("OHTTP key list for its gateway");
        }
        if listed.url != self.issuer.url {
            return refused("gateway URL");
        }
        if key.spki != self.key.spki {
            return refused("RSA key");
        }
        if key.denomination != self.key.denomination || key.key_epoch != self.key.key_epoch {
            return refused("denomination or key epoch");
        }
        if buying {
            if self.issuer.retired || self.key.over_issued {
                return refused("standing: it was caught over-issuing");
            }
            if !self.issuer.key_ids.contains(&self.key.key_id) {
                return refused("key list: the key is not among its open keys");
            }
        }
        Ok(())
    }

    /// Whether the proven key meets `policy` (a node may dress a key made for one
    /// victim up as old and crowded: only the proven age and buyers count).
    pub fn check_policy(&self, policy: KeyPolicy) -> Result<(), BuyError> {
        let age_blocks = self.age_blocks();
        if age_blocks < policy.min_key_age_blocks {
            return Err(BuyError::KeyTooYoung {
                issuer: self.issuer.hotkey,
                age_blocks,
                min_age_blocks: policy.min_key_age_blocks,
            });
        }
        if self.key.buyers < policy.min_key_buyers {
            return Err(BuyError::KeyTooFewBuyers {
                issuer: self.issuer.hotkey,
                buyers: self.key.buyers,
                min_buyers: policy.min_key_buyers,
            });
        }
        Ok(())
    }
}
