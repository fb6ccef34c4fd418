//! A wallet's unspent credit tokens and paid deposits awaiting issuance, sealed at
//! rest with a key only its coldkey derives, and safe to use from several processes
//! at once.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use plexus_privacy::token::{Token, TokenError};
use plexus_types::Keypair;
use serde::{Deserialize, Serialize};

use crate::sealed::{SealedError, local_key, open_sealed, write_sealed};

/// Why the token store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The sealed file could not be read, opened or written.
    #[error(transparent)]
    Sealed(#[from] SealedError),
    /// The file opened but is not a token store.
    #[error("{path} is corrupt: {source}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What did not parse.
        #[source]
        source: serde_json::Error,
    },
    /// A stored token does not decode.
    #[error("a stored token is malformed: {0}")]
    BadToken(String),
    /// The lock file beside the store could not be taken.
    #[error("cannot lock {path}: {source}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// One unspent token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCredit {
    /// Issuer hotkey address.
    pub issuer: String,
    /// The provider hotkey address the token is bound to.
    pub origin: String,
    /// Credits it is worth.
    pub denomination: u32,
    /// The encoded token, hex.
    pub token: String,
}

impl StoredCredit {
    /// The token itself.
    pub fn decode(&self) -> Result<Token, StoreError> {
        let bytes = hex::decode(&self.token).map_err(|e| StoreError::BadToken(e.to_string()))?;
        Token::decode(&bytes).map_err(|e: TokenError| StoreError::BadToken(e.to_string()))
    }
}

/// A deposit paid on chain whose tokens are not fetched yet: fetched no earlier than
/// `not_before`, drawn at random when it was paid, so the issuance request (and the
/// client address the relay sees with it) is not linked by its timing to the purchase
/// on chain, which names the wallet (RFC 9576 section 7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDeposit {
    /// The deposit id on chain.
    pub deposit: u64,
    /// The issuer hotkey address.
    pub issuer: String,
    /// Credits paid.
    pub credits: u32,
    /// Unix seconds before which the tokens are not fetched.
    pub not_before: u64,
    /// The relay the issuance goes through (chosen at purchase: not the one requests
    /// use, where another exists).
    pub relay: String,
    /// The blinded requests once made (kept so a retry after a crash resends exactly
    /// the same batches), with the answers of the batches served so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blinded: Option<BlindedState>,
}

/// A deposit's tokens blinded once: what a retry needs to ask for the same tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlindedState {
    /// The provider hotkey address each token is bound to.
    pub origins: Vec<String>,
    /// Each token's encoded request, hex.
    pub requests: Vec<String>,
    /// Each token's client state (it unblinds the answer), hex.
    pub pending: Vec<String>,
    /// Each token's blind signature once its batch was served, hex.
    pub answers: Vec<Option<String>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StoreFile {
    version: u32,
    credits: Vec<StoredCredit>,
    #[serde(default)]
    pending: Vec<PendingDeposit>,
}

const STORE_AAD: &[u8] = b"plexus/credits/store/v1";

/// A wallet's unspent tokens.
///
/// Several processes may use one wallet at once (`plexus proxy` running while
/// `plexus chat` or `plexus credits buy` runs): every change re-reads the file under
/// an exclusive lock on `credits.enc.lock`, applies itself and writes the file back
/// (atomically) before the lock is released, so no process ever spends a token
/// another took or drops tokens another added.
#[derive(Debug)]
pub struct CreditStore {
    path: PathBuf,
    key: [u8; 32],
}

impl CreditStore {
    /// The store file of the wallet kept in `wallet_dir`.
    pub fn path_in(wallet_dir: &Path) -> PathBuf {
        wallet_dir.join("credits.enc")
    }

    /// Open (or start) the store at `path` for `coldkey`; a file this coldkey cannot
    /// open is an error now rather than at the first request.
    pub fn open(path: &Path, coldkey: &Keypair) -> Result<Self, StoreError> {
        let store = Self {
            path: path.to_path_buf(),
            key: local_key(coldkey, "credits"),
        };
        store.load()?;
        Ok(store)
    }

    fn load_file(&self) -> Result<StoreFile, StoreError> {
        Ok(match open_sealed(&self.path, &self.key, STORE_AAD)? {
            Some(plain) => serde_json::from_slice::<StoreFile>(&plain).map_err(|source| {
                StoreError::Corrupt {
                    path: self.path.clone(),
                    source,
                }
            })?,
            None => StoreFile::default(),
        })
    }

    fn load(&self) -> Result<Vec<StoredCredit>, StoreError> {
        Ok(self.load_file()?.credits)
    }

    /// Apply `change` to the tokens as they are on disk now, under the lock, and write
    /// the result before releasing it.
    fn update<R>(&self, change: impl FnOnce(&mut Vec<StoredCredit>) -> R) -> Result<R, StoreError> {
        self.update_file(|file| change(&mut file.credits))
    }

    /// [`Self::update`] of the whole file: tokens and pending deposits.
    fn update_file<R>(&self, change: impl FnOnce(&mut StoreFile) -> R) -> Result<R, StoreError> {
        let lock_path = self.path.with_extension("enc.lock");
        let lock_error = |source| StoreError::Lock {
            path: lock_path.clone(),
            source,
        };
        if let Some(dir) = lock_path.parent() {
            std::fs::create_dir_all(dir).map_err(lock_error)?;
        }
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(lock_error)?;
        lock.lock().map_err(lock_error)?;
        let mut file = self.load_file()?;
        let out = change(&mut file);
        file.version = 1;
        let plain = serde_json::to_vec(&file).map_err(|source| StoreError::Corrupt {
            path: self.path.clone(),
            source,
        })?;
        write_sealed(&self.path, &self.key, STORE_AAD, &plain)?;
        Ok(out)
    }

    /// Add tokens.
    pub fn add(&self, credits: impl IntoIterator<Item = StoredCredit>) -> Result<(), StoreError> {
        self.update(|held| held.extend(credits))
    }

    /// Record a paid deposit whose tokens are to be fetched later.
    pub fn add_pending(&self, pending: PendingDeposit) -> Result<(), StoreError> {
        self.update_file(|file| {
            file.pending.retain(|p| p.deposit != pending.deposit);
            file.pending.push(pending);
        })
    }

    /// The paid deposits whose tokens are not fetched yet.
    pub fn pending(&self) -> Result<Vec<PendingDeposit>, StoreError> {
        Ok(self.load_file()?.pending)
    }

    /// Keep deposit `deposit`'s blinded state (a crash after this resends the same
    /// requests); no-op when it is no longer pending.
    pub fn save_blinded(&self, deposit: u64, blinded: BlindedState) -> Result<(), StoreError> {
        self.update_file(|file| {
            if let Some(p) = file.pending.iter_mut().find(|p| p.deposit == deposit) {
                p.blinded = Some(blinded);
            }
        })
    }

    /// Deposit `deposit` is issued: its tokens go in, its pending record out, in one
    /// write.
    pub fn complete(
        &self,
        deposit: u64,
        credits: impl IntoIterator<Item = StoredCredit>,
    ) -> Result<(), StoreError> {
        self.update_file(|file| {
            file.pending.retain(|p| p.deposit != deposit);
            file.credits.extend(credits);
        })
    }

    /// Forget pending deposit `deposit` (e.g. refunded on chain).
    pub fn drop_pending(&self, deposit: u64) -> Result<(), StoreError> {
        self.update_file(|file| file.pending.retain(|p| p.deposit != deposit))
    }

    /// Credits held per provider origin.
    pub fn per_origin(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut out = BTreeMap::new();
        for c in self.load()? {
            *out.entry(c.origin).or_insert(0) += u64::from(c.denomination);
        }
        Ok(out)
    }

    /// Credits held in total.
    pub fn total(&self) -> Result<u64, StoreError> {
        Ok(self.per_origin()?.values().sum())
    }

    /// Take tokens bound to `origin` worth at least `credits` out of the store, or
    /// none if there are too few.
    pub fn take(
        &self,
        origin: &str,
        credits: u64,
    ) -> Result<Option<Vec<StoredCredit>>, StoreError> {
        self.update(|held| {
            let mut have = 0u64;
            let mut picked = Vec::new();
            for (i, c) in held.iter().enumerate() {
                if have >= credits {
                    break;
                }
                if c.origin == origin {
                    have += u64::from(c.denomination);
                    picked.push(i);
                }
            }
            if have < credits {
                return None;
            }
            let mut out = Vec::with_capacity(picked.len());
            for i in picked.into_iter().rev() {
                out.push(held.remove(i));
            }
            Some(out)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn credit(origin: &str, n: u8) -> StoredCredit {
        StoredCredit {
            issuer: "issuer".into(),
            origin: origin.into(),
            denomination: 1,
            token: hex::encode([n; 4]),
        }
    }

    #[test]
    fn two_processes_on_one_wallet_never_take_the_same_token_or_lose_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credits.enc");
        let coldkey = Keypair::from_seed([7; 32]);
        // `plexus proxy` and `plexus chat` open the same store, in that order.
        let proxy = CreditStore::open(&path, &coldkey).unwrap();
        proxy.add((0..4).map(|n| credit("provider", n))).unwrap();
        let chat = CreditStore::open(&path, &coldkey).unwrap();
        let by_chat = chat.take("provider", 2).unwrap().unwrap();
        // The proxy sees what the chat took; `credits buy` adds beside both.
        let by_proxy = proxy.take("provider", 2).unwrap().unwrap();
        let buyer = CreditStore::open(&path, &coldkey).unwrap();
        buyer.add([credit("other", 9)]).unwrap();
        assert!(proxy.take("provider", 1).unwrap().is_none());
        let mut spent: Vec<String> = by_chat
            .iter()
            .chain(&by_proxy)
            .map(|c| c.token.clone())
            .collect();
        spent.sort();
        spent.dedup();
        assert_eq!(spent.len(), 4, "each token taken once");
        assert_eq!(chat.per_origin().unwrap().get("other"), Some(&1));
        assert_eq!(proxy.per_origin().unwrap().get("provider"), None);
        assert_eq!(proxy.total().unwrap(), 1);
    }

    #[test]
    fn a_store_sealed_for_another_coldkey_is_refused_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credits.enc");
        CreditStore::open(&path, &Keypair::from_seed([1; 32]))
            .unwrap()
            .add([credit("provider", 1)])
            .unwrap();
        assert!(matches!(
            CreditStore::open(&path, &Keypair::from_seed([2; 32])),
            Err(StoreError::Sealed(SealedError::Decrypt(_)))
        ));
    }

    #[test]
    fn a_stored_token_that_is_not_hex_is_a_token_error() {
        let mut bad = credit("provider", 1);
        bad.token = "zz".into();
        assert!(bad.decode().is_err());
    }
}
