//! Finalized blocks whose state has not committed yet, and the one view of every
//! finalized block the store holds.
//!
//! Consensus finalizes a block before the node executes it, and must keep it durably
//! in between (a node that crashes there replays it). [`Store::hold_finalized`] keeps
//! such a block in `finalized_held`; [`Store::commit_block`] moves it into the block
//! archive in the same transaction that commits its state. A block is therefore in
//! exactly one place at any time: held, archived, or (below a prune) gone. The node
//! hands this view to consensus as its block store, instead of a second archive.

use std::collections::BTreeSet;

use plexus_types::{Block, Encode as _, Hash};
use redb::{Durability, ReadableDatabase as _, ReadableTable as _, TableDefinition};

use crate::{
    StorageError, Store,
    store::read_block,
    tables::{HEADERS, HEIGHTS},
};

/// Finalized blocks not committed yet, by height: the encoded block.
pub(crate) const HELD: TableDefinition<'static, u64, &[u8]> =
    TableDefinition::new("finalized_held");
/// Heights of the held blocks by block digest.
pub(crate) const HELD_DIGESTS: TableDefinition<'static, &[u8; 32], u64> =
    TableDefinition::new("finalized_held_digests");

/// The heights whose finalized blocks the store holds, as sorted, disjoint, inclusive
/// ranges that never touch (adjacent ranges are merged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FinalizedRanges(Vec<(u64, u64)>);

impl FinalizedRanges {
    /// Ranges covering exactly `heights`.
    pub fn from_heights(heights: impl IntoIterator<Item = u64>) -> Self {
        let mut ranges = Self::default();
        let mut sorted: Vec<u64> = heights.into_iter().collect();
        sorted.sort_unstable();
        for height in sorted {
            ranges.add(height, height);
        }
        ranges
    }

    /// Add the heights `start..=end`. Ranges must be added in ascending order of start.
    fn add(&mut self, start: u64, end: u64) {
        match self.0.last_mut() {
            Some((_, last)) if start <= last.saturating_add(1) => *last = (*last).max(end),
            _ => self.0.push((start, end)),
        }
    }

    /// The ranges, lowest first.
    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.0
    }

    /// The highest height held.
    pub fn last(&self) -> Option<u64> {
        self.0.last().map(|&(_, end)| end)
    }

    /// Whether `height` is held.
    pub fn contains(&self, height: u64) -> bool {
        self.0.iter().any(|&(s, e)| s <= height && height <= e)
    }

    /// The end of the range holding `height` (`None` when `height` is not held), and
    /// the start of the first range that begins after `height`.
    pub fn next_gap(&self, height: u64) -> (Option<u64>, Option<u64>) {
        let current = self
            .0
            .iter()
            .find(|&&(s, e)| s <= height && height <= e)
            .map(|&(_, e)| e);
        let next = self.0.iter().find(|&&(s, _)| s > height).map(|&(s, _)| s);
        (current, next)
    }

    /// Up to `max` heights from `start` that lie in a gap between two ranges, lowest
    /// first: what is missing below the highest height held.
    pub fn missing(&self, start: u64, max: usize) -> Vec<u64> {
        let mut missing = Vec::new();
        let mut cursor = start;
        for &(s, e) in &self.0 {
            if missing.len() >= max {
                break;
            }
            if e < cursor {
                continue;
            }
            let mut height = cursor;
            while height < s && missing.len() < max {
                missing.push(height);
                height += 1;
            }
            cursor = match e.checked_add(1) {
                Some(next) => next,
                None => break,
            };
        }
        missing
    }
}

/// The held heights, loaded at open and kept in step with the table.
#[derive(Debug, Default)]
pub(crate) struct Held(pub(crate) BTreeSet<u64>);

impl Held {
    /// The heights of the held table.
    pub(crate) fn load(txn: &redb::ReadTransaction) -> Result<Self, StorageError> {
        let mut heights = BTreeSet::new();
        for entry in txn.open_table(HELD)?.iter()? {
            heights.insert(entry?.0.value());
        }
        Ok(Self(heights))
    }
}

/// Remove the held copy of the block at `height` with this digest, if any, inside a
/// commit's transaction: from here on the archive holds it.
pub(crate) fn release(
    txn: &redb::WriteTransaction,
    height: u64,
    digest: &Hash,
) -> Result<(), StorageError> {
    txn.open_table(HELD)?.remove(height)?;
    txn.open_table(HELD_DIGESTS)?.remove(&digest.0)?;
    Ok(())
}

impl Store {
    /// Keep a finalized `block` until its state commits. A block at a committed
    /// height, or at a height already held, is ignored: the first finalized block of a
    /// height is the one kept. Not durable until [`Store::sync_finalized`] (or the next
    /// commit).
    pub fn hold_finalized(&self, block: &Block) -> Result<(), StorageError> {
        let height = block.header.height;
        let mut held = self.held();
        if held.0.contains(&height) || self.committed_height().is_some_and(|c| height <= c) {
            return Ok(());
        }
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::None)?;
        {
            // A commit may have raced past the check above: the archive decides.
            if txn.open_table(HEADERS)?.get(height)?.is_some() {
                return Ok(());
            }
            txn.open_table(HELD)?
                .insert(height, block.encode().as_slice())?;
            txn.open_table(HELD_DIGESTS)?
                .insert(&block.digest().0, height)?;
        }
        txn.commit()?;
        held.0.insert(height);
        Ok(())
    }

    /// Make every block held so far durable.
    pub fn sync_finalized(&self) -> Result<(), StorageError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        txn.commit()?;
        Ok(())
    }

    /// The finalized block at `height`: archived, or held until its state commits.
    pub fn finalized_block(&self, height: u64) -> Result<Option<Block>, StorageError> {
        let txn = self.db.begin_read()?;
        if let Some(block) = read_block(&txn, height)? {
            return Ok(Some(block));
        }
        read_held(&txn.open_table(HELD)?, height)
    }

    /// The finalized block with this digest: archived, or held.
    pub fn finalized_block_by_digest(&self, digest: &Hash) -> Result<Option<Block>, StorageError> {
        let txn = self.db.begin_read()?;
        if let Some(height) = txn.open_table(HEIGHTS)?.get(&digest.0)?.map(|h| h.value()) {
            return read_block(&txn, height);
        }
        let Some(height) = txn
            .open_table(HELD_DIGESTS)?
            .get(&digest.0)?
            .map(|h| h.value())
        else {
            return Ok(None);
        };
        read_held(&txn.open_table(HELD)?, height)
    }

    /// Every height whose finalized block the store holds: genesis, the archived
    /// heights (from the oldest kept, or the state-synced floor, to the committed
    /// tip) and the held ones above.
    pub fn finalized_ranges(&self) -> Result<FinalizedRanges, StorageError> {
        // The held set first: a commit updates the tip before it releases a height,
        // so a height is never missed between the two reads.
        let held = self.held().0.clone();
        let mut ranges = FinalizedRanges::default();
        if let Some(committed) = self.committed_height() {
            let txn = self.db.begin_read()?;
            let headers = txn.open_table(HEADERS)?;
            if headers.get(0)?.is_some() {
                ranges.add(0, 0);
            }
            let lowest = headers
                .range(1..)?
                .next()
                .transpose()?
                .map(|(h, _)| h.value());
            if let Some(lowest) = lowest.filter(|&l| l <= committed) {
                ranges.add(lowest, committed);
            }
        }
        let floor = ranges.last();
        for height in held {
            if floor.is_none_or(|f| height > f) {
                ranges.add(height, height);
            }
        }
        Ok(ranges)
    }

    /// How many finalized blocks are held, waiting for their state to commit.
    pub fn held_count(&self) -> usize {
        self.held().0.len()
    }

    /// The held heights (the set only changes by whole heights: a poisoned lock still
    /// holds a valid one).
    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forget held heights at or below `height` once a commit made them archived.
    pub(crate) fn released_through(&self, height: u64) {
        let mut held = self.held();
        held.0 = held.0.split_off(&(height.saturating_add(1)));
    }
}

/// The held block at `height`.
fn read_held(
    held: &impl redb::ReadableTable<u64, &'static [u8]>,
    height: u64,
) -> Result<Option<Block>, StorageError> {
    held.get(height)?
        .map(|bytes| {
            Block::decode_bounded(bytes.value())
                .map_err(|e| StorageError::Corrupt(format!("held block at {height}: {e}")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    /// What `next_gap` and `missing` must say, from the set of heights itself.
    fn naive(
        heights: &BTreeSet<u64>,
        at: u64,
        max: usize,
    ) -> ((Option<u64>, Option<u64>), Vec<u64>) {
        let current = heights.contains(&at).then(|| {
            let mut end = at;
            while heights.contains(&(end + 1)) {
                end += 1;
            }
            end
        });
        let next = heights
            .range(at + 1..)
            .find(|&&h| !heights.contains(&(h - 1)))
            .copied();
        let top = heights.last().copied().unwrap_or(0);
        let missing = (at..top)
            .filter(|h| !heights.contains(h))
            .take(max)
            .collect();
        ((current, next), missing)
    }

    proptest! {
        #[test]
        fn ranges_answer_gaps_and_missing_heights_as_the_set_of_heights_does(
            heights in proptest::collection::btree_set(0u64..64, 0..40),
            at in 0u64..70,
            max in 0usize..20,
        ) {
            let ranges = FinalizedRanges::from_heights(heights.iter().copied());
            let (gap, missing) = naive(&heights, at, max);
            prop_assert_eq!(ranges.next_gap(at), gap);
            prop_assert_eq!(ranges.missing(at, max), missing);
            prop_assert_eq!(ranges.last(), heights.last().copied());
            for h in 0..70 {
                prop_assert_eq!(ranges.contains(h), heights.contains(&h));
            }
        }
    }
}
