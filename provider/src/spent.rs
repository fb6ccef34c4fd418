//! A crash-safe set of spent 32-byte ids: token nonces and OHTTP replay ids.
//!
//! Backed by `redb`. [`SpentStore::spend`] checks and inserts in one write
//! transaction and commits it durably before returning `Ok(true)`, so an id is
//! reported fresh at most once, across threads and across restarts.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

const SPENT: TableDefinition<'_, &[u8; 32], u64> = TableDefinition::new("spent");
/// Spent tokens not yet settled on chain: nonce → encoded token.
const UNSETTLED: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("unsettled");

/// Errors from the spent store.
#[derive(Debug, thiserror::Error)]
pub enum SpentError {
    /// Opening or creating the database failed.
    #[error("open: {0}")]
    Open(#[from] redb::DatabaseError),
    /// Starting a transaction failed.
    #[error("transaction: {0}")]
    Transaction(#[from] redb::TransactionError),
    /// Opening the table failed.
    #[error("table: {0}")]
    Table(#[from] redb::TableError),
    /// Reading or writing failed.
    #[error("storage: {0}")]
    Storage(#[from] redb::StorageError),
    /// Committing failed; the id was not recorded.
    #[error("commit: {0}")]
    Commit(#[from] redb::CommitError),
}

/// A persistent set of spent ids.
#[derive(Debug)]
pub struct SpentStore {
    db: Database,
}

impl SpentStore {
    /// Open or create the store at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SpentError> {
        let db = Database::create(path)?;
        let tx = db.begin_write()?;
        tx.open_table(SPENT)?;
        tx.open_table(UNSETTLED)?;
        tx.commit()?;
        Ok(Self { db })
    }

    /// Mark `id` spent. Returns `true` if it was fresh (the caller may serve),
    /// `false` if it was already spent. The insert is durable when `true` returns.
    ///
    /// `stamp` is stored with the id (e.g. a unix time, for pruning by key epoch).
    pub fn spend(&self, id: &[u8; 32], stamp: u64) -> Result<bool, SpentError> {
        // redb allows one write transaction at a time: the check and the insert
        // below cannot interleave with another `spend`.
        let tx = self.db.begin_write()?;
        let fresh = {
            let mut table = tx.open_table(SPENT)?;
            if table.get(id)?.is_some() {
                false
            } else {
                table.insert(id, stamp)?;
                true
            }
        };
        if fresh {
            tx.commit()?;
        } else {
            tx.abort()?;
        }
        Ok(fresh)
    }

    /// Spend a request's tokens all or none: if every nonce is fresh, mark them all
    /// spent and queue the tokens for settlement in one durable transaction and return
    /// `None`; otherwise change nothing and return the index of the first nonce
    /// already spent (or repeated in `tokens`).
    pub fn spend_tokens(
        &self,
        tokens: &[([u8; 32], &[u8])],
        stamp: u64,
    ) -> Result<Option<usize>, SpentError> {
        let tx = self.db.begin_write()?;
        let clash = {
            let mut spent = tx.open_table(SPENT)?;
            let mut unsettled = tx.open_table(UNSETTLED)?;
            let mut clash = None;
            for (i, (nonce, token)) in tokens.iter().enumerate() {
                if spent.get(nonce)?.is_some() {
                    clash = Some(i);
                    break;
                }
                spent.insert(nonce, stamp)?;
                unsettled.insert(nonce, *token)?;
            }
            clash
        };
        if clash.is_none() {
            tx.commit()?;
        } else {
            tx.abort()?;
        }
        Ok(clash)
    }

    /// Up to `limit` spent tokens still waiting for settlement, in nonce order.
    pub fn unsettled(&self, limit: usize) -> Result<Vec<Vec<u8>>, SpentError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(UNSETTLED)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            if out.len() >= limit {
                break;
            }
            let (_, token) = entry?;
            out.push(token.value().to_vec());
        }
        Ok(out)
    }

    /// Number of spent tokens waiting for settlement.
    pub fn unsettled_len(&self) -> Result<u64, SpentError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(UNSETTLED)?;
        Ok(redb::ReadableTableMetadata::len(&table)?)
    }

    /// Drop settled tokens (by nonce) from the settlement queue; they stay spent.
    pub fn mark_settled(&self, nonces: &[[u8; 32]]) -> Result<(), SpentError> {
        let tx = self.db.begin_write()?;
        {
            let mut table = tx.open_table(UNSETTLED)?;
            for nonce in nonces {
                table.remove(nonce)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Whether `id` is spent.
    pub fn is_spent(&self, id: &[u8; 32]) -> Result<bool, SpentError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(SPENT)?;
        Ok(table.get(id)?.is_some())
    }

    /// Number of spent ids.
    pub fn len(&self) -> Result<u64, SpentError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(SPENT)?;
        Ok(redb::ReadableTableMetadata::len(&table)?)
    }

    /// Whether no id is spent.
    pub fn is_empty(&self) -> Result<bool, SpentError> {
        Ok(self.len()? == 0)
    }
}
