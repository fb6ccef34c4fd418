//! The consensus validator set, chosen per consensus epoch from bonded stake.
//!
//! An operator bonds PLX from its balance for a consensus key (`Bond`), unbonds it
//! (`Unbond`: the amount stops counting at once and returns after
//! [`ConsensusParams::unbonding_delay`] blocks, slashable until then), and may rotate
//! the key (`RotateConsensusKey`, effective from the next epoch). Anyone may report a
//! key that signed two different proposals in one round (`ReportDoubleSign`, checked
//! against the set of the round's epoch): the operator's bond and unbonding entries
//! lose [`ConsensusParams::slash_bps`], burned, and the operator is never chosen again.
//!
//! At the last block of consensus epoch `e` (heights `e·L ..= (e+1)·L − 1` for epoch
//! length `L`), pending key rotations take effect and the set of epoch `e + 1` is
//! written: the eligible operators (not slashed, bond ≥ [`ConsensusParams::min_bond`])
//! with the largest bonds, ties broken by consensus key, at most
//! [`ConsensusParams::max_validators`] of them. A boundary that would choose fewer
//! than [`ConsensusParams::min_validators`] keeps the current set, so the chain never
//! stops for want of validators. The set of every epoch stays in the state: it is
//! what a light client checks that epoch's certificates against, and it is proved
//! under the state root of the previous epoch's last block, which that epoch's set
//! finalized (the certified hand-over).
//!
//! With an epoch length of zero the genesis validators are the set for good and the
//! bonding transactions are refused.

pub mod keys;

use plexus_types::{
    AccountId, Amount, CodecError, Decode, Encode,
    codec::{Reader, WriteExt},
    finality::DoubleSign,
};
use serde::{Deserialize, Serialize};

use crate::{
    TxError, accounts,
    context::TxContext,
    events::Event,
    genesis::Genesis,
    params::{ChainParams, ConsensusParams},
    state::{self, StateError, Value},
    store::{Overlay, StateReader},
};

/// Most unbonding entries one operator may have open at once.
pub const MAX_UNBONDING: usize = 32;

/// An operator's validator record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validator {
    /// The key it votes with in the current epoch (and from its first epoch).
    pub consensus_key: AccountId,
    /// A rotated key taking effect at the next epoch boundary.
    pub next_key: Option<AccountId>,
    /// What counts for the set, in base units.
    pub bond: Amount,
    /// Amounts unbonding, with the height each returns to the balance, by height.
    pub unbonding: Vec<(u64, Amount)>,
    /// Whether a double sign was proven: never chosen again.
    pub slashed: bool,
}

impl Value for Validator {
    fn put(&self, out: &mut Vec<u8>) {
        self.consensus_key.encode_to(out);
        match &self.next_key {
            None => out.put_bool(false),
            Some(k) => {
                out.put_bool(true);
                k.encode_to(out);
            }
        }
        out.put_u64(self.bond);
        out.put_len(self.unbonding.len());
        for (height, amount) in &self.unbonding {
            out.put_u64(*height);
            out.put_u64(*amount);
        }
        out.put_bool(self.slashed);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            consensus_key: AccountId::decode_from(r)?,
            next_key: r.option("next key", AccountId::decode_from)?,
            bond: r.u64("bond")?,
            unbonding: r.list(MAX_UNBONDING, "unbonding", |r| {
                Ok((r.u64("release height")?, r.u64("amount")?))
            })?,
            slashed: r.bool("slashed")?,
        })
    }
}

/// The consensus epoch a block at `height` belongs to (always 0 on a chain with a
/// fixed set).
pub fn epoch_of(params: &ConsensusParams, height: u64) -> u64 {
    match params.epoch_length {
        0 => 0,
        length => height / length,
    }
}

/// Whether `height` is the last block of its consensus epoch (where the next
/// epoch's set is chosen).
pub fn is_boundary(params: &ConsensusParams, height: u64) -> bool {
    params.epoch_length != 0 && (height + 1).is_multiple_of(params.epoch_length)
}

/// An operator's record, if it ever bonded.
pub fn validator(
    state: &impl StateReader,
    operator: &AccountId,
) -> Result<Option<Validator>, StateError> {
    state::get(state, &keys::validator_key(operator))
}

/// The operator a consensus key belongs to (or is rotating to).
pub fn key_owner(
    state: &impl StateReader,
    consensus_key: &AccountId,
) -> Result<Option<AccountId>, StateError> {
    state::get(state, &keys::key_owner_key(consensus_key))
}

/// Every operator that ever bonded, sorted.
pub fn operators(state: &impl StateReader) -> Result<Vec<AccountId>, StateError> {
    state::get_or_default(state, &keys::operators_key())
}

/// The consensus keys of epoch `epoch`'s set, sorted; `None` before the boundary
/// that chooses it.
pub fn set(state: &impl StateReader, epoch: u64) -> Result<Option<Vec<AccountId>>, StateError> {
    state::get(state, &keys::set_key(epoch))
}

/// Genesis: every genesis validator is an operator bonded with its genesis bond
/// under its own key, and together they are the set of epoch 0.
pub(crate) fn genesis<R: StateReader>(ov: &mut Overlay<R>, genesis: &Genesis) {
    let mut keys: Vec<AccountId> = genesis.validators.iter().map(|v| v.public_key).collect();
    keys.sort_unstable();
    for v in &genesis.validators {
        let record = Validator {
            consensus_key: v.public_key,
            next_key: None,
            bond: v.bond,
            unbonding: Vec::new(),
            slashed: false,
        };
        state::put(ov, keys::validator_key(&v.public_key), &record);
        state::put(ov, keys::key_owner_key(&v.public_key), &v.public_key);
    }
    state::put(ov, keys::operators_key(), &keys);
    state::put(ov, keys::set_key(0), &keys);
}

/// Phase 1 of `Bond`, `Unbond` and `RotateConsensusKey`: a positive amount, a key on
/// the curve.
pub(crate) fn check_amount(amount: Amount) -> Result<(), TxError> {
    match amount {
        0 => Err(TxError::ZeroAmount("bond amount")),
        _ => Ok(()),
    }
}

/// Phase 1 of a key: an ed25519 point.
pub(crate) fn check_key(key: &AccountId) -> Result<(), TxError> {
    match crate::genesis::is_ed25519_point(key) {
        true => Ok(()),
        false => Err(TxError::BadConsensusKey(*key)),
    }
}

/// Phase 1 of `ReportDoubleSign`: two valid signatures of the signer over two
/// different proposals of one round.
pub(crate) fn check_evidence(chain_id: u64, evidence: &DoubleSign) -> Result<(), TxError> {
    evidence
        .verify(chain_id)
        .map_err(|e| TxError::InvalidEvidence(e.to_string()))
}

fn require_epochs(params: &ChainParams) -> Result<(), TxError> {
    match params.consensus.epoch_length {
        0 => Err(TxError::FixedValidatorSet),
        _ => Ok(()),
    }
}

fn require(state: &impl StateReader, operator: &AccountId) -> Result<Validator, TxError> {
    validator(state, operator)?.ok_or(TxError::NotAValidatorOperator(*operator))
}

/// `Bond`: move `amount` from the sender's balance into its bond for `key`.
pub(crate) fn bond<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    key: &AccountId,
    amount: Amount,
) -> Result<(), TxError> {
    require_epochs(cx.params)?;
    let operator = cx.sender;
    let record = match validator(&cx.state, &operator)? {
        Some(record) if record.slashed => return Err(TxError::ValidatorSlashed(operator)),
        Some(record) if record.consensus_key != *key && record.next_key != Some(*key) => {
            return Err(TxError::BondKeyMismatch {
                key: *key,
                expected: record.next_key.unwrap_or(record.consensus_key),
            });
        }
        Some(record) => record,
        None => {
            if let Some(owner) = key_owner(&cx.state, key)? {
                return Err(TxError::ConsensusKeyTaken {
                    key: *key,
                    operator: owner,
                });
            }
            let mut operators = operators(&cx.state)?;
            state::sorted_insert(&mut operators, operator);
            state::put(&mut cx.state, keys::operators_key(), &operators);
            state::put(&mut cx.state, keys::key_owner_key(key), &operator);
            Validator {
                consensus_key: *key,
                next_key: None,
                bond: 0,
                unbonding: Vec::new(),
                slashed: false,
            }
        }
    };
    accounts::debit(&mut cx.state, &operator, amount, "bond + fee")?;
    let bond = record
        .bond
        .checked_add(amount)
        .ok_or(TxError::Overflow("bond"))?;
    state::put(
        &mut cx.state,
        keys::validator_key(&operator),
        &Validator { bond, ..record },
    );
    cx.events.push(Event::Bonded {
        operator,
        consensus_key: *key,
        amount,
        bond,
    });
    Ok(())
}

/// `Unbond`: `amount` of the sender's bond stops counting and returns to its balance
/// after the unbonding delay.
pub(crate) fn unbond<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    amount: Amount,
) -> Result<(), TxError> {
    require_epochs(cx.params)?;
    let operator = cx.sender;
    let mut record = require(&cx.state, &operator)?;
    if record.bond < amount {
        return Err(TxError::InsufficientBond {
            bond: record.bond,
            amount,
        });
    }
    if record.unbonding.len() >= MAX_UNBONDING {
        return Err(TxError::TooManyUnbondings(MAX_UNBONDING));
    }
    let release = cx
        .height
        .checked_add(cx.params.consensus.unbonding_delay.max(1))
        .ok_or(TxError::Overflow("release height"))?;
    record.bond -= amount;
    match record.unbonding.last_mut() {
        Some((height, pending)) if *height == release => *pending += amount,
        _ => record.unbonding.push((release, amount)),
    }
    let mut releases: Vec<AccountId> =
        state::get_or_default(&cx.state, &keys::releases_key(release))?;
    state::sorted_insert(&mut releases, operator);
    state::put(&mut cx.state, keys::releases_key(release), &releases);
    cx.events.push(Event::Unbonding {
        operator,
        amount,
        release_height: release,
    });
    state::put(&mut cx.state, keys::validator_key(&operator), &record);
    Ok(())
}

/// `RotateConsensusKey`: `new_key` replaces the sender's key at the next boundary.
pub(crate) fn rotate<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    new_key: &AccountId,
) -> Result<(), TxError> {
    require_epochs(cx.params)?;
    let operator = cx.sender;
    let mut record = require(&cx.state, &operator)?;
    if record.slashed {
        return Err(TxError::ValidatorSlashed(operator));
    }
    if let Some(owner) = key_owner(&cx.state, new_key)? {
        return Err(TxError::ConsensusKeyTaken {
            key: *new_key,
            operator: owner,
        });
    }
    // A rotation that has not taken effect yet is replaced, and its key freed.
    if let Some(pending) = record.next_key.take() {
        cx.state.delete(keys::key_owner_key(&pending));
    }
    record.next_key = Some(*new_key);
    state::put(&mut cx.state, keys::key_owner_key(new_key), &operator);
    state::put(&mut cx.state, keys::validator_key(&operator), &record);
    cx.events.push(Event::ConsensusKeyRotating {
        operator,
        new_key: *new_key,
    });
    Ok(())
}

/// `ReportDoubleSign` (signatures checked in phase 1): the signer must be in the set
/// of the evidence's epoch and not slashed already.
pub(crate) fn report<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    evidence: &DoubleSign,
) -> Result<(), TxError> {
    let signer = evidence.signer;
    let in_set = set(&cx.state, evidence.epoch)?.is_some_and(|s| s.binary_search(&signer).is_ok());
    if !in_set {
        return Err(TxError::NotInValidatorSet {
            key: signer,
            epoch: evidence.epoch,
        });
    }
    let operator = key_owner(&cx.state, &signer)?.ok_or(TxError::NotInValidatorSet {
        key: signer,
        epoch: evidence.epoch,
    })?;
    let mut record = require(&cx.state, &operator)?;
    if record.slashed {
        return Err(TxError::ValidatorSlashed(operator));
    }
    let bps = u64::from(cx.params.consensus.slash_bps.min(10_000));
    let cut = |amount: Amount| -> Amount {
        u64::try_from(u128::from(amount) * u128::from(bps) / 10_000).unwrap_or(amount)
    };
    let mut burned = cut(record.bond);
    record.bond -= burned;
    for (_, amount) in &mut record.unbonding {
        let c = cut(*amount);
        *amount -= c;
        burned += c;
    }
    record.slashed = true;
    accounts::record_burn(&mut cx.state, burned)?;
    state::put(&mut cx.state, keys::validator_key(&operator), &record);
    cx.events.push(Event::ValidatorSlashed {
        operator,
        consensus_key: signer,
        epoch: evidence.epoch,
        view: evidence.view,
        burned,
    });
    Ok(())
}

/// End of block `height`: pay out the unbonding entries maturing here, and at an
/// epoch boundary apply key rotations and choose the next epoch's set.
pub(crate) fn end_block<R: StateReader>(
    ov: &mut Overlay<R>,
    params: &ChainParams,
    height: u64,
    events: &mut Vec<Event>,
) -> Result<(), TxError> {
    let c = &params.consensus;
    if c.epoch_length == 0 {
        return Ok(());
    }
    release(ov, height, events)?;
    if is_boundary(c, height) {
        choose_next_set(ov, c, epoch_of(c, height), events)?;
    }
    Ok(())
}

fn release<R: StateReader>(
    ov: &mut Overlay<R>,
    height: u64,
    events: &mut Vec<Event>,
) -> Result<(), TxError> {
    let key = keys::releases_key(height);
    let due: Vec<AccountId> = state::get_or_default(ov, &key)?;
    if due.is_empty() {
        return Ok(());
    }
    ov.delete(key);
    for operator in due {
        let mut record = require(ov, &operator)?;
        let amount: Amount = record
            .unbonding
            .iter()
            .filter(|(h, _)| *h == height)
            .map(|(_, a)| *a)
            .sum();
        record.unbonding.retain(|(h, _)| *h != height);
        state::put(ov, keys::validator_key(&operator), &record);
        accounts::credit(ov, &operator, amount)?;
        events.push(Event::BondReleased { operator, amount });
    }
    Ok(())
}

fn choose_next_set<R: StateReader>(
    ov: &mut Overlay<R>,
    c: &ConsensusParams,
    epoch: u64,
    events: &mut Vec<Event>,
) -> Result<(), TxError> {
    let mut candidates = Vec::new();
    for operator in operators(ov)? {
        let mut record = require(ov, &operator)?;
        if let Some(next) = record.next_key.take() {
            record.consensus_key = next;
            state::put(ov, keys::validator_key(&operator), &record);
        }
        if !record.slashed && record.bond >= c.min_bond && record.bond > 0 {
            candidates.push((record.bond, record.consensus_key));
        }
    }
    // Largest bond first, then the smaller key.
    candidates.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    candidates.truncate(usize::from(c.max_validators.max(1)));
    let mut chosen: Vec<AccountId> = candidates.into_iter().map(|(_, key)| key).collect();
    chosen.sort_unstable();
    let kept = chosen.len() < usize::from(c.min_validators.max(1));
    if kept {
        chosen = set(ov, epoch)?.ok_or(StateError::Missing("current validator set"))?;
    }
    state::put(ov, keys::set_key(epoch + 1), &chosen);
    events.push(Event::ValidatorSetChosen {
        epoch: epoch + 1,
        validators: chosen,
        kept,
    });
    Ok(())
}
