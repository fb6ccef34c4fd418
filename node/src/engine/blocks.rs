//! Marshal's finalized-block store, backed by the chain's own store, so a node keeps
//! each finalized block once.
//!
//! Marshal must keep a finalized block durably from the moment it is finalized until
//! the application acknowledges it; the store archives it when its state commits.
//! [`StoreBlocks`] holds a block in the store ([`Store::hold_finalized`]) until the
//! commit moves it into the archive, and reads either place back, instead of marshal
//! keeping a second archive of every block.

use std::sync::Arc;

use commonware_consensus::{marshal::store::Blocks, types::Height};
use commonware_runtime::Handle;
use commonware_storage::archive::Identifier;
use plexus_storage::{StorageError, Store};

use super::block::{ConsensusBlock, Digest, from_digest};

/// Why the block store failed: the store failed, or held a block consensus cannot use.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BlocksError {
    /// The store could not be read or written.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A stored block is not a consensus block.
    #[error("stored block at height {height} is unusable: {reason}")]
    Unusable {
        /// Its height.
        height: u64,
        /// Why.
        reason: String,
    },
}

/// Marshal's view of the finalized blocks in a [`Store`].
#[derive(Clone, Debug)]
pub(crate) struct StoreBlocks {
    store: Arc<Store>,
}

impl StoreBlocks {
    /// The finalized blocks of `store`.
    pub(crate) fn new(store: Arc<Store>) -> Self {
        Self { store }
    }

    /// The heights held, or none when the store cannot be read (marshal's range
    /// queries cannot fail; a read error shows as missing blocks, which marshal
    /// fetches again, and the next write reports the failure).
    fn ranges(&self) -> plexus_storage::FinalizedRanges {
        self.store.finalized_ranges().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read the finalized block ranges");
            plexus_storage::FinalizedRanges::default()
        })
    }
}

impl Blocks for StoreBlocks {
    type Block = Arc<ConsensusBlock>;
    type Error = BlocksError;

    async fn put(self, _digest: Digest, block: &Self::Block) -> Result<Self, Self::Error> {
        self.store.hold_finalized(block.block())?;
        Ok(self)
    }

    async fn sync(self) -> Result<Self, Self::Error> {
        self.store.sync_finalized()?;
        Ok(self)
    }

    async fn start_sync(self) -> Result<(Self, Handle<()>), Self::Error> {
        self.store.sync_finalized()?;
        Ok((self, Handle::ready(Ok(()))))
    }

    async fn get(&self, id: Identifier<'_, Digest>) -> Result<Option<Self::Block>, Self::Error> {
        let block = match id {
            Identifier::Index(height) => self.store.finalized_block(height)?,
            Identifier::Key(digest) => {
                self.store.finalized_block_by_digest(&from_digest(digest))?
            }
        };
        block
            .map(|block| {
                let height = block.header.height;
                ConsensusBlock::new(block)
                    .map(Arc::new)
                    .map_err(|e| BlocksError::Unusable {
                        height,
                        reason: e.to_string(),
                    })
            })
            .transpose()
    }

    async fn prune(self, _min: Height) -> Result<Self, Self::Error> {
        // The store prunes its archive itself (`--prune`), in the same step as its state.
        Ok(self)
    }

    fn missing_items(&self, start: Height, max: usize) -> Vec<Height> {
        self.ranges()
            .missing(start.get(), max)
            .into_iter()
            .map(Height::new)
            .collect()
    }

    fn next_gap(&self, value: Height) -> (Option<Height>, Option<Height>) {
        let (end, next) = self.ranges().next_gap(value.get());
        (end.map(Height::new), next.map(Height::new))
    }

    fn last_index(&self) -> Option<Height> {
        self.ranges().last().map(Height::new)
    }
}
