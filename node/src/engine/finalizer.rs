//! Apply finalized blocks in height order: commit durably, then acknowledge.

use std::sync::{Arc, Mutex, PoisonError};

use commonware_actor::Feedback;
use commonware_consensus::{Reporter, marshal::Update};
use commonware_runtime::Clock;
use commonware_utils::Acknowledgement as _;
use futures::{StreamExt, channel::mpsc};
use tokio::sync::broadcast;
use tracing::{debug, error, info};

use super::{block::ConsensusBlock, metrics::NodeMetrics};
use crate::{
    FinalizedBlock, StatusCell,
    chain::{Chain, Finalized},
    mempool::Mempool,
};

/// The reporter marshal delivers finalized blocks to: it hands each update to the
/// finalizer task without blocking.
#[derive(Clone)]
pub struct FinalizerMailbox {
    sender: mpsc::UnboundedSender<Update<ConsensusBlock>>,
}

impl FinalizerMailbox {
    /// A mailbox and the receiving end for [`run`].
    pub(crate) fn new() -> (Self, mpsc::UnboundedReceiver<Update<ConsensusBlock>>) {
        let (sender, receiver) = mpsc::unbounded();
        (Self { sender }, receiver)
    }
}

impl Reporter for FinalizerMailbox {
    type Activity = Update<ConsensusBlock>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        match self.sender.unbounded_send(activity) {
            Ok(()) => Feedback::Ok,
            Err(_) => Feedback::Closed,
        }
    }
}

/// What the finalizer writes to.
pub(crate) struct Finalizer {
    pub(crate) chain: Arc<Chain>,
    pub(crate) mempool: Arc<Mutex<Mempool>>,
    pub(crate) events: broadcast::Sender<FinalizedBlock>,
    pub(crate) status: Arc<StatusCell>,
    pub(crate) metrics: Arc<NodeMetrics>,
    /// Keep this many heights of state and blocks (`--prune`), pruning the store and
    /// marshal's archives every [`PRUNE_EVERY`] blocks; `None` keeps everything.
    pub(crate) prune: Option<(u64, super::MarshalMailbox)>,
    /// Told the height of every committed block that ends a consensus epoch.
    pub(crate) boundaries: mpsc::UnboundedSender<u64>,
    /// The chain's consensus epochs.
    pub(crate) epocher: commonware_consensus::types::FixedEpocher,
}

/// Blocks between two prunes.
pub(crate) const PRUNE_EVERY: u64 = 64;

impl Finalizer {
    /// With pruning on, every [`PRUNE_EVERY`] heights drop what is older than the
    /// kept window from the store (which holds the blocks) and tell marshal the new
    /// floor. A failed prune only costs disk: it is logged and retried at the next
    /// turn.
    fn prune(&self, height: u64) {
        let Some((keep, marshal)) = &self.prune else {
            return;
        };
        if !height.is_multiple_of(PRUNE_EVERY) || height <= *keep {
            return;
        }
        let keep_from = height - keep;
        match self.chain.store().prune(keep_from) {
            Ok(done) => {
                marshal.prune(commonware_consensus::types::Height::new(keep_from));
                debug!(
                    keep_from,
                    nodes = done.nodes,
                    values = done.values,
                    blocks = done.blocks,
                    "pruned"
                );
            }
            Err(error) => tracing::warn!(%error, keep_from, "pruning failed"),
        }
    }

    /// Tell the orchestrator when `height` ends its epoch.
    fn boundary(&self, height: u64) {
        use commonware_consensus::types::Epocher as _;
        let last = self
            .epocher
            .containing(commonware_consensus::types::Height::new(height))
            .is_some_and(|info| info.last().get() == height);
        if last {
            let _ = self.boundaries.unbounded_send(height);
        }
    }

    /// Process updates until the channel closes or a block cannot be committed.
    ///
    /// A block is acknowledged only after its commit is durable; a redelivered block
    /// (at or below the committed height) is acknowledged without applying it again.
    /// A block that cannot be committed (its state root differs from ours, or the store
    /// fails) is fatal: it is logged, the node is marked halted, and the
    /// acknowledgement is dropped, which stops marshal.
    pub(crate) async fn run(
        self,
        clock: impl Clock,
        mut updates: mpsc::UnboundedReceiver<Update<ConsensusBlock>>,
    ) {
        while let Some(update) = updates.next().await {
            match update {
                Update::Tip(round, height, _) => {
                    self.status.set_tip(round.view().get(), height.get());
                }
                Update::Block(block, ack) => {
                    let timer = self.metrics.finalize_duration.timer(&clock);
                    let inner = block.inner();
                    match self.chain.finalize(inner.block()) {
                        Ok(Finalized::AlreadyCommitted) => {
                            debug!(height = inner.number(), "block already committed");
                            ack.acknowledge();
                        }
                        Ok(Finalized::Committed { root, events }) => {
                            let height = inner.number();
                            timer.observe(&clock);
                            {
                                let mut mempool =
                                    self.mempool.lock().unwrap_or_else(PoisonError::into_inner);
                                mempool.on_finalized(height, &inner.block().txs);
                                self.metrics.set_mempool_size(mempool.len());
                            }
                            self.status.set_finalized(height);
                            self.metrics.set_finalized_height(height);
                            ack.acknowledge();
                            info!(
                                height,
                                txs = inner.block().txs.len(),
                                %root,
                                "finalized block"
                            );
                            self.prune(height);
                            self.boundary(height);
                            // No subscriber is fine.
                            let _ = self.events.send(FinalizedBlock {
                                height,
                                digest: inner.hash(),
                                block: inner.shared(),
                                events,
                            });
                        }
                        Err(failure) => {
                            error!(
                                height = inner.number(),
                                digest = %inner.hash(),
                                error = %failure,
                                "FATAL: cannot commit a finalized block; this node stops \
                                 following the chain (its state diverges from the network's \
                                 or its storage failed)"
                            );
                            self.status.set_halted(failure.to_string());
                            return;
                        }
                    }
                }
            }
        }
    }
}
