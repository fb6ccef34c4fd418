//! Consensus epochs: the validator set of each epoch comes from the chain's state,
//! and one simplex instance runs per epoch (commonware's committee rotation).
//!
//! - [`Sets`] is the certificate [`Provider`] marshal checks finalizations with: the
//!   set of epoch `e` is what the ledger wrote at the last block of epoch `e − 1`
//!   ([`plexus_ledger::validators`]), so a certificate of any epoch is checked against
//!   the set that epoch really had.
//! - `Orchestrator` enters an epoch: it tracks the epoch's peers, then either runs
//!   simplex for it (this node's key is in the set) or follows the validators as a
//!   full node does. When the finalizer commits the last block of the epoch, it stops
//!   that instance and enters the next one, whose floor is that block. Votes,
//!   certificates and simplex's resolver are multiplexed by epoch; a message from a
//!   later epoch means the network moved on, and marshal is asked for the boundary
//!   finalization from its sender.
//! - `WithEvidence` passes simplex's activity on and turns its reports of conflicting
//!   votes into [`DoubleSign`] evidence, which `report_evidence` submits as a
//!   `ReportDoubleSign` transaction from this node's account.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use commonware_actor::Feedback;
use commonware_consensus::{
    Reporter,
    simplex::{
        self,
        config::{Floor, ForwardPolicy, SkipBudget, SkipPolicy},
        elector::RoundRobin,
        types::{Activity, Finalize, Notarize},
    },
    types::{Epoch, Epocher as _, FixedEpocher, Height},
};
use commonware_cryptography::{
    Sha256,
    certificate::{Provider, Scoped},
    ed25519,
};
use commonware_p2p::{
    Manager, Receiver, Sender, TrackedPeers,
    utils::mux::{Builder as _, MuxHandle, Muxer},
};
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage, buffer::paged::CacheRef};
use commonware_utils::{NZDuration, ordered::Set, vec::NonEmptyVec};
use futures::{StreamExt as _, channel::mpsc};
use plexus_ledger::validators;
use plexus_types::{
    AccountId, Keypair, Payload, SignedTransaction, Transaction,
    finality::{DoubleSign, SignedVote, VoteKind},
};
use rand_core::CryptoRng;
use tracing::{debug, info, warn};

use super::{
    ConsensusBlock, Digest, FETCH_RETRY_DELAY, FETCH_TIMEOUT, MAILBOX_SIZE, MarshalMailbox,
    PublicKey, REPLAY_BUFFER, Scheme, Timing, VIEW_RETENTION, WRITE_BUFFER, block, public_key,
};
use crate::{Admission, chain::Chain};

/// The epochs of a chain: `length` heights each, or one endless epoch for a chain
/// whose genesis fixes the set (epoch length 0).
pub fn epocher(length: u64) -> FixedEpocher {
    FixedEpocher::new(
        std::num::NonZeroU64::new(length.max(2))
            .filter(|_| length != 0)
            .unwrap_or(super::EPOCH_LENGTH),
    )
}

/// The validator sets of every epoch, read from the committed state.
#[derive(Clone)]
pub struct Sets {
    namespace: Arc<Vec<u8>>,
    chain: Arc<Chain>,
    signer: Option<ed25519::PrivateKey>,
    fixed: bool,
    genesis: Arc<Vec<AccountId>>,
    cache: Arc<Mutex<BTreeMap<u64, Arc<Scheme>>>>,
}

impl std::fmt::Debug for Sets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sets").field("fixed", &self.fixed).finish()
    }
}

impl Sets {
    /// The sets of `chain`; `signer` signs votes in the epochs whose set holds its key.
    pub(crate) fn new(
        namespace: Vec<u8>,
        chain: Arc<Chain>,
        genesis: &plexus_ledger::Genesis,
        signer: Option<ed25519::PrivateKey>,
    ) -> Self {
        Self {
            namespace: Arc::new(namespace),
            chain,
            signer,
            fixed: genesis.params.consensus.epoch_length == 0,
            genesis: Arc::new(genesis.validators.iter().map(|v| v.public_key).collect()),
            cache: Arc::default(),
        }
    }

    /// The consensus keys of `epoch`'s set, sorted; `None` until the boundary that
    /// chooses it is committed.
    pub fn keys(&self, epoch: u64) -> Option<Vec<AccountId>> {
        let epoch = if self.fixed { 0 } else { epoch };
        match validators::set(self.chain.store().as_ref(), epoch) {
            Ok(Some(keys)) => Some(keys),
            // A chain whose genesis predates stored sets.
            Ok(None) if epoch == 0 => {
                let mut keys = self.genesis.as_ref().clone();
                keys.sort_unstable();
                Some(keys)
            }
            Ok(None) => None,
            Err(error) => {
                warn!(%error, epoch, "cannot read the validator set");
                None
            }
        }
    }

    /// `epoch`'s set as consensus identities.
    pub fn participants(&self, epoch: u64) -> Option<Set<PublicKey>> {
        let keys = self.keys(epoch)?;
        let keys: Result<Vec<_>, _> = keys.iter().map(public_key).collect();
        keys.ok().map(Set::from_iter_dedup)
    }

    /// The scheme for `epoch`: a signer when this node's key is in the set.
    fn scheme(&self, epoch: u64) -> Option<Arc<Scheme>> {
        let key = if self.fixed { 0 } else { epoch };
        if let Some(scheme) = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Some(scheme.clone());
        }
        let participants = self.participants(epoch)?;
        let scheme = self
            .signer
            .clone()
            .and_then(|signer| Scheme::signer(&self.namespace, participants.clone(), signer))
            .unwrap_or_else(|| Scheme::verifier(&self.namespace, participants));
        let scheme = Arc::new(scheme);
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache.insert(key, scheme.clone());
        // Old epochs are checked rarely (a node catching up): keep the recent ones.
        while cache.len() > 16 {
            cache.pop_first();
        }
        Some(scheme)
    }
}

impl Provider for Sets {
    type Scope = Epoch;
    type Scheme = Scheme;

    fn scoped(&self, epoch: Epoch) -> Option<Scoped<Scheme>> {
        self.scheme(epoch.get()).map(Scoped::scheme)
    }
}

/// Passes simplex's activity on to `inner` and sends evidence of conflicting votes
/// to `evidence`.
#[derive(Clone)]
pub(crate) struct WithEvidence<R> {
    pub(crate) inner: R,
    pub(crate) keys: Arc<Vec<AccountId>>,
    pub(crate) epoch: u64,
    pub(crate) evidence: mpsc::UnboundedSender<DoubleSign>,
}

impl<R: Reporter<Activity = Activity<Scheme, Digest>>> Reporter for WithEvidence<R> {
    type Activity = Activity<Scheme, Digest>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        let evidence = match &activity {
            Activity::ConflictingNotarize(c) => {
                conflicting::<Notarize<Scheme, Digest>>(c, VoteKind::Notarize)
            }
            Activity::ConflictingFinalize(c) => {
                conflicting::<Finalize<Scheme, Digest>>(c, VoteKind::Finalize)
            }
            _ => None,
        };
        if let Some((kind, signer, view, first, second)) = evidence {
            match self.keys.get(signer as usize) {
                Some(key) => {
                    warn!(signer = %key, epoch = self.epoch, view, ?kind, "a validator signed two proposals in one round");
                    let _ = self.evidence.unbounded_send(DoubleSign {
                        kind,
                        epoch: self.epoch,
                        view,
                        signer: *key,
                        first,
                        second,
                    });
                }
                None => warn!(signer, "conflicting votes from an unknown signer index"),
            }
        }
        self.inner.report(activity)
    }
}

/// The parts of a vote both conflicting notarizes and finalizes have.
trait Vote: commonware_codec::Read<Cfg = ()> {
    fn parts(&self) -> (u32, u64, SignedVote);
}

fn vote_parts(
    proposal: &simplex::types::Proposal<Digest>,
    attestation: &commonware_cryptography::certificate::Attestation<Scheme>,
) -> (u32, u64, SignedVote) {
    let signature = attestation
        .signature
        .get()
        .and_then(|s| <[u8; 64]>::try_from(s.as_ref()).ok())
        .unwrap_or([0; 64]);
    (
        attestation.signer.get(),
        proposal.round.view().get(),
        SignedVote {
            parent_view: proposal.parent.get(),
            payload: block::from_digest(&proposal.payload),
            signature: plexus_types::Signature(signature),
        },
    )
}

impl Vote for Notarize<Scheme, Digest> {
    fn parts(&self) -> (u32, u64, SignedVote) {
        vote_parts(&self.proposal, &self.attestation)
    }
}

impl Vote for Finalize<Scheme, Digest> {
    fn parts(&self) -> (u32, u64, SignedVote) {
        vote_parts(&self.proposal, &self.attestation)
    }
}

/// The two votes of a conflicting pair (its encoding is the two votes, one after the
/// other; their fields are not public).
fn conflicting<V: Vote>(
    pair: &impl commonware_codec::Encode,
    kind: VoteKind,
) -> Option<(VoteKind, u32, u64, SignedVote, SignedVote)> {
    let mut buf = bytes::Bytes::from(pair.encode().to_vec());
    let first = V::read_cfg(&mut buf, &()).ok()?.parts();
    let second = V::read_cfg(&mut buf, &()).ok()?.parts();
    Some((kind, first.0, first.1, first.2, second.2))
}

/// Submit each piece of evidence once, as a `ReportDoubleSign` from `key`.
pub(crate) async fn report_evidence(
    key: Keypair,
    chain_id: u64,
    admission: Admission,
    gossip: mpsc::UnboundedSender<SignedTransaction>,
    mut evidence: mpsc::UnboundedReceiver<DoubleSign>,
) {
    let mut reported = BTreeSet::new();
    while let Some(e) = evidence.next().await {
        if !reported.insert(e.signer) {
            continue;
        }
        let payload = Payload::ReportDoubleSign { evidence: e };
        let (nonce, fee) = admission.next_nonce_and_fee(&key.account(), &payload);
        let tx = Transaction {
            chain_id,
            sender: key.account(),
            nonce,
            fee,
            payload,
        }
        .sign(&key);
        match admission.admit(tx.clone()) {
            Ok(hash) => {
                info!(%hash, "reported a double sign");
                let _ = gossip.unbounded_send(tx);
            }
            Err(error) => warn!(%error, "could not submit double-sign evidence"),
        }
    }
}

/// Most bonded operators tracked as secondary peers (besides the followers).
pub const MAX_SECONDARY_OPERATORS: usize = 256;

/// What the orchestrator runs each epoch with.
pub(crate) struct Orchestrator<E, B, M, A> {
    pub(crate) context: E,
    pub(crate) chain: Arc<Chain>,
    pub(crate) sets: Sets,
    pub(crate) epocher: FixedEpocher,
    pub(crate) marshal: MarshalMailbox,
    /// The automaton, relay and reporter of every simplex instance (marshal's
    /// Deferred); `None` on a full node, which never votes.
    pub(crate) application: Option<A>,
    pub(crate) blocker: B,
    pub(crate) manager: M,
    /// Our key; `None` on a full node.
    pub(crate) me: Option<PublicKey>,
    /// Full nodes this node serves, tracked as secondary peers in every epoch.
    pub(crate) followers: Vec<PublicKey>,
    pub(crate) genesis_digest: Digest,
    /// The finalization a synced node started from (its epoch's floor when the
    /// boundary block below it was never fetched).
    pub(crate) floor: Option<super::Finalization>,
    pub(crate) partition: String,
    pub(crate) page_cache: CacheRef,
    pub(crate) timing: Timing,
    pub(crate) tick: Duration,
    pub(crate) evidence: mpsc::UnboundedSender<DoubleSign>,
}

/// The consensus channels, multiplexed by epoch.
struct Muxed<S: Sender> {
    votes: MuxHandle<S>,
    certificates: MuxHandle<S>,
    resolver: MuxHandle<S>,
}

/// What runs for the current epoch; dropping it stops it.
struct Active(Handle<()>);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<E, B, M, A> Orchestrator<E, B, M, A>
where
    E: Spawner + Metrics + Clock + Storage + CryptoRng + rand_core::Rng,
    B: commonware_p2p::Blocker<PublicKey = PublicKey>,
    M: Manager<PublicKey = PublicKey>,
    A: commonware_consensus::CertifiableAutomaton<
            Context = super::ConsensusContext,
            Digest = Digest,
        > + commonware_consensus::Relay<
            Digest = Digest,
            PublicKey = PublicKey,
            Plan = simplex::Plan<PublicKey>,
        > + Reporter<Activity = Activity<Scheme, Digest>>
        + Clone,
{
    /// Run epoch after epoch: enter the epoch of the next height to commit, and the
    /// next one whenever `boundaries` says the last block of the current one is
    /// committed.
    pub(crate) async fn run<S, R>(
        mut self,
        votes: (S, R),
        certificates: (S, R),
        resolver: (S, R),
        mut boundaries: mpsc::UnboundedReceiver<u64>,
    ) where
        S: Sender<PublicKey = PublicKey>,
        R: Receiver<PublicKey = PublicKey>,
    {
        let current = Arc::new(AtomicU64::new(0));
        let mut muxed = self.mux(votes, certificates, resolver, &current);
        let mut epoch = self.epoch_to_run();
        current.store(epoch, Ordering::Relaxed);
        let mut active = self.enter(epoch, &mut muxed).await;
        while let Some(height) = boundaries.next().await {
            let next = self.epoch_to_run();
            if next <= epoch {
                debug!(height, epoch, "boundary of an epoch already left");
                continue;
            }
            drop(active.take());
            epoch = next;
            current.store(epoch, Ordering::Relaxed);
            active = self.enter(epoch, &mut muxed).await;
        }
    }

    /// The epoch of the next height to commit.
    fn epoch_to_run(&self) -> u64 {
        let (committed, _) = self.chain.committed();
        self.epocher
            .containing(Height::new(committed + 1))
            .map_or(0, |info| info.epoch().get())
    }

    fn mux<S, R>(
        &self,
        votes: (S, R),
        certificates: (S, R),
        resolver: (S, R),
        current: &Arc<AtomicU64>,
    ) -> Muxed<S>
    where
        S: Sender<PublicKey = PublicKey>,
        R: Receiver<PublicKey = PublicKey>,
    {
        let backup = |(name, backup_name): (&'static str, &'static str),
                      (sender, receiver): (S, R)| {
            let (mux, handle, mut backups) =
                Muxer::builder(self.context.child(name), sender, receiver)
                    .with_backup()
                    .build();
            mux.start();
            let (marshal, epocher, current) =
                (self.marshal.clone(), self.epocher.clone(), current.clone());
            self.context.child(backup_name).spawn(move |_| async move {
                while let Some((theirs, (from, _))) = backups.recv().await {
                    let ours = current.load(Ordering::Relaxed);
                    if theirs <= ours {
                        continue;
                    }
                    // The network moved past our epoch: fetch its last block's
                    // finalization from a peer that is already ahead.
                    if let Some(last) = epocher.last(Epoch::new(ours)) {
                        marshal.hint_finalized(last, NonEmptyVec::new(from));
                    }
                }
            });
            handle
        };
        let votes = backup(("votes_mux", "votes_backup"), votes);
        let certificates = backup(("certificates_mux", "certificates_backup"), certificates);
        let (mux, resolver) =
            Muxer::new(self.context.child("resolver_mux"), resolver.0, resolver.1);
        mux.start();
        Muxed {
            votes,
            certificates,
            resolver,
        }
    }

    /// Track `epoch`'s peers and start what this node does in it.
    async fn enter<S: Sender<PublicKey = PublicKey>>(
        &mut self,
        epoch: u64,
        muxed: &mut Muxed<S>,
    ) -> Option<Active> {
        let Some(participants) = self.sets.participants(epoch) else {
            warn!(
                epoch,
                "the validator set of this epoch is unknown; waiting for its boundary"
            );
            return None;
        };
        let secondary = self.secondary_peers();
        let _ = self
            .manager
            .track(epoch, TrackedPeers::new(participants.clone(), secondary));
        let member = self
            .me
            .as_ref()
            .is_some_and(|me| participants.position(me).is_some());
        info!(
            epoch,
            validators = participants.len(),
            member,
            "entering consensus epoch"
        );
        if let (Some(application), true) = (&self.application, member) {
            let application = application.clone();
            let voting = self
                .start_simplex(epoch, participants.clone(), application, muxed)
                .await;
            if voting.is_some() {
                return voting;
            }
        }
        let targets =
            NonEmptyVec::try_from(participants.iter().cloned().collect::<Vec<_>>()).ok()?;
        let (chain, marshal, tick) = (self.chain.clone(), self.marshal.clone(), self.tick);
        let handle = self
            .context
            .child("follow")
            .with_attribute("epoch", epoch)
            .spawn(move |context| super::follow(context, chain, marshal, targets, tick));
        Some(Active(handle))
    }

    /// The followers and the bonded or unbonding operators' keys (and the keys they
    /// rotate to), largest bond first, at most [`MAX_SECONDARY_OPERATORS`]: peers to
    /// accept and serve besides
    /// the set (a validator that bonded syncs before its first epoch; one that unbonds
    /// keeps following while it is still slashable). Anyone may bond a little, so
    /// the list is capped to fit the p2p's tracked-set size.
    fn secondary_peers(&self) -> Set<PublicKey> {
        let store = self.chain.store();
        let mut bonded = Vec::new();
        if let Ok(operators) = validators::operators(store.as_ref()) {
            for operator in operators {
                if let Ok(Some(record)) = validators::validator(store.as_ref(), &operator)
                    && (record.bond > 0 || !record.unbonding.is_empty())
                    && !record.slashed
                    && let Ok(key) = public_key(&record.consensus_key)
                {
                    let unbonding: u64 = record.unbonding.iter().map(|(_, a)| *a).sum();
                    let weight = record.bond.saturating_add(unbonding);
                    // A key being rotated to votes from the next boundary: its node
                    // syncs before then.
                    if let Some(next) = record.next_key.as_ref().and_then(|k| public_key(k).ok()) {
                        bonded.push((weight, next));
                    }
                    bonded.push((weight, key));
                }
            }
        }
        bonded.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let mut keys: Vec<PublicKey> = self.followers.clone();
        keys.extend(
            bonded
                .into_iter()
                .take(MAX_SECONDARY_OPERATORS)
                .map(|(_, key)| key),
        );
        Set::from_iter_dedup(keys)
    }

    /// The floor `epoch` starts from: the genesis block for epoch 0, else the last
    /// block of the epoch before (or the finalization a synced node started from).
    fn floor(&self, epoch: u64) -> Option<Floor<Scheme, Digest>> {
        if epoch == 0 {
            return Some(Floor::Genesis(self.genesis_digest));
        }
        let boundary = self.epocher.last(Epoch::new(epoch - 1))?.get();
        match self.chain.store().block(boundary) {
            Ok(Some(block)) => {
                let block = ConsensusBlock::new(block).ok()?;
                Some(Floor::Genesis(commonware_cryptography::Digestible::digest(
                    &block,
                )))
            }
            _ => self
                .floor
                .clone()
                .filter(|f| f.proposal.round.epoch().get() == epoch)
                .map(Floor::Finalized),
        }
    }

    async fn start_simplex<S: Sender<PublicKey = PublicKey>>(
        &mut self,
        epoch: u64,
        participants: Set<PublicKey>,
        application: A,
        muxed: &mut Muxed<S>,
    ) -> Option<Active> {
        let Some(scheme) = self.sets.scheme(epoch) else {
            warn!(epoch, "no signing scheme for this epoch");
            return None;
        };
        let Some(floor) = self.floor(epoch) else {
            warn!(epoch, "no floor block for this epoch; following instead");
            return None;
        };
        let keys: Vec<AccountId> = participants
            .iter()
            .map(|k| AccountId(k.as_ref().try_into().unwrap_or([0; 32])))
            .collect();
        let reporter = WithEvidence {
            inner: application.clone(),
            keys: Arc::new(keys),
            epoch,
            evidence: self.evidence.clone(),
        };
        let timing = &self.timing;
        let engine = simplex::Engine::new(
            self.context
                .child("consensus")
                .with_attribute("epoch", epoch),
            simplex::Config {
                scheme: scheme.as_ref().clone(),
                elector: RoundRobin::<Sha256>::default(),
                blocker: self.blocker.clone(),
                automaton: application.clone(),
                relay: application,
                reporter,
                track_historical_votes: false,
                strategy: commonware_parallel::Sequential,
                partition: format!("{}-simplex-epoch{epoch}", self.partition),
                mailbox_size: MAILBOX_SIZE,
                epoch: Epoch::new(epoch),
                floor,
                replay_buffer: REPLAY_BUFFER,
                write_buffer: WRITE_BUFFER,
                page_cache: self.page_cache.clone(),
                leader_timeout: timing.leader,
                certification_timeout: timing.certification,
                timeout_retry: timing.retry,
                view_retention: VIEW_RETENTION,
                skip: SkipPolicy::Enabled {
                    timeout: timing.skip,
                    budget: SkipBudget::Participants,
                },
                fetch_timeout: NZDuration!(FETCH_TIMEOUT),
                fetch_retry_delay: FETCH_RETRY_DELAY,
                forward: ForwardPolicy::SilentLeader,
            },
        );
        let votes = muxed.votes.register(epoch).await.ok()?;
        let certificates = muxed.certificates.register(epoch).await.ok()?;
        let resolver = muxed.resolver.register(epoch).await.ok()?;
        Some(Active(engine.start(votes, certificates, resolver)))
    }
}
