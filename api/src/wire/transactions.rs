//! `/v1/transactions`: submitting a transaction and looking one up.

use plexus_types::{Hash, SignedTransaction};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::hex;

/// `POST /v1/transactions`: a signed transaction in its canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// Hex of the canonical encoding of a `SignedTransaction` (at most 64 KiB decoded).
    pub tx: String,
}

impl SubmitRequest {
    /// The request for `tx`.
    pub fn new(tx: &SignedTransaction) -> Self {
        use plexus_types::Encode as _;
        Self {
            tx: hex(&tx.encode()),
        }
    }
}

/// A transaction the node accepted into its mempool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitResponse {
    /// The transaction id (blake3 of the signed encoding).
    #[schema(value_type = String)]
    pub hash: Hash,
}

/// Where a transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TxStatus {
    /// Accepted by this node's mempool recently and not yet in a finalized block
    /// (it may still be dropped, e.g. if a competing transaction takes its nonce).
    Pending,
    /// In a finalized block.
    Finalized,
}

/// `GET /v1/transactions/{hash}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransactionView {
    /// The transaction id.
    #[schema(value_type = String)]
    pub hash: Hash,
    /// Pending or finalized.
    pub status: TxStatus,
    /// Height of the block holding it, once finalized.
    pub height: Option<u64>,
    /// Its position in that block, once finalized.
    pub index: Option<u32>,
    /// The transaction (serde form), once finalized.
    #[schema(value_type = Option<Object>)]
    pub transaction: Option<SignedTransaction>,
    /// Hex of its canonical encoding (hash it with blake3 to check `hash`), once finalized.
    pub encoded: Option<String>,
}
