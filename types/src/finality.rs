//! Check a block's finality certificate (simplex over commonware's ed25519 scheme)
//! from its parts, so a light client can trust a header because a quorum of the
//! genesis validators signed it, not because a node said so.
//!
//! The signed message is commonware's: each validator signs
//! `varint(|ns|) ‖ ns ‖ proposal` with `ns = "plexus/consensus/v1/{chain id}_FINALIZE"`
//! and `proposal = varint(epoch) ‖ varint(view) ‖ varint(parent view) ‖ payload`, where
//! the payload is the header's digest. The node crate checks this against certificates
//! commonware itself makes.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{
    Hash,
    keys::{AccountId, Signature},
};

/// A finalization certificate for one block, in parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalityCertificate {
    /// The consensus epoch.
    pub epoch: u64,
    /// The view the block was proposed in.
    pub view: u64,
    /// The parent's view.
    pub parent_view: u64,
    /// What was finalized: the block header's digest.
    pub payload: Hash,
    /// Indices of the signers into the validator set sorted by public key, ascending.
    pub signers: Vec<u32>,
    /// One ed25519 signature per signer, in the same order.
    pub signatures: Vec<Signature>,
}

/// Why a certificate does not prove finality.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FinalityError {
    /// The certificate is for another block.
    #[error("the certificate finalizes {certified}, not this header ({header})")]
    OtherBlock {
        /// The payload signed.
        certified: Hash,
        /// The header's digest.
        header: Hash,
    },
    /// Signers and signatures do not pair up.
    #[error("{signers} signers but {signatures} signatures")]
    Mismatched {
        /// Signer indices.
        signers: usize,
        /// Signatures.
        signatures: usize,
    },
    /// A signer index is repeated, out of order, or past the validator set.
    #[error("signer {0} is repeated, out of order or not in the validator set")]
    BadSigner(u32),
    /// Fewer signers than a quorum.
    #[error("{got} of {validators} validators signed, fewer than the quorum of {quorum}")]
    NoQuorum {
        /// Signers.
        got: usize,
        /// Quorum needed.
        quorum: usize,
        /// Validator set size.
        validators: usize,
    },
    /// A signature does not verify.
    #[error("the signature of validator {0} does not verify")]
    BadSignature(AccountId),
}

/// The consensus namespace of a chain.
pub fn consensus_namespace(chain_id: u64) -> Vec<u8> {
    format!("plexus/consensus/v1/{chain_id}").into_bytes()
}

/// Signatures needed out of `validators`: n − f with f = ⌊(n − 1)/3⌋.
pub fn quorum(validators: usize) -> usize {
    validators - validators.saturating_sub(1) / 3
}

fn varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The bytes each signer of `cert` signed on chain `chain_id`.
pub fn finalize_message(chain_id: u64, cert: &FinalityCertificate) -> Vec<u8> {
    vote_message(
        chain_id,
        VoteKind::Finalize,
        cert.epoch,
        cert.view,
        cert.parent_view,
        &cert.payload,
    )
}

/// The bytes a validator signs when it votes `kind` for `payload` proposed at
/// (`epoch`, `view`) on a parent at `parent_view`, on chain `chain_id`.
pub fn vote_message(
    chain_id: u64,
    kind: VoteKind,
    epoch: u64,
    view: u64,
    parent_view: u64,
    payload: &Hash,
) -> Vec<u8> {
    let mut namespace = consensus_namespace(chain_id);
    namespace.extend_from_slice(match kind {
        VoteKind::Notarize => b"_NOTARIZE",
        VoteKind::Finalize => b"_FINALIZE",
    });
    let mut out = Vec::with_capacity(namespace.len() + 64);
    varint(namespace.len() as u64, &mut out);
    out.extend_from_slice(&namespace);
    varint(epoch, &mut out);
    varint(view, &mut out);
    varint(parent_view, &mut out);
    out.extend_from_slice(&payload.0);
    out
}

/// Which simplex vote a validator signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteKind {
    /// A vote to notarize a proposal.
    Notarize,
    /// A vote to finalize a proposal.
    Finalize,
}

/// One signed vote of a [`DoubleSign`]: what was voted for and the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedVote {
    /// The parent's view the proposal named.
    pub parent_view: u64,
    /// The proposal's payload (a block header's digest).
    pub payload: Hash,
    /// The validator's ed25519 signature over [`vote_message`].
    pub signature: Signature,
}

/// Evidence that a validator signed two different proposals of one kind in one
/// round: what commonware's simplex reports as a conflicting notarize or finalize,
/// in a form the ledger checks without consensus code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoubleSign {
    /// Which vote was signed twice.
    pub kind: VoteKind,
    /// The consensus epoch of the round.
    pub epoch: u64,
    /// The view of the round.
    pub view: u64,
    /// The signer's consensus key.
    pub signer: AccountId,
    /// One vote.
    pub first: SignedVote,
    /// A different vote in the same round.
    pub second: SignedVote,
}

/// Why a [`DoubleSign`] proves nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvidenceError {
    /// Both votes are for the same proposal.
    #[error("the two votes are for the same proposal")]
    SameProposal,
    /// A signature does not verify under the signer's key.
    #[error("vote signature {0} does not verify under the signer's key")]
    BadSignature(u8),
}

impl DoubleSign {
    /// Check that both votes are signed by [`signer`](Self::signer) on chain
    /// `chain_id`, in the same round, for different proposals.
    pub fn verify(&self, chain_id: u64) -> Result<(), EvidenceError> {
        if self.first.parent_view == self.second.parent_view
            && self.first.payload == self.second.payload
        {
            return Err(EvidenceError::SameProposal);
        }
        for (i, vote) in [(1, &self.first), (2, &self.second)] {
            let message = vote_message(
                chain_id,
                self.kind,
                self.epoch,
                self.view,
                vote.parent_view,
                &vote.payload,
            );
            self.signer
                .verify(&message, &vote.signature)
                .map_err(|_| EvidenceError::BadSignature(i))?;
        }
        Ok(())
    }
}

impl crate::Encode for DoubleSign {
    fn encode_to(&self, out: &mut Vec<u8>) {
        use crate::codec::WriteExt as _;
        out.put_u8(match self.kind {
            VoteKind::Notarize => 0,
            VoteKind::Finalize => 1,
        });
        out.put_u64(self.epoch);
        out.put_u64(self.view);
        self.signer.encode_to(out);
        for vote in [&self.first, &self.second] {
            out.put_u64(vote.parent_view);
            vote.payload.encode_to(out);
            vote.signature.encode_to(out);
        }
    }
}

impl crate::Decode for DoubleSign {
    fn decode_from(r: &mut crate::codec::Reader<'_>) -> Result<Self, crate::CodecError> {
        let kind = match r.u8("vote kind")? {
            0 => VoteKind::Notarize,
            1 => VoteKind::Finalize,
            tag => {
                return Err(crate::CodecError::UnknownTag {
                    field: "vote kind",
                    tag,
                });
            }
        };
        let epoch = r.u64("epoch")?;
        let view = r.u64("view")?;
        let signer = AccountId::decode_from(r)?;
        let mut vote = || -> Result<SignedVote, crate::CodecError> {
            Ok(SignedVote {
                parent_view: r.u64("parent view")?,
                payload: Hash::decode_from(r)?,
                signature: Signature::decode_from(r)?,
            })
        };
        let first = vote()?;
        let second = vote()?;
        Ok(Self {
            kind,
            epoch,
            view,
            signer,
            first,
            second,
        })
    }
}

/// Check that `cert` finalizes the header with digest `header` on chain `chain_id`,
/// signed by a quorum of `validators` (the genesis set, in any order).
pub fn verify_finality(
    chain_id: u64,
    validators: &[AccountId],
    header: &Hash,
    cert: &FinalityCertificate,
) -> Result<(), FinalityError> {
    if cert.payload != *header {
        return Err(FinalityError::OtherBlock {
            certified: cert.payload,
            header: *header,
        });
    }
    if cert.signers.len() != cert.signatures.len() {
        return Err(FinalityError::Mismatched {
            signers: cert.signers.len(),
            signatures: cert.signatures.len(),
        });
    }
    let mut set = validators.to_vec();
    set.sort_unstable();
    set.dedup();
    let mut previous = None;
    for &signer in &cert.signers {
        if signer as usize >= set.len() || previous.is_some_and(|p| signer <= p) {
            return Err(FinalityError::BadSigner(signer));
        }
        previous = Some(signer);
    }
    let needed = quorum(set.len());
    if cert.signers.len() < needed {
        return Err(FinalityError::NoQuorum {
            got: cert.signers.len(),
            quorum: needed,
            validators: set.len(),
        });
    }
    let message = finalize_message(chain_id, cert);
    for (&signer, signature) in cert.signers.iter().zip(&cert.signatures) {
        let key = set[signer as usize];
        key.verify(&message, signature)
            .map_err(|_| FinalityError::BadSignature(key))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_is_n_minus_f() {
        let table = [
            (1, 1),
            (2, 2),
            (3, 3),
            (4, 3),
            (5, 4),
            (7, 5),
            (10, 7),
            (100, 67),
        ];
        for (n, q) in table {
            assert_eq!(quorum(n), q, "n = {n}");
        }
    }

    #[test]
    fn varints_are_leb128() {
        let enc = |v| {
            let mut out = Vec::new();
            varint(v, &mut out);
            out
        };
        assert_eq!(enc(0), [0]);
        assert_eq!(enc(127), [127]);
        assert_eq!(enc(128), [0x80, 1]);
        assert_eq!(enc(300), [0xac, 0x02]);
        assert_eq!(enc(u64::MAX).len(), 10);
    }
}
