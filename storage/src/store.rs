//! The store: one redb file holding the state tree, the latest state, the finalized
//! block archive and the commit metadata, all advanced together by one write
//! transaction per finalized block.

use std::{
    collections::VecDeque,
    ops::{Bound, RangeBounds},
    path::Path,
    sync::{Arc, Mutex, PoisonError, RwLock},
};

use jmt::{RootHash, storage::TreeUpdateBatch};

use plexus_ledger::store::{StateReader, StoreError, WriteSet};
use plexus_types::{Block, BlockHeader, Decode, Encode, Hash, SignedTransaction};
use redb::{
    Database, Durability, ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable,
    WriteTransaction,
};
use thiserror::Error;

use crate::{
    finalized::{self, HELD, HELD_DIGESTS, Held},
    proof::{StateProof, encode_proof, key_hash},
    tables::{
        self, BLOCK_TXS, HEADERS, HEIGHTS, KEYS, LATEST, META, NODES, ROOTS, STALE_NODES,
        STALE_VALUES, TX_INDEX, VALUES,
    },
    tree::TreeView,
};

/// Most blocks [`Store::blocks_range`] returns in one call.
pub const MAX_BLOCKS_PER_RANGE: usize = 256;

/// How many tree updates computed by [`Store::root_with`] are kept for reuse by a
/// commit of the same writes on the same committed height.
const PREPARED_SLOTS: usize = 4;

/// Why the store could not do what was asked.
#[derive(Debug, Error)]
pub enum StorageError {
    /// The database failed (I/O error, corruption, another process holds the file).
    #[error("database failed: {0}")]
    Database(#[from] redb::Error),
    /// The Merkle tree could not be read or updated.
    #[error("state tree failed: {0:#}")]
    Tree(anyhow::Error),
    /// Stored bytes did not decode; the file is damaged or from incompatible code.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The file was written with a different layout version.
    #[error("database schema version {found} is not the supported version {supported}")]
    Schema {
        /// The version found in the file.
        found: u64,
        /// The version this code reads and writes.
        supported: u64,
    },
    /// The block does not directly follow the committed height.
    #[error(
        "block at height {got} does not follow the committed chain, which expects height {expected}"
    )]
    Gap {
        /// The height the next commit must have.
        expected: u64,
        /// The height offered.
        got: u64,
    },
    /// A different block is already committed at this height.
    #[error("block {offered} conflicts with block {committed} committed at height {height}")]
    Conflict {
        /// The height.
        height: u64,
        /// Digest of the committed block.
        committed: Hash,
        /// Digest of the block offered.
        offered: Hash,
    },
    /// The block's parent is not the committed block below it.
    #[error("block at height {height} names parent {got}, but the committed block is {expected}")]
    ParentMismatch {
        /// The height of the block offered.
        height: u64,
        /// Digest of the committed block at `height - 1`.
        expected: Hash,
        /// The parent the block names.
        got: Hash,
    },
    /// Applying the writes gives a state root other than the one in the block header.
    #[error("block at height {height} claims state root {claimed}, but its writes give {computed}")]
    RootMismatch {
        /// The height of the block offered.
        height: u64,
        /// The root in the block header.
        claimed: Hash,
        /// The root the writes produce.
        computed: Hash,
    },
    /// A genesis commit was asked for a block that is not at height 0.
    #[error("a genesis block must have height 0, not {0}")]
    NotGenesis(u64),
    /// The height asked about was pruned away.
    #[error("height {height} is pruned: this node keeps heights from {oldest}")]
    Pruned {
        /// The height asked about.
        height: u64,
        /// The first height kept.
        oldest: u64,
    },
    /// The height asked about is above the committed height.
    #[error("height {height} is not committed (committed: {committed:?})")]
    NotCommitted {
        /// The height asked about.
        height: u64,
        /// The committed height, if any.
        committed: Option<u64>,
    },
}

/// Route every redb error type into [`StorageError::Database`].
macro_rules! from_redb {
    ($($ty:ty),*) => {$(
        impl From<$ty> for StorageError {
            fn from(error: $ty) -> Self {
                Self::Database(error.into())
            }
        }
    )*};
}
from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

impl From<StorageError> for StoreError {
    fn from(error: StorageError) -> Self {
        StoreError::Backend(error.to_string())
    }
}

/// The tip of the committed chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// The last committed height.
    pub height: u64,
    /// The state root after that block.
    pub root: Hash,
    /// That block's digest.
    pub digest: Hash,
}

/// A finalized transaction and where it sits in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedTx {
    /// Height of the block that holds it.
    pub height: u64,
    /// Its position in that block.
    pub index: u32,
    /// The transaction.
    pub tx: SignedTransaction,
}

/// Persistent state, its Merkle commitment and the finalized block archive, in one
/// redb file.
///
/// All methods take `&self`; share a store between threads with `Arc`. redb runs one
/// write transaction at a time, so concurrent commits are serialized, and readers see
/// whole commits only.
///
/// Retention: every tree version, value version and block is kept (no pruning), so
/// [`Store::get_at`] and [`Store::prove`] answer at any committed height.
///
/// Memory: the last few tree updates computed by [`Store::root_with`] are kept (each
/// about as large as the nodes its writes touch, ~15 MB for 10k writes) so that the
/// commit of the same writes skips recomputing them.
pub struct Store {
    pub(crate) db: Arc<Database>,
    pub(crate) tip: RwLock<Option<Committed>>,
    prepared: Mutex<VecDeque<Prepared>>,
    /// Heights of the finalized blocks held until their state commits.
    pub(crate) held: Mutex<Held>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("tip", &self.committed())
            .finish_non_exhaustive()
    }
}

/// A tree update [`Store::root_with`] computed, which a commit of the same writes on
/// the same committed height can write as is: the tree at that height is immutable,
/// so the update is exactly what the commit would compute.
struct Prepared {
    /// The committed height the update was computed on.
    base: Option<u64>,
    /// The writes it applies.
    writes: WriteSet,
    /// The resulting root.
    root: RootHash,
    /// The nodes and values to persist.
    batch: TreeUpdateBatch,
}

impl Store {
    /// Open the store at `path`, creating the file if it does not exist. After a crash,
    /// redb recovers the last durable commit on open.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StorageError> {
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        {
            // Create every table, so read transactions never find one missing.
            txn.open_table(NODES)?;
            txn.open_table(VALUES)?;
            txn.open_table(LATEST)?;
            txn.open_table(HEADERS)?;
            txn.open_table(BLOCK_TXS)?;
            txn.open_table(HEIGHTS)?;
            txn.open_table(TX_INDEX)?;
            txn.open_table(ROOTS)?;
            txn.open_table(STALE_NODES)?;
            txn.open_table(STALE_VALUES)?;
            txn.open_table(HELD)?;
            txn.open_table(HELD_DIGESTS)?;
            let mut keys = txn.open_table(KEYS)?;
            // A file from before the preimage table: record the live keys' preimages
            // (enough to serve state sync from now on).
            if keys.first()?.is_none() {
                for entry in txn.open_table(LATEST)?.iter()? {
                    let (key, _) = entry?;
                    keys.insert(&key_hash(key.value()).0, key.value())?;
                }
            }
            drop(keys);
            let mut meta = txn.open_table(META)?;
            let schema = meta.get(tables::META_SCHEMA)?.map(|v| v.value());
            match schema {
                None => {
                    meta.insert(tables::META_SCHEMA, tables::SCHEMA_VERSION)?;
                }
                Some(tables::SCHEMA_VERSION) => {}
                Some(found) => {
                    return Err(StorageError::Schema {
                        found,
                        supported: tables::SCHEMA_VERSION,
                    });
                }
            }
        }
        txn.commit()?;
        let read = db.begin_read()?;
        let tip = read_tip(&read)?;
        let held = Held::load(&read)?;
        drop(read);
        Ok(Self {
            db: Arc::new(db),
            tip: RwLock::new(tip),
            prepared: Mutex::new(VecDeque::new()),
            held: Mutex::new(held),
        })
    }

    /// The tip of the committed chain, or `None` before genesis.
    pub fn committed(&self) -> Option<Committed> {
        *self.tip.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The last committed height, or `None` before genesis.
    pub fn committed_height(&self) -> Option<u64> {
        self.committed().map(|tip| tip.height)
    }

    /// The state root at the last committed height, or `None` before genesis.
    pub fn latest_root(&self) -> Option<Hash> {
        self.committed().map(|tip| tip.root)
    }

    /// The state root after the block at `height`, if that height is committed.
    pub fn state_root(&self, height: u64) -> Result<Option<Hash>, StorageError> {
        let txn = self.db.begin_read()?;
        Ok(txn
            .open_table(ROOTS)?
            .get(height)?
            .map(|root| Hash(*root.value())))
    }

    /// The root the tree would have after applying `pending` on top of the committed
    /// state, writing nothing. `pending` is the cumulative write set of the unfinalized
    /// blocks above the committed height (later writes win). The result equals what
    /// [`Store::commit_block`] returns when those writes are committed, in one block or
    /// several, because the root depends on content only.
    ///
    /// Because writes are absolute values, not deltas, the answer stays right if the
    /// finalizer commits blocks of the same chain meanwhile: re-applying their writes
    /// under later ones changes nothing.
    pub fn root_with(&self, pending: &WriteSet) -> Result<Hash, StorageError> {
        let txn = self.db.begin_read()?;
        let base = read_committed(&txn.open_table(META)?)?;
        let next = match base {
            Some(height) => next_height(height)?,
            None => 0,
        };
        let view = TreeView {
            nodes: txn.open_table(NODES)?,
            values: txn.open_table(VALUES)?,
        };
        let (root, batch) = view.apply(pending, next).map_err(StorageError::Tree)?;
        let mut prepared = self.prepared.lock().unwrap_or_else(PoisonError::into_inner);
        if prepared.len() == PREPARED_SLOTS {
            prepared.pop_front();
        }
        prepared.push_back(Prepared {
            base,
            writes: pending.clone(),
            root,
            batch,
        });
        Ok(Hash(root.0))
    }

    /// The root of `writes` on an empty tree: the state root a genesis with these writes
    /// commits, whatever this store already holds. A node compares it with its stored
    /// genesis to catch a configuration that describes another chain.
    pub fn genesis_root(writes: &WriteSet) -> Result<Hash, StorageError> {
        let db = Database::builder().create_with_backend(redb::backends::InMemoryBackend::new())?;
        let txn = db.begin_write()?;
        let view = TreeView {
            nodes: txn.open_table(NODES)?,
            values: txn.open_table(VALUES)?,
        };
        let (root, _) = view.apply(writes, 0).map_err(StorageError::Tree)?;
        Ok(Hash(root.0))
    }

    /// Commit the genesis block and the genesis state: [`Store::commit_block`] for a
    /// block that must be at height 0.
    pub fn commit_genesis(&self, genesis: &Block, writes: &WriteSet) -> Result<Hash, StorageError> {
        if genesis.header.height != 0 {
            return Err(StorageError::NotGenesis(genesis.header.height));
        }
        self.commit_block(genesis, writes)
    }

    /// Commit a finalized block and its state writes in one durable transaction: the
    /// tree at version `block.header.height`, the latest state, the block archive, the
    /// transaction index, the root and the committed height. Durable on return.
    ///
    /// Idempotent by height: a height at or below the committed one returns the stored
    /// root when the block is the committed one, and [`StorageError::Conflict`]
    /// otherwise. Refuses a gap ([`StorageError::Gap`]), a block whose parent is not the
    /// committed tip ([`StorageError::ParentMismatch`]), and a block whose header root is
    /// not the root its writes produce ([`StorageError::RootMismatch`]); a refused
    /// commit writes nothing.
    pub fn commit_block(&self, block: &Block, writes: &WriteSet) -> Result<Hash, StorageError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        let staged = stage(&txn, block, writes, &self.prepared)?;
        if let Staged::New(tip) = staged {
            txn.commit()?;
            // Commits are serialized by redb, but this update runs after the writer
            // lock is released: never let a slower thread move the tip back.
            let mut current = self.tip.write().unwrap_or_else(PoisonError::into_inner);
            if current.is_none_or(|current| current.height < tip.height) {
                *current = Some(tip);
            }
            drop(current);
            self.released_through(tip.height);
        }
        Ok(staged.root())
    }

    /// A consistent read-only view of the latest committed state.
    pub fn snapshot(&self) -> Result<Snapshot, StorageError> {
        let txn = self.db.begin_read()?;
        let height = read_committed(&txn.open_table(META)?)?;
        Ok(Snapshot {
            latest: txn.open_table(LATEST)?,
            height,
        })
    }

    /// The latest committed value under `key`.
    pub fn get_latest(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let txn = self.db.begin_read()?;
        Ok(txn
            .open_table(LATEST)?
            .get(key)?
            .map(|v| v.value().to_vec()))
    }

    /// The value under `key` as of the committed `height`.
    pub fn get_at(&self, key: &[u8], height: u64) -> Result<Option<Vec<u8>>, StorageError> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        check_committed(height, read_committed(&meta)?)?;
        check_kept(height, &meta)?;
        tables::value_as_of(&txn.open_table(VALUES)?, key_hash(key), height)
    }

    /// An inclusion proof (the key has a value) or exclusion proof (it has none) for
    /// `key` at `height`, or at the committed height when `height` is `None`.
    pub fn prove(&self, key: &[u8], height: Option<u64>) -> Result<StateProof, StorageError> {
        let txn = self.db.begin_read()?;
        let committed = read_committed(&txn.open_table(META)?)?;
        let height = match (height, committed) {
            (Some(height), _) => height,
            (None, Some(committed)) => committed,
            (None, None) => {
                return Err(StorageError::NotCommitted {
                    height: 0,
                    committed,
                });
            }
        };
        check_committed(height, committed)?;
        check_kept(height, &txn.open_table(META)?)?;
        let root = read_root(&txn.open_table(ROOTS)?, height)?;
        let view = TreeView {
            nodes: txn.open_table(NODES)?,
            values: txn.open_table(VALUES)?,
        };
        let (value, proof) = jmt::Sha256Jmt::new(&view)
            .get_with_proof(key_hash(key), height)
            .map_err(StorageError::Tree)?;
        Ok(StateProof {
            height,
            root,
            key: key.to_vec(),
            value,
            proof: encode_proof(&proof).map_err(|e| StorageError::Corrupt(e.to_string()))?,
        })
    }

    /// The finalized block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Block>, StorageError> {
        let txn = self.db.begin_read()?;
        read_block(&txn, height)
    }

    /// The finalized block with this digest.
    pub fn block_by_digest(&self, digest: &Hash) -> Result<Option<Block>, StorageError> {
        let txn = self.db.begin_read()?;
        let Some(height) = txn.open_table(HEIGHTS)?.get(&digest.0)?.map(|h| h.value()) else {
            return Ok(None);
        };
        read_block(&txn, height)
    }

    /// The height of the finalized block with this digest.
    pub fn height_of(&self, digest: &Hash) -> Result<Option<u64>, StorageError> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(HEIGHTS)?.get(&digest.0)?.map(|h| h.value()))
    }

    /// The header of the finalized block at `height`.
    pub fn header(&self, height: u64) -> Result<Option<BlockHeader>, StorageError> {
        let txn = self.db.begin_read()?;
        read_header(&txn.open_table(HEADERS)?, height)
    }

    /// The finalized blocks whose heights fall in `range`, lowest first, at most
    /// [`MAX_BLOCKS_PER_RANGE`] of them (the lowest ones); page by asking again from
    /// the height after the last one returned.
    pub fn blocks_range(&self, range: impl RangeBounds<u64>) -> Result<Vec<Block>, StorageError> {
        let start = match range.start_bound() {
            Bound::Included(&start) => start,
            Bound::Excluded(&start) => match start.checked_add(1) {
                Some(start) => start,
                None => return Ok(Vec::new()),
            },
            Bound::Unbounded => 0,
        };
        let txn = self.db.begin_read()?;
        let headers = txn.open_table(HEADERS)?;
        let block_txs = txn.open_table(BLOCK_TXS)?;
        let mut blocks = Vec::new();
        for entry in headers.range(start..)? {
            let (height, header) = entry?;
            let height = height.value();
            if !range.contains(&height) || blocks.len() == MAX_BLOCKS_PER_RANGE {
                break;
            }
            blocks.push(Block {
                header: decode_header(header.value(), height)?,
                txs: read_txs(&block_txs, height)?,
            });
        }
        Ok(blocks)
    }

    /// A finalized transaction by its hash, with its height and position.
    pub fn tx(&self, hash: &Hash) -> Result<Option<IndexedTx>, StorageError> {
        let txn = self.db.begin_read()?;
        let Some((height, index)) = txn.open_table(TX_INDEX)?.get(&hash.0)?.map(|v| v.value())
        else {
            return Ok(None);
        };
        let bytes = txn
            .open_table(BLOCK_TXS)?
            .get((height, index))?
            .ok_or_else(|| {
                StorageError::Corrupt(format!("tx {hash} indexed at {height}/{index} is missing"))
            })?;
        let tx = SignedTransaction::decode_bounded(bytes.value())
            .map_err(|e| StorageError::Corrupt(format!("transaction {hash}: {e}")))?;
        Ok(Some(IndexedTx { height, index, tx }))
    }
}

impl StateReader for Store {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.get_latest(key)?)
    }
}

/// A consistent read-only view of the latest state as of one committed height; later
/// commits do not show through. Cheaper per read than [`Store`]'s own `get`, which
/// opens a transaction per read.
pub struct Snapshot {
    latest: ReadOnlyTable<&'static [u8], &'static [u8]>,
    height: Option<u64>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

impl Snapshot {
    /// The committed height this view shows, or `None` before genesis.
    pub fn height(&self) -> Option<u64> {
        self.height
    }

    /// The value under `key` in this view.
    pub fn get_value(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.latest.get(key)?.map(|v| v.value().to_vec()))
    }
}

impl StateReader for Snapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.get_value(key)?)
    }
}

/// The committed state as of one height, read through one read transaction: what
/// the ledger's queries see at that height (a metagraph after a past epoch, say).
pub struct StateAt {
    values: ReadOnlyTable<&'static [u8], &'static [u8]>,
    height: u64,
}

impl std::fmt::Debug for StateAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateAt")
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

impl StateAt {
    /// The height it reads.
    pub fn height(&self) -> u64 {
        self.height
    }
}

impl Store {
    /// The state as of the committed, unpruned `height`.
    pub fn at(&self, height: u64) -> Result<StateAt, StorageError> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        check_committed(height, read_committed(&meta)?)?;
        check_kept(height, &meta)?;
        Ok(StateAt {
            values: txn.open_table(VALUES)?,
            height,
        })
    }
}

impl StateReader for StateAt {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(tables::value_as_of(
            &self.values,
            key_hash(key),
            self.height,
        )?)
    }
}

/// What [`stage`] did inside the write transaction.
enum Staged {
    /// The block is already committed with this root; nothing was written.
    Existing(Hash),
    /// The block was written; committing the transaction makes this the tip.
    New(Committed),
}

impl Staged {
    fn root(&self) -> Hash {
        match self {
            Staged::Existing(root) => *root,
            Staged::New(tip) => tip.root,
        }
    }
}

/// Check `block` against the committed chain and write it and its state into `txn`,
/// without committing. Dropping `txn` afterwards discards everything.
fn stage(
    txn: &WriteTransaction,
    block: &Block,
    writes: &WriteSet,
    prepared: &Mutex<VecDeque<Prepared>>,
) -> Result<Staged, StorageError> {
    let height = block.header.height;
    let digest = block.digest();
    let mut meta = txn.open_table(META)?;
    let committed = read_committed(&meta)?;
    let headers = txn.open_table(HEADERS)?;

    if let Some(committed) = committed.filter(|&c| height <= c) {
        let stored = read_header(&headers, height)?.ok_or_else(|| {
            StorageError::Corrupt(format!(
                "no block at committed height {height} (tip {committed})"
            ))
        })?;
        if stored.digest() != digest {
            return Err(StorageError::Conflict {
                height,
                committed: stored.digest(),
                offered: digest,
            });
        }
        let root = read_root(&txn.open_table(ROOTS)?, height)?;
        return Ok(Staged::Existing(root));
    }

    let expected = match committed {
        Some(committed) => next_height(committed)?,
        None => 0,
    };
    if height != expected {
        return Err(StorageError::Gap {
            expected,
            got: height,
        });
    }
    if let Some(below) = height.checked_sub(1) {
        let parent = read_header(&headers, below)?
            .ok_or_else(|| StorageError::Corrupt(format!("no block at committed height {below}")))?
            .digest();
        if parent != block.header.parent {
            return Err(StorageError::ParentMismatch {
                height,
                expected: parent,
                got: block.header.parent,
            });
        }
    }

    // The tree: take the update root_with computed for these writes on this committed
    // height, or compute it; check it against the header; persist it.
    let view = TreeView {
        nodes: txn.open_table(NODES)?,
        values: txn.open_table(VALUES)?,
    };
    let (root, batch) = match take_prepared(prepared, committed, writes) {
        Some(update) => update,
        None => view.apply(writes, height).map_err(StorageError::Tree)?,
    };
    let root = Hash(root.0);
    if root != block.header.state_root {
        return Err(StorageError::RootMismatch {
            height,
            claimed: block.header.state_root,
            computed: root,
        });
    }
    let TreeView {
        mut nodes,
        mut values,
    } = view;
    for (key, node) in batch.node_batch.nodes() {
        let key = tables::node_key(key).map_err(|e| StorageError::Tree(e.into()))?;
        let node = borsh::to_vec(node).map_err(|e| StorageError::Tree(e.into()))?;
        nodes.insert(key.as_slice(), node.as_slice())?;
    }
    // What this version replaced, so pruning can delete exactly that later.
    let mut stale_nodes = txn.open_table(STALE_NODES)?;
    for stale in &batch.stale_node_index_batch {
        let key = tables::node_key(&stale.node_key).map_err(|e| StorageError::Tree(e.into()))?;
        stale_nodes.insert(
            tables::stale_key(stale.stale_since_version, &key).as_slice(),
            [].as_slice(),
        )?;
    }
    let mut stale_values = txn.open_table(STALE_VALUES)?;
    for ((version, key_hash), value) in batch.node_batch.values() {
        let key = tables::value_key(*key_hash, *version);
        let first = tables::value_key(*key_hash, 0);
        let previous = values
            .range(first.as_slice()..key.as_slice())?
            .next_back()
            .transpose()?
            .map(|(k, _)| k.value().to_vec());
        if let Some(previous) = previous {
            stale_values.insert(
                tables::stale_key(*version, &previous).as_slice(),
                [].as_slice(),
            )?;
        }
        values.insert(
            key.as_slice(),
            tables::encode_value(value.as_deref()).as_slice(),
        )?;
    }

    // The latest state, and the preimage of every key hash the tree holds.
    let mut latest = txn.open_table(LATEST)?;
    let mut keys = txn.open_table(KEYS)?;
    for (key, value) in writes {
        match value {
            Some(value) => {
                latest.insert(key.as_slice(), value.as_slice())?;
                keys.insert(&key_hash(key).0, key.as_slice())?;
            }
            None => {
                latest.remove(key.as_slice())?;
            }
        };
    }

    // The block archive, which takes over the block from the held ones.
    drop(headers);
    archive_block(txn, block)?;
    finalized::release(txn, height, &digest)?;

    // The commit metadata.
    txn.open_table(ROOTS)?.insert(height, &root.0)?;
    meta.insert(tables::META_COMMITTED, height)?;
    Ok(Staged::New(Committed {
        height,
        root,
        digest,
    }))
}

/// Archive `block`: its header, digest index, transactions and transaction index.
pub(crate) fn archive_block(txn: &WriteTransaction, block: &Block) -> Result<(), StorageError> {
    let height = block.header.height;
    txn.open_table(HEADERS)?
        .insert(height, block.header.encode().as_slice())?;
    txn.open_table(HEIGHTS)?.insert(&block.digest().0, height)?;
    let mut block_txs = txn.open_table(BLOCK_TXS)?;
    let mut tx_index = txn.open_table(TX_INDEX)?;
    for (index, tx) in block.txs.iter().enumerate() {
        let index = u32::try_from(index)
            .map_err(|_| StorageError::Corrupt("more than u32::MAX transactions".into()))?;
        block_txs.insert((height, index), tx.encode().as_slice())?;
        tx_index.insert(&tx.hash().0, (height, index))?;
    }
    Ok(())
}

/// Remove and return the prepared update for `writes` on the committed height `base`.
fn take_prepared(
    prepared: &Mutex<VecDeque<Prepared>>,
    base: Option<u64>,
    writes: &WriteSet,
) -> Option<(RootHash, TreeUpdateBatch)> {
    let mut prepared = prepared.lock().unwrap_or_else(PoisonError::into_inner);
    // Updates computed on an older committed height can never be used again.
    prepared.retain(|p| p.base >= base);
    let index = prepared
        .iter()
        .position(|p| p.base == base && p.writes == *writes)?;
    prepared.remove(index).map(|p| (p.root, p.batch))
}

/// The committed height recorded in `meta`.
fn read_committed(
    meta: &impl ReadableTable<&'static str, u64>,
) -> Result<Option<u64>, StorageError> {
    Ok(meta.get(tables::META_COMMITTED)?.map(|v| v.value()))
}

/// The height after `height`.
fn next_height(height: u64) -> Result<u64, StorageError> {
    height
        .checked_add(1)
        .ok_or_else(|| StorageError::Corrupt("committed height is u64::MAX".into()))
}

/// Fail unless `height` is at or below the `committed` height.
fn check_committed(height: u64, committed: Option<u64>) -> Result<(), StorageError> {
    match committed {
        Some(committed) if height <= committed => Ok(()),
        _ => Err(StorageError::NotCommitted { height, committed }),
    }
}

/// Fail when `height` was pruned away.
pub(crate) fn check_kept(
    height: u64,
    meta: &impl ReadableTable<&'static str, u64>,
) -> Result<(), StorageError> {
    let oldest = meta.get(tables::META_OLDEST)?.map_or(0, |v| v.value());
    match height < oldest {
        true => Err(StorageError::Pruned { height, oldest }),
        false => Ok(()),
    }
}

/// The committed tip as recorded in the file.
fn read_tip(txn: &ReadTransaction) -> Result<Option<Committed>, StorageError> {
    let Some(height) = read_committed(&txn.open_table(META)?)? else {
        return Ok(None);
    };
    let root = read_root(&txn.open_table(ROOTS)?, height)?;
    let digest = read_header(&txn.open_table(HEADERS)?, height)?
        .ok_or_else(|| StorageError::Corrupt(format!("no block at committed height {height}")))?
        .digest();
    Ok(Some(Committed {
        height,
        root,
        digest,
    }))
}

fn decode_header(bytes: &[u8], height: u64) -> Result<BlockHeader, StorageError> {
    BlockHeader::decode(bytes)
        .map_err(|e| StorageError::Corrupt(format!("header at {height}: {e}")))
}

/// The state root recorded for the committed `height`.
fn read_root(
    roots: &impl ReadableTable<u64, &'static [u8; 32]>,
    height: u64,
) -> Result<Hash, StorageError> {
    roots
        .get(height)?
        .map(|root| Hash(*root.value()))
        .ok_or_else(|| StorageError::Corrupt(format!("no state root at height {height}")))
}

fn read_header(
    headers: &impl ReadableTable<u64, &'static [u8]>,
    height: u64,
) -> Result<Option<BlockHeader>, StorageError> {
    headers
        .get(height)?
        .map(|bytes| decode_header(bytes.value(), height))
        .transpose()
}

/// The transactions of the block at `height`, in order.
fn read_txs(
    block_txs: &impl ReadableTable<(u64, u32), &'static [u8]>,
    height: u64,
) -> Result<Vec<SignedTransaction>, StorageError> {
    let mut txs = Vec::new();
    for entry in block_txs.range((height, 0)..=(height, u32::MAX))? {
        let (_, bytes) = entry?;
        txs.push(
            SignedTransaction::decode_bounded(bytes.value())
                .map_err(|e| StorageError::Corrupt(format!("transaction at {height}: {e}")))?,
        );
    }
    Ok(txs)
}

pub(crate) fn read_block(
    txn: &ReadTransaction,
    height: u64,
) -> Result<Option<Block>, StorageError> {
    let Some(header) = read_header(&txn.open_table(HEADERS)?, height)? else {
        return Ok(None);
    };
    let txs = read_txs(&txn.open_table(BLOCK_TXS)?, height)?;
    Ok(Some(Block { header, txs }))
}

#[cfg(test)]
pub(crate) mod tests {
    use plexus_types::{AccountId, BlockHeader};

    use super::*;

    /// An empty block at `height` on `parent` claiming `root` (the storage tests').
    pub(crate) fn block(height: u64, parent: Hash, root: Hash) -> Block {
        Block {
            header: BlockHeader {
                chain_id: 1,
                height,
                parent,
                timestamp_ms: 1_000 + height,
                proposer: AccountId([9; 32]),
                tx_root: plexus_types::block::tx_root(&[]),
                state_root: root,
                consensus: Vec::new(),
            },
            txs: Vec::new(),
        }
    }

    fn writes(entries: &[(&str, Option<&str>)]) -> WriteSet {
        entries
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
            .collect()
    }

    /// Every entry of a byte table, in order.
    fn dump(
        store: &Store,
        table: redb::TableDefinition<'static, &[u8], &[u8]>,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        let txn = store.db.begin_read().expect("read");
        let table = txn.open_table(table).expect("table");
        table
            .iter()
            .expect("iter")
            .map(|e| {
                let (k, v) = e.expect("entry");
                (k.value().to_vec(), v.value().to_vec())
            })
            .collect()
    }

    #[test]
    fn a_commit_reusing_the_update_root_with_prepared_writes_what_a_fresh_computation_writes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let warm = Store::open(dir.path().join("warm.redb")).expect("open");
        let cold = Store::open(dir.path().join("cold.redb")).expect("open");
        let chain = [
            writes(&[("a", Some("1")), ("b", Some("2")), ("c", Some("3"))]),
            writes(&[("b", None), ("d", Some("4")), ("zz", None)]),
            writes(&[]),
            writes(&[("a", Some("5")), ("e", Some("6"))]),
            writes(&[("a", None), ("c", None), ("d", None), ("e", None)]),
        ];
        let mut parent = Hash::ZERO;
        for (height, w) in chain.iter().enumerate() {
            // Another pending set beside the one committed, as a fork would leave.
            warm.root_with(&writes(&[("fork", Some("x"))]))
                .expect("root_with");
            let root = warm.root_with(w).expect("root_with");
            let b = block(height as u64, parent, root);
            assert_eq!(warm.commit_block(&b, w).expect("warm commit"), root);
            // The prepared update was used, and stale ones were dropped.
            let left = warm.prepared.lock().expect("lock");
            assert!(left.iter().all(|p| p.writes != *w));
            drop(left);
            assert!(cold.prepared.lock().expect("lock").is_empty());
            assert_eq!(cold.commit_block(&b, w).expect("cold commit"), root);
            parent = b.digest();
        }
        assert_eq!(dump(&warm, NODES), dump(&cold, NODES));
        assert_eq!(dump(&warm, VALUES), dump(&cold, VALUES));
        assert_eq!(dump(&warm, LATEST), dump(&cold, LATEST));
    }

    #[test]
    fn the_store_and_its_snapshots_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Store>();
        shareable::<Snapshot>();
    }

    #[test]
    fn a_staged_block_dropped_before_commit_leaves_the_store_as_it_was() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.redb");
        let store = Store::open(&path).expect("open");
        let w0 = writes(&[("a", Some("1")), ("b", Some("2"))]);
        let genesis = block(0, Hash::ZERO, store.root_with(&w0).expect("root"));
        let root0 = store.commit_genesis(&genesis, &w0).expect("genesis");

        // Stage block 1 fully (tree, state, archive, metadata), then drop the transaction.
        let w1 = writes(&[("a", None), ("c", Some("3"))]);
        let b1 = block(1, genesis.digest(), store.root_with(&w1).expect("root"));
        {
            let mut txn = store.db.begin_write().expect("begin");
            txn.set_durability(Durability::Immediate)
                .expect("durability");
            let staged = stage(&txn, &b1, &w1, &store.prepared).expect("stage");
            assert!(matches!(staged, Staged::New(_)));
            drop(txn);
        }
        assert_eq!(store.committed_height(), Some(0));
        assert_eq!(store.get_latest(b"a").expect("get"), Some(b"1".to_vec()));
        assert_eq!(store.get_latest(b"c").expect("get"), None);
        assert_eq!(store.block(1).expect("block"), None);
        assert_eq!(store.state_root(1).expect("root"), None);
        drop(store);

        let store = Store::open(&path).expect("reopen");
        assert_eq!(store.committed_height(), Some(0));
        assert_eq!(store.latest_root(), Some(root0));
        let root1 = store.commit_block(&b1, &w1).expect("commit after the drop");
        assert_eq!(root1, b1.header.state_root);
        assert_eq!(store.get_latest(b"a").expect("get"), None);
        assert_eq!(store.get_at(b"a", 0).expect("get"), Some(b"1".to_vec()));
    }
}
