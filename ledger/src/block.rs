//! Entry points: mempool admission, single transactions, and whole blocks (verify
//! and propose).
//!
//! A block runs: begin block (emission accrual), every transaction in order (a
//! block is valid only if every transaction applies), end block (the epochs due at
//! this height). Each transaction runs its three phases (stateless, read-only,
//! execute) in a nested overlay, so a rejected transaction leaves nothing behind.

use plexus_types::{AccountId, Hash, Payload, SignedTransaction, block::MAX_BLOCK_TXS};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{
    TxError, accounts,
    context::TxContext,
    credits, data, emission,
    events::Event,
    fees, neurons,
    params::{self, ChainConfig},
    sig, staking,
    state::StateError,
    store::{Overlay, StateReader, WriteSet},
    subnets, validators, weights,
};

/// What the block being applied says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockEnv {
    /// The block's height.
    pub height: u64,
    /// The proposer's timestamp in milliseconds (not read by any rule yet).
    pub timestamp_ms: u64,
    /// The proposer.
    pub proposer: AccountId,
}

/// What applying a block produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockOutput {
    /// State changes to commit.
    pub writes: WriteSet,
    /// What happened, in order.
    pub events: Vec<Event>,
}

/// What [`build_block`] proposes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuiltBlock {
    /// The state changes and events of the proposed block.
    pub output: BlockOutput,
    /// The transactions included, in order.
    pub included: Vec<SignedTransaction>,
    /// Candidates left out, with why.
    pub rejected: Vec<(Hash, TxError)>,
}

/// Why a block is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BlockError {
    /// A transaction does not apply.
    #[error("transaction {index} ({hash}) is invalid: {error}")]
    Tx {
        /// Position in the block.
        index: usize,
        /// Transaction id.
        hash: Hash,
        /// Why it does not apply.
        error: TxError,
    },
    /// The block has more transactions than allowed.
    #[error("block has {count} transactions, above the limit of {max}")]
    TooManyTxs {
        /// Transactions in the block.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Block hooks (emission, epochs) failed.
    #[error("block hook failed: {0}")]
    Hook(TxError),
    /// The ledger could not read its state.
    #[error(transparent)]
    State(#[from] StateError),
}

/// Phase 1: checks that need no state beyond the chain configuration.
fn check_stateless(config: &ChainConfig, tx: &SignedTransaction) -> Result<(), TxError> {
    let t = &tx.tx;
    if t.chain_id != config.chain_id {
        return Err(TxError::WrongChain {
            expected: config.chain_id,
            got: t.chain_id,
        });
    }
    let min = config.params.min_fee_for(&t.payload);
    if t.fee < min {
        return Err(TxError::FeeTooLow { fee: t.fee, min });
    }
    match &t.payload {
        Payload::Transfer { amount, .. } => accounts::check_transfer(*amount),
        Payload::CreateSubnet {
            name, hyperparams, ..
        } => subnets::check_create(name, hyperparams),
        Payload::SetHyperparams { hyperparams, .. } => subnets::validate_hyperparams(hyperparams),
        Payload::Register { .. } | Payload::CommitWeights { .. } => Ok(()),
        Payload::Serve { endpoint, .. } => neurons::validate_endpoint(endpoint),
        Payload::AddStake { amount, .. } | Payload::RemoveStake { amount, .. } => {
            staking::check_amount(*amount)
        }
        Payload::SetTake { take, .. } => staking::check_take(&config.params, *take),
        Payload::RevealWeights { uids, weights, .. }
        | Payload::SetWeights { uids, weights, .. } => weights::check_shape(uids, weights),
        Payload::CreateDataTask {
            bounty,
            commit_deadline,
            reveal_deadline,
            min_rows,
            max_rows,
            ..
        } => data::check_create(
            *bounty,
            *commit_deadline,
            *reveal_deadline,
            *min_rows,
            *max_rows,
        ),
        Payload::CommitData { .. }
        | Payload::RevealData { .. }
        | Payload::PublishDataset { .. } => Ok(()),
        Payload::RegisterIssuer {
            url,
            ohttp_keys,
            keys,
            ..
        } => credits::check_register(url, ohttp_keys, keys),
        Payload::BuyCredits {
            denomination,
            credits,
            ..
        } => credits::check_buy(*credits, *denomination),
        Payload::SettleCredits { tokens, .. } => credits::check_settle(tokens),
        Payload::RefundCredits { .. } => Ok(()),
        Payload::Bond {
            consensus_key,
            amount,
        } => {
            validators::check_amount(*amount)?;
            validators::check_key(consensus_key)
        }
        Payload::Unbond { amount } => validators::check_amount(*amount),
        Payload::RotateConsensusKey { new_key } => validators::check_key(new_key),
        Payload::ReportDoubleSign { evidence } => {
            validators::check_evidence(config.chain_id, evidence)
        }
    }
}

/// Phase 1 and the signature of a transaction checked on its own (the mempool, or
/// [`apply_transaction`]); blocks verify their signatures in a batch instead.
fn check_alone(config: &ChainConfig, tx: &SignedTransaction) -> Result<(), TxError> {
    check_stateless(config, tx)?;
    tx.verify().map_err(|_| TxError::BadSignature {
        sender: tx.tx.sender,
    })
}

/// A transaction of a block whose signature the batch found `sig_ok`: phase 1, then
/// phases 2 and 3.
fn apply_batched<R: StateReader>(
    overlay: &mut Overlay<R>,
    env: &BlockEnv,
    config: &ChainConfig,
    tx: &SignedTransaction,
    sig_ok: bool,
    events: &mut Vec<Event>,
) -> Result<(), TxError> {
    if !sig_ok {
        return Err(TxError::BadSignature {
            sender: tx.tx.sender,
        });
    }
    check_stateless(config, tx)?;
    apply_checked(overlay, env, config, tx, events)
}

/// Phases 2 and 3 of a transaction that passed phase 1 and its signature check, in
/// a nested overlay.
fn apply_checked<R: StateReader>(
    overlay: &mut Overlay<R>,
    env: &BlockEnv,
    config: &ChainConfig,
    tx: &SignedTransaction,
    events: &mut Vec<Event>,
) -> Result<(), TxError> {
    let mut cx = TxContext::new(&*overlay, env.height, &config.params, tx);
    execute(&mut cx, tx)?;
    let (writes, ev) = cx.finish();
    overlay.extend(writes);
    events.extend(ev);
    Ok(())
}

fn execute<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    stx: &SignedTransaction,
) -> Result<(), TxError> {
    let tx = &stx.tx;
    let sender = cx.sender;
    let params = cx.params;

    // Phase 2: nonce, and funds for the fee plus what the payload spends from the balance.
    let acct = accounts::account(&cx.state, &sender)?;
    let (spend, what) = match &tx.payload {
        Payload::Transfer { amount, .. } => (*amount, "amount + fee"),
        Payload::AddStake { amount, .. } => (*amount, "stake amount + fee"),
        Payload::CreateSubnet { .. } => (params.subnet_lock_cost, "subnet lock cost + fee"),
        Payload::Bond { amount, .. } => (*amount, "bond + fee"),
        Payload::CreateDataTask { bounty, .. } => (*bounty, "bounty + fee"),
        Payload::BuyCredits { credits, .. } => (
            credits::bundle_price(params, *credits).ok_or(TxError::Overflow("bundle price"))?,
            "bundle price + fee",
        ),
        Payload::Register { netuid, .. } => (
            neurons::registration_price(&cx.state, *netuid, cx.height)?,
            "burn price + fee",
        ),
        _ => (0, "fee"),
    };
    accounts::check_nonce_and_funds(&acct, tx.nonce, cx.fee, spend, what)?;
    fees::use_free_quota(&mut cx.state, params, stx, cx.height)?;

    cx.events.push(Event::TxApplied {
        tx: stx.hash(),
        sender,
        nonce: tx.nonce,
        fee: cx.fee,
        kind: tx.payload.kind().to_string(),
    });
    // Phase 3 (each handler makes its own read-only checks before writing).
    match &tx.payload {
        Payload::Transfer { to, amount } => accounts::transfer(cx, to, *amount)?,
        Payload::CreateSubnet {
            name,
            mechanism,
            hyperparams,
        } => subnets::create(cx, name, *mechanism, hyperparams)?,
        Payload::SetHyperparams {
            netuid,
            hyperparams,
        } => subnets::set_hyperparams(cx, *netuid, hyperparams)?,
        Payload::Register { netuid, hotkey } => neurons::register(cx, *netuid, hotkey)?,
        Payload::Serve { netuid, endpoint } => neurons::serve(cx, *netuid, endpoint)?,
        Payload::AddStake { hotkey, amount } => staking::add_stake(cx, hotkey, *amount)?,
        Payload::RemoveStake { hotkey, amount } => {
            credits::check_unstake(&cx.state, params, hotkey, &sender, *amount, cx.height)?;
            staking::remove_stake(cx, hotkey, *amount)?;
        }
        Payload::SetTake { hotkey, take } => staking::set_take(cx, hotkey, *take)?,
        Payload::CommitWeights { netuid, commit } => weights::commit_weights(cx, *netuid, *commit)?,
        Payload::RevealWeights {
            netuid,
            uids,
            weights,
            salt,
            version,
        } => weights::reveal_weights(cx, *netuid, uids, weights, salt, *version)?,
        Payload::SetWeights {
            netuid,
            uids,
            weights,
            ..
        } => weights::set_weights(cx, *netuid, uids, weights)?,
        Payload::CreateDataTask {
            netuid,
            schema_hash,
            reference_commitment,
            bounty,
            commit_deadline,
            reveal_deadline,
            min_rows,
            max_rows,
        } => {
            data::create(
                cx,
                *netuid,
                *schema_hash,
                *reference_commitment,
                *bounty,
                (*commit_deadline, *reveal_deadline),
                (*min_rows, *max_rows),
            )?;
        }
        Payload::CommitData { task, commitment } => data::commit(cx, *task, *commitment)?,
        Payload::RevealData {
            task,
            content_hash,
            salt,
            rows,
        } => data::reveal(cx, *task, *content_hash, salt, *rows)?,
        Payload::PublishDataset {
            task,
            merkle_root,
            rows,
        } => data::publish(cx, *task, *merkle_root, *rows)?,
        Payload::RegisterIssuer {
            netuid,
            url,
            ohttp_keys,
            keys,
        } => credits::register(cx, *netuid, url, ohttp_keys, keys)?,
        Payload::BuyCredits {
            issuer,
            denomination,
            key_epoch,
            credits,
        } => {
            credits::buy(cx, issuer, *denomination, *key_epoch, *credits)?;
        }
        Payload::SettleCredits { netuid, tokens } => credits::settle(cx, *netuid, tokens)?,
        Payload::RefundCredits { deposit } => {
            credits::refund(cx, *deposit)?;
        }
        Payload::Bond {
            consensus_key,
            amount,
        } => validators::bond(cx, consensus_key, *amount)?,
        Payload::Unbond { amount } => validators::unbond(cx, *amount)?,
        Payload::RotateConsensusKey { new_key } => validators::rotate(cx, new_key)?,
        Payload::ReportDoubleSign { evidence } => validators::report(cx, evidence)?,
    }
    accounts::charge_fee_and_bump_nonce(&mut cx.state, &sender, cx.fee)
}

/// Mempool admission for a transaction that would land at `height` (the committed
/// height plus one): stateless checks, the signature, the chain id, fee ≥ minimum and
/// nonce ≥ the account's next nonce. A transaction that is next in line (its nonce is
/// the account's next) is also executed on a throwaway overlay of the committed state,
/// so anything a block would refuse today (an overdrawn transfer, an unknown subnet, an
/// unregistered hotkey) is refused at submit with the same typed reason. A future nonce
/// cannot be judged against state it has not seen yet; it needs only a balance that
/// covers its fee.
///
/// Work grows with what the sender can be made to pay for: the chain id, the fee and
/// the signature come first; then an unpaid sender must be a registered hotkey with
/// fee-free quota left; only then are payload checks run (RSA keys parsed, endpoints
/// validated), and the transaction executed (token signatures verified).
pub fn check_transaction<R: StateReader>(
    state: &R,
    height: u64,
    tx: &SignedTransaction,
) -> Result<(), TxError> {
    let config = params::load(state)?;
    let t = &tx.tx;
    if t.chain_id != config.chain_id {
        return Err(TxError::WrongChain {
            expected: config.chain_id,
            got: t.chain_id,
        });
    }
    let min = config.params.min_fee_for(&t.payload);
    if t.fee < min {
        return Err(TxError::FeeTooLow { fee: t.fee, min });
    }
    tx.verify().map_err(|_| TxError::BadSignature {
        sender: tx.tx.sender,
    })?;
    fees::check_unpaid_sender(state, &config.params, tx)?;
    fees::check_free_quota(state, &config.params, tx, height)?;
    check_stateless(&config, tx)?;
    let acct = accounts::account(state, &tx.tx.sender)?;
    if tx.tx.nonce < acct.nonce {
        return Err(TxError::StaleNonce {
            nonce: tx.tx.nonce,
            expected: acct.nonce,
        });
    }
    if tx.tx.nonce == acct.nonce {
        let mut cx = TxContext::new(state, height, &config.params, tx);
        return execute(&mut cx, tx);
    }
    if acct.balance < tx.tx.fee {
        return Err(TxError::InsufficientBalance {
            have: acct.balance,
            need: tx.tx.fee,
            what: "fee",
        });
    }
    Ok(())
}

/// Apply one transaction (all three phases, signature included). On error the
/// overlay is unchanged.
pub fn apply_transaction<R: StateReader>(
    overlay: &mut Overlay<R>,
    env: &BlockEnv,
    tx: &SignedTransaction,
) -> Result<(), TxError> {
    let config = params::load(overlay)?;
    check_alone(&config, tx)?;
    apply_checked(overlay, env, &config, tx, &mut Vec::new())
}

/// Verify and apply a block: begin block, every transaction (all must apply), end block.
pub fn execute_block<R: StateReader>(
    state: &R,
    env: &BlockEnv,
    txs: &[SignedTransaction],
) -> Result<BlockOutput, BlockError> {
    if txs.len() > MAX_BLOCK_TXS {
        return Err(BlockError::TooManyTxs {
            count: txs.len(),
            max: MAX_BLOCK_TXS,
        });
    }
    let config = params::load(state)?;
    let signatures = sig::verify_all(txs);
    let mut ov = Overlay::new(state);
    let mut events = Vec::new();
    emission::begin_block(&mut ov, &config.params, env.height, &mut events)
        .map_err(BlockError::Hook)?;
    for (index, (tx, sig_ok)) in txs.iter().zip(signatures).enumerate() {
        apply_batched(&mut ov, env, &config, tx, sig_ok, &mut events).map_err(
            |error| match error {
                // The store failing is the node's problem, not the block's.
                TxError::State(e) => BlockError::State(e),
                error => BlockError::Tx {
                    index,
                    hash: tx.hash(),
                    error,
                },
            },
        )?;
    }
    end_block(&mut ov, &config, env.height, &mut events)?;
    Ok(BlockOutput {
        writes: ov.into_writes(),
        events,
    })
}

/// End of block: the epochs due at `height` (subnets, then the consensus set).
fn end_block<R: StateReader>(
    ov: &mut Overlay<R>,
    config: &ChainConfig,
    height: u64,
    events: &mut Vec<Event>,
) -> Result<(), BlockError> {
    emission::end_block(ov, height, events).map_err(BlockError::Hook)?;
    validators::end_block(ov, &config.params, height, events).map_err(BlockError::Hook)
}

/// Propose a block: take candidates in order, include each that applies (up to
/// `max_txs`), and report the rest. `execute_block` of the included transactions
/// gives the same output.
pub fn build_block<R: StateReader>(
    state: &R,
    env: &BlockEnv,
    candidates: impl IntoIterator<Item = SignedTransaction>,
    max_txs: usize,
) -> Result<BuiltBlock, BlockError> {
    let max_txs = max_txs.min(MAX_BLOCK_TXS);
    let config = params::load(state)?;
    let mut ov = Overlay::new(state);
    let mut events = Vec::new();
    emission::begin_block(&mut ov, &config.params, env.height, &mut events)
        .map_err(BlockError::Hook)?;
    let mut included = Vec::new();
    let mut rejected = Vec::new();
    let mut candidates = candidates.into_iter().peekable();
    // Verify signatures in chunks no larger than the room left, so a huge mempool
    // costs no more verification than the block can use.
    while included.len() < max_txs && candidates.peek().is_some() {
        let room = max_txs - included.len();
        let chunk: Vec<SignedTransaction> = candidates.by_ref().take(room).collect();
        let signatures = sig::verify_all(&chunk);
        for (tx, sig_ok) in chunk.into_iter().zip(signatures) {
            match apply_batched(&mut ov, env, &config, &tx, sig_ok, &mut events) {
                Ok(()) => included.push(tx),
                Err(TxError::State(e)) => return Err(BlockError::State(e)),
                Err(e) => rejected.push((tx.hash(), e)),
            }
        }
    }
    end_block(&mut ov, &config, env.height, &mut events)?;
    Ok(BuiltBlock {
        output: BlockOutput {
            writes: ov.into_writes(),
            events,
        },
        included,
        rejected,
    })
}
