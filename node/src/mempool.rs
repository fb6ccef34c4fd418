//! Hold admitted transactions until a block includes them.
//!
//! Each sender has a gapless queue keyed by nonce, starting at the sender's next
//! account nonce; transactions a little ahead of it wait (up to a bound) until the
//! gap fills. Blocks take transactions by fee priority across senders and in nonce
//! order within one sender. The pool is bounded in total and per sender; when full, a
//! new transaction evicts the cheapest queue tail only if it pays more. Everything is
//! plain logic: the caller checks transactions against the ledger and supplies the
//! sender's account nonce.

use std::collections::{BTreeMap, BinaryHeap};

use plexus_types::{AccountId, Amount, Hash, SignedTransaction};
use thiserror::Error;

/// Why the mempool refused a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MempoolError {
    /// The ledger rejects the transaction against the latest committed state.
    #[error("transaction rejected: {0}")]
    Rejected(#[from] plexus_ledger::TxError),
    /// The latest committed state could not be read.
    #[error("state unavailable: {0}")]
    State(String),
    /// The same transaction is already waiting.
    #[error("transaction {0} is already in the mempool")]
    Duplicate(Hash),
    /// The pool is full and the transaction pays no more than the cheapest one held.
    #[error("mempool is full ({0} transactions) and the fee is too low to evict another")]
    Full(usize),
    /// The sender already has as many transactions waiting as allowed.
    #[error("sender already has {0} transactions waiting")]
    SenderFull(usize),
    /// The nonce was already used by a committed transaction.
    #[error("nonce {nonce} is below the account nonce {expected}")]
    NonceTooLow {
        /// The transaction's nonce.
        nonce: u64,
        /// The sender's next account nonce.
        expected: u64,
    },
    /// The nonce is further ahead of the account nonce than the pool holds.
    #[error("nonce {nonce} is too far ahead of the account nonce {expected} (at most {max_gap})")]
    NonceTooFarAhead {
        /// The transaction's nonce.
        nonce: u64,
        /// The sender's next account nonce.
        expected: u64,
        /// The largest accepted distance.
        max_gap: u64,
    },
    /// A transaction with the same sender and nonce is waiting and this one does not
    /// pay enough more to replace it.
    #[error(
        "a transaction with this nonce is waiting; replacing it needs a fee of at least {min_fee}"
    )]
    FeeTooLowToReplace {
        /// The smallest fee that would replace the waiting transaction.
        min_fee: Amount,
    },
    /// The transaction is larger than the pool accepts.
    #[error("transaction of {0} bytes is too large")]
    TooLarge(usize),
}

/// Bounds of the mempool (the `[mempool]` keys of `plexus node`'s configuration file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MempoolConfig {
    /// Most transactions held in total.
    pub max_txs: usize,
    /// Most encoded bytes held in total.
    pub max_bytes: usize,
    /// Most transactions held for one sender.
    pub max_per_sender: usize,
    /// How far ahead of the account nonce a held transaction may be.
    pub max_nonce_gap: u64,
    /// Percentage a replacement's fee must exceed the replaced fee by.
    pub replace_bump_percent: u64,
    /// Finalized blocks a transaction may wait before it is dropped as stale.
    pub max_age_blocks: u64,
    /// Fee-free transactions one sender may have refused at admission per finalized
    /// block before the node stops checking its fee-free transactions until the next
    /// block: a refused transaction pays nothing, so this bounds the work (token
    /// signatures, RSA keys) a registered hotkey can make the node do for free.
    pub max_free_refusals_per_block: u32,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self {
            max_txs: 20_000,
            max_bytes: 64 * 1024 * 1024,
            max_per_sender: 64,
            max_nonce_gap: 64,
            replace_bump_percent: 10,
            max_age_blocks: 3_600,
            max_free_refusals_per_block: 4,
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    tx: SignedTransaction,
    hash: Hash,
    size: usize,
    /// Arrival order, for deterministic tie breaks.
    seq: u64,
    /// Committed height when the transaction arrived.
    since: u64,
}

#[derive(Debug, Clone, Default)]
struct SenderQueue {
    /// The sender's next account nonce as last known.
    next_nonce: u64,
    /// Waiting transactions by nonce.
    txs: BTreeMap<u64, Entry>,
}

/// Transactions waiting for a block.
#[derive(Debug, Clone)]
pub struct Mempool {
    config: MempoolConfig,
    senders: BTreeMap<AccountId, SenderQueue>,
    by_hash: BTreeMap<Hash, (AccountId, u64)>,
    bytes: usize,
    seq: u64,
    height: u64,
    /// Fee-free refusals per sender since the last finalized block.
    free_refusals: BTreeMap<AccountId, u32>,
}

impl Mempool {
    /// An empty pool with the given bounds.
    pub fn new(config: MempoolConfig) -> Self {
        Self {
            config,
            senders: BTreeMap::new(),
            by_hash: BTreeMap::new(),
            bytes: 0,
            seq: 0,
            height: 0,
            free_refusals: BTreeMap::new(),
        }
    }

    /// Whether a fee-free transaction of `sender` may still be checked before the
    /// next finalized block; else the first block at which it may.
    pub fn free_check_allowed(&self, sender: &AccountId) -> Result<(), u64> {
        let refused = self.free_refusals.get(sender).copied().unwrap_or(0);
        if refused >= self.config.max_free_refusals_per_block {
            return Err(self.height.saturating_add(1));
        }
        Ok(())
    }

    /// Count a fee-free transaction of `sender` that admission refused.
    pub fn note_free_refusal(&mut self, sender: &AccountId) {
        let n = self.free_refusals.entry(*sender).or_insert(0);
        *n = n.saturating_add(1);
    }

    /// The pool's bounds.
    pub fn config(&self) -> &MempoolConfig {
        &self.config
    }

    /// Transactions held.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether the pool holds nothing.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Encoded bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether the pool holds `hash`.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// The waiting transaction with this hash.
    pub fn get(&self, hash: &Hash) -> Option<SignedTransaction> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        Some(self.senders.get(sender)?.txs.get(nonce)?.tx.clone())
    }

    /// Transactions that could be included right now (gapless from each sender's
    /// account nonce).
    pub fn ready_len(&self) -> usize {
        self.senders
            .values()
            .map(|queue| ready_run(queue).count())
            .sum()
    }

    /// Admit `tx`, already checked against the ledger, whose sender's next account
    /// nonce is `account_nonce`. Returns the transaction's hash.
    pub fn insert(
        &mut self,
        tx: SignedTransaction,
        account_nonce: u64,
    ) -> Result<Hash, MempoolError> {
        let hash = tx.hash();
        if self.by_hash.contains_key(&hash) {
            return Err(MempoolError::Duplicate(hash));
        }
        let size = plexus_types::Encode::encode(&tx).len();
        if size > self.config.max_bytes {
            return Err(MempoolError::TooLarge(size));
        }
        let sender = tx.tx.sender;
        let nonce = tx.tx.nonce;
        let fee = tx.tx.fee;
        let expected = self
            .senders
            .get(&sender)
            .map_or(account_nonce, |queue| queue.next_nonce.max(account_nonce));
        if nonce < expected {
            return Err(MempoolError::NonceTooLow { nonce, expected });
        }
        let max_gap = self.config.max_nonce_gap;
        if nonce - expected > max_gap {
            return Err(MempoolError::NonceTooFarAhead {
                nonce,
                expected,
                max_gap,
            });
        }

        // Replacement of the same (sender, nonce).
        let replaced = match self.senders.get(&sender).and_then(|q| q.txs.get(&nonce)) {
            Some(old) => {
                let min_fee = bumped(old.tx.tx.fee, self.config.replace_bump_percent);
                if fee < min_fee {
                    return Err(MempoolError::FeeTooLowToReplace { min_fee });
                }
                Some(old.hash)
            }
            None => None,
        };

        if replaced.is_none() {
            let held = self.senders.get(&sender).map_or(0, |q| q.txs.len());
            if held >= self.config.max_per_sender {
                return Err(MempoolError::SenderFull(held));
            }
            while self.len() >= self.config.max_txs || self.bytes + size > self.config.max_bytes {
                match self.cheapest_tail() {
                    Some((victim_sender, victim_nonce, victim_fee))
                        if victim_fee < fee && victim_sender != sender =>
                    {
                        self.remove(&victim_sender, victim_nonce);
                    }
                    _ => return Err(MempoolError::Full(self.len())),
                }
            }
        } else {
            self.remove(&sender, nonce);
        }

        self.seq += 1;
        let entry = Entry {
            tx,
            hash,
            size,
            seq: self.seq,
            since: self.height,
        };
        let queue = self.senders.entry(sender).or_default();
        queue.next_nonce = expected;
        queue.txs.insert(nonce, entry);
        self.by_hash.insert(hash, (sender, nonce));
        self.bytes += size;
        Ok(hash)
    }

    /// Up to `max` transactions, of at most `max_bytes` encoded bytes together (each
    /// counted with a 4-byte length prefix), for a block, skipping those in `exclude`
    /// (already in unfinalized ancestors): fee priority across senders, nonce order
    /// within one. A sender whose next transaction does not fit contributes no more.
    pub fn candidates(
        &self,
        max: usize,
        max_bytes: usize,
        exclude: &std::collections::BTreeSet<Hash>,
    ) -> Vec<SignedTransaction> {
        // Each sender contributes its ready run; a heap picks the best head each time.
        let mut runs: Vec<Vec<&Entry>> = Vec::new();
        let mut heap = BinaryHeap::new();
        for queue in self.senders.values() {
            let mut run = Vec::new();
            for (expected, (nonce, entry)) in (queue.next_nonce..).zip(&queue.txs) {
                if *nonce != expected {
                    break;
                }
                if !exclude.contains(&entry.hash) {
                    run.push(entry);
                } else if !run.is_empty() {
                    // An excluded transaction in the middle of a run: stop here, the
                    // ones after it follow it in a later block.
                    break;
                }
            }
            if let Some(first) = run.first() {
                heap.push(Head {
                    fee: first.tx.tx.fee,
                    seq: first.seq,
                    run: runs.len(),
                    index: 0,
                });
                runs.push(run);
            }
        }
        let mut out = Vec::new();
        let mut bytes = 0usize;
        while out.len() < max {
            let Some(head) = heap.pop() else { break };
            let run = &runs[head.run];
            let entry = run[head.index];
            let cost = entry.size + 4;
            if bytes + cost > max_bytes {
                continue;
            }
            bytes += cost;
            out.push(entry.tx.clone());
            if let Some(next) = run.get(head.index + 1) {
                heap.push(Head {
                    fee: next.tx.tx.fee,
                    seq: next.seq,
                    run: head.run,
                    index: head.index + 1,
                });
            }
        }
        out
    }

    /// Forget transactions a finalized block at `height` included, advance those
    /// senders' nonces, and drop what became stale (used nonces, too old).
    pub fn on_finalized(&mut self, height: u64, included: &[SignedTransaction]) {
        if height > self.height {
            self.free_refusals.clear();
        }
        self.height = self.height.max(height);
        let mut advanced: BTreeMap<AccountId, u64> = BTreeMap::new();
        for tx in included {
            let next = tx.tx.nonce.saturating_add(1);
            let slot = advanced.entry(tx.tx.sender).or_insert(next);
            *slot = (*slot).max(next);
        }
        for (sender, next) in advanced {
            if let Some(queue) = self.senders.get_mut(&sender) {
                queue.next_nonce = queue.next_nonce.max(next);
                let stale: Vec<u64> = queue
                    .txs
                    .range(..queue.next_nonce)
                    .map(|(n, _)| *n)
                    .collect();
                for nonce in stale {
                    self.remove(&sender, nonce);
                }
            }
        }
        let max_age = self.config.max_age_blocks;
        let old: Vec<(AccountId, u64)> = self
            .senders
            .iter()
            .flat_map(|(sender, queue)| {
                queue
                    .txs
                    .iter()
                    .filter(|(_, e)| self.height.saturating_sub(e.since) > max_age)
                    .map(|(nonce, _)| (*sender, *nonce))
            })
            .collect();
        for (sender, nonce) in old {
            self.remove(&sender, nonce);
        }
    }

    /// Drop one transaction (for example one the ledger now rejects), and the
    /// sender's later ones, which can no longer run without it.
    pub fn evict(&mut self, hash: &Hash) {
        let Some((sender, nonce)) = self.by_hash.get(hash).copied() else {
            return;
        };
        let later: Vec<u64> = self
            .senders
            .get(&sender)
            .map(|q| q.txs.range(nonce..).map(|(n, _)| *n).collect())
            .unwrap_or_default();
        for n in later {
            self.remove(&sender, n);
        }
    }

    /// Senders with waiting transactions.
    pub fn senders(&self) -> impl Iterator<Item = &AccountId> {
        self.senders.keys()
    }

    /// The waiting transactions of `sender`, in nonce order.
    pub fn sender_txs(&self, sender: &AccountId) -> Vec<SignedTransaction> {
        self.senders
            .get(sender)
            .map(|q| q.txs.values().map(|e| e.tx.clone()).collect())
            .unwrap_or_default()
    }

    fn remove(&mut self, sender: &AccountId, nonce: u64) {
        let Some(queue) = self.senders.get_mut(sender) else {
            return;
        };
        if let Some(entry) = queue.txs.remove(&nonce) {
            self.by_hash.remove(&entry.hash);
            self.bytes -= entry.size;
        }
        if queue.txs.is_empty() {
            self.senders.remove(sender);
        }
    }

    /// The queue tail (highest nonce of a sender) with the lowest fee; ties go to the
    /// most recent arrival.
    fn cheapest_tail(&self) -> Option<(AccountId, u64, Amount)> {
        self.senders
            .iter()
            .filter_map(|(sender, queue)| {
                let (nonce, entry) = queue.txs.last_key_value()?;
                Some((
                    entry.tx.tx.fee,
                    std::cmp::Reverse(entry.seq),
                    *sender,
                    *nonce,
                ))
            })
            .min()
            .map(|(fee, _, sender, nonce)| (sender, nonce, fee))
    }
}

/// The contiguous run of a sender's transactions starting at its next nonce.
fn ready_run(queue: &SenderQueue) -> impl Iterator<Item = &Entry> {
    let mut expected = queue.next_nonce;
    queue.txs.iter().map_while(move |(nonce, entry)| {
        if *nonce == expected {
            expected += 1;
            Some(entry)
        } else {
            None
        }
    })
}

/// `fee` raised by `percent`, rounding up, and by at least one base unit.
fn bumped(fee: Amount, percent: u64) -> Amount {
    let bump = (u128::from(fee) * u128::from(percent)).div_ceil(100);
    let bump = Amount::try_from(bump).unwrap_or(Amount::MAX).max(1);
    fee.saturating_add(bump)
}

/// A candidate head in the priority merge: higher fee first, then earlier arrival.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    fee: Amount,
    seq: u64,
    run: usize,
    index: usize,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.fee
            .cmp(&other.fee)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use plexus_types::Keypair;

    use super::*;
    use crate::testing::transfer;

    fn tx(key: &Keypair, nonce: u64, fee: Amount) -> SignedTransaction {
        transfer(key, Keypair::from_label("sink").account(), 7, nonce, fee)
    }

    #[test]
    fn a_duplicate_is_refused() {
        let alice = Keypair::from_label("alice");
        let mut mempool = Mempool::new(MempoolConfig::default());
        let t = tx(&alice, 0, 10);
        let hash = mempool.insert(t.clone(), 0).unwrap();
        assert_eq!(mempool.insert(t, 0), Err(MempoolError::Duplicate(hash)));
        assert_eq!(mempool.len(), 1);
    }

    #[test]
    fn nonces_below_or_too_far_above_the_account_nonce_are_refused() {
        let alice = Keypair::from_label("alice");
        let mut mempool = Mempool::new(MempoolConfig {
            max_nonce_gap: 2,
            ..MempoolConfig::default()
        });
        assert_eq!(
            mempool.insert(tx(&alice, 4, 1), 5),
            Err(MempoolError::NonceTooLow {
                nonce: 4,
                expected: 5
            })
        );
        assert!(mempool.insert(tx(&alice, 7, 1), 5).is_ok());
        assert_eq!(
            mempool.insert(tx(&alice, 8, 1), 5),
            Err(MempoolError::NonceTooFarAhead {
                nonce: 8,
                expected: 5,
                max_gap: 2
            })
        );
    }

    #[test]
    fn future_nonces_wait_until_the_gap_fills() {
        let alice = Keypair::from_label("alice");
        let mut mempool = Mempool::new(MempoolConfig::default());
        mempool.insert(tx(&alice, 1, 10), 0).unwrap();
        mempool.insert(tx(&alice, 2, 10), 0).unwrap();
        assert_eq!(mempool.ready_len(), 0);
        assert!(
            mempool
                .candidates(10, usize::MAX, &BTreeSet::new())
                .is_empty()
        );
        mempool.insert(tx(&alice, 0, 10), 0).unwrap();
        let picked: Vec<u64> = mempool
            .candidates(10, usize::MAX, &BTreeSet::new())
            .iter()
            .map(|t| t.tx.nonce)
            .collect();
        assert_eq!(picked, vec![0, 1, 2]);
    }

    #[test]
    fn blocks_take_higher_fees_first_and_keep_each_senders_nonce_order() {
        let alice = Keypair::from_label("alice");
        let bob = Keypair::from_label("bob");
        let mut mempool = Mempool::new(MempoolConfig::default());
        mempool.insert(tx(&alice, 0, 5), 0).unwrap();
        mempool.insert(tx(&alice, 1, 100), 0).unwrap();
        mempool.insert(tx(&bob, 0, 50), 0).unwrap();
        mempool.insert(tx(&bob, 1, 1), 0).unwrap();
        let picked: Vec<(AccountId, u64)> = mempool
            .candidates(10, usize::MAX, &BTreeSet::new())
            .iter()
            .map(|t| (t.tx.sender, t.tx.nonce))
            .collect();
        assert_eq!(
            picked,
            vec![
                (bob.account(), 0),
                (alice.account(), 0),
                (alice.account(), 1),
                (bob.account(), 1)
            ]
        );
        assert_eq!(mempool.candidates(2, usize::MAX, &BTreeSet::new()).len(), 2);
    }

    #[test]
    fn transactions_in_unfinalized_ancestors_are_skipped() {
        let alice = Keypair::from_label("alice");
        let mut mempool = Mempool::new(MempoolConfig::default());
        let first = mempool.insert(tx(&alice, 0, 5), 0).unwrap();
        mempool.insert(tx(&alice, 1, 5), 0).unwrap();
        let picked = mempool.candidates(10, usize::MAX, &BTreeSet::from([first]));
        assert_eq!(picked.len(), 1);
        assert_eq!(picked[0].tx.nonce, 1);
    }

    #[test]
    fn candidates_fit_the_byte_budget() {
        let alice = Keypair::from_label("alice");
        let bob = Keypair::from_label("bob");
        let mut mempool = Mempool::new(MempoolConfig::default());
        mempool.insert(tx(&alice, 0, 9), 0).unwrap();
        mempool.insert(tx(&alice, 1, 9), 0).unwrap();
        mempool.insert(tx(&bob, 0, 1), 0).unwrap();
        let one = plexus_types::Encode::encode(&tx(&alice, 0, 9)).len() + 4;
        let picked = mempool.candidates(10, 2 * one, &BTreeSet::new());
        assert_eq!(picked.len(), 2);
        assert!(picked.iter().all(|t| t.tx.sender == alice.account()));
        assert!(mempool.candidates(10, one - 1, &BTreeSet::new()).is_empty());
    }

    #[test]
    fn a_replacement_must_pay_more() {
        let alice = Keypair::from_label("alice");
        let mut mempool = Mempool::new(MempoolConfig::default());
        mempool.insert(tx(&alice, 0, 100), 0).unwrap();
        assert_eq!(
            mempool.insert(tx(&alice, 0, 105), 0),
            Err(MempoolError::FeeTooLowToReplace { min_fee: 110 })
        );
        let hash = mempool.insert(tx(&alice, 0, 110), 0).unwrap();
        assert_eq!(mempool.len(), 1);
        assert!(mempool.contains(&hash));
    }

    #[test]
    fn a_full_pool_evicts_the_cheapest_tail_only_for_a_better_fee() {
        let alice = Keypair::from_label("alice");
        let bob = Keypair::from_label("bob");
        let carol = Keypair::from_label("carol");
        let mut mempool = Mempool::new(MempoolConfig {
            max_txs: 2,
            ..MempoolConfig::default()
        });
        mempool.insert(tx(&alice, 0, 10), 0).unwrap();
        let cheap = mempool.insert(tx(&bob, 0, 3), 0).unwrap();
        assert_eq!(
            mempool.insert(tx(&carol, 0, 3), 0),
            Err(MempoolError::Full(2))
        );
        mempool.insert(tx(&carol, 0, 4), 0).unwrap();
        assert!(!mempool.contains(&cheap));
        assert_eq!(mempool.len(), 2);
    }

    #[test]
    fn a_sender_cannot_hold_more_than_its_share() {
        let alice = Keypair::from_label("alice");
        let mut mempool = Mempool::new(MempoolConfig {
            max_per_sender: 2,
            ..MempoolConfig::default()
        });
        mempool.insert(tx(&alice, 0, 1), 0).unwrap();
        mempool.insert(tx(&alice, 1, 1), 0).unwrap();
        assert_eq!(
            mempool.insert(tx(&alice, 2, 1), 0),
            Err(MempoolError::SenderFull(2))
        );
    }

    #[test]
    fn finalizing_removes_included_and_stale_transactions() {
        let alice = Keypair::from_label("alice");
        let bob = Keypair::from_label("bob");
        let mut mempool = Mempool::new(MempoolConfig {
            max_age_blocks: 10,
            ..MempoolConfig::default()
        });
        let a0 = tx(&alice, 0, 1);
        mempool.insert(a0.clone(), 0).unwrap();
        // A competing transaction with the same nonce that another node included.
        let a1_other = tx(&alice, 1, 9);
        mempool.insert(tx(&alice, 1, 1), 0).unwrap();
        mempool.insert(tx(&alice, 2, 1), 0).unwrap();
        mempool.insert(tx(&bob, 0, 1), 0).unwrap();
        mempool.on_finalized(1, &[a0, a1_other]);
        assert_eq!(mempool.sender_txs(&alice.account()).len(), 1);
        assert_eq!(mempool.sender_txs(&alice.account())[0].tx.nonce, 2);
        assert_eq!(mempool.ready_len(), 2);
        // Old transactions age out.
        mempool.on_finalized(12, &[]);
        assert!(mempool.is_empty());
        assert_eq!(mempool.bytes(), 0);
    }

    #[test]
    fn a_sender_whose_fee_free_transactions_keep_failing_is_not_checked_again_until_the_next_block()
    {
        let mut pool = Mempool::new(MempoolConfig {
            max_free_refusals_per_block: 2,
            ..MempoolConfig::default()
        });
        let (a, b) = (
            Keypair::from_label("a").account(),
            Keypair::from_label("b").account(),
        );
        pool.note_free_refusal(&a);
        assert!(pool.free_check_allowed(&a).is_ok());
        pool.note_free_refusal(&a);
        assert_eq!(pool.free_check_allowed(&a), Err(1));
        assert!(pool.free_check_allowed(&b).is_ok());
        pool.on_finalized(1, &[]);
        assert!(pool.free_check_allowed(&a).is_ok());
    }

    #[test]
    fn evicting_a_transaction_drops_the_senders_later_ones() {
        let alice = Keypair::from_label("alice");
        let mut mempool = Mempool::new(MempoolConfig::default());
        mempool.insert(tx(&alice, 0, 1), 0).unwrap();
        let middle = mempool.insert(tx(&alice, 1, 1), 0).unwrap();
        mempool.insert(tx(&alice, 2, 1), 0).unwrap();
        mempool.evict(&middle);
        assert_eq!(mempool.len(), 1);
    }
}
