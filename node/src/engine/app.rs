//! The application marshal's `Deferred` wrapper drives: build a block on the parent's
//! post-state, and re-execute a peer's block before certifying it.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, UNIX_EPOCH},
};

use commonware_consensus::{Application, marshal::ancestry::Ancestry};
use commonware_cryptography::{Digested, Digestible};
use commonware_runtime::{Clock, Metrics, Spawner};
use futures::StreamExt;
use plexus_ledger::BlockEnv;
use plexus_types::{AccountId, Block, block::MAX_BLOCK_BYTES};
use tracing::{debug, warn};

use super::{
    ConsensusContext, Scheme,
    block::{ConsensusBlock, encode_context},
    metrics::NodeMetrics,
};
use crate::{
    chain::{Chain, ChainError},
    mempool::Mempool,
};

/// How far ahead of the local clock a block's timestamp may be before a verifier
/// waits (it never rejects for this).
const MAX_FUTURE_DRIFT_MS: u64 = 500;
/// How often a pacing proposer looks whether the mempool filled up.
const PACING_POLL_MS: u64 = 50;
/// Bytes of transactions a proposed block may hold: the block bound less room for the
/// header and framing.
const MAX_TX_BYTES_PER_BLOCK: usize = MAX_BLOCK_BYTES - 16 * 1024;

/// Block production and verification over the [`Chain`] and the mempool.
#[derive(Clone)]
pub(crate) struct App {
    chain: Arc<Chain>,
    mempool: Arc<Mutex<Mempool>>,
    me: AccountId,
    block_interval_ms: u64,
    max_block_txs: usize,
    metrics: Arc<NodeMetrics>,
}

impl App {
    pub(crate) fn new(
        chain: Arc<Chain>,
        mempool: Arc<Mutex<Mempool>>,
        me: AccountId,
        block_interval_ms: u64,
        max_block_txs: usize,
        metrics: Arc<NodeMetrics>,
    ) -> Self {
        Self {
            chain,
            mempool,
            me,
            block_interval_ms,
            max_block_txs,
            metrics,
        }
    }

    fn mempool(&self) -> std::sync::MutexGuard<'_, Mempool> {
        self.mempool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Make sure the post-state of `parent` is known, re-executing the unfinalized
    /// ancestors the ancestry stream yields after it if needed (after a restart, or
    /// for blocks this node never verified).
    async fn ensure_state(
        &self,
        parent: &Digested<ConsensusBlock>,
        ancestry: &mut impl Ancestry<ConsensusBlock>,
    ) -> Result<(), ChainError> {
        if self.chain.knows(&parent.inner().hash())? {
            return Ok(());
        }
        let mut missing = vec![parent.clone()];
        loop {
            let (committed, _) = self.chain.committed();
            let oldest = missing.last().map_or(0, |b| b.inner().number());
            if oldest <= committed {
                return Err(ChainError::DeadFork(parent.inner().hash()));
            }
            let Some(next) = ancestry.next().await else {
                return Err(ChainError::UnknownParent(parent.inner().hash()));
            };
            if self.chain.knows(&next.inner().hash())? {
                break;
            }
            missing.push(next);
        }
        for block in missing.iter().rev() {
            debug!(
                height = block.inner().number(),
                "re-executing an unfinalized ancestor"
            );
            self.chain.execute(block.inner().block())?;
        }
        Ok(())
    }
}

/// Milliseconds since the Unix epoch on the runtime's clock.
fn now_ms(clock: &impl Clock) -> u64 {
    clock
        .current()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl<E> Application<E> for App
where
    E: Clock + Spawner + Metrics,
{
    type SigningScheme = Scheme;
    type Context = ConsensusContext;
    type Block = ConsensusBlock;
    type Input = ();

    async fn propose(
        &mut self,
        (runtime, context): (E, ConsensusContext),
        mut ancestry: impl Ancestry<ConsensusBlock>,
        _input: (),
    ) -> Option<Digested<ConsensusBlock>> {
        let parent = ancestry.next().await?;
        if let Err(error) = self.ensure_state(&parent, &mut ancestry).await {
            warn!(%error, "cannot build on this parent");
            return None;
        }
        let parent_block = parent.inner().block();
        let parent_hash = parent.inner().hash();

        // Pace: wait for the block interval after the parent, unless the mempool holds
        // a full block already.
        let parent_ts = parent_block.header.timestamp_ms;
        let deadline = parent_ts.saturating_add(self.block_interval_ms);
        loop {
            let now = now_ms(&runtime);
            if now >= deadline || self.mempool().ready_len() >= self.max_block_txs {
                break;
            }
            let wait = (deadline - now).min(PACING_POLL_MS);
            runtime.sleep(Duration::from_millis(wait)).await;
        }

        let timer = self.metrics.build_duration.timer(&runtime);
        let env = BlockEnv {
            height: parent_block.header.height + 1,
            timestamp_ms: now_ms(&runtime).max(parent_ts.saturating_add(1)),
            proposer: self.me,
        };
        let exclude = self.chain.pending_txs(&parent_hash);
        let candidates =
            self.mempool()
                .candidates(self.max_block_txs, MAX_TX_BYTES_PER_BLOCK, &exclude);
        let mut built = match self
            .chain
            .build(&parent_hash, &env, candidates, self.max_block_txs)
        {
            Ok(built) => built,
            Err(error) => {
                warn!(%error, "failed to build a block");
                return None;
            }
        };
        built.header.consensus = encode_context(&context);
        let rejected = std::mem::take(&mut built.rejected);
        let block = Block {
            header: built.header.clone(),
            txs: std::mem::take(&mut built.txs),
        };
        let wrapped = match ConsensusBlock::new(block) {
            Ok(wrapped) => wrapped,
            Err(error) => {
                warn!(%error, "built block does not wrap");
                return None;
            }
        };
        self.chain.remember(wrapped.block(), built);
        if !rejected.is_empty() {
            // Drop candidates the ledger refuses on the committed state too; those that
            // only fail on this fork stay for later blocks.
            let store = self.chain.store().clone();
            let next = store.committed_height().map_or(0, |h| h + 1);
            let mut mempool = self.mempool();
            for (hash, error) in rejected {
                let tx = mempool.get(&hash);
                let still_bad = tx.is_none_or(|t| {
                    plexus_ledger::check_transaction(store.as_ref(), next, &t).is_err()
                });
                if still_bad {
                    debug!(%hash, %error, "evicting a transaction the ledger refuses");
                    mempool.evict(&hash);
                }
            }
        }
        timer.observe(&runtime);
        debug!(
            height = wrapped.number(),
            txs = wrapped.block().txs.len(),
            view = %context.round,
            "proposed block"
        );
        let digest = wrapped.digest();
        Some(Digested::precomputed(wrapped, digest))
    }

    async fn verify(
        &mut self,
        (runtime, context): (E, ConsensusContext),
        mut ancestry: impl Ancestry<ConsensusBlock>,
    ) -> bool {
        let Some(block) = ancestry.next().await else {
            return futures::future::pending().await;
        };
        let hash = block.inner().hash();
        match self.chain.knows(&hash) {
            Ok(true) => return true,
            Ok(false) => {}
            Err(error) => {
                warn!(%error, "cannot verify now; keeping the vote pending");
                return futures::future::pending().await;
            }
        }
        let header = &block.inner().block().header;
        if header.proposer.0.as_slice() != context.leader.as_ref() {
            debug!(%hash, "proposer is not the view's leader");
            return false;
        }
        let Some(parent) = ancestry.next().await else {
            return futures::future::pending().await;
        };
        if let Err(error) = self.chain.precheck(
            block.inner().block(),
            parent.inner().block().header.timestamp_ms,
        ) {
            debug!(%hash, %error, "block fails prechecks");
            return false;
        }

        // A timestamp slightly ahead of our clock: wait until it is within the bound.
        loop {
            let now = now_ms(&runtime);
            if header.timestamp_ms <= now.saturating_add(MAX_FUTURE_DRIFT_MS) {
                break;
            }
            let wait = header.timestamp_ms - now - MAX_FUTURE_DRIFT_MS;
            runtime.sleep(Duration::from_millis(wait)).await;
        }

        let timer = self.metrics.verify_duration.timer(&runtime);
        let result = match self.ensure_state(&parent, &mut ancestry).await {
            Ok(()) => self.chain.execute(block.inner().block()),
            Err(error) => Err(error),
        };
        match result {
            Ok(()) => {
                timer.observe(&runtime);
                true
            }
            Err(error) if error.is_permanent() => {
                warn!(%hash, %error, "block is invalid");
                false
            }
            Err(error) => {
                warn!(%hash, %error, "cannot verify now; keeping the vote pending");
                futures::future::pending().await
            }
        }
    }
}
