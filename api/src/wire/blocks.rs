//! `/v1/blocks`: headers, blocks, pages of blocks and finality certificates.

use plexus_types::{
    AccountId, Amount, Block, BlockHeader, Hash, SignedTransaction, finality::FinalityCertificate,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{WireError, hex, hex_decode};

/// `GET /v1/blocks/{id}/finalization/raw`: the certificate in commonware's encoding,
/// the floor a node syncing its state to this block starts from (it checks the
/// signatures itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RawFinalization {
    /// The block's height.
    pub height: u64,
    /// Its header digest, hex.
    #[schema(value_type = String)]
    pub digest: Hash,
    /// commonware's `simplex::types::Finalization`, encoded, hex.
    pub raw: String,
}

/// `GET /v1/blocks/{id}/finalization`: a block's header digest and the certificate
/// that finalized it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FinalizationView {
    /// The block's height.
    pub height: u64,
    /// Its header digest, hex.
    #[schema(value_type = String)]
    pub digest: Hash,
    /// The certificate in parts (`plexus_types::finality::FinalityCertificate`):
    /// `epoch`, `view`, `parent_view`, `payload` (the header digest signed, hex),
    /// `signers` (indices into the validator set sorted by public key bytes,
    /// ascending) and `signatures` (one ed25519 signature per signer, hex, in the same
    /// order). `plexus_types::finality` gives the exact bytes signed.
    #[schema(value_type = Object)]
    pub certificate: FinalityCertificate,
}

/// A block header, field for field (convert to `BlockHeader` to compute its digest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Header {
    /// The chain this block belongs to.
    pub chain_id: u64,
    /// Height; genesis is 0.
    pub height: u64,
    /// Digest of the parent block.
    #[schema(value_type = String)]
    pub parent: Hash,
    /// Proposer's timestamp in milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// The validator that proposed the block.
    #[schema(value_type = String)]
    pub proposer: AccountId,
    /// Merkle root over the transaction ids.
    #[schema(value_type = String)]
    pub tx_root: Hash,
    /// Root of the state after this block: proofs at this height verify against it.
    #[schema(value_type = String)]
    pub state_root: Hash,
    /// Consensus context, hex.
    pub consensus: String,
}

impl From<&BlockHeader> for Header {
    fn from(h: &BlockHeader) -> Self {
        Self {
            chain_id: h.chain_id,
            height: h.height,
            parent: h.parent,
            timestamp_ms: h.timestamp_ms,
            proposer: h.proposer,
            tx_root: h.tx_root,
            state_root: h.state_root,
            consensus: hex(&h.consensus),
        }
    }
}

impl TryFrom<&Header> for BlockHeader {
    type Error = WireError;

    fn try_from(h: &Header) -> Result<Self, WireError> {
        Ok(Self {
            chain_id: h.chain_id,
            height: h.height,
            parent: h.parent,
            timestamp_ms: h.timestamp_ms,
            proposer: h.proposer,
            tx_root: h.tx_root,
            state_root: h.state_root,
            consensus: hex_decode(&h.consensus).ok_or(WireError::BadHex("consensus"))?,
        })
    }
}

/// A transaction inside a block, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxSummary {
    /// The transaction id.
    #[schema(value_type = String)]
    pub hash: Hash,
    /// The signer.
    #[schema(value_type = String)]
    pub sender: AccountId,
    /// Its nonce.
    pub nonce: u64,
    /// Fee burned.
    pub fee: Amount,
    /// Payload kind, e.g. `transfer`.
    pub kind: String,
}

impl From<&SignedTransaction> for TxSummary {
    fn from(tx: &SignedTransaction) -> Self {
        Self {
            hash: tx.hash(),
            sender: tx.tx.sender,
            nonce: tx.tx.nonce,
            fee: tx.tx.fee,
            kind: tx.tx.payload.kind().to_string(),
        }
    }
}

/// `GET /v1/blocks/{id}`: a finalized block with its transactions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockView {
    /// Its height.
    pub height: u64,
    /// Its digest.
    #[schema(value_type = String)]
    pub digest: Hash,
    /// Its header.
    pub header: Header,
    /// Its transactions in order, summarised.
    pub transactions: Vec<TxSummary>,
    /// Its transactions in order (the ledger's `SignedTransaction` serde form).
    #[schema(value_type = Vec<Object>)]
    pub bodies: Vec<SignedTransaction>,
}

impl From<&Block> for BlockView {
    fn from(b: &Block) -> Self {
        Self {
            height: b.header.height,
            digest: b.digest(),
            header: Header::from(&b.header),
            transactions: b.txs.iter().map(TxSummary::from).collect(),
            bodies: b.txs.clone(),
        }
    }
}

/// A finalized block, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockSummary {
    /// Its height.
    pub height: u64,
    /// Its digest.
    #[schema(value_type = String)]
    pub digest: Hash,
    /// Its header.
    pub header: Header,
    /// How many transactions it holds.
    pub tx_count: usize,
}

impl From<&Block> for BlockSummary {
    fn from(b: &Block) -> Self {
        Self {
            height: b.header.height,
            digest: b.digest(),
            header: Header::from(&b.header),
            tx_count: b.txs.len(),
        }
    }
}

/// `GET /v1/blocks?from=&limit=`: a page of blocks, lowest height first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockPage {
    /// The blocks.
    pub blocks: Vec<BlockSummary>,
    /// The `from` of the next page, if more blocks are committed.
    pub next: Option<u64>,
}
