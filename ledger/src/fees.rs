//! Which transactions may go without a fee: the one place that decides it.
//!
//! Hotkey housekeeping (serving, committing, revealing and setting weights,
//! registering a credit issuer, settling credits) is fee-free, as in subtensor:
//! hotkeys rarely hold funds, and registration cost plus rate limits bound the spam.
//! The same holds for a data contributor's commit and reveal and a validator's
//! dataset publication. A fee offered anyway is charged. Every other payload pays at
//! least [`ChainParams::min_fee`](crate::ChainParams::min_fee).
//!
//! [`fee_free`] names these payloads; [`ChainParams::min_fee_for`](crate::ChainParams::min_fee_for)
//! (what blocks, the mempool and clients ask) and the mempool's check that an unpaid
//! sender is registered both read it.

use plexus_types::{Netuid, Payload, SignedTransaction, tx::DataTaskId};

use crate::{TxError, data, neurons, params::ChainParams, store::StateReader};

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
