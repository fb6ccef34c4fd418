//! A crash-safe set of spent token nonces and the replay ids of the requests that
//! paid with them, with the queue of tokens waiting for settlement.
//!
//! Backed by `redb`. [`SpentStore::spend`] checks and inserts a request's replay id and
//! all its token nonces in one write transaction and commits it durably before
//! returning, so a token is reported fresh at most once, across threads and across
//! restarts. Nothing is written for a request that pays nothing.
//!
//! A spent token is first *held* while its request runs: [`SpentStore::commit`] queues
//! it for settlement once the answer is on its way, [`SpentStore::refund`] makes it
//! spendable again when the provider refused the request after all (the replay id
//! stays, so the same encapsulation cannot run again). A store reopened after a crash
//! queues every held token: the provider may have served it.
//!
//! Every id is filed under the issuer key that signed the token that paid for it, so
//! [`SpentStore::prune`] drops the ids of keys the chain no longer accepts (a token of
//! such a key cannot verify, so its nonce need not be remembered) and the store stays
//! bounded by the live key epochs. A store of the first layout (ids without keys) is
//! migrated at open: the nonces of unsettled tokens are kept under their key, the
//! rest dropped, which is safe only with the chain's settled nonces checked too
//! ([`crate::private::SettledNonces`], as the provider service does). Every method does blocking disk work: call it from
//! a blocking thread (`tokio::task::spawn_blocking`), never from an async task.

use std::{collections::BTreeSet, path::Path};

use plexus_privacy::token::Token;

use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    TableHandle,
};

/// Spent ids (token nonces and replay ids) → the issuer key id they are filed under.
const SPENT: TableDefinition<'_, &[u8; 32], &[u8; 32]> = TableDefinition::new("spent_ids");
/// (issuer key id ‖ spent id) → (), to prune by key.
const BY_KEY: TableDefinition<'_, &[u8; 64], ()> = TableDefinition::new("spent_by_key");
/// Tokens of requests still running: nonce → encoded token.
const HELD: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("held");
/// Spent tokens not yet settled on chain: nonce → encoded token.
const UNSETTLED: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("unsettled");
/// The first layout's spent ids (id → unix time), migrated at open.
const LEGACY_SPENT: TableDefinition<'_, &[u8; 32], u64> = TableDefinition::new("spent");
/// The key id a legacy entry is filed under when its token does not decode: no issuer
/// key has it, and it is never pruned.
pub const LEGACY_KEY: [u8; 32] = [0; 32];

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
    /// Committing failed; nothing was recorded.
    #[error("commit: {0}")]
    Commit(#[from] redb::CommitError),
    /// Setting the durability of a transaction failed.
    #[error("durability: {0}")]
    Durability(#[from] redb::SetDurabilityError),
    /// The blocking task running the store's work did not finish.
    #[error("the store's worker thread failed")]
    Worker,
}

/// One token a request pays with.
#[derive(Debug, Clone, Copy)]
pub struct Payment<'a> {
    /// The issuer key that signed it (its RFC 9578 `token_key_id`).
    pub key_id: [u8; 32],
    /// Its nonce.
    pub nonce: [u8; 32],
    /// The encoded token, queued for settlement.
    pub token: &'a [u8],
}

/// Why a request cannot be paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clash {
    /// Its encapsulation was already paid for (a replay).
    Replay,
    /// The token at this index is already spent (or repeated in the request).
    Token(usize),
}

/// A persistent set of spent ids.
#[derive(Debug)]
pub struct SpentStore {
    db: Database,
}

fn filed(key_id: &[u8; 32], id: &[u8; 32]) -> [u8; 64] {
    let mut k = [0u8; 64];
    k[..32].copy_from_slice(key_id);
    k[32..].copy_from_slice(id);
    k
}

impl SpentStore {
    /// Open or create the store at `path`; tokens held by requests that were running
    /// when the last process stopped are queued for settlement.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SpentError> {
        let db = Database::create(path)?;
        let tx = db.begin_write()?;
        {
            let mut spent = tx.open_table(SPENT)?;
            let mut by_key = tx.open_table(BY_KEY)?;
            let mut held = tx.open_table(HELD)?;
            let mut unsettled = tx.open_table(UNSETTLED)?;
            let legacy = tx.list_tables()?.any(|t| t.name() == LEGACY_SPENT.name());
            if legacy {
                // The first layout filed nothing by key. Keep the nonces of tokens not
                // settled yet, under their key; drop the rest (settled nonces the chain
                // refuses, replay ids of requests whose tokens are spent).
                let old = tx.open_table(LEGACY_SPENT)?;
                for entry in old.iter()? {
                    let (id, _) = entry?;
                    let id = *id.value();
                    let key = unsettled
                        .get(&id)?
                        .and_then(|t| Token::decode(t.value()).ok())
                        .map_or(LEGACY_KEY, |t| t.token_key_id);
                    if unsettled.get(&id)?.is_some() {
                        spent.insert(&id, &key)?;
                        by_key.insert(&filed(&key, &id), ())?;
                    }
                }
                drop(old);
                tx.delete_table(LEGACY_SPENT)?;
            }
            while let Some((nonce, token)) = held.pop_first()? {
                unsettled.insert(nonce.value(), token.value())?;
            }
        }
        tx.commit()?;
        Ok(Self { db })
    }

    /// Whether `replay` or any nonce of `nonces` is spent already, without writing:
    /// the cheap check before a request takes an engine slot. [`SpentStore::spend`]
    /// checks again, authoritatively.
    pub fn check(
        &self,
        replay: Option<&[u8; 32]>,
        nonces: &[[u8; 32]],
    ) -> Result<Option<Clash>, SpentError> {
        let tx = self.db.begin_read()?;
        let spent = tx.open_table(SPENT)?;
        if let Some(id) = replay
            && spent.get(id)?.is_some()
        {
            return Ok(Some(Clash::Replay));
        }
        for (i, nonce) in nonces.iter().enumerate() {
            if spent.get(nonce)?.is_some() || nonces[..i].contains(nonce) {
                return Ok(Some(Clash::Token(i)));
            }
        }
        Ok(None)
    }

    /// Spend a request: its encapsulation's `replay` id and every token of `paid`, all
    /// or none, in one durable transaction; the tokens are held until
    /// [`SpentStore::commit`] or [`SpentStore::refund`]. Returns the clash, changing
    /// nothing, if the replay id or a nonce is spent already (or repeated).
    pub fn spend(
        &self,
        replay: &[u8; 32],
        paid: &[Payment<'_>],
    ) -> Result<Option<Clash>, SpentError> {
        let Some(first) = paid.first() else {
            return Ok(None);
        };
        // redb allows one write transaction at a time: the checks and the inserts
        // below cannot interleave with another spend.
        let tx = self.db.begin_write()?;
        let clash = {
            let mut spent = tx.open_table(SPENT)?;
            let mut by_key = tx.open_table(BY_KEY)?;
            let mut held = tx.open_table(HELD)?;
            let mut clash = None;
            if spent.get(replay)?.is_some() {
                clash = Some(Clash::Replay);
            } else {
                // The replay id goes with the first token's key: once that key is
                // retired, the encapsulation cannot pay again anyway.
                spent.insert(replay, &first.key_id)?;
                by_key.insert(&filed(&first.key_id, replay), ())?;
                for (i, p) in paid.iter().enumerate() {
                    if spent.get(&p.nonce)?.is_some() {
                        clash = Some(Clash::Token(i));
                        break;
                    }
                    spent.insert(&p.nonce, &p.key_id)?;
                    by_key.insert(&filed(&p.key_id, &p.nonce), ())?;
                    held.insert(&p.nonce, p.token)?;
                }
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

    /// The held tokens of `nonces` were paid for good: queue them for settlement. Not
    /// forced to disk: were it lost in a crash, reopening queues held tokens anyway.
    pub fn commit(&self, nonces: &[[u8; 32]]) -> Result<(), SpentError> {
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::None)?;
        {
            let mut held = tx.open_table(HELD)?;
            let mut unsettled = tx.open_table(UNSETTLED)?;
            for nonce in nonces {
                if let Some(token) = held.remove(nonce)? {
                    unsettled.insert(nonce, token.value())?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The request of the held tokens `nonces` was refused after they were spent:
    /// make them spendable again (durably). Tokens already queued for settlement stay
    /// spent. The request's replay id stays spent.
    pub fn refund(&self, nonces: &[[u8; 32]]) -> Result<(), SpentError> {
        let tx = self.db.begin_write()?;
        {
            let mut spent = tx.open_table(SPENT)?;
            let mut by_key = tx.open_table(BY_KEY)?;
            let mut held = tx.open_table(HELD)?;
            for nonce in nonces {
                if held.remove(nonce)?.is_none() {
                    continue;
                }
                if let Some(key) = spent.remove(nonce)? {
                    by_key.remove(&filed(key.value(), nonce))?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Up to `limit` spent tokens waiting for settlement, in nonce order.
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
        Ok(table.len()?)
    }

    /// Number of tokens held by requests still running.
    pub fn held_len(&self) -> Result<u64, SpentError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(HELD)?;
        Ok(table.len()?)
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

    /// Forget the ids filed under issuer keys not in `live` (the keys the chain still
    /// accepts), except tokens still held or waiting for settlement. Returns how many
    /// ids were dropped.
    pub fn prune(&self, live: &BTreeSet<[u8; 32]>) -> Result<u64, SpentError> {
        let tx = self.db.begin_write()?;
        let dropped = {
            let mut spent = tx.open_table(SPENT)?;
            let mut by_key = tx.open_table(BY_KEY)?;
            let held = tx.open_table(HELD)?;
            let unsettled = tx.open_table(UNSETTLED)?;
            let mut doomed = Vec::new();
            for entry in by_key.iter()? {
                let (k, _) = entry?;
                let k = k.value();
                let (key, id) = k.split_at(32);
                if key == LEGACY_KEY || live.iter().any(|l| l.as_slice() == key) {
                    continue;
                }
                let mut nonce = [0u8; 32];
                nonce.copy_from_slice(id);
                if held.get(&nonce)?.is_some() || unsettled.get(&nonce)?.is_some() {
                    continue;
                }
                doomed.push((*k, nonce));
            }
            for (k, id) in &doomed {
                by_key.remove(k)?;
                spent.remove(id)?;
            }
            u64::try_from(doomed.len()).unwrap_or(u64::MAX)
        };
        tx.commit()?;
        Ok(dropped)
    }

    /// Whether `id` (a nonce or a replay id) is spent.
    pub fn is_spent(&self, id: &[u8; 32]) -> Result<bool, SpentError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(SPENT)?;
        Ok(table.get(id)?.is_some())
    }

    /// Number of spent ids.
    pub fn len(&self) -> Result<u64, SpentError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(SPENT)?;
        Ok(table.len()?)
    }

    /// Whether no id is spent.
    pub fn is_empty(&self) -> Result<bool, SpentError> {
        Ok(self.len()? == 0)
    }
}
