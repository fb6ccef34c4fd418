//! Which transactions may go without a fee, and how many: the one place that decides it.
//!
//! Hotkey housekeeping (serving, committing, revealing and setting weights,
//! registering a credit issuer, settling credits) is fee-free, as in subtensor:
//! hotkeys rarely hold funds. The same holds for a data contributor's commit and
//! reveal and a validator's dataset publication. A fee offered anyway is charged.
//! Every other payload pays at least [`ChainParams::min_fee`](crate::ChainParams::min_fee).
//!
//! Free is not unlimited: a transaction that pays less than `min_fee` must come from
//! a hotkey registered where it acts (registration burns), and each sender may make
//! at most [`free_tx_quota`](crate::ChainParams::free_tx_quota) of them per
//! [`free_tx_window`](crate::ChainParams::free_tx_window) blocks, counted in the state
//! (key `[0x08, 0x00] ‖ sender`), so blocks, the mempool and every validator agree.
//! Past the quota a sender pays the fee like anyone else. The mempool checks the
//! sender and the quota before any costly check (RSA keys, token signatures).
//!
//! [`fee_free`] names these payloads; [`ChainParams::min_fee_for`](crate::ChainParams::min_fee_for)
//! (what blocks, the mempool and clients ask) and the mempool's check that an unpaid
//! sender is registered both read it.

use plexus_types::{
    AccountId, CodecError, Netuid, Payload, SignedTransaction,
    codec::{Reader, WriteExt},
    tx::DataTaskId,
};

use crate::{
    TxError, data, neurons,
    params::ChainParams,
    state::{self, Value},
    store::{Overlay, StateReader},
};

/// Prefix of the fee component's state keys.
pub const PREFIX: u8 = 0x08;

/// A sender's fee-free use in one window: `[0x08, 0x00] ‖ sender`.
pub fn free_use_key(sender: &AccountId) -> Vec<u8> {
    let mut key = vec![PREFIX, 0x00];
    key.extend_from_slice(sender.as_bytes());
    key
}

/// How many fee-free transactions a sender made in a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FreeUse {
    /// The window (`height / free_tx_window`).
    pub window: u64,
    /// Fee-free transactions applied in it.
    pub used: u32,
}

impl Value for FreeUse {
    fn put(&self, out: &mut Vec<u8>) {
        out.put_u64(self.window);
        out.put_u32(self.used);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            window: r.u64("window")?,
            used: r.u32("used")?,
        })
    }
}

/// Whether `tx` goes without the minimum fee (and so counts against the quota).
pub fn is_unpaid(params: &ChainParams, tx: &SignedTransaction) -> bool {
    tx.tx.fee < params.min_fee && fee_free(&tx.tx.payload).is_some()
}

/// The sender's use in the window of `height`, and that window.
fn free_use(
    state: &impl StateReader,
    params: &ChainParams,
    sender: &AccountId,
    height: u64,
) -> Result<(u64, FreeUse), TxError> {
    let window = height / params.free_tx_window.max(1);
    let mut used: FreeUse = state::get_or_default(state, &free_use_key(sender))?;
    if used.window != window {
        used = FreeUse { window, used: 0 };
    }
    Ok((window, used))
}

/// Refuse an unpaid transaction whose sender used up its quota for the window of
/// `height` (read only: the mempool's early check).
pub(crate) fn check_free_quota(
    state: &impl StateReader,
    params: &ChainParams,
    tx: &SignedTransaction,
    height: u64,
) -> Result<(), TxError> {
    if !is_unpaid(params, tx) {
        return Ok(());
    }
    let (window, used) = free_use(state, params, &tx.tx.sender, height)?;
    if used.used >= params.free_tx_quota {
        return Err(TxError::FreeTxRateLimited {
            next_block: window
                .saturating_add(1)
                .saturating_mul(params.free_tx_window),
        });
    }
    Ok(())
}

/// Count an unpaid transaction against its sender's quota, refusing it past the quota.
pub(crate) fn use_free_quota<R: StateReader>(
    ov: &mut Overlay<R>,
    params: &ChainParams,
    tx: &SignedTransaction,
    height: u64,
) -> Result<(), TxError> {
    check_free_quota(ov, params, tx, height)?;
    if !is_unpaid(params, tx) {
        return Ok(());
    }
    let (window, used) = free_use(ov, params, &tx.tx.sender, height)?;
    let next = FreeUse {
        window,
        used: used.used.saturating_add(1),
    };
    state::put(ov, free_use_key(&tx.tx.sender), &next);
    Ok(())
}

/// A payload that may go without a fee, and where its sender must be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeFree {
    /// Hotkey housekeeping on a subnet: serve, commit, reveal or set weights,
    /// register an issuer, settle credits.
    Subnet(Netuid),
    /// A data task's commit, reveal or publication: the sender must be registered on
    /// the task's subnet.
    DataTask(DataTaskId),
}

/// Whether `payload` may go without a fee, and on what.
pub fn fee_free(payload: &Payload) -> Option<FeeFree> {
    match payload {
        Payload::Serve { netuid, .. }
        | Payload::CommitWeights { netuid, .. }
        | Payload::RevealWeights { netuid, .. }
        | Payload::SetWeights { netuid, .. }
        | Payload::RegisterIssuer { netuid, .. }
        | Payload::SettleCredits { netuid, .. } => Some(FeeFree::Subnet(*netuid)),
        Payload::CommitData { task, .. }
        | Payload::RevealData { task, .. }
        | Payload::PublishDataset { task, .. } => Some(FeeFree::DataTask(*task)),
        _ => None,
    }
}

/// Mempool admission: a fee-free payload that pays less than the chain's `min_fee`
/// must at least come from a hotkey registered where it acts, so strangers cannot
/// fill the mempool for nothing.
pub(crate) fn check_unpaid_sender(
    state: &impl StateReader,
    params: &ChainParams,
    tx: &SignedTransaction,
) -> Result<(), TxError> {
    if tx.tx.fee >= params.min_fee {
        return Ok(());
    }
    let netuid = match fee_free(&tx.tx.payload) {
        None => return Ok(()),
        Some(FeeFree::Subnet(netuid)) => netuid,
        Some(FeeFree::DataTask(task)) => data::task_netuid(state, task)?,
    };
    neurons::require_registered(state, netuid, &tx.tx.sender)?;
    Ok(())
}
