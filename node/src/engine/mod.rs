//! Wire commonware's consensus, marshal, broadcast, resolver and p2p around the chain.
//!
//! This is the only module that imports `commonware_*`. The shape:
//!
//! ```text
//! mempool ─► App::propose / App::verify        (app.rs: build on / re-execute over the
//!              ▲ wrapped by marshal Deferred     parent's post-state, chain.rs)
//!              │ (automaton, relay, reporter)
//!            simplex::Engine ── votes / certificates / resolver channels ──► p2p
//!            marshal Actor ◄── buffered broadcast (blocks) + resolver (backfill)
//!              │ Update::Block(block, ack), height order, at least once
//!              ▼
//!            Finalizer: commit durably → ack → publish (finalizer.rs)
//! ```
//!
//! p2p channels (each with a per-peer [`channel_quota`]): [`VOTES`], [`CERTIFICATES`],
//! [`RESOLVER`] for simplex, [`BROADCAST`] for blocks, [`BACKFILL`] for marshal's
//! resolver, [`TRANSACTIONS`] to relay admitted transactions to the next leaders.
//! Marshal keeps finalizations by height in an archive (`certificates`: prunable on
//! nodes that prune), and its finalized blocks in the chain's store (`blocks`): a block
//! is stored once, held until its state commits and archived with it.
//! The validator set of each consensus epoch is the one the ledger chose from bonded
//! stake ([`epochs`]: an epoch-scoped certificate provider and one simplex instance per
//! epoch); a chain whose genesis fixes the set runs one endless epoch
//! ([`EPOCH_LENGTH`]). A full node runs marshal alone (`start_unbuffered`), asking the
//! validators for each next finalization; a synced node starts marshal from a floor
//! finalization.

mod app;
pub mod block;
mod blocks;
mod certificates;
pub mod epochs;
mod finalizer;
mod gossip;
mod metrics;

use std::{
    num::{NonZeroU64, NonZeroUsize},
    sync::{Arc, Mutex},
    time::Duration,
};

use commonware_broadcast::buffered;
use commonware_consensus::{
    marshal::{
        self,
        core::Actor as MarshalActor,
        resolver::p2p as marshal_resolver,
        standard::{Deferred, Standard},
    },
    simplex,
    types::{Height, ViewDelta},
};
use commonware_cryptography::{ChaCha20Poly1305, Digested, Digestible as _, Signer as _, ed25519};
use commonware_p2p::{Blocker, Ingress, Manager, Receiver, Sender, authenticated::discovery};
use commonware_parallel::Sequential;
use commonware_runtime::{
    Clock, Metrics, Network as RuntimeNetwork, Quota, Resolver, Runner as _, Spawner, Storage,
    Supervisor as _, buffer::paged::CacheRef, tokio as tokio_runtime,
};
use commonware_storage::{
    archive::{immutable, prunable},
    translator::EightCap,
};
use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{
    Hostname, NZDuration, NZU16, NZU32, NZU64, NZUsize, ordered::Set, vec::NonEmptyVec,
};
use plexus_storage::Store;
use plexus_types::{AccountId, finality::FinalityCertificate};
use rand_core::CryptoRng;
use tokio::sync::broadcast;
use tracing::{info, warn};

pub use block::{ConsensusBlock, Digest};
pub use finalizer::FinalizerMailbox;
pub use metrics::NodeMetrics;

use crate::{
    CONSENSUS_DIR, NodeConfig, NodeError, NodeHandle, STATE_FILE, SUBSCRIBER_BUFFER, StatusCell,
    chain::Chain,
    ensure_dir,
    mempool::Mempool,
    p2p::{AddressError, Endpoint, Profile},
};

/// Identity and consensus key type (ed25519, the same keys as accounts).
pub type PublicKey = ed25519::PublicKey;
/// The certificate scheme: ed25519 signatures, attributable, no DKG.
pub type Scheme = simplex::scheme::ed25519::Scheme;
/// The context simplex hands the application, embedded in every block header.
pub type ConsensusContext = simplex::types::Context<Digest, PublicKey>;
/// A finalization certificate.
pub type Finalization = simplex::types::Finalization<Scheme, Digest>;

/// p2p channel for simplex votes.
pub const VOTES: u64 = 0;
/// p2p channel for simplex certificates.
pub const CERTIFICATES: u64 = 1;
/// p2p channel for simplex's certificate resolver.
pub const RESOLVER: u64 = 2;
/// p2p channel for block broadcast.
pub const BROADCAST: u64 = 3;
/// p2p channel for marshal's block backfill.
pub const BACKFILL: u64 = 4;
/// p2p channel for relaying transactions between validators.
pub const TRANSACTIONS: u64 = 5;

/// Heights of the one epoch of a chain whose genesis fixes the validator set
/// (consensus epoch length 0): it spans the whole chain.
pub const EPOCH_LENGTH: NonZeroU64 = NZU64!(u64::MAX);

/// Messages per second each peer may send on each channel (a realistic bound: far
/// above what consensus needs, far below what would let start-up stall).
pub fn channel_quota() -> Quota {
    Quota::per_second(NZU32!(1_024))
}

/// The largest message any channel carries, for `validators` validators.
pub fn max_message_size(validators: usize) -> u32 {
    let n = u32::try_from(validators.max(1)).unwrap_or(u32::MAX);
    let consensus = simplex::max_payload_size::<Scheme, Digest>(n);
    let blocks = marshal::max_payload_size::<Standard<ConsensusBlock>, Scheme>(n, &());
    commonware_p2p::max_message_size(&[consensus, blocks, gossip::MAX_GOSSIP_BYTES])
}

/// The consensus signing namespace of a chain.
fn namespace(chain_id: u64) -> Vec<u8> {
    plexus_types::finality::consensus_namespace(chain_id)
}

/// Marshal's mailbox: finalized blocks and their certificates by height.
pub type MarshalMailbox = marshal::core::Mailbox<Scheme, Standard<ConsensusBlock>>;

/// The finality certificate marshal stored for `height`, as a light client checks it.
pub(crate) async fn certificate(
    marshal: &MarshalMailbox,
    height: u64,
) -> Option<FinalityCertificate> {
    marshal
        .get_finalization(Height::new(height))
        .await
        .map(|f| certificate_parts(&f))
}

/// The finalization marshal stored for `height`, in commonware's encoding: what a
/// node starting from a synced state needs as its floor.
pub(crate) async fn finalization_bytes(marshal: &MarshalMailbox, height: u64) -> Option<Vec<u8>> {
    use commonware_codec::Encode as _;
    marshal
        .get_finalization(Height::new(height))
        .await
        .map(|f| f.encode().to_vec())
}

/// Decode a finalization in commonware's encoding and check it as a light client
/// does: a quorum of its epoch's validators (`validators(epoch)`, the sets the chain
/// chose) signed its payload, which must be `digest` when given (the header of the
/// block a state was synced at). The floor a synced node starts marshal from.
pub fn check_floor(
    bytes: &[u8],
    chain_id: u64,
    validators: impl Fn(u64) -> Option<Vec<AccountId>>,
    digest: Option<&plexus_types::Hash>,
) -> Result<Finalization, NodeError> {
    use commonware_codec::Decode as _;
    let cfg = <Scheme as commonware_cryptography::certificate::Verifier>::certificate_codec_config_unbounded();
    let finalization = Finalization::decode_cfg(bytes.to_vec(), &cfg)
        .map_err(|e| NodeError::Floor(format!("undecodable finalization: {e}")))?;
    let parts = certificate_parts(&finalization);
    let validators = validators(parts.epoch).ok_or_else(|| {
        NodeError::Floor(format!(
            "the validator set of consensus epoch {} is unknown",
            parts.epoch
        ))
    })?;
    let digest = digest.copied().unwrap_or(parts.payload);
    plexus_types::finality::verify_finality(chain_id, &validators, &digest, &parts)
        .map_err(|e| NodeError::Floor(e.to_string()))?;
    Ok(finalization)
}

/// A finalization as a light client checks it ([`plexus_types::finality`]): the
/// proposal's parts and each signer's index and signature.
pub fn certificate_parts(finalization: &Finalization) -> FinalityCertificate {
    let proposal = &finalization.proposal;
    let certificate = &finalization.certificate;
    FinalityCertificate {
        epoch: proposal.round.epoch().get(),
        view: proposal.round.view().get(),
        parent_view: proposal.parent.get(),
        payload: block::from_digest(&proposal.payload),
        signers: certificate.signers.iter().map(|p| p.get()).collect(),
        signatures: certificate
            .signatures
            .iter()
            .map(|s| {
                let bytes: [u8; 64] = s
                    .get()
                    .map(|s| s.as_ref().try_into().unwrap_or([0; 64]))
                    .unwrap_or([0; 64]);
                plexus_types::Signature(bytes)
            })
            .collect(),
    }
}

/// The validator set (consensus identities) of the genesis. The seam for per-epoch
/// sets: today every epoch uses this one.
pub fn validator_set(genesis: &plexus_ledger::Genesis) -> Result<Set<PublicKey>, NodeError> {
    let keys = genesis
        .validators
        .iter()
        .map(|v| public_key(&v.public_key))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Set::from_iter_dedup(keys))
}

/// The genesis block every node of `genesis`'s chain starts from (the first
/// validator's consensus context in its header): what a node syncing its state
/// records as block 0.
pub fn genesis_block(genesis: &plexus_ledger::Genesis) -> Result<plexus_types::Block, NodeError> {
    let leader = validator_set(genesis)?
        .iter()
        .next()
        .cloned()
        .ok_or_else(|| NodeError::Genesis("the genesis has no validators".into()))?;
    let consensus = block::encode_context(&block::genesis_context(leader));
    Ok(crate::chain::genesis_block(genesis, consensus)?.0)
}

/// The consensus public key of an account.
pub fn public_key(account: &AccountId) -> Result<PublicKey, NodeError> {
    use commonware_codec::DecodeExt as _;
    PublicKey::decode(account.0.to_vec()).map_err(|_| NodeError::BadValidatorKey(*account))
}

fn private_key(config: &NodeConfig) -> Result<ed25519::PrivateKey, NodeError> {
    use commonware_codec::DecodeExt as _;
    ed25519::PrivateKey::decode(config.key.secret_bytes().to_vec())
        .map_err(|_| NodeError::BadValidatorKey(config.key.account()))
}

/// The channels a node's consensus runs over, one sender/receiver pair each.
pub struct Channels<S, R> {
    /// [`VOTES`].
    pub votes: (S, R),
    /// [`CERTIFICATES`].
    pub certificates: (S, R),
    /// [`RESOLVER`].
    pub resolver: (S, R),
    /// [`BROADCAST`].
    pub broadcast: (S, R),
    /// [`BACKFILL`].
    pub backfill: (S, R),
    /// [`TRANSACTIONS`].
    pub transactions: (S, R),
}

/// Timeouts derived from the block interval: a leader waits out the interval before
/// proposing, so every timeout allows for it.
pub(crate) struct Timing {
    leader: Duration,
    certification: Duration,
    retry: Duration,
    skip: Duration,
}

impl Timing {
    fn for_interval(interval_ms: u64) -> Self {
        let interval = Duration::from_millis(interval_ms);
        let leader = interval + Duration::from_secs(1);
        let certification = leader + Duration::from_secs(1);
        let retry = Duration::from_secs(5);
        let skip = certification.max(retry) + Duration::from_secs(5);
        Self {
            leader,
            certification,
            retry,
            skip,
        }
    }
}

const MAILBOX_SIZE: NonZeroUsize = NZUsize!(1_024);
const PAGE_SIZE: std::num::NonZeroU16 = NZU16!(4_096);
const PAGE_CACHE_PAGES: NonZeroUsize = NZUsize!(1_024);
const REPLAY_BUFFER: NonZeroUsize = NZUsize!(1024 * 1024);
const WRITE_BUFFER: NonZeroUsize = NZUsize!(64 * 1024);
const IMMUTABLE_ITEMS_PER_SECTION: NonZeroU64 = NZU64!(65_536);
const PRUNABLE_ITEMS_PER_SECTION: NonZeroU64 = NZU64!(4_096);
/// A pruning node's certificate archive drops whole sections: one per prune turn
/// ([`finalizer::PRUNE_EVERY`] heights).
const PRUNED_CERTIFICATES_PER_SECTION: NonZeroU64 = NZU64!(finalizer::PRUNE_EVERY);
const FREEZER_TABLE_INITIAL_SIZE: u32 = 4_096;
const FREEZER_TABLE_RESIZE_FREQUENCY: u8 = 4;
const FREEZER_TABLE_RESIZE_CHUNK_SIZE: u32 = 4_096;
const FREEZER_VALUE_TARGET_SIZE: u64 = 256 * 1024 * 1024;
const VIEW_RETENTION: ViewDelta = ViewDelta::new(256);
const MAX_REPAIR: NonZeroUsize = NZUsize!(16);
const MAX_PENDING_ACKS: NonZeroUsize = NZUsize!(16);
const FETCH_TIMEOUT: Duration = Duration::from_secs(2);
const FETCH_RETRY_DELAY: Duration = Duration::from_millis(100);

/// Start a node whose consensus runs over `channels`, blocking misbehaving peers with
/// `blocker` and learning the peer set from `peers`. Works with any runtime and any
/// p2p (authenticated in [`start`], simulated in tests).
///
/// The node's tasks are children of `context`: they run until the task that called
/// this function ends or is aborted (a crash, in tests).
pub async fn start_with<E, S, R, B, P>(
    context: E,
    config: NodeConfig,
    channels: Channels<S, R>,
    blocker: B,
    peers: P,
) -> Result<NodeHandle, NodeError>
where
    E: Spawner + Metrics + Clock + Storage + CryptoRng + rand_core::Rng,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    B: Blocker<PublicKey = PublicKey>,
    P: Manager<PublicKey = PublicKey>,
{
    let genesis = Arc::new(config.genesis.clone());
    let signer = private_key(&config)?;
    let me = signer.public_key();
    let genesis_set = validator_set(&genesis)?;
    let fixed = genesis.params.consensus.epoch_length == 0;
    // On a chain with a fixed set only its validators vote; where the set follows
    // stake, any key may run as a validator and votes in the epochs it was chosen for.
    if !config.full && fixed && genesis_set.position(&me).is_none() {
        return Err(NodeError::NotAValidator(config.key.account()));
    }
    let namespace = namespace(genesis.chain_id);
    let leader = genesis_set
        .iter()
        .next()
        .cloned()
        .ok_or_else(|| NodeError::Genesis("the genesis has no validators".into()))?;
    let partition = format!("plexus_{}", hex::encode(&config.key.account().0[..8]));

    // State.
    ensure_dir(&config.data_dir)?;
    let store = Arc::new(Store::open(config.data_dir.join(STATE_FILE))?);
    let (chain, genesis_block) = Chain::open(
        store,
        &genesis,
        block::encode_context(&block::genesis_context(leader)),
    )?;
    let chain = Arc::new(chain);
    let genesis_block = ConsensusBlock::new(genesis_block)
        .map_err(|e| NodeError::Genesis(format!("genesis block: {e}")))?;
    let genesis_digest = genesis_block.digest();

    let metrics = Arc::new(NodeMetrics::new(&context));
    let (committed, _) = chain.committed();
    metrics.set_finalized_height(committed);
    let mempool = Arc::new(Mutex::new(Mempool::new(config.mempool)));
    let (events, _) = broadcast::channel(SUBSCRIBER_BUFFER);
    let status = Arc::new(StatusCell::default());
    status.set_started(committed);
    let (finalizer_mailbox, updates) = FinalizerMailbox::new();
    let admission = crate::Admission {
        chain: chain.clone(),
        mempool: mempool.clone(),
        metrics: metrics.clone(),
    };
    let (gossip_sender, gossip_receiver) = futures::channel::mpsc::unbounded();

    let interval_ms = genesis.params.block_interval_ms.max(1);
    let timing = Timing::for_interval(interval_ms);
    let application = app::App::new(
        chain.clone(),
        mempool.clone(),
        config.key.account(),
        interval_ms,
        config.max_block_txs,
        metrics.clone(),
    );

    // Missing blocks and certificates are fetched by the resolver.
    let (resolver_rx, resolver) = marshal_resolver::init(
        context.child("backfill"),
        marshal_resolver::Config {
            public_key: me.clone(),
            peer_provider: peers.clone(),
            blocker: blocker.clone(),
            mailbox_size: MAILBOX_SIZE,
            fetch_timeout: NZDuration!(FETCH_TIMEOUT),
            // A full node at the tip waits for heights not finalized yet: it asks
            // again at most four times a block interval.
            fetch_retry_delay: match config.full {
                true => FETCH_RETRY_DELAY.max(Duration::from_millis(interval_ms / 4)),
                false => FETCH_RETRY_DELAY,
            },
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );

    // Marshal: finalizations by height, in an immutable archive, or in a prunable one
    // when the node prunes. A data folder keeps the kind it was created with.
    let page_cache = CacheRef::new(PAGE_SIZE, PAGE_CACHE_PAGES);
    let finalizations_by_height =
        finalizations_archive(&context, &partition, &page_cache, config.prune.is_some()).await?;
    // Finalized blocks live in the store alone: held until their state commits, then
    // archived. Nodes from before kept a second copy in a marshal archive: remove it.
    remove_legacy_block_archive(&context, &partition).await;
    let finalized_blocks = blocks::StoreBlocks::new(chain.store().clone());
    let epocher = epochs::epocher(genesis.params.consensus.epoch_length);
    let sets = epochs::Sets::new(
        namespace.clone(),
        chain.clone(),
        &genesis,
        (!config.full).then_some(signer),
    );
    // A node whose state was synced at a height starts marshal from that height's
    // finalization: it never fetches the blocks below.
    let mut synced_floor = None;
    let start = match &config.floor {
        Some(bytes) => {
            let floor = check_floor(bytes, genesis.chain_id, |e| sets.keys(e), None)?;
            synced_floor = Some(floor.clone());
            let digest = block::from_digest(&floor.proposal.payload);
            let height = chain.store().height_of(&digest)?.ok_or_else(|| {
                NodeError::Floor(format!(
                    "the floor finalizes block {digest}, which the store does not hold"
                ))
            })?;
            info!(height, "starting from a synced state");
            marshal::Start::Floor(floor)
        }
        None => marshal::Start::Genesis(Digested::precomputed(genesis_block, genesis_digest)),
    };
    let (marshal, marshal_mailbox, _floor) =
        MarshalActor::<_, Standard<ConsensusBlock>, _, _, _, _, _>::init(
            context.child("marshal"),
            finalizations_by_height,
            finalized_blocks,
            marshal::Config {
                provider: sets.clone(),
                epocher: epocher.clone(),
                start,
                partition_prefix: format!("{partition}-marshal"),
                mailbox_size: MAILBOX_SIZE,
                view_retention: VIEW_RETENTION,
                prunable_items_per_section: PRUNABLE_ITEMS_PER_SECTION,
                page_cache: page_cache.clone(),
                replay_buffer: REPLAY_BUFFER,
                key_write_buffer: WRITE_BUFFER,
                value_write_buffer: WRITE_BUFFER,
                block_codec_config: (),
                max_repair: MAX_REPAIR,
                max_pending_acks: MAX_PENDING_ACKS,
                strategy: Sequential,
            },
        )
        .await;

    let (boundaries_sender, boundaries) = futures::channel::mpsc::unbounded();
    let finalizer = finalizer::Finalizer {
        chain: chain.clone(),
        mempool: mempool.clone(),
        events: events.clone(),
        status: status.clone(),
        metrics: metrics.clone(),
        prune: config.prune.map(|keep| (keep, marshal_mailbox.clone())),
        boundaries: boundaries_sender,
        epocher: epocher.clone(),
    };
    context
        .child("finalizer")
        .spawn(move |context| finalizer.run(context, updates));
    let relay = admission.clone();
    context
        .child("gossip")
        .spawn(move |_| gossip::run(channels.transactions, gossip_receiver, relay));
    let certificates = marshal_mailbox.clone();
    let (evidence_sender, evidence) = futures::channel::mpsc::unbounded();
    let followers = config
        .p2p
        .followers
        .iter()
        .map(public_key)
        .collect::<Result<Vec<_>, _>>()?;
    let application = match config.full {
        false => {
            // A validator (in this epoch's set or not): blocks travel by buffered
            // broadcast, each epoch's simplex orders them.
            let (buffer, buffer_mailbox) = buffered::Engine::new(
                context.child("buffer"),
                buffered::Config {
                    public_key: me.clone(),
                    mailbox_size: MAILBOX_SIZE,
                    deque_size: 16,
                    priority: false,
                    codec_config: (),
                    peer_provider: peers.clone(),
                    strategy: Sequential,
                },
            );
            buffer.start(channels.broadcast);
            let deferred = Deferred::new(
                context.child("application"),
                application,
                marshal_mailbox.clone(),
                epocher.clone(),
            );
            // Start marshal before consensus, so replayed consensus events find
            // their consumers running.
            marshal.start(
                finalizer_mailbox.clone(),
                buffer_mailbox,
                (resolver_rx, resolver),
            );
            let (key, admission, gossip) =
                (config.key.clone(), admission.clone(), gossip_sender.clone());
            let chain_id = genesis.chain_id;
            context.child("evidence").spawn(move |_| {
                epochs::report_evidence(key, chain_id, admission, gossip, evidence)
            });
            Some(deferred)
        }
        true => {
            // A full node: no votes and no proposals. Marshal fetches each next
            // finalization from the validators, checks its certificate and backfills
            // the blocks; the finalizer executes them like a validator's.
            drop(application);
            drop(evidence);
            let (_, receiver) = channels.broadcast;
            context.child("broadcast").spawn(move |_| drain(receiver));
            marshal.start_unbuffered(finalizer_mailbox.clone(), (resolver_rx, resolver));
            None
        }
    };
    let orchestrator = epochs::Orchestrator {
        context: context.child("epochs"),
        chain: chain.clone(),
        sets,
        epocher,
        marshal: marshal_mailbox,
        application,
        blocker,
        manager: peers,
        me: (!config.full).then_some(me),
        followers,
        genesis_digest,
        floor: synced_floor,
        partition,
        page_cache,
        timing,
        tick: Duration::from_millis(interval_ms).min(FOLLOW_TICK),
        evidence: evidence_sender,
    };
    context.child("orchestrator").spawn(move |_| {
        orchestrator.run(
            channels.votes,
            channels.certificates,
            channels.resolver,
            boundaries,
        )
    });

    info!(
        account = %config.key.account(),
        genesis_validators = genesis_set.len(),
        full = config.full,
        committed,
        "node started"
    );
    Ok(NodeHandle {
        inner: Arc::new(crate::HandleInner {
            account: config.key.account(),
            genesis,
            chain,
            mempool,
            admission,
            gossip: gossip_sender,
            events,
            status,
            metrics,
            finalizer: finalizer_mailbox,
            marshal: certificates,
        }),
    })
}

/// How often a full node asks for the next finalizations, at most.
const FOLLOW_TICK: Duration = Duration::from_millis(250);
/// Most heights past its committed one a full node asks for at once (while catching
/// up; marshal repairs the blocks below a finalization it holds).
const FOLLOW_WINDOW: u64 = 64;

/// Ask marshal, every `tick`, for the finalizations of the next heights from the
/// validators; marshal retries each fetch until a validator has it. The window of
/// heights asked for doubles while every height asked for arrives within a tick (the
/// node is behind) and shrinks to what arrived otherwise, so a node at the tip keeps
/// one or two fetches open instead of polling for heights not finalized yet.
async fn follow<E: Clock>(
    context: E,
    chain: Arc<Chain>,
    marshal: MarshalMailbox,
    targets: NonEmptyVec<PublicKey>,
    tick: Duration,
) {
    let mut window = 1;
    loop {
        let (committed, _) = chain.committed();
        // Asking again for a height being fetched from the same targets is a no-op.
        for height in committed + 1..=committed + window {
            marshal.hint_finalized(Height::new(height), targets.clone());
        }
        context.sleep(tick).await;
        let progress = chain.committed().0.saturating_sub(committed);
        window = match progress >= window {
            true => (window * 2).min(FOLLOW_WINDOW),
            false => progress.max(1),
        };
    }
}

/// Read and drop what validators send on a channel a full node does not use.
async fn drain<R: Receiver>(mut receiver: R) {
    while receiver.recv().await.is_ok() {}
}

/// Open marshal's certificate store under `partition`: the prunable archive when the
/// folder has one or when a new folder is for a pruning node, else the immutable one.
async fn finalizations_archive<E>(
    context: &E,
    partition: &str,
    page_cache: &CacheRef,
    prune: bool,
) -> Result<certificates::Finalizations<E>, NodeError>
where
    E: Storage + Metrics + Clock,
{
    let codec = <Scheme as commonware_cryptography::certificate::Verifier>::certificate_codec_config_unbounded();
    let archive = format!("{partition}-finalizations");
    let pruned = format!("{partition}-finalizations-pruned");
    let exists = |name: String| async move {
        context
            .scan(&name)
            .await
            .is_ok_and(|blobs| !blobs.is_empty())
    };
    let has_archive = exists(format!("{archive}-freezer-table")).await;
    let has_pruned = exists(format!("{pruned}-key")).await;
    if has_pruned || (prune && !has_archive) {
        let archive = prunable::Archive::init(
            context.child("finalizations_by_height"),
            prunable::Config {
                translator: EightCap,
                metadata_partition: format!("{pruned}-metadata"),
                key_partition: format!("{pruned}-key"),
                key_page_cache: page_cache.clone(),
                value_partition: format!("{pruned}-value"),
                compression: None,
                codec_config: codec,
                items_per_section: PRUNED_CERTIFICATES_PER_SECTION,
                key_write_buffer: WRITE_BUFFER,
                value_write_buffer: WRITE_BUFFER,
                replay_buffer: REPLAY_BUFFER,
            },
        )
        .await
        .map_err(|e| NodeError::Runtime(format!("finalizations archive: {e}")))?;
        return Ok(certificates::Finalizations::Pruned(archive));
    }
    if prune {
        warn!(
            "this data folder was created by a node that keeps every height: its finality \
             certificates stay unpruned"
        );
    }
    let archive = immutable::Archive::init(
        context.child("finalizations_by_height"),
        archive_config(&archive, page_cache, codec),
    )
    .await
    .map_err(|e| NodeError::Runtime(format!("finalizations archive: {e}")))?;
    Ok(certificates::Finalizations::Archive(archive))
}

/// Remove the finalized-block archive marshal kept beside the store before blocks
/// moved into the store. Nothing to do on a node that never had one.
async fn remove_legacy_block_archive<E: Storage>(context: &E, partition: &str) {
    for suffix in [
        "metadata",
        "freezer-table",
        "freezer-key",
        "freezer-value",
        "ordinal",
    ] {
        let name = format!("{partition}-blocks-{suffix}");
        match context.remove(&name, None).await {
            Ok(()) => info!(partition = name, "removed the legacy block archive"),
            Err(commonware_runtime::Error::PartitionMissing(_)) => {}
            Err(e) => warn!(partition = name, error = %e, "cannot remove the legacy block archive"),
        }
    }
}

fn archive_config<C>(prefix: &str, page_cache: &CacheRef, codec_config: C) -> immutable::Config<C> {
    immutable::Config {
        metadata_partition: format!("{prefix}-metadata"),
        freezer_table_partition: format!("{prefix}-freezer-table"),
        freezer_table_initial_size: FREEZER_TABLE_INITIAL_SIZE,
        freezer_table_resize_frequency: FREEZER_TABLE_RESIZE_FREQUENCY,
        freezer_table_resize_chunk_size: FREEZER_TABLE_RESIZE_CHUNK_SIZE,
        freezer_key_partition: format!("{prefix}-freezer-key"),
        freezer_key_page_cache: page_cache.clone(),
        freezer_value_partition: format!("{prefix}-freezer-value"),
        freezer_value_target_size: FREEZER_VALUE_TARGET_SIZE,
        freezer_value_compression: None,
        ordinal_partition: format!("{prefix}-ordinal"),
        items_per_section: IMMUTABLE_ITEMS_PER_SECTION,
        freezer_key_write_buffer: WRITE_BUFFER,
        freezer_value_write_buffer: WRITE_BUFFER,
        ordinal_write_buffer: WRITE_BUFFER,
        replay_buffer: REPLAY_BUFFER,
        codec_config,
    }
}

/// Start a node on authenticated p2p with discovery: it listens on
/// `config.p2p.listen`, advertises `config.p2p.dialable()`, dials its bootstrappers and
/// learns every other validator's signed address from the peers it meets. The genesis
/// validators are the one tracked peer set (index 0), with the full nodes this node
/// serves (`config.p2p.followers`) as secondary peers. With `config.full` it follows
/// the validators as a full node instead of voting.
pub async fn start<E>(context: E, config: NodeConfig) -> Result<NodeHandle, NodeError>
where
    E: Spawner + Metrics + Clock + Storage + CryptoRng + rand_core::Rng + RuntimeNetwork + Resolver,
{
    let p2p_config = &config.p2p;
    p2p_config.check()?;
    let signer = private_key(&config)?;
    let me = signer.public_key();
    let participants = validator_set(&config.genesis)?;
    if !config.full
        && config.genesis.params.consensus.epoch_length == 0
        && participants.position(&me).is_none()
    {
        return Err(NodeError::NotAValidator(config.key.account()));
    }
    let followers = p2p_config.followers.len();
    let bootstrappers = p2p_config
        .bootstrappers
        .iter()
        .filter(|b| b.key != config.key.account())
        .map(|b| Ok((public_key(&b.key)?, ingress(&b.endpoint)?)))
        .collect::<Result<Vec<_>, NodeError>>()?;
    // Sets change by epoch: room for the largest set the chain allows, and for the
    // bonded operators tracked beside it.
    let (validators, operators) = match config.genesis.params.consensus.epoch_length {
        0 => (participants.len(), 0),
        _ => (
            usize::from(config.genesis.params.consensus.max_validators).max(participants.len()),
            epochs::MAX_SECONDARY_OPERATORS,
        ),
    };
    let set_size = validators + operators + followers + 1;
    let handshake = Cups::<_, ChaCha20Poly1305>::new(
        Sake {
            signer,
            synchrony_bound: Duration::from_secs(5),
            max_handshake_age: Duration::from_secs(10),
            version: sake::Version::V1,
        },
        cups::Version::V1,
    );
    let profile = match p2p_config.profile {
        Profile::Recommended => discovery::Config::recommended,
        Profile::Local => discovery::Config::local,
    };
    let mut p2p = profile(
        handshake,
        &namespace(config.genesis.chain_id),
        p2p_config.listen,
        ingress(&p2p_config.dialable())?,
        bootstrappers,
        NonZeroUsize::new(set_size).unwrap_or(NZUsize!(1)),
        max_message_size(validators),
        MAILBOX_SIZE,
    );
    p2p.allow_private_ips = p2p_config.private_allowed();
    // Each epoch's validators are the primary peers (dialed and gossiped); the full
    // nodes this node serves and bonded validators are secondary (accepted, and served
    // blocks and certificates). The epoch orchestrator tracks them as epochs change.
    let (mut network, oracle) = discovery::Network::new(context.child("network"), p2p);
    let quota = channel_quota();
    let channels = Channels {
        votes: network.register(VOTES, quota),
        certificates: network.register(CERTIFICATES, quota),
        resolver: network.register(RESOLVER, quota),
        broadcast: network.register(BROADCAST, quota),
        backfill: network.register(BACKFILL, quota),
        transactions: network.register(TRANSACTIONS, quota),
    };
    network.start();
    start_with(context, config, channels, oracle.clone(), oracle).await
}

/// commonware's form of an endpoint (hostnames checked against RFC 1123 again).
fn ingress(endpoint: &Endpoint) -> Result<Ingress, NodeError> {
    Ok(match endpoint {
        Endpoint::Socket(addr) => Ingress::Socket(*addr),
        Endpoint::Dns { host, port } => Ingress::Dns {
            host: Hostname::new(host.clone()).map_err(|_| AddressError::BadHost(host.clone()))?,
            port: *port,
        },
    })
}

/// Run a node on commonware's tokio runtime until `on_ready` returns, then stop it.
///
/// `on_ready` runs inside the same tokio runtime with the started node, so a binary
/// can serve its HTTP API there (`tokio::spawn` works) and return when asked to stop
/// (for example on Ctrl-C). Consensus storage lives under `data_dir/consensus`.
pub fn run_blocking<F, Fut>(config: NodeConfig, on_ready: F) -> Result<(), NodeError>
where
    F: FnOnce(NodeHandle) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let storage = config.data_dir.join(CONSENSUS_DIR);
    ensure_dir(&storage)?;
    let runtime = tokio_runtime::Config::new()
        .with_storage_directory(storage)
        .with_catch_panics(false);
    let runner = tokio_runtime::Runner::new(runtime);
    runner.start(|context| async move {
        let handle = start(context.child("node"), config).await?;
        on_ready(handle).await;
        if let Err(error) = context.stop(0, Some(Duration::from_secs(10))).await {
            warn!(?error, "node did not stop cleanly");
        }
        Ok(())
    })
}
