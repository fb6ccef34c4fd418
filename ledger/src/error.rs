//! Why a transaction was rejected: one typed reason per rule, with a stable code.

use plexus_types::{AccountId, Amount, Mechanism, Netuid, Uid, format_plx, tx::DataTaskId};
use thiserror::Error;

use crate::state::StateError;

/// Why a transaction was rejected. Messages say what to do; [`TxError::code`] is stable for APIs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TxError {
    /// The signature does not verify for the sender over the transaction's signing bytes.
    #[error(
        "signature does not verify for sender {sender}: sign the transaction with the sender's key"
    )]
    BadSignature {
        /// The claimed sender.
        sender: AccountId,
    },
    /// The transaction names another chain.
    #[error("transaction is for chain {got}, but this is chain {expected}")]
    WrongChain {
        /// This chain's id.
        expected: u64,
        /// The chain id in the transaction.
        got: u64,
    },
    /// The fee is below the minimum for this payload.
    #[error("fee {} PLX is below the minimum of {} PLX", format_plx(*fee), format_plx(*min))]
    FeeTooLow {
        /// The fee offered.
        fee: Amount,
        /// The minimum fee.
        min: Amount,
    },
    /// The nonce was already used.
    #[error("nonce {nonce} is stale: the account's next nonce is {expected}")]
    StaleNonce {
        /// The nonce in the transaction.
        nonce: u64,
        /// The account's next nonce.
        expected: u64,
    },
    /// The nonce skips ahead of the account's next nonce.
    #[error("nonce {nonce} is in the future: the account's next nonce is {expected}")]
    FutureNonce {
        /// The nonce in the transaction.
        nonce: u64,
        /// The account's next nonce.
        expected: u64,
    },
    /// The sender's free balance does not cover what the transaction spends.
    #[error("insufficient balance: have {} PLX, need {} PLX ({what})", format_plx(*have), format_plx(*need))]
    InsufficientBalance {
        /// The sender's free balance.
        have: Amount,
        /// What the transaction needs.
        need: Amount,
        /// What the amount is made of, e.g. "amount + fee".
        what: &'static str,
    },
    /// An amount that must be positive is zero.
    #[error("{0} must be greater than zero")]
    ZeroAmount(&'static str),
    /// Arithmetic would overflow; the transaction is rejected rather than wrapped.
    #[error("{0} would overflow")]
    Overflow(&'static str),
    /// No subnet has this netuid.
    #[error("subnet {netuid} does not exist")]
    UnknownSubnet {
        /// The netuid.
        netuid: Netuid,
    },
    /// Only the subnet's owner coldkey may do this.
    #[error("only the owner of subnet {netuid} ({owner}) may change it")]
    NotSubnetOwner {
        /// The subnet.
        netuid: Netuid,
        /// Its owner coldkey.
        owner: AccountId,
    },
    /// A hyperparameter is outside its allowed range.
    #[error("invalid hyperparameters: {0}")]
    InvalidHyperparams(String),
    /// The subnet name is empty or too long.
    #[error("invalid subnet name: {0}")]
    InvalidSubnetName(&'static str),
    /// The chain already has the most subnets it allows.
    #[error("the chain already has the maximum of {max} subnets")]
    TooManySubnets {
        /// The limit.
        max: u16,
    },
    /// The subnet does not accept registrations now.
    #[error("subnet {netuid} does not accept registrations (its owner disabled them)")]
    RegistrationClosed {
        /// The subnet.
        netuid: Netuid,
    },
    /// The hotkey is bound to a different coldkey.
    #[error(
        "hotkey {hotkey} is owned by coldkey {owner}; sign with that coldkey or use another hotkey"
    )]
    HotkeyOwnedByAnother {
        /// The hotkey.
        hotkey: AccountId,
        /// Its owner coldkey.
        owner: AccountId,
    },
    /// The hotkey already holds a UID on this subnet.
    #[error("hotkey {hotkey} is already registered on subnet {netuid} as uid {uid}")]
    AlreadyRegistered {
        /// The subnet.
        netuid: Netuid,
        /// The hotkey.
        hotkey: AccountId,
        /// Its UID.
        uid: Uid,
    },
    /// The hotkey holds no UID on this subnet.
    #[error("hotkey {hotkey} is not registered on subnet {netuid}: register it first")]
    NotRegistered {
        /// The subnet.
        netuid: Netuid,
        /// The hotkey.
        hotkey: AccountId,
    },
    /// The hotkey was never bound to a coldkey (it has never been registered).
    #[error("hotkey {hotkey} has no owner yet: register it on a subnet first")]
    UnknownHotkey {
        /// The hotkey.
        hotkey: AccountId,
    },
    /// Only the hotkey's owner coldkey may do this.
    #[error("only the owner coldkey of hotkey {hotkey} ({owner}) may do this")]
    NotHotkeyOwner {
        /// The hotkey.
        hotkey: AccountId,
        /// Its owner coldkey.
        owner: AccountId,
    },
    /// The requested take is above the maximum.
    #[error("take {take}/65535 is above the maximum of {max}/65535")]
    TakeTooHigh {
        /// The requested take.
        take: u16,
        /// The maximum take.
        max: u16,
    },
    /// The coldkey has less stake on the hotkey than it tries to remove.
    #[error("insufficient stake: have {} PLX on hotkey {hotkey}, asked to remove {} PLX", format_plx(*have), format_plx(*need))]
    InsufficientStake {
        /// The hotkey.
        hotkey: AccountId,
        /// The stake the coldkey holds on it.
        have: Amount,
        /// The stake asked for.
        need: Amount,
    },
    /// The endpoint is malformed.
    #[error("invalid endpoint: {0}")]
    InvalidEndpoint(&'static str),
    /// The subnet uses commit-reveal, so weights must be committed and revealed.
    #[error(
        "subnet {netuid} uses commit-reveal: send CommitWeights, then RevealWeights in the next epoch"
    )]
    CommitRevealEnabled {
        /// The subnet.
        netuid: Netuid,
    },
    /// The subnet does not use commit-reveal, so weights are set directly.
    #[error("subnet {netuid} has commit-reveal disabled: use SetWeights")]
    CommitRevealDisabled {
        /// The subnet.
        netuid: Netuid,
    },
    /// A reveal came without a pending commit.
    #[error("no pending weights commit for this hotkey on subnet {netuid}: commit first")]
    NoCommit {
        /// The subnet.
        netuid: Netuid,
    },
    /// A reveal came in the same epoch as its commit.
    #[error("reveal too early: committed in epoch {committed}, reveal in epoch {}", committed + 1)]
    RevealTooEarly {
        /// The epoch of the commit.
        committed: u64,
        /// The current epoch.
        current: u64,
    },
    /// A reveal came after the epoch following its commit.
    #[error("reveal too late: committed in epoch {committed}, the reveal window was epoch {}, now epoch {current}; commit again", committed + 1)]
    RevealTooLate {
        /// The epoch of the commit.
        committed: u64,
        /// The current epoch.
        current: u64,
    },
    /// The revealed weights do not hash to the commit.
    #[error("revealed weights do not match the commit: check uids, weights, salt and version")]
    CommitMismatch,
    /// `uids` and `weights` have different lengths.
    #[error("{uids} uids but {weights} weights: the lists must be parallel")]
    WeightsLengthMismatch {
        /// Number of uids.
        uids: usize,
        /// Number of weights.
        weights: usize,
    },
    /// No weights were given.
    #[error("no weights given")]
    EmptyWeights,
    /// More weight entries than a transaction may carry.
    #[error("{len} weight entries, above the limit of {max}")]
    TooManyWeights {
        /// Entries given.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A UID appears twice.
    #[error("uid {uid} appears more than once")]
    DuplicateUid {
        /// The repeated UID.
        uid: Uid,
    },
    /// A UID is not on the subnet.
    #[error("uid {uid} does not exist: subnet {netuid} has {n} uids")]
    UidOutOfRange {
        /// The subnet.
        netuid: Netuid,
        /// The UID.
        uid: Uid,
        /// How many UIDs the subnet has.
        n: u16,
    },
    /// Fewer non-zero weights than the subnet requires.
    #[error("{have} non-zero weights, the subnet requires at least {min}")]
    TooFewWeights {
        /// Non-zero weights given.
        have: usize,
        /// The minimum.
        min: usize,
    },
    /// Every weight is zero.
    #[error("every weight is zero")]
    AllWeightsZero,
    /// Weighting other UIDs needs a validator permit.
    #[error(
        "hotkey has no validator permit on subnet {netuid}: stake more, or only set a self-weight"
    )]
    NoValidatorPermit {
        /// The subnet.
        netuid: Netuid,
    },
    /// The hotkey set or committed weights too recently.
    #[error("weights rate limit: next allowed at block {next_block}")]
    RateLimited {
        /// The first block at which the action is allowed.
        next_block: u64,
    },
    /// No data task has this id.
    #[error("data task {task} does not exist: list tasks with `plexus data task list`")]
    UnknownDataTask {
        /// The task id.
        task: DataTaskId,
    },
    /// Data tasks can only be posted on data subnets.
    #[error(
        "subnet {netuid} is a {mechanism:?} subnet, not a data subnet: post the task on a subnet created with mechanism `data`"
    )]
    NotADataSubnet {
        /// The subnet.
        netuid: Netuid,
        /// Its mechanism.
        mechanism: Mechanism,
    },
    /// The data task's parameters are inconsistent.
    #[error("invalid data task: {0}")]
    InvalidDataTask(&'static str),
    /// A deadline is already behind the chain.
    #[error(
        "deadline {deadline} is already past (the transaction lands at block {height}): choose a later block"
    )]
    DeadlinePassed {
        /// The deadline given.
        deadline: u64,
        /// The block the transaction lands in.
        height: u64,
    },
    /// The task's commit window has closed.
    #[error("the commit window of data task {task} closed at block {deadline}")]
    CommitClosed {
        /// The task.
        task: DataTaskId,
        /// Its commit deadline.
        deadline: u64,
    },
    /// The task's reveal window has not opened yet.
    #[error("the reveal window of data task {task} opens at block {opens_at}: wait for it")]
    RevealNotOpen {
        /// The task.
        task: DataTaskId,
        /// The first block at which reveals land.
        opens_at: u64,
    },
    /// The task's reveal window has closed.
    #[error("the reveal window of data task {task} closed at block {deadline}")]
    RevealClosed {
        /// The task.
        task: DataTaskId,
        /// Its reveal deadline.
        deadline: u64,
    },
    /// A reveal came without a commit from this hotkey.
    #[error("this hotkey has no commit on data task {task}: commit before the commit deadline")]
    NoDataCommit {
        /// The task.
        task: DataTaskId,
    },
    /// The hotkey already revealed on this task.
    #[error("this hotkey already revealed its submission to data task {task}")]
    AlreadyRevealed {
        /// The task.
        task: DataTaskId,
    },
    /// The revealed submission does not hash to the commit.
    #[error("revealed submission does not match the commit: check the content hash and salt")]
    DataCommitMismatch,
    /// A row count is outside the task's bounds.
    #[error("{rows} rows is outside the allowed range {min}..={max}")]
    RowsOutOfBounds {
        /// Rows given.
        rows: u64,
        /// Fewest allowed.
        min: u64,
        /// Most allowed.
        max: u64,
    },
    /// The dataset cannot be published before the reveal deadline has passed.
    #[error(
        "data task {task} can be published from block {opens_at}: wait for the reveal deadline to pass"
    )]
    PublishTooEarly {
        /// The task.
        task: DataTaskId,
        /// The first block at which publication lands.
        opens_at: u64,
    },
    /// The task's dataset was already published.
    #[error("data task {task} already has a published dataset")]
    AlreadyPublished {
        /// The task.
        task: DataTaskId,
    },
    /// An issuer key or the issuer's endpoint is malformed.
    #[error("invalid issuer registration: {0}")]
    InvalidIssuer(&'static str),
    /// The issuer already published a different key for this (denomination, key epoch).
    #[error(
        "issuer already published another key for denomination {denomination}, key epoch {key_epoch}: keys never change, use a new key epoch"
    )]
    IssuerKeyTaken {
        /// The denomination.
        denomination: u32,
        /// The key epoch.
        key_epoch: u32,
    },
    /// The key is already registered by another issuer.
    #[error("this issuer key is already registered by issuer {issuer}")]
    IssuerKeyOwnedByAnother {
        /// The issuer that holds it.
        issuer: AccountId,
    },
    /// The issuer has no key for this (denomination, key epoch).
    #[error(
        "issuer {issuer} has no key for denomination {denomination}, key epoch {key_epoch}: list keys with `plexus credits issuers`"
    )]
    UnknownIssuerKey {
        /// The issuer.
        issuer: AccountId,
        /// The denomination asked for.
        denomination: u32,
        /// The key epoch asked for.
        key_epoch: u32,
    },
    /// The credit amount is not a bundle size or not a multiple of the denomination.
    #[error(
        "{credits} credits is not a bundle of this key: buy 10, 100 or 1000 credits, a multiple of the denomination {denomination}"
    )]
    InvalidBundle {
        /// Credits asked for.
        credits: u32,
        /// The key's denomination.
        denomination: u32,
    },
    /// A settlement carries no tokens.
    #[error("a settlement must carry at least one token")]
    NoTokens,
    /// A token in a settlement does not verify.
    #[error("token {index} does not verify: {reason}")]
    InvalidToken {
        /// Its position in the settlement.
        index: usize,
        /// Why.
        reason: &'static str,
    },
    /// A token's nonce was settled before (or appears twice in this settlement).
    #[error("token {index} was already settled (nonce {nonce}): each token is paid once")]
    TokenAlreadySettled {
        /// Its position in the settlement.
        index: usize,
        /// The token nonce, hex.
        nonce: String,
    },
    /// The hotkey's owner tried to unstake below the bond its issuer keys still need.
    #[error("{} PLX of the self-stake on issuer {hotkey} is its credit bond until its keys close: unstake at most the rest", format_plx(*bonded))]
    StakeBonded {
        /// The issuer hotkey.
        hotkey: AccountId,
        /// The self-stake that stays locked.
        bonded: Amount,
    },
    /// The issuer's bond does not cover what its open keys could owe.
    #[error("issuer {issuer} has {} PLX of self-stake bonded but needs {} PLX to cover its open keys: stake more to the issuer hotkey", format_plx(*have), format_plx(*need))]
    IssuerBondTooSmall {
        /// The issuer.
        issuer: AccountId,
        /// The owner's self-stake on the issuer hotkey.
        have: Amount,
        /// What its open keys (and this purchase) need.
        need: Amount,
    },
    /// The issuer may not sell credits now.
    #[error("issuer {issuer} is not selling credits: {reason}")]
    IssuerNotSelling {
        /// The issuer.
        issuer: AccountId,
        /// Why (no validator permit, caught over-issuing).
        reason: &'static str,
    },
    /// A key for a key epoch other than the chain's current or next one.
    #[error("key epoch {key_epoch} is off the chain's schedule: publish keys for key epoch {current} or {} only", current + 1)]
    IssuerKeyOffSchedule {
        /// The key epoch asked for.
        key_epoch: u32,
        /// The chain's current key epoch.
        current: u32,
    },
    /// Credits are sold only on the key of the chain's current key epoch.
    #[error("key epoch {key_epoch} is not on sale: buy on key epoch {current}")]
    IssuerKeyNotCurrent {
        /// The key epoch asked for.
        key_epoch: u32,
        /// The chain's current key epoch.
        current: u32,
    },
    /// No deposit has this id.
    #[error("deposit {deposit} does not exist")]
    UnknownDeposit {
        /// The deposit id.
        deposit: u64,
    },
    /// Only the buyer may take back its deposit, and only once.
    #[error(
        "deposit {deposit} is not refundable by this account: only its buyer may, and only once"
    )]
    NotRefundable {
        /// The deposit id.
        deposit: u64,
    },
    /// The deposit's key is still open: its tokens may yet be settled.
    #[error(
        "deposit {deposit} is refundable from block {from_block}, once its key's settle window has closed"
    )]
    RefundNotOpen {
        /// The deposit id.
        deposit: u64,
        /// The first block at which a refund is possible.
        from_block: u64,
    },
    /// The sender used up its fee-free transactions for this window.
    #[error("fee-free quota used: pay the minimum fee, or wait until block {next_block}")]
    FreeTxRateLimited {
        /// The first block of the next quota window.
        next_block: u64,
    },
    /// The issuer key's escrow and the issuer's own stake cannot cover the tokens.
    #[error("issuer {issuer} cannot cover {} PLX of settlement: its key escrow and self-stake are exhausted", format_plx(*short))]
    EscrowExhausted {
        /// The issuer.
        issuer: AccountId,
        /// What could not be paid.
        short: Amount,
    },
    /// The chain keeps its genesis validators for good: nobody bonds.
    #[error(
        "this chain's validator set is fixed by its genesis (consensus epoch length 0): bonding, unbonding and key rotation are off"
    )]
    FixedValidatorSet,
    /// A consensus key is not an ed25519 public key.
    #[error("consensus key {0} is not an ed25519 public key")]
    BadConsensusKey(AccountId),
    /// Another operator bonded for this consensus key (or is rotating to it).
    #[error("consensus key {key} belongs to validator operator {operator}: use a key of your own")]
    ConsensusKeyTaken {
        /// The key.
        key: AccountId,
        /// Its operator.
        operator: AccountId,
    },
    /// A bond names another key than the operator's.
    #[error("this operator votes with {expected}, not {key}: bond for that key, or rotate first")]
    BondKeyMismatch {
        /// The key in the transaction.
        key: AccountId,
        /// The operator's key.
        expected: AccountId,
    },
    /// The sender never bonded.
    #[error("{0} has no validator bond: send a bond first")]
    NotAValidatorOperator(AccountId),
    /// Unbonding more than is bonded.
    #[error("cannot unbond {} PLX of a {} PLX bond", format_plx(*amount), format_plx(*bond))]
    InsufficientBond {
        /// What is bonded.
        bond: Amount,
        /// What the transaction unbonds.
        amount: Amount,
    },
    /// Too many unbonding entries are open.
    #[error("at most {0} unbondings may be open at once: wait for one to be released")]
    TooManyUnbondings(usize),
    /// The validator was slashed for a double sign.
    #[error(
        "validator operator {0} was slashed for signing twice and may not bond, rotate or be slashed again"
    )]
    ValidatorSlashed(AccountId),
    /// Double-sign evidence that proves nothing.
    #[error("invalid double-sign evidence: {0}")]
    InvalidEvidence(String),
    /// The evidence's signer was not a validator in its epoch.
    #[error("{key} was not in the validator set of consensus epoch {epoch}")]
    NotInValidatorSet {
        /// The signer.
        key: AccountId,
        /// The epoch of the evidence.
        epoch: u64,
    },
    /// The ledger could not read its own state (an operator problem, not the sender's).
    #[error("internal state error: {0}")]
    State(#[from] StateError),
}

impl TxError {
    /// A stable machine-readable code for the API (`snake_case`, never reused).
    pub fn code(&self) -> &'static str {
        match self {
            TxError::BadSignature { .. } => "bad_signature",
            TxError::WrongChain { .. } => "wrong_chain",
            TxError::FeeTooLow { .. } => "fee_too_low",
            TxError::StaleNonce { .. } => "stale_nonce",
            TxError::FutureNonce { .. } => "future_nonce",
            TxError::InsufficientBalance { .. } => "insufficient_balance",
            TxError::ZeroAmount(_) => "zero_amount",
            TxError::Overflow(_) => "overflow",
            TxError::UnknownSubnet { .. } => "unknown_subnet",
            TxError::NotSubnetOwner { .. } => "not_subnet_owner",
            TxError::InvalidHyperparams(_) => "invalid_hyperparams",
            TxError::InvalidSubnetName(_) => "invalid_subnet_name",
            TxError::TooManySubnets { .. } => "too_many_subnets",
            TxError::RegistrationClosed { .. } => "registration_closed",
            TxError::HotkeyOwnedByAnother { .. } => "hotkey_owned_by_another",
            TxError::AlreadyRegistered { .. } => "already_registered",
            TxError::NotRegistered { .. } => "not_registered",
            TxError::UnknownHotkey { .. } => "unknown_hotkey",
            TxError::NotHotkeyOwner { .. } => "not_hotkey_owner",
            TxError::TakeTooHigh { .. } => "take_too_high",
            TxError::InsufficientStake { .. } => "insufficient_stake",
            TxError::InvalidEndpoint(_) => "invalid_endpoint",
            TxError::CommitRevealEnabled { .. } => "commit_reveal_enabled",
            TxError::CommitRevealDisabled { .. } => "commit_reveal_disabled",
            TxError::NoCommit { .. } => "no_commit",
            TxError::RevealTooEarly { .. } => "reveal_too_early",
            TxError::RevealTooLate { .. } => "reveal_too_late",
            TxError::CommitMismatch => "commit_mismatch",
            TxError::WeightsLengthMismatch { .. } => "weights_length_mismatch",
            TxError::EmptyWeights => "empty_weights",
            TxError::TooManyWeights { .. } => "too_many_weights",
            TxError::DuplicateUid { .. } => "duplicate_uid",
            TxError::UidOutOfRange { .. } => "uid_out_of_range",
            TxError::TooFewWeights { .. } => "too_few_weights",
            TxError::AllWeightsZero => "all_weights_zero",
            TxError::NoValidatorPermit { .. } => "no_validator_permit",
            TxError::RateLimited { .. } => "rate_limited",
            TxError::UnknownDataTask { .. } => "unknown_data_task",
            TxError::NotADataSubnet { .. } => "not_a_data_subnet",
            TxError::InvalidDataTask(_) => "invalid_data_task",
            TxError::DeadlinePassed { .. } => "deadline_passed",
            TxError::CommitClosed { .. } => "commit_closed",
            TxError::RevealNotOpen { .. } => "reveal_not_open",
            TxError::RevealClosed { .. } => "reveal_closed",
            TxError::NoDataCommit { .. } => "no_data_commit",
            TxError::AlreadyRevealed { .. } => "already_revealed",
            TxError::DataCommitMismatch => "data_commit_mismatch",
            TxError::RowsOutOfBounds { .. } => "rows_out_of_bounds",
            TxError::PublishTooEarly { .. } => "publish_too_early",
            TxError::AlreadyPublished { .. } => "already_published",
            TxError::InvalidIssuer(_) => "invalid_issuer",
            TxError::IssuerKeyTaken { .. } => "issuer_key_taken",
            TxError::IssuerKeyOwnedByAnother { .. } => "issuer_key_owned_by_another",
            TxError::UnknownIssuerKey { .. } => "unknown_issuer_key",
            TxError::InvalidBundle { .. } => "invalid_bundle",
            TxError::NoTokens => "no_tokens",
            TxError::InvalidToken { .. } => "invalid_token",
            TxError::TokenAlreadySettled { .. } => "token_already_settled",
            TxError::EscrowExhausted { .. } => "escrow_exhausted",
            TxError::StakeBonded { .. } => "stake_bonded",
            TxError::IssuerBondTooSmall { .. } => "issuer_bond_too_small",
            TxError::IssuerNotSelling { .. } => "issuer_not_selling",
            TxError::IssuerKeyOffSchedule { .. } => "issuer_key_off_schedule",
            TxError::IssuerKeyNotCurrent { .. } => "issuer_key_not_current",
            TxError::UnknownDeposit { .. } => "unknown_deposit",
            TxError::NotRefundable { .. } => "not_refundable",
            TxError::RefundNotOpen { .. } => "refund_not_open",
            TxError::FreeTxRateLimited { .. } => "free_tx_rate_limited",
            TxError::FixedValidatorSet => "fixed_validator_set",
            TxError::BadConsensusKey(_) => "bad_consensus_key",
            TxError::ConsensusKeyTaken { .. } => "consensus_key_taken",
            TxError::BondKeyMismatch { .. } => "bond_key_mismatch",
            TxError::NotAValidatorOperator(_) => "not_a_validator_operator",
            TxError::InsufficientBond { .. } => "insufficient_bond",
            TxError::TooManyUnbondings(_) => "too_many_unbondings",
            TxError::ValidatorSlashed(_) => "validator_slashed",
            TxError::InvalidEvidence(_) => "invalid_evidence",
            TxError::NotInValidatorSet { .. } => "not_in_validator_set",
            TxError::State(_) => "internal",
        }
    }

    /// Whether the transaction may become valid later without changes (a future nonce,
    /// a reveal that is early, a rate limit): mempools keep these and drop the rest.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            TxError::FutureNonce { .. }
                | TxError::RevealTooEarly { .. }
                | TxError::RevealNotOpen { .. }
                | TxError::PublishTooEarly { .. }
                | TxError::RateLimited { .. }
                | TxError::FreeTxRateLimited { .. }
                | TxError::RefundNotOpen { .. }
                | TxError::InsufficientBalance { .. }
                | TxError::State(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let e = TxError::StaleNonce {
            nonce: 5,
            expected: 7,
        };
        assert_eq!(
            e.to_string(),
            "nonce 5 is stale: the account's next nonce is 7"
        );
        assert_eq!(e.code(), "stale_nonce");
        let e = TxError::InsufficientBalance {
            have: 1_500_000_000,
            need: 2_000_000_001,
            what: "amount + fee",
        };
        assert_eq!(
            e.to_string(),
            "insufficient balance: have 1.500000000 PLX, need 2.000000001 PLX (amount + fee)"
        );
    }
}
