//! Weights: commit-reveal (on by default) or direct setting, validation, and the
//! sparse u16 rows Yuma reads.
//!
//! Validation follows subtensor: the signer must be registered; a weight set that
//! is only a self-weight is always allowed (it keeps a miner active), anything else
//! needs a validator permit from the last epoch; uids must exist and be unique,
//! the lists parallel, at least `min(min_allowed_weights, n)` weights non-zero,
//! and the rate limit respected. Rows are stored sorted by uid, zeros dropped,
//! max-upscaled so the largest weight is 65535. The `version` of a weights payload
//! is bound into the commit hash but not otherwise checked (no subnet sets a
//! required weights version yet).

pub mod keys;

use plexus_types::{
    CodecError, Decode, Encode, Hash, Hyperparams, Netuid, Uid,
    codec::{Reader, WriteExt},
    tx::{MAX_WEIGHT_ENTRIES, weights_commit_hash},
};
use serde::{Deserialize, Serialize};

use crate::{
    TxError,
    context::TxContext,
    events::Event,
    neurons::{self, Neuron},
    state::{self, StateError, Value},
    store::{Overlay, StateReader},
    subnets,
};

/// A sparse row: `(uid, value)` sorted by uid.
pub type SparseRow = Vec<(u16, u16)>;

/// A pending commitment to weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightsCommit {
    /// `weights_commit_hash` of the weights to reveal.
    pub hash: Hash,
    /// Block of the commit.
    pub block: u64,
    /// The subnet's epoch index at the commit; the reveal must come in `epoch + 1`.
    pub epoch: u64,
}

impl Value for WeightsCommit {
    fn put(&self, out: &mut Vec<u8>) {
        self.hash.encode_to(out);
        out.put_u64(self.block);
        out.put_u64(self.epoch);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            hash: Hash::decode_from(r)?,
            block: r.u64("commit block")?,
            epoch: r.u64("commit epoch")?,
        })
    }
}

/// A UID's stored weights.
pub fn weights_row(
    state: &impl StateReader,
    netuid: Netuid,
    uid: Uid,
) -> Result<SparseRow, StateError> {
    state::get_or_default(state, &keys::weights_key(netuid, uid))
}

/// A UID's stored bonds.
pub fn bonds_row(
    state: &impl StateReader,
    netuid: Netuid,
    uid: Uid,
) -> Result<SparseRow, StateError> {
    state::get_or_default(state, &keys::bonds_key(netuid, uid))
}

/// A UID's pending commit.
pub fn pending_commit(
    state: &impl StateReader,
    netuid: Netuid,
    uid: Uid,
) -> Result<Option<WeightsCommit>, StateError> {
    state::get(state, &keys::commit_key(netuid, uid))
}

pub(crate) fn put_bonds_row<R: StateReader>(
    ov: &mut Overlay<R>,
    netuid: Netuid,
    uid: Uid,
    row: &SparseRow,
) {
    state::put_or_delete(ov, keys::bonds_key(netuid, uid), row);
}

/// Reset a UID that changes hands: its rows and commit go, and so does its column
/// in every other UID's weights and bonds.
pub(crate) fn clear_uid<R: StateReader>(
    ov: &mut Overlay<R>,
    netuid: Netuid,
    uid: Uid,
    n: u16,
) -> Result<(), StateError> {
    ov.delete(keys::weights_key(netuid, uid));
    ov.delete(keys::bonds_key(netuid, uid));
    ov.delete(keys::commit_key(netuid, uid));
    for other in (0..n).filter(|o| *o != uid) {
        for key in [
            keys::weights_key(netuid, other),
            keys::bonds_key(netuid, other),
        ] {
            let mut row: SparseRow = state::get_or_default(ov, &key)?;
            if let Ok(pos) = row.binary_search_by_key(&uid, |e| e.0) {
                row.remove(pos);
                state::put_or_delete(ov, key, &row);
            }
        }
    }
    Ok(())
}

/// Stateless checks of a weights payload.
pub(crate) fn check_shape(uids: &[u16], weights: &[u16]) -> Result<(), TxError> {
    if uids.len() != weights.len() {
        return Err(TxError::WeightsLengthMismatch {
            uids: uids.len(),
            weights: weights.len(),
        });
    }
    if uids.is_empty() {
        return Err(TxError::EmptyWeights);
    }
    if uids.len() > MAX_WEIGHT_ENTRIES {
        return Err(TxError::TooManyWeights {
            len: uids.len(),
            max: MAX_WEIGHT_ENTRIES,
        });
    }
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(TxError::DuplicateUid { uid: w[0] });
    }
    Ok(())
}

/// Validate weights against the subnet and turn them into a stored row.
fn validate(
    state: &impl StateReader,
    netuid: Netuid,
    hp: &Hyperparams,
    n: u16,
    uid: Uid,
    uids: &[u16],
    weights: &[u16],
) -> Result<SparseRow, TxError> {
    check_shape(uids, weights)?;
    if let Some(bad) = uids.iter().find(|u| **u >= n) {
        return Err(TxError::UidOutOfRange {
            netuid,
            uid: *bad,
            n,
        });
    }
    let self_only = uids == [uid];
    if !self_only {
        if !neurons::scores(state, netuid, uid)?.permit {
            return Err(TxError::NoValidatorPermit { netuid });
        }
        let nonzero = weights.iter().filter(|w| **w > 0).count();
        let min = usize::from(hp.min_allowed_weights.min(n));
        if nonzero < min {
            return Err(TxError::TooFewWeights { have: nonzero, min });
        }
    }
    let max = weights.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return Err(TxError::AllWeightsZero);
    }
    let mut row: SparseRow = uids
        .iter()
        .zip(weights)
        .filter(|(_, w)| **w > 0)
        .map(|(u, w)| {
            // w <= max, so the quotient is at most 65535.
            let scaled = u32::from(*w) * 65535 / u32::from(max);
            (*u, u16::try_from(scaled).unwrap_or(u16::MAX))
        })
        .collect();
    row.sort_unstable();
    Ok(row)
}

fn check_rate_limit(hp: &Hyperparams, neuron: &Neuron, height: u64) -> Result<(), TxError> {
    if let Some(last) = neuron.weights_set_at {
        let next_block = last.saturating_add(hp.weights_rate_limit);
        if height < next_block {
            return Err(TxError::RateLimited { next_block });
        }
    }
    Ok(())
}

fn store<R: StateReader>(
    ov: &mut Overlay<R>,
    netuid: Netuid,
    uid: Uid,
    row: &SparseRow,
    revealed: bool,
    events: &mut Vec<Event>,
) {
    state::put_or_delete(ov, keys::weights_key(netuid, uid), row);
    events.push(Event::WeightsSet {
        netuid,
        uid,
        entries: u32::try_from(row.len()).unwrap_or(u32::MAX),
        revealed,
    });
}

/// SetWeights: store weights directly (subnets without commit-reveal).
pub(crate) fn set_weights<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    netuid: Netuid,
    uids: &[u16],
    weights: &[u16],
) -> Result<(), TxError> {
    let (ov, hotkey, height) = (&mut cx.state, &cx.sender, cx.height);
    let (hp, st) = subnets::require(ov, netuid)?;
    if hp.commit_reveal {
        return Err(TxError::CommitRevealEnabled { netuid });
    }
    let (uid, mut neuron) = neurons::require_registered(ov, netuid, hotkey)?;
    check_rate_limit(&hp, &neuron, height)?;
    let row = validate(ov, netuid, &hp, st.n, uid, uids, weights)?;
    neuron.last_update = height;
    neuron.weights_set_at = Some(height);
    neuron.weights_committed_at = height;
    neurons::put_neuron(ov, netuid, uid, &neuron);
    store(ov, netuid, uid, &row, false, &mut cx.events);
    Ok(())
}

/// CommitWeights: record a hash to reveal in the next epoch (replacing any pending one).
pub(crate) fn commit_weights<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    netuid: Netuid,
    hash: Hash,
) -> Result<(), TxError> {
    let (ov, hotkey, height) = (&mut cx.state, &cx.sender, cx.height);
    let (hp, st) = subnets::require(ov, netuid)?;
    if !hp.commit_reveal {
        return Err(TxError::CommitRevealDisabled { netuid });
    }
    let (uid, mut neuron) = neurons::require_registered(ov, netuid, hotkey)?;
    check_rate_limit(&hp, &neuron, height)?;
    neuron.weights_set_at = Some(height);
    neurons::put_neuron(ov, netuid, uid, &neuron);
    let commit = WeightsCommit {
        hash,
        block: height,
        epoch: st.epoch_index,
    };
    state::put(ov, keys::commit_key(netuid, uid), &commit);
    cx.events.push(Event::WeightsCommitted {
        netuid,
        uid,
        commit: hash,
    });
    Ok(())
}

/// RevealWeights: open last epoch's commit and store the weights.
pub(crate) fn reveal_weights<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    netuid: Netuid,
    uids: &[u16],
    weights: &[u16],
    salt: &[u8; 32],
    version: u64,
) -> Result<(), TxError> {
    let (ov, hotkey, height) = (&mut cx.state, &cx.sender, cx.height);
    let (hp, st) = subnets::require(ov, netuid)?;
    if !hp.commit_reveal {
        return Err(TxError::CommitRevealDisabled { netuid });
    }
    let (uid, mut neuron) = neurons::require_registered(ov, netuid, hotkey)?;
    let commit = pending_commit(ov, netuid, uid)?.ok_or(TxError::NoCommit { netuid })?;
    let current = st.epoch_index;
    if current <= commit.epoch {
        return Err(TxError::RevealTooEarly {
            committed: commit.epoch,
            current,
        });
    }
    if current > commit.epoch.saturating_add(1) {
        return Err(TxError::RevealTooLate {
            committed: commit.epoch,
            current,
        });
    }
    if weights_commit_hash(hotkey, netuid, uids, weights, salt, version) != commit.hash {
        return Err(TxError::CommitMismatch);
    }
    let row = validate(ov, netuid, &hp, st.n, uid, uids, weights)?;
    neuron.last_update = height;
    neuron.weights_committed_at = commit.block;
    neurons::put_neuron(ov, netuid, uid, &neuron);
    ov.delete(keys::commit_key(netuid, uid));
    store(ov, netuid, uid, &row, true, &mut cx.events);
    Ok(())
}
