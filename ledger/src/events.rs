//! What a block did, for the explorer, the API and the node's logs.

use std::sync::Arc;

use plexus_types::{AccountId, Amount, Block, Hash, Netuid, Uid, tx::DataTaskId};
use serde::{Deserialize, Serialize};

/// One effect of a block. Transaction effects follow their [`Event::TxApplied`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A transaction was applied; the events after it (until the next one) are its effects.
    TxApplied {
        /// Transaction id.
        tx: Hash,
        /// The signer.
        sender: AccountId,
        /// Its nonce.
        nonce: u64,
        /// Fee burned.
        fee: Amount,
        /// Payload kind (`Payload::kind`).
        kind: String,
    },
    /// Funds moved.
    Transfer {
        /// Sender.
        from: AccountId,
        /// Receiver.
        to: AccountId,
        /// Base units.
        amount: Amount,
    },
    /// Stake added from a coldkey's balance to a hotkey.
    StakeAdded {
        /// The coldkey.
        coldkey: AccountId,
        /// The hotkey.
        hotkey: AccountId,
        /// Base units.
        amount: Amount,
    },
    /// Stake removed back to a coldkey's balance.
    StakeRemoved {
        /// The coldkey.
        coldkey: AccountId,
        /// The hotkey.
        hotkey: AccountId,
        /// Base units.
        amount: Amount,
    },
    /// A hotkey's take changed.
    TakeSet {
        /// The hotkey.
        hotkey: AccountId,
        /// New take out of 65535.
        take: u16,
    },
    /// A subnet was created.
    SubnetCreated {
        /// Its netuid.
        netuid: Netuid,
        /// Owner coldkey.
        owner: AccountId,
        /// Lock cost burned.
        burned: Amount,
    },
    /// A subnet's hyperparameters changed.
    HyperparamsSet {
        /// The subnet.
        netuid: Netuid,
    },
    /// A hotkey was registered.
    Registered {
        /// The subnet.
        netuid: Netuid,
        /// Its UID.
        uid: Uid,
        /// The hotkey.
        hotkey: AccountId,
        /// The owner coldkey that paid.
        coldkey: AccountId,
        /// Burn price paid.
        burned: Amount,
        /// The hotkey that held the UID before, if it was pruned.
        replaced: Option<AccountId>,
    },
    /// An endpoint was published.
    Served {
        /// The subnet.
        netuid: Netuid,
        /// The UID.
        uid: Uid,
    },
    /// Weights were committed.
    WeightsCommitted {
        /// The subnet.
        netuid: Netuid,
        /// The UID.
        uid: Uid,
        /// The commit.
        commit: Hash,
    },
    /// Weights were stored (set directly or revealed).
    WeightsSet {
        /// The subnet.
        netuid: Netuid,
        /// The UID.
        uid: Uid,
        /// Non-zero entries stored.
        entries: u32,
        /// Whether this was a reveal.
        revealed: bool,
    },
    /// Block emission accrued to subnets.
    EmissionAccrued {
        /// Base units minted this block.
        amount: Amount,
    },
    /// A subnet's epoch ran and paid out.
    EpochRun {
        /// The subnet.
        netuid: Netuid,
        /// The epoch's index on this subnet (0 is the first).
        epoch: u64,
        /// Pending emission available.
        emission: Amount,
        /// Paid to the owner coldkey.
        owner_cut: Amount,
        /// Paid to miners (as stake).
        miners: Amount,
        /// Paid to validators and their nominators (as stake).
        validators: Amount,
        /// Left pending for the next epoch (rounding, or nobody to pay).
        carried: Amount,
        /// Per-UID `(uid, miner emission, validator emission)`, non-zero ones only.
        payouts: Vec<(Uid, Amount, Amount)>,
    },
    /// A data task was posted and its bounty escrowed.
    DataTaskCreated {
        /// The task id.
        task: DataTaskId,
        /// The data subnet.
        netuid: Netuid,
        /// The creator coldkey.
        creator: AccountId,
        /// Base units escrowed.
        bounty: Amount,
    },
    /// A contributor committed to a data submission.
    DataCommitted {
        /// The task.
        task: DataTaskId,
        /// The contributor's hotkey.
        hotkey: AccountId,
        /// The commitment.
        commitment: Hash,
    },
    /// A contributor revealed its data submission.
    DataRevealed {
        /// The task.
        task: DataTaskId,
        /// The contributor's hotkey.
        hotkey: AccountId,
        /// The submission's content hash.
        content_hash: Hash,
        /// Rows declared.
        rows: u64,
    },
    /// A validator published a task's accepted dataset and the escrow was released.
    DatasetPublished {
        /// The task.
        task: DataTaskId,
        /// The dataset's Merkle root.
        merkle_root: Hash,
        /// Rows in the dataset.
        rows: u64,
        /// Base units released from escrow.
        released: Amount,
        /// Whether they went back to the creator (nobody revealed) rather than to the
        /// subnet's pending emission.
        refunded: bool,
    },
    /// An issuer published its endpoint and keys.
    IssuerRegistered {
        /// The issuer hotkey.
        issuer: AccountId,
        /// Keys it holds now.
        keys: u32,
    },
    /// A buyer moved a bundle's price into an issuer key's escrow.
    CreditsBought {
        /// The deposit id the issuer signs tokens for.
        deposit: u64,
        /// The buying coldkey.
        buyer: AccountId,
        /// The issuer hotkey.
        issuer: AccountId,
        /// The issuer key id (sha256 of its SPKI).
        key_id: Hash,
        /// Credits bought.
        credits: u32,
        /// Base units escrowed.
        amount: Amount,
    },
    /// A provider was paid for redeemed tokens.
    CreditsSettled {
        /// The provider hotkey.
        provider: AccountId,
        /// Tokens settled.
        tokens: u32,
        /// Base units paid out of escrow.
        paid: Amount,
        /// Base units taken from over-issuing issuers' bonds back into their keys'
        /// escrow, so that every buyer of those keys can be refunded in full.
        slashed: Amount,
        /// Tokens recorded as settled but paid nothing: their key was over-issued or
        /// its settle window had closed.
        unpaid: u32,
    },
    /// An issuer key was caught over-issuing: more tokens were settled than were bought.
    IssuerKeyOverIssued {
        /// The issuer hotkey.
        issuer: AccountId,
        /// The key id.
        key_id: Hash,
    },
    /// A buyer took back (part of) a credit deposit.
    CreditsRefunded {
        /// The deposit id.
        deposit: u64,
        /// The buyer coldkey.
        buyer: AccountId,
        /// Base units returned.
        amount: Amount,
    },
    /// An operator bonded for a consensus key.
    Bonded {
        /// The operator.
        operator: AccountId,
        /// The consensus key.
        consensus_key: AccountId,
        /// Base units bonded now.
        amount: Amount,
        /// The operator's bond after it.
        bond: Amount,
    },
    /// Part of a bond stopped counting and returns at `release_height`.
    Unbonding {
        /// The operator.
        operator: AccountId,
        /// Base units.
        amount: Amount,
        /// The height it returns to the balance.
        release_height: u64,
    },
    /// An unbonded amount returned to its operator's balance.
    BondReleased {
        /// The operator.
        operator: AccountId,
        /// Base units.
        amount: Amount,
    },
    /// An operator's consensus key changes at the next epoch boundary.
    ConsensusKeyRotating {
        /// The operator.
        operator: AccountId,
        /// The new key.
        new_key: AccountId,
    },
    /// A validator was proven to sign twice: its bond was cut and it leaves the set.
    ValidatorSlashed {
        /// The operator.
        operator: AccountId,
        /// The key that signed twice.
        consensus_key: AccountId,
        /// The epoch of the double sign.
        epoch: u64,
        /// The view of the double sign.
        view: u64,
        /// Base units burned.
        burned: Amount,
    },
    /// The validator set of the next consensus epoch was chosen.
    ValidatorSetChosen {
        /// The epoch it votes in.
        epoch: u64,
        /// Its consensus keys, sorted.
        validators: Vec<AccountId>,
        /// Whether too few were eligible and the current set was kept.
        kept: bool,
    },
}

/// A block the node committed, with the events its execution emitted: what the node
/// publishes and the API streams.
#[derive(Debug, Clone)]
pub struct FinalizedBlock {
    /// Its height.
    pub height: u64,
    /// Its digest.
    pub digest: Hash,
    /// The block.
    pub block: Arc<Block>,
    /// Events, in execution order.
    pub events: Arc<Vec<Event>>,
}
