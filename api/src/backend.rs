//! What the API needs from a node: the store, transaction admission, finalized blocks,
//! progress and metrics; and, optionally, a dataset store to serve data tasks' files.

use std::sync::Arc;

use futures::future::BoxFuture;
pub use plexus_ledger::FinalizedBlock;
use plexus_ledger::TxError;
use plexus_storage::Store;
use plexus_types::{Hash, SignedTransaction, data::SignedReport, finality::FinalityCertificate};
use thiserror::Error;
use tokio::sync::broadcast;

pub use crate::wire::NodeStatus;

/// A node as the API sees it. `plexus-node` implements it for its handle; tests
/// implement it over a real store and the real ledger.
///
/// Methods may block briefly (the store reads disk); the API calls them off the
/// async runtime's worker threads where it matters.
pub trait Backend: Send + Sync + 'static {
    /// The committed state and block archive.
    fn store(&self) -> Arc<Store>;
    /// Check `tx` against the latest committed state and queue it for a block.
    fn submit(&self, tx: SignedTransaction) -> Result<Hash, SubmitError>;
    /// Follow finalized blocks from now on. A subscriber that falls behind gets
    /// `RecvError::Lagged` and continues with later blocks.
    fn subscribe(&self) -> broadcast::Receiver<FinalizedBlock>;
    /// The node's progress.
    fn status(&self) -> NodeStatus;
    /// The node's metrics in the Prometheus (OpenMetrics) text format; the API
    /// appends its own.
    fn metrics(&self) -> String;
    /// Whether the node is synced and finalizing (`GET /readyz`), and if not, why.
    /// The default: ready unless halted.
    fn readiness(&self) -> Result<(), String> {
        match self.status().halted {
            Some(reason) => Err(format!("halted: {reason}")),
            None => Ok(()),
        }
    }
    /// The finality certificate of the committed block at `height`, when the node
    /// holds one (none for genesis; a block backfilled from a later certificate may
    /// have none). The default holds none.
    fn finalization(&self, height: u64) -> BoxFuture<'static, Option<FinalityCertificate>> {
        let _ = height;
        Box::pin(async { None })
    }
    /// The same certificate in commonware's encoding, for a node that syncs its
    /// state to `height` and starts consensus's block follower there. The default
    /// holds none.
    fn finalization_raw(&self, height: u64) -> BoxFuture<'static, Option<Vec<u8>>> {
        let _ = height;
        Box::pin(async { None })
    }
}

/// A dataset store as the API serves it: data tasks' published datasets and training
/// halves, and validators' signed score reports. The node binary implements it over
/// `plexus-datastore`, so this crate does not depend on the scorer.
pub trait DataFiles: Send + Sync + 'static {
    /// The file `wanted` names, in `format`, checked against what the chain commits to
    /// (a published dataset against its Merkle root and row count, a training half
    /// against the task's reference manifest).
    fn dataset(
        &self,
        wanted: DatasetWanted,
        format: DatasetFormat,
    ) -> BoxFuture<'static, Result<Vec<u8>, DataFilesError>>;
    /// The score reports stored for `task` whose signatures verify.
    fn reports(&self, task: u64) -> BoxFuture<'static, Result<Vec<SignedReport>, DataFilesError>>;
}

/// Which of a data task's files is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetWanted {
    /// The accepted dataset a validator published.
    Published {
        /// blake3 of the task's schema.
        schema_hash: Hash,
        /// The Merkle root on chain.
        merkle_root: Hash,
        /// Rows on chain.
        rows: u64,
    },
    /// The half of a public reference contributors fit on.
    TrainingHalf {
        /// blake3 of the task's schema.
        schema_hash: Hash,
        /// The task's reference commitment (a public reference's manifest).
        reference_commitment: Hash,
    },
}

/// A dataset's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DatasetFormat {
    /// CSV with a header row, as stored.
    #[default]
    Csv,
    /// Apache Parquet, typed by the task's schema.
    Parquet,
}

/// Why [`DataFiles`] could not serve a file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DataFilesError {
    /// The store does not hold it (or the task's reference is private).
    #[error("{0}")]
    NotFound(String),
    /// The store holds bytes that do not match what the chain commits to.
    #[error("{0}")]
    Corrupt(String),
    /// The store cannot be reached.
    #[error("{0}")]
    Unavailable(String),
}

/// Why a node refused a transaction. Each variant has a stable [`SubmitError::code`]
/// (the ledger's codes pass through) and an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SubmitError {
    /// The ledger rejects the transaction against the latest committed state
    /// (a mempool's "nonce below the account nonce" is `TxError::StaleNonce`).
    #[error(transparent)]
    Rejected(#[from] TxError),
    /// The same transaction is already waiting.
    #[error("transaction {0} is already in the mempool: wait for it to be finalized")]
    Duplicate(Hash),
    /// The mempool is full and the fee is too low to evict another transaction.
    #[error("the mempool is full ({0} transactions): retry later or pay a higher fee")]
    PoolFull(usize),
    /// The sender already has as many transactions waiting as the mempool allows.
    #[error("the sender already has {0} transactions waiting: wait for some to be finalized")]
    SenderFull(usize),
    /// The nonce is further ahead of the account nonce than the mempool holds.
    #[error(
        "nonce {nonce} is too far ahead of the account's next nonce {expected} (at most {max_gap} ahead): send the missing nonces first"
    )]
    NonceTooFarAhead {
        /// The transaction's nonce.
        nonce: u64,
        /// The sender's next account nonce.
        expected: u64,
        /// The largest accepted distance.
        max_gap: u64,
    },
    /// A transaction with the same sender and nonce is waiting and this one does not
    /// pay enough more to replace it.
    #[error(
        "a transaction with this nonce is already waiting: replacing it needs a fee of at least {min_fee}"
    )]
    ReplacementUnderpriced {
        /// The smallest fee that would replace the waiting transaction.
        min_fee: u64,
    },
    /// The transaction is larger than the mempool accepts.
    #[error("the transaction is {0} bytes, larger than the mempool accepts")]
    TooLarge(usize),
    /// The node cannot take transactions now (its state is unreadable, it halted, it
    /// is shutting down). The text is for operators: it is logged, not sent.
    #[error("the node cannot accept transactions: {0}")]
    Unavailable(String),
}

impl SubmitError {
    /// A stable machine-readable code (`snake_case`).
    pub fn code(&self) -> &'static str {
        match self {
            SubmitError::Rejected(e) => e.code(),
            SubmitError::Duplicate(_) => "duplicate_transaction",
            SubmitError::PoolFull(_) => "mempool_full",
            SubmitError::SenderFull(_) => "sender_queue_full",
            SubmitError::NonceTooFarAhead { .. } => "nonce_too_far_ahead",
            SubmitError::ReplacementUnderpriced { .. } => "replacement_underpriced",
            SubmitError::TooLarge(_) => "transaction_too_large",
            SubmitError::Unavailable(_) => "unavailable",
        }
    }

    /// The HTTP status the API answers with: 400 for a transaction that breaks a
    /// rule, 409 for one that conflicts with chain or mempool state, 413 for one
    /// too large, 429 for a sender over its quota, 503 when the node cannot take
    /// transactions now, 500 when the ledger cannot read its own state.
    pub fn status(&self) -> u16 {
        match self {
            SubmitError::Rejected(TxError::State(_)) => 500,
            SubmitError::Rejected(TxError::StaleNonce { .. })
            | SubmitError::Duplicate(_)
            | SubmitError::ReplacementUnderpriced { .. } => 409,
            SubmitError::Rejected(_) | SubmitError::NonceTooFarAhead { .. } => 400,
            SubmitError::TooLarge(_) => 413,
            SubmitError::SenderFull(_) => 429,
            SubmitError::PoolFull(_) | SubmitError::Unavailable(_) => 503,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_codes_pass_through_and_statuses_follow_the_kind_of_failure() {
        let stale = SubmitError::from(TxError::StaleNonce {
            nonce: 1,
            expected: 2,
        });
        assert_eq!((stale.code(), stale.status()), ("stale_nonce", 409));
        let chain = SubmitError::from(TxError::WrongChain {
            expected: 1,
            got: 2,
        });
        assert_eq!((chain.code(), chain.status()), ("wrong_chain", 400));
        assert_eq!(SubmitError::PoolFull(10).status(), 503);
        assert_eq!(SubmitError::SenderFull(10).status(), 429);
        assert_eq!(
            SubmitError::Duplicate(Hash::ZERO).code(),
            "duplicate_transaction"
        );
    }
}
