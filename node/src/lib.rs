//! Order blocks with BFT consensus and feed finalized blocks to the ledger.
//!
//! A node runs commonware's simplex consensus with marshal (see [`engine`], the only
//! module that touches commonware): proposers build blocks from the [`mempool`] on a
//! possibly unfinalized parent's post-state, verifiers re-execute them, and finalized
//! blocks are committed durably to the [`plexus_storage::Store`] in height order
//! before consensus is told they are processed. One validator on 127.0.0.1 and many
//! validators run the same code path; only the genesis differs. A full node
//! ([`NodeConfig::full`]) runs the same chain and marshal without voting, and a node
//! whose state was synced ([`NodeConfig::floor`]) starts marshal at that height. Peers
//! meet by authenticated discovery ([`p2p`]).
//!
//! Binaries call [`serve_api`] (the node and its HTTP API, with the [`NodeHandle`] as
//! the API's backend) or [`run_blocking`]; libraries and tests call [`start`]
//! (authenticated p2p) or [`engine::start_with`] (any p2p, e.g. the simulated one)
//! with a runtime context, and talk to the node through a [`NodeHandle`].
//!
//! ```no_run
//! # fn main() -> Result<(), plexus_node::NodeError> {
//! // No genesis given: the one saved in the folder, else a one-validator development
//! // chain for this node's key (created on first run) on 127.0.0.1.
//! let config = plexus_node::NodeConfig::load("/var/lib/plexus", None)?;
//! plexus_node::run_blocking(config, |node| async move {
//!     // Runs inside the node's tokio runtime: serve the HTTP API here.
//!     let mut blocks = node.subscribe();
//!     while let Ok(block) = blocks.recv().await {
//!         println!("finalized {} with {} transactions", block.height, block.block.txs.len());
//!     }
//! })?;
//! # Ok(())
//! # }
//! ```
//!
//! Owns consensus (only `engine` imports commonware), the mempool, the finalizer,
//! [`serve_api`] and the node's [`settings`] (`--config` keys and, with the `clap`
//! feature, flags). May not depend on services (provider, relay, issuer, validator)
//! or engines.

mod api;
pub mod chain;
pub mod engine;
pub mod mempool;
pub mod p2p;
pub mod settings;

use std::{
    fs,
    io::Write as _,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
};

pub use plexus_ledger::FinalizedBlock;
use plexus_ledger::Genesis;
use plexus_storage::{StorageError, Store};
use plexus_types::{AccountId, Hash, Keypair, SignedTransaction};
use thiserror::Error;
use tokio::sync::broadcast;

pub use api::{ApiOptions, ServeError, serve_api};
pub use chain::{Chain, ChainError};
pub use engine::{run_blocking, start};
pub use mempool::{Mempool, MempoolConfig, MempoolError};
pub use p2p::{AddressError, Bootstrapper, DEFAULT_P2P_PORT, Endpoint, P2pConfig, Profile};
/// A snapshot of the node's progress: the API's wire type, produced here directly.
pub use plexus_api::NodeStatus;
pub use settings::NodeSettings;

/// File in the data directory holding the node's ed25519 seed (hex).
pub const KEY_FILE: &str = "node.key";
/// File in the data directory holding the genesis the node was started with.
pub const GENESIS_FILE: &str = "genesis.json";
/// The redb state file in the data directory.
pub const STATE_FILE: &str = "state.redb";
/// Folder in the data directory for consensus journals and the finality certificates.
pub const CONSENSUS_DIR: &str = "consensus";
/// File in the data directory holding the finalization (commonware's encoding) of
/// the height a state sync started from, when the node's state was synced.
pub const FLOOR_FILE: &str = "floor.bin";
/// The fewest heights `--prune` may keep: enough for peers catching up through
/// marshal and for clients proving against a recent header.
pub const MIN_PRUNE_KEEP: u64 = 256;
/// Most transactions a proposer puts in one block.
pub const DEFAULT_MAX_BLOCK_TXS: usize = 5_000;
/// Finalized blocks buffered for each subscriber before it starts missing some.
const SUBSCRIBER_BUFFER: usize = 1_024;

/// Why a node could not start.
#[derive(Debug, Error)]
pub enum NodeError {
    /// A file in the data directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The key file does not hold a 32-byte hex seed.
    #[error("key file {0} is not a 64-character hex ed25519 seed")]
    BadKey(PathBuf),
    /// The genesis file does not parse, or the genesis is unusable.
    #[error("genesis is invalid: {0}")]
    Genesis(String),
    /// A genesis validator's key is not a valid ed25519 public key.
    #[error("genesis validator {0} has an invalid ed25519 key")]
    BadValidatorKey(AccountId),
    /// This node's key is not among the genesis validators.
    #[error("this node's key {0} is not a genesis validator")]
    NotAValidator(AccountId),
    /// The finalization a synced state starts from does not check out.
    #[error("state sync floor: {0}")]
    Floor(String),
    /// A p2p address or bootstrapper cannot be used.
    #[error("the p2p settings cannot be used")]
    P2p(#[from] AddressError),
    /// The store could not be opened.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// The chain could not be opened (genesis mismatch, storage failure).
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    /// The runtime failed.
    #[error("runtime: {0}")]
    Runtime(String),
}

/// What a node needs to start.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Folder for the key, the genesis, the state and the consensus journals.
    pub data_dir: PathBuf,
    /// The chain's genesis (validators, parameters, initial accounts).
    pub genesis: Genesis,
    /// The node's ed25519 identity; it signs consensus messages and authenticates p2p.
    pub key: Keypair,
    /// Where it listens for peers, what it advertises and whom it dials first.
    pub p2p: P2pConfig,
    /// Follow the validators as a full node (check certificates, execute, serve)
    /// instead of voting; the key is then only its p2p identity.
    pub full: bool,
    /// The finalization of the height the state was synced at ([`FLOOR_FILE`]):
    /// marshal starts there instead of at genesis.
    pub floor: Option<Vec<u8>>,
    /// Keep only this many recent heights of state and blocks (at least
    /// [`MIN_PRUNE_KEEP`]); `None`: an archive node.
    pub prune: Option<u64>,
    /// Mempool bounds.
    pub mempool: MempoolConfig,
    /// Most transactions in a block this node proposes.
    pub max_block_txs: usize,
}

impl NodeConfig {
    /// A configuration for `key` and `genesis`, listening for peers on 127.0.0.1 with
    /// the default port and dialing no bootstrapper (a single-validator chain).
    pub fn new(data_dir: impl Into<PathBuf>, genesis: Genesis, key: Keypair) -> Self {
        Self {
            data_dir: data_dir.into(),
            genesis,
            key,
            p2p: P2pConfig::default(),
            full: false,
            floor: None,
            prune: None,
            mempool: MempoolConfig::default(),
            max_block_txs: DEFAULT_MAX_BLOCK_TXS,
        }
    }

    /// Load a node's configuration from `data_dir`: the key from [`KEY_FILE`] (created
    /// on first run), and the genesis given, else the one saved in [`GENESIS_FILE`],
    /// else a one-validator development genesis for this key on 127.0.0.1 (saved so
    /// later runs reuse it). The genesis used is saved to [`GENESIS_FILE`].
    pub fn load(data_dir: impl Into<PathBuf>, genesis: Option<Genesis>) -> Result<Self, NodeError> {
        let data_dir = data_dir.into();
        ensure_dir(&data_dir)?;
        let key = load_or_create_key(&data_dir.join(KEY_FILE))?;
        let genesis_path = data_dir.join(GENESIS_FILE);
        let genesis = match genesis {
            Some(genesis) => genesis,
            None if genesis_path.exists() => {
                let text = fs::read_to_string(&genesis_path).map_err(io_error(&genesis_path))?;
                Genesis::from_json(&text).map_err(|e| NodeError::Genesis(e.to_string()))?
            }
            None => Genesis::development(key.account()),
        };
        genesis
            .validate()
            .map_err(|e| NodeError::Genesis(e.to_string()))?;
        write_atomically(&genesis_path, genesis.to_json().as_bytes())?;
        let floor_path = data_dir.join(FLOOR_FILE);
        let floor = match floor_path.exists() {
            true => Some(fs::read(&floor_path).map_err(io_error(&floor_path))?),
            false => None,
        };
        let mut config = Self::new(data_dir, genesis, key);
        config.floor = floor;
        Ok(config)
    }
}

/// Read the hex seed in `path`, or create one from the OS's randomness.
fn load_or_create_key(path: &Path) -> Result<Keypair, NodeError> {
    if path.exists() {
        return read_key(path);
    }
    let key = Keypair::generate(&mut rand::rng());
    let text = format!("{}\n", hex::encode(key.secret_bytes()));
    write_atomically(path, text.as_bytes())?;
    Ok(key)
}

/// Read a node key file ([`KEY_FILE`]: the hex seed of its ed25519 key).
pub fn read_key(path: &Path) -> Result<Keypair, NodeError> {
    let text = fs::read_to_string(path).map_err(io_error(path))?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed)
        .map_err(|_| NodeError::BadKey(path.to_path_buf()))?;
    Ok(Keypair::from_seed(seed))
}

/// Create `path` and its parents if missing.
pub(crate) fn ensure_dir(path: &Path) -> Result<(), NodeError> {
    fs::create_dir_all(path).map_err(io_error(path))
}

/// Wraps an I/O error on `path` as [`NodeError::Io`].
fn io_error(path: &Path) -> impl Fn(std::io::Error) -> NodeError + '_ {
    move |source| NodeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Write `bytes` to `path` through a temporary file and a rename; owner-only on unix.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), NodeError> {
    let io = io_error(path);
    let tmp = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(&io)?;
    file.write_all(bytes).map_err(&io)?;
    file.sync_all().map_err(&io)?;
    fs::rename(&tmp, path).map_err(&io)
}

/// How long a node may go without finalizing a block and still call itself ready:
/// twenty block intervals, and never under 30 s (a view change after a leader's
/// timeout takes several seconds).
pub fn stall_limit(block_interval_ms: u64) -> std::time::Duration {
    std::time::Duration::from_millis(block_interval_ms.saturating_mul(20))
        .max(std::time::Duration::from_secs(30))
}

/// Progress shared between the finalizer and handles.
#[derive(Debug, Default)]
pub(crate) struct StatusCell {
    finalized_height: AtomicU64,
    view: AtomicU64,
    tip_height: AtomicU64,
    halted: Mutex<Option<String>>,
    /// When this process last committed a newly finalized block (not ledger state:
    /// only `/readyz` reads it).
    last_progress: Mutex<Option<std::time::Instant>>,
}

impl StatusCell {
    /// The height committed at start: no progress yet.
    pub(crate) fn set_started(&self, height: u64) {
        self.finalized_height.fetch_max(height, Ordering::Relaxed);
    }

    pub(crate) fn set_finalized(&self, height: u64) {
        if self.finalized_height.fetch_max(height, Ordering::Relaxed) < height {
            *self
                .last_progress
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(std::time::Instant::now());
        }
    }

    /// Time since this process last committed a finalized block, if it has.
    fn since_progress(&self) -> Option<std::time::Duration> {
        self.last_progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map(|at| at.elapsed())
    }

    pub(crate) fn set_tip(&self, view: u64, height: u64) {
        self.view.fetch_max(view, Ordering::Relaxed);
        self.tip_height.fetch_max(height, Ordering::Relaxed);
    }

    pub(crate) fn set_halted(&self, reason: String) {
        *self.halted.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason);
    }
}

/// Admits transactions into the mempool: from the API and from peers.
#[derive(Clone)]
pub(crate) struct Admission {
    chain: Arc<Chain>,
    mempool: Arc<Mutex<Mempool>>,
    metrics: Arc<engine::NodeMetrics>,
}

impl Admission {
    /// The nonce after `sender`'s committed and queued transactions, and the least
    /// fee of `payload`: what a transaction this node signs itself carries.
    pub(crate) fn next_nonce_and_fee(
        &self,
        sender: &AccountId,
        payload: &plexus_types::Payload,
    ) -> (u64, plexus_types::Amount) {
        let store = self.chain.store();
        let committed =
            plexus_ledger::query::account(store.as_ref(), sender).map_or(0, |a| a.nonce);
        let fee = plexus_ledger::query::chain(store.as_ref())
            .map_or(0, |c| c.params.min_fee_for(payload));
        let queued = self
            .mempool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .sender_txs(sender)
            .iter()
            .map(|tx| tx.tx.nonce + 1)
            .max()
            .unwrap_or(0);
        (committed.max(queued), fee)
    }

    /// Check `tx` against the latest committed state and queue it.
    ///
    /// A fee-free transaction that admission refuses costs its sender nothing, so a
    /// sender with too many refusals since the last finalized block is refused at once,
    /// before any signature or token is checked.
    pub(crate) fn admit(&self, tx: SignedTransaction) -> Result<Hash, MempoolError> {
        let store = self.chain.store();
        let next = store.committed_height().map_or(0, |h| h + 1);
        let params = plexus_ledger::query::chain(store.as_ref())
            .map_err(|e| MempoolError::State(e.to_string()))?
            .params;
        let unpaid = plexus_ledger::fees::is_unpaid(&params, &tx);
        let sender = tx.tx.sender;
        if unpaid {
            let pool = self.mempool.lock().unwrap_or_else(PoisonError::into_inner);
            if let Err(next_block) = pool.free_check_allowed(&sender) {
                return Err(MempoolError::Rejected(
                    plexus_ledger::TxError::FreeTxRateLimited { next_block },
                ));
            }
        }
        if let Err(e) = plexus_ledger::check_transaction(store.as_ref(), next, &tx) {
            if unpaid && !e.is_retryable() {
                self.mempool
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .note_free_refusal(&sender);
            }
            return Err(e.into());
        }
        let nonce = plexus_ledger::query::account(store.as_ref(), &tx.tx.sender)
            .map_err(|e| MempoolError::State(e.to_string()))?
            .nonce;
        let mut mempool = self.mempool.lock().unwrap_or_else(PoisonError::into_inner);
        let hash = mempool.insert(tx, nonce)?;
        self.metrics.set_mempool_size(mempool.len());
        Ok(hash)
    }
}

/// A running node: submit transactions, follow finalized blocks, read state.
/// Cheap to clone.
#[derive(Clone)]
pub struct NodeHandle {
    inner: Arc<HandleInner>,
}

struct HandleInner {
    account: AccountId,
    genesis: Arc<Genesis>,
    chain: Arc<Chain>,
    mempool: Arc<Mutex<Mempool>>,
    admission: Admission,
    gossip: futures::channel::mpsc::UnboundedSender<SignedTransaction>,
    events: broadcast::Sender<FinalizedBlock>,
    status: Arc<StatusCell>,
    metrics: Arc<engine::NodeMetrics>,
    finalizer: engine::FinalizerMailbox,
    marshal: engine::MarshalMailbox,
}

impl std::fmt::Debug for NodeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeHandle")
            .field("account", &self.inner.account)
            .finish_non_exhaustive()
    }
}

impl NodeHandle {
    /// Check `tx` against the latest committed state, queue it for a block and relay
    /// it to the other validators.
    pub fn submit(&self, tx: SignedTransaction) -> Result<Hash, MempoolError> {
        let hash = self.inner.admission.admit(tx.clone())?;
        // The relay stops only with the node; then nobody needs the transaction.
        let _ = self.inner.gossip.unbounded_send(tx);
        Ok(hash)
    }

    /// Follow finalized blocks from now on (a slow subscriber misses blocks and is
    /// told so by `RecvError::Lagged`; read them from the store).
    pub fn subscribe(&self) -> broadcast::Receiver<FinalizedBlock> {
        self.inner.events.subscribe()
    }

    /// The committed state and block archive.
    pub fn store(&self) -> Arc<Store> {
        Arc::clone(self.inner.chain.store())
    }

    /// The genesis the node runs.
    pub fn genesis(&self) -> &Genesis {
        &self.inner.genesis
    }

    /// This node's account (its validator key).
    pub fn account(&self) -> AccountId {
        self.inner.account
    }

    /// Progress, peers, mempool size.
    pub fn status(&self) -> NodeStatus {
        let status = &self.inner.status;
        NodeStatus {
            finalized_height: status.finalized_height.load(Ordering::Relaxed),
            view: status.view.load(Ordering::Relaxed),
            tip_height: status.tip_height.load(Ordering::Relaxed),
            peers: self.inner.metrics.connected_peers(),
            validators: self.inner.genesis.validators.len(),
            mempool_size: self.mempool_len(),
            halted: status
                .halted
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }

    /// Synced and finalizing: not halted, and a block finalized by this process
    /// within [`stall_limit`] of the chain's block interval. A node that has just
    /// started is not ready until it finalizes (or backfills) its first block.
    pub fn readiness(&self) -> Result<(), String> {
        let status = &self.inner.status;
        if let Some(reason) = status
            .halted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            return Err(format!("halted: {reason}"));
        }
        let limit = stall_limit(self.inner.genesis.params.block_interval_ms);
        let height = status.finalized_height.load(Ordering::Relaxed);
        match status.since_progress() {
            None => Err(format!(
                "no block finalized since start (at height {height})"
            )),
            Some(since) if since > limit => Err(format!(
                "no block finalized for {} s (at height {height}, {} connected peers)",
                since.as_secs(),
                self.inner.metrics.connected_peers()
            )),
            Some(_) => Ok(()),
        }
    }

    /// Transactions waiting in the mempool.
    pub fn mempool_len(&self) -> usize {
        self.inner
            .mempool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Every runtime metric (consensus, p2p, storage and the node's own), in the
    /// Prometheus text format.
    pub fn metrics(&self) -> String {
        self.inner.metrics.encode()
    }

    /// The finality certificate of the block at `height`, from marshal's archive:
    /// `None` for genesis, a height not finalized yet, or one this node finalized
    /// without receiving its certificate (it backfilled the block from a later one).
    pub async fn finalization(
        &self,
        height: u64,
    ) -> Option<plexus_types::finality::FinalityCertificate> {
        engine::certificate(&self.inner.marshal, height).await
    }

    /// The finalization of the block at `height` in commonware's encoding (what a
    /// node syncing its state to that height starts from).
    pub async fn finalization_raw(&self, height: u64) -> Option<Vec<u8>> {
        engine::finalization_bytes(&self.inner.marshal, height).await
    }

    /// The reporter marshal hands finalized blocks to. Exposed so tests can deliver a
    /// block again, as marshal does after a restart.
    pub fn finalizer(&self) -> engine::FinalizerMailbox {
        self.inner.finalizer.clone()
    }
}

/// Fixtures shared by the unit tests of every module.
#[cfg(test)]
pub(crate) mod testing {
    use plexus_types::{Amount, Payload, Transaction};

    use super::*;

    /// A transfer of one base unit from `from` to `to`, signed.
    pub(crate) fn transfer(
        from: &Keypair,
        to: AccountId,
        chain_id: u64,
        nonce: u64,
        fee: Amount,
    ) -> SignedTransaction {
        Transaction {
            chain_id,
            sender: from.account(),
            nonce,
            fee,
            payload: Payload::Transfer { to, amount: 1 },
        }
        .sign(from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_data_dir_gets_a_key_and_a_one_validator_development_genesis() {
        let dir = tempfile::tempdir().unwrap();
        let first = NodeConfig::load(dir.path(), None).unwrap();
        assert_eq!(first.genesis.validators.len(), 1);
        assert_eq!(first.genesis.validators[0].public_key, first.key.account());
        assert!(first.p2p.listen.ip().is_loopback());
        assert!(dir.path().join(KEY_FILE).exists());
        assert!(dir.path().join(GENESIS_FILE).exists());

        let again = NodeConfig::load(dir.path(), None).unwrap();
        assert_eq!(again.key.account(), first.key.account());
        assert_eq!(again.genesis, first.genesis);
    }

    #[test]
    fn a_damaged_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(KEY_FILE), "not hex").unwrap();
        assert!(matches!(
            NodeConfig::load(dir.path(), None),
            Err(NodeError::BadKey(_))
        ));
    }

    #[test]
    fn a_given_genesis_wins_and_is_saved() {
        let dir = tempfile::tempdir().unwrap();
        let validator = Keypair::from_label("someone else").account();
        let genesis = Genesis::development(validator);
        let config = NodeConfig::load(dir.path(), Some(genesis.clone())).unwrap();
        assert_eq!(config.genesis, genesis);
        let saved = fs::read_to_string(dir.path().join(GENESIS_FILE)).unwrap();
        assert_eq!(Genesis::from_json(&saved).unwrap(), genesis);
    }
}
