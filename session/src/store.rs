//! A wallet's unspent credit tokens, sealed at rest with a key only its coldkey
//! derives, and safe to use from several processes at once.

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

#[derive(Debug, Default, Serialize, Deserialize)]
struct StoreFile {
    version: u32,
    credits: Vec<StoredCredit>,
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

    fn load(&self) -> Result<Vec<StoredCredit>, StoreError> {
        Ok(match open_sealed(&self.path, &self.key, STORE_AAD)? {
            Some(plain) => {
                serde_json::from_slice::<StoreFile>(&plain)
                    .map_err(|source| StoreError::Corrupt {
                        path: self.path.clone(),
                        source,
                    })?
                    .credits
            }
            None => Vec::new(),
        })
    }

    /// Apply `change` to the tokens as they are on disk now, under the lock, and write
    /// the result before releasing it.
    fn update<R>(&self, change: impl FnOnce(&mut Vec<StoredCredit>) -> R) -> Result<R, StoreError> {
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
        let mut credits = self.load()?;
        let out = change(&mut credits);
        let plain = serde_json::to_vec(&StoreFile {
            version: 1,
            credits,
        })
        .map_err(|source| StoreError::Corrupt {
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
