//! A wallet's unspent credit tokens and paid deposits awaiting issuance, sealed at
//! rest with a key only its coldkey derives, and safe to use from several processes
//! at once.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
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
    /// The taken-token journal beside the file could not be read or written.
    #[error("cannot use the journal {path}: {source}")]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
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
    /// The generation of the taken-token journal that applies to this file: a journal
    /// of another generation was folded into the file already.
    #[serde(default)]
    journal: u64,
}

impl StoreFile {
    /// Everything but the tokens.
    fn clone_empty(&self) -> Self {
        Self {
            version: self.version,
            credits: Vec::new(),
            pending: self.pending.clone(),
            journal: self.journal,
        }
    }
}

/// The label the file is sealed under. Version 2 has a taken-token journal beside
/// it; a binary that predates the journal cannot open it (and would otherwise hand
/// out tokens the journal says are taken).
const STORE_AAD: &[u8] = b"plexus/credits/store/v2";
/// The label of a file written before the journal; read once, rewritten as version 2.
const LEGACY_STORE_AAD: &[u8] = b"plexus/credits/store/v1";
/// The journal generation of a version-1 file: one no journal was written for.
const LEGACY_GENERATION: u64 = u64::MAX;

/// Bytes of the journal's header: its generation, little-endian.
const JOURNAL_HEADER: usize = 8;
/// Bytes of one journal record: a taken token's keyed hash.
const JOURNAL_RECORD: usize = 32;
/// Records after which the next take folds the journal into the file.
const COMPACT_AT: usize = 256;

/// A file's identity and version: a new file (every write renames one into place) or
/// a change of size or time is a new stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    inode: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Stamp {
        inode,
        len: meta.len(),
        modified: meta.modified().ok(),
    })
}

/// The taken-token journal as read: the keyed hashes of the tokens taken since the
/// file was last written, if its generation is the file's.
#[derive(Debug, Default)]
struct Journal {
    /// Whether the journal exists with the file's generation (appending to one that
    /// does not starts it afresh).
    current: bool,
    /// Whole records on disk (a torn last record is cut before the next append).
    records: usize,
    taken: BTreeSet<[u8; 32]>,
}

/// The sealed file as read, with each token's journal name.
#[derive(Debug)]
struct Cached {
    file: StoreFile,
    ids: Vec<[u8; 32]>,
}

/// A wallet's unspent tokens.
///
/// Several processes may use one wallet at once (`plexus proxy` running while
/// `plexus chat` or `plexus credits buy` runs): every change happens under an
/// exclusive lock on `credits.enc.lock` and is on disk before the lock is released,
/// so no process ever spends a token another took or drops tokens another added.
///
/// Taking tokens, which every private request does, appends the keyed hashes of the
/// tokens taken to a journal beside the file (`credits.enc.taken`, flushed before
/// the tokens leave) instead of rewriting the sealed file; every other change, and a
/// take that brings the journal to 256 records, rewrites the file atomically with the
/// journal folded in and starts a new journal generation. The hashes are keyed with the store's key,
/// so the journal tells a reader without the coldkey nothing about the tokens. The
/// decrypted file is kept in memory while its stamp on disk does not change.
#[derive(Debug)]
pub struct CreditStore {
    path: PathBuf,
    key: [u8; 32],
    journal_key: [u8; 32],
    cache: Mutex<Option<(Stamp, Arc<Cached>)>>,
}

impl CreditStore {
    /// The store file of the wallet kept in `wallet_dir`.
    pub fn path_in(wallet_dir: &Path) -> PathBuf {
        wallet_dir.join("credits.enc")
    }

    /// Open (or start) the store at `path` for `coldkey`; a file this coldkey cannot
    /// open is an error now rather than at the first request.
    pub fn open(path: &Path, coldkey: &Keypair) -> Result<Self, StoreError> {
        let key = local_key(coldkey, "credits");
        let store = Self {
            path: path.to_path_buf(),
            key,
            journal_key: blake3::derive_key("plexus credits taken-token journal v1", &key),
            cache: Mutex::new(None),
        };
        store.load()?;
        Ok(store)
    }

    fn journal_path(&self) -> PathBuf {
        self.path.with_extension("enc.taken")
    }

    /// The journal's name for a token.
    fn token_id(&self, credit: &StoredCredit) -> [u8; 32] {
        *blake3::keyed_hash(&self.journal_key, credit.token.as_bytes()).as_bytes()
    }

    /// The sealed file as on disk, from memory while its stamp has not changed.
    fn main_file(&self) -> Result<Arc<Cached>, StoreError> {
        // Stamped before reading: a change in between only makes the next read reload.
        let before = stamp(&self.path);
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let (Some(now), Some((at, cached))) = (before, cache.as_ref())
            && now == *at
        {
            return Ok(Arc::clone(cached));
        }
        let (plain, legacy) = match open_sealed(&self.path, &self.key, STORE_AAD) {
            Err(SealedError::Decrypt(_)) => {
                (open_sealed(&self.path, &self.key, LEGACY_STORE_AAD)?, true)
            }
            other => (other?, false),
        };
        let mut file = match plain {
            Some(plain) => serde_json::from_slice::<StoreFile>(&plain).map_err(|source| {
                StoreError::Corrupt {
                    path: self.path.clone(),
                    source,
                }
            })?,
            None => StoreFile::default(),
        };
        if legacy {
            // No journal applies to a file written without one.
            file.journal = LEGACY_GENERATION;
        }
        let cached = Arc::new(self.cached(file));
        *cache = before.map(|at| (at, Arc::clone(&cached)));
        Ok(cached)
    }

    fn cached(&self, file: StoreFile) -> Cached {
        let ids = file.credits.iter().map(|c| self.token_id(c)).collect();
        Cached { file, ids }
    }

    /// The journal of generation `generation`, empty if absent or of another one.
    fn journal(&self, generation: u64) -> Result<Journal, StoreError> {
        let path = self.journal_path();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Journal::default()),
            Err(source) => return Err(StoreError::Journal { path, source }),
        };
        let Some((header, records)) = bytes.split_first_chunk::<JOURNAL_HEADER>() else {
            return Ok(Journal::default());
        };
        if u64::from_le_bytes(*header) != generation {
            return Ok(Journal::default());
        }
        let records = records.chunks_exact(JOURNAL_RECORD);
        Ok(Journal {
            current: true,
            records: records.len(),
            taken: records
                .filter_map(|r| <[u8; 32]>::try_from(r).ok())
                .collect(),
        })
    }

    /// The store as it stands: the file with the journal's tokens taken out.
    fn load_file(&self) -> Result<(StoreFile, Journal), StoreError> {
        let cached = self.main_file()?;
        let journal = self.journal(cached.file.journal)?;
        let mut file = StoreFile {
            credits: Vec::with_capacity(cached.file.credits.len()),
            ..StoreFile::clone_empty(&cached.file)
        };
        file.credits.extend(
            cached
                .file
                .credits
                .iter()
                .zip(&cached.ids)
                .filter(|(_, id)| !journal.taken.contains(*id))
                .map(|(c, _)| c.clone()),
        );
        Ok((file, journal))
    }

    fn load(&self) -> Result<Vec<StoredCredit>, StoreError> {
        Ok(self.load_file()?.0.credits)
    }

    /// Run `f` under the store's exclusive lock.
    fn locked<R>(&self, f: impl FnOnce() -> Result<R, StoreError>) -> Result<R, StoreError> {
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
        // The lock is released when `lock` drops, after `f`.
        f()
    }

    /// Apply `change` to the tokens as they are on disk now, under the lock, and write
    /// the result before releasing it.
    fn update<R>(&self, change: impl FnOnce(&mut Vec<StoredCredit>) -> R) -> Result<R, StoreError> {
        self.update_file(|file| change(&mut file.credits))
    }

    /// [`Self::update`] of the whole file: tokens and pending deposits.
    fn update_file<R>(&self, change: impl FnOnce(&mut StoreFile) -> R) -> Result<R, StoreError> {
        self.locked(|| {
            let (mut file, _) = self.load_file()?;
            let out = change(&mut file);
            self.write_file(file)?;
            Ok(out)
        })
    }

    /// Write `file` (the journal folded in) as the next journal generation.
    fn write_file(&self, mut file: StoreFile) -> Result<(), StoreError> {
        file.version = 1;
        file.journal = file.journal.wrapping_add(1);
        let plain = serde_json::to_vec(&file).map_err(|source| StoreError::Corrupt {
            path: self.path.clone(),
            source,
        })?;
        write_sealed(&self.path, &self.key, STORE_AAD, &plain)?;
        // Only writers change the file, and they hold the lock: this is its content.
        *self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            stamp(&self.path).map(|at| (at, Arc::new(self.cached(file))));
        Ok(())
    }

    /// Record `taken` in the journal of generation `generation` and flush it.
    fn append_taken(
        &self,
        generation: u64,
        journal: &Journal,
        taken: &[[u8; 32]],
    ) -> Result<(), StoreError> {
        use std::io::Write as _;
        let path = self.journal_path();
        let error = |source| StoreError::Journal {
            path: path.clone(),
            source,
        };
        let existed = path.exists();
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut out = options.open(&path).map_err(error)?;
        let mut bytes = Vec::with_capacity(JOURNAL_HEADER + taken.len() * JOURNAL_RECORD);
        let at = if journal.current {
            (JOURNAL_HEADER + journal.records * JOURNAL_RECORD) as u64
        } else {
            bytes.extend_from_slice(&generation.to_le_bytes());
            0
        };
        // Cut whatever follows the last whole record (a torn append, an old generation).
        out.set_len(at).map_err(error)?;
        std::io::Seek::seek(&mut out, std::io::SeekFrom::Start(at)).map_err(error)?;
        for id in taken {
            bytes.extend_from_slice(id);
        }
        out.write_all(&bytes).map_err(error)?;
        out.sync_data().map_err(error)?;
        if !existed && let Some(dir) = path.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(error)?;
        }
        Ok(())
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
        Ok(self.main_file()?.file.pending.clone())
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
        let cached = self.main_file()?;
        let journal = self.journal(cached.file.journal)?;
        let mut out: BTreeMap<&str, u64> = BTreeMap::new();
        for (c, id) in cached.file.credits.iter().zip(&cached.ids) {
            if !journal.taken.contains(id) {
                *out.entry(&c.origin).or_insert(0) += u64::from(c.denomination);
            }
        }
        Ok(out.into_iter().map(|(o, n)| (o.to_owned(), n)).collect())
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
        self.locked(|| {
            let cached = self.main_file()?;
            let journal = self.journal(cached.file.journal)?;
            let mut have = 0u64;
            let mut picked = Vec::new();
            let mut ids = Vec::new();
            let held = cached.file.credits.iter().zip(&cached.ids);
            for (c, id) in held.filter(|(c, id)| c.origin == origin && !journal.taken.contains(*id))
            {
                if have >= credits {
                    break;
                }
                have += u64::from(c.denomination);
                picked.push(c.clone());
                ids.push(*id);
            }
            if have < credits {
                return Ok(None);
            }
            if picked.is_empty() {
                return Ok(Some(picked));
            }
            if journal.records + picked.len() >= COMPACT_AT {
                let (mut rest, _) = self.load_file()?;
                let ids: BTreeSet<[u8; 32]> = ids.into_iter().collect();
                rest.credits.retain(|c| !ids.contains(&self.token_id(c)));
                self.write_file(rest)?;
            } else {
                self.append_taken(cached.file.journal, &journal, &ids)?;
            }
            Ok(Some(picked))
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

    fn counts(store: &CreditStore) -> BTreeMap<String, u64> {
        store.per_origin().unwrap()
    }

    #[test]
    fn a_take_appends_to_the_journal_and_leaves_the_sealed_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credits.enc");
        let coldkey = Keypair::from_seed([7; 32]);
        let store = CreditStore::open(&path, &coldkey).unwrap();
        store
            .add((0..8).map(|n| StoredCredit {
                token: hex::encode(blake3::hash(&[n]).as_bytes()),
                ..credit("provider", n)
            }))
            .unwrap();
        let sealed = std::fs::read(&path).unwrap();
        let taken = store.take("provider", 3).unwrap().unwrap();
        assert_eq!(taken.len(), 3);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            sealed,
            "the file was rewritten"
        );
        let journal = std::fs::read(store.journal_path()).unwrap();
        assert_eq!(journal.len(), JOURNAL_HEADER + 3 * JOURNAL_RECORD);
        // The journal names no token: only keyed hashes are in it.
        for c in &taken {
            let raw = hex::decode(&c.token).unwrap();
            assert!(!journal.windows(raw.len()).any(|w| w == raw.as_slice()));
        }
        // Another process sees the take.
        let other = CreditStore::open(&path, &coldkey).unwrap();
        assert_eq!(counts(&other).get("provider"), Some(&5));
        let rest = other.take("provider", 5).unwrap().unwrap();
        assert!(rest.iter().all(|c| !taken.contains(c)));
    }

    #[test]
    fn a_torn_journal_record_is_ignored_and_cut_before_the_next_take() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credits.enc");
        let coldkey = Keypair::from_seed([7; 32]);
        let store = CreditStore::open(&path, &coldkey).unwrap();
        store.add((0..4).map(|n| credit("provider", n))).unwrap();
        let first = store.take("provider", 1).unwrap().unwrap();
        // A crash in the middle of the next append leaves part of a record.
        let mut journal = std::fs::read(store.journal_path()).unwrap();
        journal.extend_from_slice(&[0xAB; 17]);
        std::fs::write(store.journal_path(), &journal).unwrap();
        let reopened = CreditStore::open(&path, &coldkey).unwrap();
        assert_eq!(counts(&reopened).get("provider"), Some(&3));
        let second = reopened.take("provider", 1).unwrap().unwrap();
        assert_ne!(first, second);
        assert_eq!(
            std::fs::read(store.journal_path()).unwrap().len(),
            JOURNAL_HEADER + 2 * JOURNAL_RECORD
        );
        assert_eq!(counts(&reopened).get("provider"), Some(&2));
    }

    #[test]
    fn a_token_taken_then_given_back_is_spendable_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credits.enc");
        let coldkey = Keypair::from_seed([7; 32]);
        let store = CreditStore::open(&path, &coldkey).unwrap();
        store.add([credit("provider", 1)]).unwrap();
        let taken = store.take("provider", 1).unwrap().unwrap();
        assert!(store.take("provider", 1).unwrap().is_none());
        // The send failed: the token goes back, and the old journal no longer applies.
        store.add(taken.clone()).unwrap();
        let reopened = CreditStore::open(&path, &coldkey).unwrap();
        assert_eq!(reopened.take("provider", 1).unwrap().unwrap(), taken);
    }

    #[test]
    fn many_takes_fold_the_journal_into_the_file_and_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credits.enc");
        let coldkey = Keypair::from_seed([7; 32]);
        let store = CreditStore::open(&path, &coldkey).unwrap();
        let all: Vec<StoredCredit> = (0..=u8::MAX)
            .chain(0..=u8::MAX)
            .enumerate()
            .map(|(i, n)| {
                let mut c = credit(if i % 2 == 0 { "a" } else { "b" }, n);
                c.token = format!("{}{:04x}", c.token, i);
                c
            })
            .collect();
        store.add(all.clone()).unwrap();
        let mut taken = Vec::new();
        for i in 0..(all.len() - 2) {
            taken.extend(
                store
                    .take(if i % 2 == 0 { "a" } else { "b" }, 1)
                    .unwrap()
                    .unwrap(),
            );
        }
        let journal = std::fs::read(store.journal_path()).unwrap();
        assert!(journal.len() < JOURNAL_HEADER + COMPACT_AT * JOURNAL_RECORD);
        let reopened = CreditStore::open(&path, &coldkey).unwrap();
        let mut left = reopened.load().unwrap();
        left.extend(taken);
        left.sort_by(|x, y| x.token.cmp(&y.token));
        let mut expected = all;
        expected.sort_by(|x, y| x.token.cmp(&y.token));
        assert_eq!(left, expected);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// Two handles on one wallet, taking, giving back and adding in any order,
        /// never hand out a token twice nor lose one.
        #[test]
        fn takes_and_adds_from_two_processes_never_duplicate_or_lose_a_token(
            ops in proptest::collection::vec((0u8..4, proptest::bool::ANY, 1u64..4), 1..60)
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("credits.enc");
            let coldkey = Keypair::from_seed([7; 32]);
            let handles = [
                CreditStore::open(&path, &coldkey).unwrap(),
                CreditStore::open(&path, &coldkey).unwrap(),
            ];
            let mut next = 0u16;
            let mut out: Vec<StoredCredit> = Vec::new();
            let mut added = Vec::new();
            for (op, which, n) in ops {
                let store = &handles[usize::from(which)];
                match op {
                    0 | 1 => {
                        let fresh: Vec<StoredCredit> = (0..n).map(|_| {
                            next += 1;
                            StoredCredit { issuer: "i".into(), origin: "p".into(), denomination: 1, token: format!("{next:04x}") }
                        }).collect();
                        added.extend(fresh.clone());
                        store.add(fresh).unwrap();
                    }
                    2 => {
                        if let Some(taken) = store.take("p", n).unwrap() {
                            out.extend(taken);
                        }
                    }
                    _ => {
                        if let Some(back) = out.pop() {
                            store.add([back]).unwrap();
                        }
                    }
                }
                let held = handles[usize::from(!which)].load().unwrap();
                let mut seen: Vec<&str> = held.iter().chain(&out).map(|c| c.token.as_str()).collect();
                seen.sort_unstable();
                let mut want: Vec<&str> = added.iter().map(|c| c.token.as_str()).collect();
                want.sort_unstable();
                proptest::prop_assert_eq!(seen, want);
            }
        }
    }

    #[test]
    fn a_store_written_before_the_journal_opens_and_a_binary_from_before_cannot_open_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credits.enc");
        let coldkey = Keypair::from_seed([7; 32]);
        let key = local_key(&coldkey, "credits");
        // A version-1 file, as a binary from before the journal wrote it, beside a
        // journal that does not belong to it.
        let old = serde_json::json!({
            "version": 1,
            "credits": (0..3).map(|n| credit("provider", n)).collect::<Vec<_>>(),
        });
        write_sealed(
            &path,
            &key,
            LEGACY_STORE_AAD,
            &serde_json::to_vec(&old).unwrap(),
        )
        .unwrap();
        let journal_key = blake3::derive_key("plexus credits taken-token journal v1", &key);
        let mut stray = 0u64.to_le_bytes().to_vec();
        let first = credit("provider", 0).token;
        stray.extend_from_slice(blake3::keyed_hash(&journal_key, first.as_bytes()).as_bytes());
        std::fs::write(path.with_extension("enc.taken"), stray).unwrap();
        let store = CreditStore::open(&path, &coldkey).unwrap();
        assert_eq!(counts(&store).get("provider"), Some(&3));
        let taken = store.take("provider", 1).unwrap().unwrap();
        store.add([credit("provider", 9)]).unwrap();
        let reopened = CreditStore::open(&path, &coldkey).unwrap();
        assert_eq!(counts(&reopened).get("provider"), Some(&3));
        assert!(!reopened.load().unwrap().contains(&taken[0]));
        // The old label no longer opens it: an old binary stops instead of spending
        // tokens the journal holds as taken.
        assert!(matches!(
            open_sealed(&path, &key, LEGACY_STORE_AAD),
            Err(SealedError::Decrypt(_))
        ));
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
