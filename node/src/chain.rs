//! Track the post-states of unfinalized blocks and commit finalized ones.
//!
//! Consensus builds and verifies blocks on parents that may not be final yet, and on
//! more than one fork at a time. [`Chain`] keeps, for every block it built or
//! verified above the committed height, that block's own write set; the state a
//! block sees is the committed store overlaid with the writes of its unfinalized
//! ancestors (oldest first). The state root of block `h` is
//! `store.root_with(cumulative writes up to and including h)`. When a block is
//! finalized its writes are committed in one durable transaction, and the overlays of
//! forks that can no longer be finalized are dropped. Plain logic: no consensus types.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex, PoisonError, RwLock},
};

use plexus_ledger::{
    BlockEnv, BlockError as LedgerBlockError, Event, Genesis, TxError,
    store::{Overlay, WriteSet},
};
use plexus_storage::{StorageError, Store};
use plexus_types::{AccountId, Block, BlockHeader, Hash, SignedTransaction, block::tx_root};
use thiserror::Error;

/// Why a block could not be built, verified or committed.
#[derive(Debug, Error)]
pub enum ChainError {
    /// The ledger rejects the block: it is invalid on this parent, permanently.
    #[error("block is invalid: {0}")]
    Invalid(#[from] LedgerBlockError),
    /// The block's header names a state root other than the one its execution gives.
    #[error("block at height {height} claims state root {claimed}, execution gives {computed}")]
    RootMismatch {
        /// Height of the block.
        height: u64,
        /// The root in the header.
        claimed: Hash,
        /// The root computed here.
        computed: Hash,
    },
    /// The block breaks a rule checked before execution (chain id, height, time, tx root).
    #[error("block is malformed: {0}")]
    Malformed(&'static str),
    /// The parent's post-state is not known here (not built, verified or committed).
    #[error("the post-state of parent {0} is not known")]
    UnknownParent(Hash),
    /// The block builds on a fork that conflicts with the committed chain.
    #[error("block builds on {0}, which conflicts with the committed chain")]
    DeadFork(Hash),
    /// The store failed.
    #[error("storage failed: {0}")]
    Storage(#[from] StorageError),
    /// The genesis could not be turned into a state.
    #[error("genesis is invalid: {0}")]
    Genesis(String),
    /// The store holds a different genesis than the configured one.
    #[error(
        "the store was created from another genesis (stored {stored}, configured {configured})"
    )]
    GenesisMismatch {
        /// Digest of the stored genesis block.
        stored: Hash,
        /// Digest of the genesis block built from the configuration.
        configured: Hash,
    },
}

impl ChainError {
    /// Whether the block is invalid for good (a verifier may vote against it).
    pub fn is_permanent(&self) -> bool {
        match self {
            // A state read failure says nothing about the block.
            ChainError::Invalid(LedgerBlockError::State(_)) => false,
            ChainError::Invalid(_)
            | ChainError::RootMismatch { .. }
            | ChainError::Malformed(_)
            | ChainError::DeadFork(_) => true,
            ChainError::UnknownParent(_)
            | ChainError::Storage(_)
            | ChainError::Genesis(_)
            | ChainError::GenesisMismatch { .. } => false,
        }
    }
}

/// What one unfinalized block did to the state.
#[derive(Debug, Clone)]
struct Pending {
    height: u64,
    parent: Hash,
    timestamp_ms: u64,
    writes: Arc<WriteSet>,
    events: Arc<Vec<Event>>,
    txs: Arc<Vec<Hash>>,
}

impl Pending {
    /// The post-state of `block`: its own writes and events.
    fn new(block: &Block, writes: WriteSet, events: Vec<Event>) -> Self {
        Self {
            height: block.header.height,
            parent: block.header.parent,
            timestamp_ms: block.header.timestamp_ms,
            writes: Arc::new(writes),
            events: Arc::new(events),
            txs: Arc::new(block.txs.iter().map(SignedTransaction::hash).collect()),
        }
    }
}

/// A block built by [`Chain::build`], ready to be wrapped with its consensus context.
#[derive(Debug)]
pub struct Built {
    /// The header, with `consensus` left empty for the caller to fill.
    pub header: BlockHeader,
    /// The transactions included.
    pub txs: Vec<SignedTransaction>,
    /// Candidates the ledger refused, with the reason.
    pub rejected: Vec<(Hash, TxError)>,
    writes: WriteSet,
    events: Vec<Event>,
}

/// The outcome of [`Chain::finalize`].
#[derive(Debug, Clone)]
pub enum Finalized {
    /// The block was committed now.
    Committed {
        /// The new state root.
        root: Hash,
        /// Events the block emitted.
        events: Arc<Vec<Event>>,
    },
    /// The block was already committed (a redelivery after a restart).
    AlreadyCommitted,
}

/// The view of the state a child of `parent` executes on.
struct ParentState {
    height: u64,
    timestamp_ms: u64,
    cumulative: WriteSet,
}

/// Committed state plus the post-states of unfinalized blocks, by digest.
#[derive(Debug)]
pub struct Chain {
    store: Arc<Store>,
    chain_id: u64,
    genesis_digest: Hash,
    pending: Mutex<BTreeMap<Hash, Pending>>,
    /// Held shared while executing on an overlay, exclusively while committing, so an
    /// execution never reads across a commit.
    commit_lock: RwLock<()>,
}

/// The genesis block of `genesis` (its state root that of the genesis writes on an
/// empty tree) and those writes. `consensus` is the header's consensus context.
pub fn genesis_block(
    genesis: &Genesis,
    consensus: Vec<u8>,
) -> Result<(Block, WriteSet), ChainError> {
    let writes =
        plexus_ledger::genesis::writes(genesis).map_err(|e| ChainError::Genesis(e.to_string()))?;
    let block = Block {
        header: BlockHeader {
            chain_id: genesis.chain_id,
            height: 0,
            parent: Hash::ZERO,
            timestamp_ms: genesis.genesis_time_ms,
            proposer: AccountId::default(),
            tx_root: tx_root(&[]),
            state_root: Store::genesis_root(&writes)?,
            consensus,
        },
        txs: Vec::new(),
    };
    Ok((block, writes))
}

impl Chain {
    /// Open the chain over `store`, committing the genesis block and state on first
    /// use. `consensus` is the genesis header's consensus context.
    pub fn open(
        store: Arc<Store>,
        genesis: &Genesis,
        consensus: Vec<u8>,
    ) -> Result<(Self, Block), ChainError> {
        let (expected, writes) = genesis_block(genesis, consensus)?;
        let genesis_block = match store.block(0)? {
            Some(stored) => {
                // The whole genesis, accounts included, must match: its root is the
                // root of its writes on an empty tree.
                if stored.digest() != expected.digest() {
                    return Err(ChainError::GenesisMismatch {
                        stored: stored.digest(),
                        configured: expected.digest(),
                    });
                }
                stored
            }
            None => {
                store.commit_genesis(&expected, &writes)?;
                expected
            }
        };
        let chain = Self {
            store,
            chain_id: genesis.chain_id,
            genesis_digest: genesis_block.digest(),
            pending: Mutex::new(BTreeMap::new()),
            commit_lock: RwLock::new(()),
        };
        Ok((chain, genesis_block))
    }

    /// The store under the chain.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The genesis block's digest.
    pub fn genesis_digest(&self) -> Hash {
        self.genesis_digest
    }

    /// The committed height and digest.
    pub fn committed(&self) -> (u64, Hash) {
        self.store
            .committed()
            .map_or((0, self.genesis_digest), |tip| (tip.height, tip.digest))
    }

    /// Unfinalized blocks whose post-state is held.
    pub fn pending_len(&self) -> usize {
        self.lock_pending().len()
    }

    /// Whether `digest`'s post-state is available: committed, or held as pending.
    pub fn knows(&self, digest: &Hash) -> Result<bool, ChainError> {
        if self.lock_pending().contains_key(digest) {
            return Ok(true);
        }
        Ok(self.store.height_of(digest)?.is_some())
    }

    /// Hashes of the transactions in the unfinalized ancestors of a child of `parent`
    /// (inclusive), which a new block must not include again.
    pub fn pending_txs(&self, parent: &Hash) -> BTreeSet<Hash> {
        self.unfinalized_ancestors(parent)
            .map(|(_, chain)| chain.iter().flat_map(|p| p.txs.iter().copied()).collect())
            .unwrap_or_default()
    }

    /// Build a block on `parent` from `candidates` (in priority order), at most
    /// `max_txs` of them, and remember its post-state under the returned header's
    /// digest once the caller fills the consensus context (see [`Chain::remember`]).
    pub fn build(
        &self,
        parent: &Hash,
        env: &BlockEnv,
        candidates: Vec<SignedTransaction>,
        max_txs: usize,
    ) -> Result<Built, ChainError> {
        let _guard = self
            .commit_lock
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let state = self.parent_state(parent)?;
        if env.height != state.height + 1 {
            return Err(ChainError::Malformed("height does not follow the parent"));
        }
        let overlay = Overlay::with_writes(self.store.as_ref(), state.cumulative);
        let built = plexus_ledger::build_block(&overlay, env, candidates, max_txs)?;
        let (output, txs, rejected) = (built.output, built.included, built.rejected);
        let state_root = self.root_after(overlay, &output.writes)?;
        let header = BlockHeader {
            chain_id: self.chain_id,
            height: env.height,
            parent: *parent,
            timestamp_ms: env.timestamp_ms,
            proposer: env.proposer,
            tx_root: tx_root(&txs),
            state_root,
            consensus: Vec::new(),
        };
        Ok(Built {
            header,
            txs,
            rejected,
            writes: output.writes,
            events: output.events,
        })
    }

    /// Remember the post-state of a block built by [`Chain::build`] whose header got
    /// its consensus context and so its digest.
    pub fn remember(&self, block: &Block, built: Built) {
        let pending = Pending::new(block, built.writes, built.events);
        self.lock_pending().insert(block.digest(), pending);
    }

    /// The parent's timestamp and height, if its post-state is known.
    pub fn parent_info(&self, parent: &Hash) -> Result<(u64, u64), ChainError> {
        if let Some(p) = self.lock_pending().get(parent) {
            return Ok((p.height, p.timestamp_ms));
        }
        let height = self
            .store
            .height_of(parent)?
            .ok_or(ChainError::UnknownParent(*parent))?;
        let header = self
            .store
            .header(height)?
            .ok_or(ChainError::UnknownParent(*parent))?;
        Ok((header.height, header.timestamp_ms))
    }

    /// Check `block` against the rules that need no state (chain id, transaction root,
    /// time after the parent).
    pub fn precheck(&self, block: &Block, parent_timestamp_ms: u64) -> Result<(), ChainError> {
        if block.header.chain_id != self.chain_id {
            return Err(ChainError::Malformed("wrong chain id"));
        }
        if !block.tx_root_matches() {
            return Err(ChainError::Malformed("transaction root does not match"));
        }
        if block.header.timestamp_ms <= parent_timestamp_ms {
            return Err(ChainError::Malformed("timestamp does not increase"));
        }
        Ok(())
    }

    /// Execute `block` on its parent's post-state, check its state root and remember
    /// its post-state. The parent's post-state must be known.
    pub fn execute(&self, block: &Block) -> Result<(), ChainError> {
        let digest = block.digest();
        if self.knows(&digest)? {
            return Ok(());
        }
        let _guard = self
            .commit_lock
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let state = self.parent_state(&block.header.parent)?;
        if block.header.height != state.height + 1 {
            return Err(ChainError::Malformed("height does not follow the parent"));
        }
        self.precheck(block, state.timestamp_ms)?;
        let env = env_of(block);
        let overlay = Overlay::with_writes(self.store.as_ref(), state.cumulative);
        let output = plexus_ledger::execute_block(&overlay, &env, &block.txs)?;
        let computed = self.root_after(overlay, &output.writes)?;
        if computed != block.header.state_root {
            return Err(ChainError::RootMismatch {
                height: block.header.height,
                claimed: block.header.state_root,
                computed,
            });
        }
        let pending = Pending::new(block, output.writes, output.events);
        self.lock_pending().insert(digest, pending);
        Ok(())
    }

    /// Commit a finalized block durably: idempotent by height, reusing the post-state
    /// computed when the block was built or verified, else executing it on the
    /// committed state. Drops the overlays of forks that can no longer be finalized.
    pub fn finalize(&self, block: &Block) -> Result<Finalized, ChainError> {
        let digest = block.digest();
        let _guard = self
            .commit_lock
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let (committed, _) = self.committed();
        if block.header.height <= committed {
            // Idempotent: the store answers with the stored root or a conflict.
            self.store.commit_block(block, &WriteSet::new())?;
            return Ok(Finalized::AlreadyCommitted);
        }
        let cached = self.lock_pending().get(&digest).cloned();
        let (writes, events) = match cached {
            Some(p) => (p.writes, p.events),
            None => {
                let env = env_of(block);
                let output = plexus_ledger::execute_block(self.store.as_ref(), &env, &block.txs)?;
                (Arc::new(output.writes), Arc::new(output.events))
            }
        };
        let root = match self.store.commit_block(block, &writes) {
            Ok(root) => root,
            Err(StorageError::RootMismatch {
                height,
                claimed,
                computed,
            }) => {
                return Err(ChainError::RootMismatch {
                    height,
                    claimed,
                    computed,
                });
            }
            Err(e) => return Err(e.into()),
        };
        self.prune(block.header.height, digest);
        Ok(Finalized::Committed { root, events })
    }

    /// Drop every pending state at or below `height`, and every one that does not
    /// descend from `digest` (the block just committed at `height`).
    fn prune(&self, height: u64, digest: Hash) {
        let mut pending = self.lock_pending();
        pending.retain(|_, p| p.height > height);
        // Pending entries form trees rooted just above the committed block; keep
        // those whose ancestry reaches `digest`.
        let mut alive: BTreeSet<Hash> = BTreeSet::from([digest]);
        let mut by_height: Vec<(u64, Hash, Hash)> = pending
            .iter()
            .map(|(d, p)| (p.height, *d, p.parent))
            .collect();
        by_height.sort();
        for (_, d, parent) in by_height {
            if alive.contains(&parent) {
                alive.insert(d);
            }
        }
        pending.retain(|d, _| alive.contains(d));
    }

    /// The state root after `writes` on top of the writes `overlay` holds.
    fn root_after(&self, overlay: Overlay<&Store>, writes: &WriteSet) -> Result<Hash, ChainError> {
        let mut cumulative = overlay.into_writes();
        cumulative.extend(writes.clone());
        Ok(self.store.root_with(&cumulative)?)
    }

    /// `parent` and its unfinalized ancestors, newest first, down to the committed
    /// block, and the committed height they sit on.
    fn unfinalized_ancestors(&self, parent: &Hash) -> Result<(u64, Vec<Pending>), ChainError> {
        let (committed_height, committed_digest) = self.committed();
        let pending = self.lock_pending();
        let mut chain = Vec::new();
        let mut cursor = *parent;
        while cursor != committed_digest {
            match pending.get(&cursor) {
                Some(p) if p.height > committed_height => {
                    chain.push(p.clone());
                    cursor = p.parent;
                }
                _ => break,
            }
        }
        drop(pending);
        if cursor != committed_digest {
            // Not pending above the committed tip: either the tip's history (then the
            // child conflicts with the committed chain) or unknown.
            return match self.store.height_of(&cursor)? {
                Some(_) => Err(ChainError::DeadFork(*parent)),
                None => Err(ChainError::UnknownParent(cursor)),
            };
        }
        Ok((committed_height, chain))
    }

    /// The state a child of `parent` sees: the writes of `parent` and its unfinalized
    /// ancestors, merged oldest first.
    fn parent_state(&self, parent: &Hash) -> Result<ParentState, ChainError> {
        let (committed_height, chain) = self.unfinalized_ancestors(parent)?;
        let (height, timestamp_ms) = match chain.first() {
            Some(p) => (p.height, p.timestamp_ms),
            None => {
                let header = self
                    .store
                    .header(committed_height)?
                    .ok_or(ChainError::UnknownParent(*parent))?;
                (header.height, header.timestamp_ms)
            }
        };
        let mut cumulative = WriteSet::new();
        for p in chain.iter().rev() {
            cumulative.extend(p.writes.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        Ok(ParentState {
            height,
            timestamp_ms,
            cumulative,
        })
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, BTreeMap<Hash, Pending>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The ledger environment a block's header describes.
pub fn env_of(block: &Block) -> BlockEnv {
    BlockEnv {
        height: block.header.height,
        timestamp_ms: block.header.timestamp_ms,
        proposer: block.header.proposer,
    }
}

#[cfg(test)]
mod tests {
    use plexus_ledger::genesis::GenesisAccount;
    use plexus_types::{Keypair, PLX};

    use super::*;

    struct Fixture {
        _dir: tempfile::TempDir,
        chain: Chain,
        genesis: Genesis,
        user: Keypair,
        proposer: AccountId,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("state.redb")).unwrap());
        let proposer = Keypair::from_label("validator").account();
        let user = Keypair::from_label("user");
        let mut genesis = Genesis::development(proposer);
        genesis.accounts.push(GenesisAccount {
            address: user.account(),
            balance: 100 * PLX,
        });
        let (chain, block) = Chain::open(store, &genesis, b"context".to_vec()).unwrap();
        assert_eq!(block.header.height, 0);
        Fixture {
            _dir: dir,
            chain,
            genesis,
            user,
            proposer,
        }
    }

    fn transfer(f: &Fixture, nonce: u64) -> SignedTransaction {
        let (chain_id, fee) = (f.genesis.chain_id, f.genesis.params.min_fee);
        crate::testing::transfer(&f.user, f.proposer, chain_id, nonce, fee)
    }

    /// Build a block on `parent` with `txs` at `timestamp_ms`, remember it, return it.
    fn build(f: &Fixture, parent: Hash, txs: Vec<SignedTransaction>, timestamp_ms: u64) -> Block {
        let (height, _) = f.chain.parent_info(&parent).unwrap();
        let env = BlockEnv {
            height: height + 1,
            timestamp_ms,
            proposer: f.proposer,
        };
        let mut built = f.chain.build(&parent, &env, txs, 100).unwrap();
        built.header.consensus = timestamp_ms.to_le_bytes().to_vec();
        let block = Block {
            header: built.header.clone(),
            txs: std::mem::take(&mut built.txs),
        };
        f.chain.remember(&block, built);
        block
    }

    #[test]
    fn reopening_with_the_same_genesis_works_and_with_other_accounts_is_refused() {
        let f = fixture();
        let store = Arc::clone(f.chain.store());
        drop(f.chain);
        let (again, _) = Chain::open(Arc::clone(&store), &f.genesis, b"context".to_vec()).unwrap();
        drop(again);
        // Same chain id, time and validators: only an account differs.
        let mut other = f.genesis;
        other.accounts.push(GenesisAccount {
            address: Keypair::from_label("stranger").account(),
            balance: PLX,
        });
        let err = Chain::open(store, &other, b"context".to_vec())
            .err()
            .unwrap();
        assert!(matches!(err, ChainError::GenesisMismatch { .. }), "{err}");
    }

    #[test]
    fn blocks_build_on_unfinalized_parents_and_commit_the_root_they_announced() {
        let f = fixture();
        let genesis = f.chain.genesis_digest();
        let one = build(&f, genesis, vec![transfer(&f, 0)], 10);
        let two = build(&f, one.digest(), vec![transfer(&f, 1)], 20);
        assert_eq!(one.txs.len(), 1);
        assert_eq!(two.txs.len(), 1);
        // The second block did not include the first one's transaction again.
        assert!(
            f.chain
                .pending_txs(&two.digest())
                .contains(&one.txs[0].hash())
        );

        for block in [&one, &two] {
            match f.chain.finalize(block).unwrap() {
                Finalized::Committed { root, .. } => assert_eq!(root, block.header.state_root),
                Finalized::AlreadyCommitted => panic!("first delivery must commit"),
            }
        }
        assert_eq!(f.chain.committed(), (2, two.digest()));
        assert_eq!(f.chain.pending_len(), 0);
        // Redelivery changes nothing.
        assert!(matches!(
            f.chain.finalize(&one).unwrap(),
            Finalized::AlreadyCommitted
        ));
    }

    #[test]
    fn a_verifier_re_executes_a_block_and_refuses_a_wrong_root() {
        let proposer_side = fixture();
        let verifier_side = fixture();
        let block = build(
            &proposer_side,
            proposer_side.chain.genesis_digest(),
            vec![transfer(&proposer_side, 0)],
            10,
        );
        verifier_side.chain.execute(&block).unwrap();
        assert!(verifier_side.chain.knows(&block.digest()).unwrap());

        let mut forged = block.clone();
        forged.header.state_root = Hash([7; 32]);
        let error = verifier_side.chain.execute(&forged).unwrap_err();
        assert!(matches!(error, ChainError::RootMismatch { .. }));
        assert!(error.is_permanent());

        let mut stale = block;
        stale.header.timestamp_ms = 0;
        let error = verifier_side.chain.execute(&stale).unwrap_err();
        assert!(matches!(error, ChainError::Malformed(_)));
    }

    #[test]
    fn a_block_on_an_unknown_parent_waits_and_one_on_a_dead_fork_is_refused() {
        let f = fixture();
        let genesis = f.chain.genesis_digest();
        let mut orphan = build(&f, genesis, vec![], 10);
        orphan.header.parent = Hash([9; 32]);
        let error = f.chain.execute(&orphan).unwrap_err();
        assert!(matches!(error, ChainError::UnknownParent(_)));
        assert!(!error.is_permanent());

        // Two forks on genesis; finalizing one drops the other and its child.
        let left = build(&f, genesis, vec![], 10);
        let right = build(&f, genesis, vec![], 11);
        let right_child = build(&f, right.digest(), vec![], 12);
        let left_child = build(&f, left.digest(), vec![], 13);
        f.chain.finalize(&left).unwrap();
        assert!(!f.chain.knows(&right.digest()).unwrap());
        assert!(!f.chain.knows(&right_child.digest()).unwrap());
        assert!(f.chain.knows(&left_child.digest()).unwrap());

        let mut late = right_child;
        late.header.parent = genesis;
        late.header.height = 1;
        let error = f.chain.execute(&late).unwrap_err();
        assert!(matches!(error, ChainError::DeadFork(_)));
        assert!(error.is_permanent());
    }

    #[test]
    fn a_finalized_block_nobody_verified_is_executed_on_the_committed_state() {
        let builder = fixture();
        let follower = fixture();
        let block = build(
            &builder,
            builder.chain.genesis_digest(),
            vec![transfer(&builder, 0)],
            10,
        );
        assert!(matches!(
            follower.chain.finalize(&block).unwrap(),
            Finalized::Committed { .. }
        ));
        assert_eq!(follower.chain.committed(), (1, block.digest()));
    }

    #[test]
    fn a_store_from_another_genesis_is_refused() {
        let f = fixture();
        let mut other = f.genesis.clone();
        other.chain_id += 1;
        let error = Chain::open(f.chain.store().clone(), &other, b"context".to_vec()).unwrap_err();
        assert!(matches!(error, ChainError::GenesisMismatch { .. }));
    }
}
