//! Staking and delegation: coldkeys stake to hotkeys (their own or a validator's),
//! hotkeys are owned by exactly one coldkey and keep a take of their dividends.
//!
//! The state stores stake per (hotkey, coldkey), the total per hotkey, and the lists
//! that replace prefix iteration (the store only does point reads): nominators per
//! hotkey and hotkeys per coldkey.

pub mod keys;

use plexus_types::{
    AccountId, Amount, CodecError, Decode, Encode,
    codec::{Reader, WriteExt},
};
use serde::{Deserialize, Serialize};

use crate::{
    TxError, accounts,
    context::TxContext,
    events::Event,
    params::ChainParams,
    state::{self, StateError, Value},
    store::{Overlay, StateReader},
};

/// A hotkey's owner, take and total stake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotkeyInfo {
    /// The coldkey that owns the hotkey.
    pub owner: AccountId,
    /// Share of validator dividends the hotkey keeps, out of 65535.
    pub take: u16,
    /// Σ stake of every coldkey on this hotkey.
    pub total_stake: Amount,
}

impl Value for HotkeyInfo {
    fn put(&self, out: &mut Vec<u8>) {
        self.owner.encode_to(out);
        out.put_u16(self.take);
        out.put_u64(self.total_stake);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            owner: AccountId::decode_from(r)?,
            take: r.u16("take")?,
            total_stake: r.u64("total stake")?,
        })
    }
}

/// The hotkey's record, if it was ever bound to a coldkey.
pub fn hotkey(
    state: &impl StateReader,
    hotkey: &AccountId,
) -> Result<Option<HotkeyInfo>, StateError> {
    state::get(state, &keys::hotkey_key(hotkey))
}

/// Stake of `coldkey` on `hotkey`.
pub fn stake(
    state: &impl StateReader,
    hotkey: &AccountId,
    coldkey: &AccountId,
) -> Result<Amount, StateError> {
    state::get_or_default(state, &keys::stake_key(hotkey, coldkey))
}

/// Coldkeys with stake on `hotkey`, sorted.
pub fn nominators(
    state: &impl StateReader,
    hotkey: &AccountId,
) -> Result<Vec<AccountId>, StateError> {
    state::get_or_default(state, &keys::nominators_key(hotkey))
}

/// Hotkeys `coldkey` has stake on, sorted.
pub fn staked_hotkeys(
    state: &impl StateReader,
    coldkey: &AccountId,
) -> Result<Vec<AccountId>, StateError> {
    state::get_or_default(state, &keys::staked_hotkeys_key(coldkey))
}

/// Hotkeys owned by `coldkey`, sorted.
pub fn owned_hotkeys(
    state: &impl StateReader,
    coldkey: &AccountId,
) -> Result<Vec<AccountId>, StateError> {
    state::get_or_default(state, &keys::owned_hotkeys_key(coldkey))
}

/// Σ stake over all hotkeys.
pub fn total_stake(state: &impl StateReader) -> Result<Amount, StateError> {
    state::get_or_default(state, &keys::total_stake_key())
}

/// Bind `hotkey` to `coldkey` if it is unbound; fail if another coldkey owns it.
pub(crate) fn bind_hotkey<R: StateReader>(
    ov: &mut Overlay<R>,
    hot: &AccountId,
    cold: &AccountId,
    default_take: u16,
) -> Result<(), TxError> {
    match hotkey(ov, hot)? {
        Some(info) if info.owner == *cold => Ok(()),
        Some(info) => Err(TxError::HotkeyOwnedByAnother {
            hotkey: *hot,
            owner: info.owner,
        }),
        None => {
            let info = HotkeyInfo {
                owner: *cold,
                take: default_take,
                total_stake: 0,
            };
            state::put(ov, keys::hotkey_key(hot), &info);
            let mut owned = owned_hotkeys(ov, cold)?;
            state::sorted_insert(&mut owned, *hot);
            state::put(ov, keys::owned_hotkeys_key(cold), &owned);
            Ok(())
        }
    }
}

/// Phase 2 helper: the owner of a bound hotkey, or why it has none / differs.
pub(crate) fn check_owner(
    state: &impl StateReader,
    hot: &AccountId,
    cold: &AccountId,
) -> Result<Option<HotkeyInfo>, TxError> {
    match hotkey(state, hot)? {
        Some(info) if info.owner != *cold => Err(TxError::HotkeyOwnedByAnother {
            hotkey: *hot,
            owner: info.owner,
        }),
        other => Ok(other),
    }
}

/// Add `amount` of stake (already taken from a balance, or freshly emitted).
pub(crate) fn increase_stake<R: StateReader>(
    ov: &mut Overlay<R>,
    hot: &AccountId,
    cold: &AccountId,
    amount: Amount,
) -> Result<(), TxError> {
    if amount == 0 {
        return Ok(());
    }
    let mut info = hotkey(ov, hot)?.ok_or(TxError::UnknownHotkey { hotkey: *hot })?;
    let old = stake(ov, hot, cold)?;
    let new = old.checked_add(amount).ok_or(TxError::Overflow("stake"))?;
    info.total_stake = info
        .total_stake
        .checked_add(amount)
        .ok_or(TxError::Overflow("hotkey stake"))?;
    let total = total_stake(ov)?
        .checked_add(amount)
        .ok_or(TxError::Overflow("total stake"))?;
    state::put(ov, keys::stake_key(hot, cold), &new);
    state::put(ov, keys::hotkey_key(hot), &info);
    state::put(ov, keys::total_stake_key(), &total);
    if old == 0 {
        let mut noms = nominators(ov, hot)?;
        state::sorted_insert(&mut noms, *cold);
        state::put(ov, keys::nominators_key(hot), &noms);
        let mut hots = staked_hotkeys(ov, cold)?;
        state::sorted_insert(&mut hots, *hot);
        state::put(ov, keys::staked_hotkeys_key(cold), &hots);
    }
    Ok(())
}

/// Remove `amount` of stake (the caller credits it to a balance).
pub(crate) fn decrease_stake<R: StateReader>(
    ov: &mut Overlay<R>,
    hot: &AccountId,
    cold: &AccountId,
    amount: Amount,
) -> Result<(), TxError> {
    let old = stake(ov, hot, cold)?;
    let new = old.checked_sub(amount).ok_or(TxError::InsufficientStake {
        hotkey: *hot,
        have: old,
        need: amount,
    })?;
    let mut info = hotkey(ov, hot)?.ok_or(TxError::UnknownHotkey { hotkey: *hot })?;
    info.total_stake = info
        .total_stake
        .checked_sub(amount)
        .ok_or(TxError::Overflow("hotkey stake"))?;
    let total = total_stake(ov)?
        .checked_sub(amount)
        .ok_or(TxError::Overflow("total stake"))?;
    state::put_or_delete(ov, keys::stake_key(hot, cold), &new);
    state::put(ov, keys::hotkey_key(hot), &info);
    state::put(ov, keys::total_stake_key(), &total);
    if new == 0 {
        let mut noms = nominators(ov, hot)?;
        state::sorted_remove(&mut noms, cold);
        state::put_or_delete(ov, keys::nominators_key(hot), &noms);
        let mut hots = staked_hotkeys(ov, cold)?;
        state::sorted_remove(&mut hots, hot);
        state::put_or_delete(ov, keys::staked_hotkeys_key(cold), &hots);
    }
    Ok(())
}

/// Stateless checks of AddStake / RemoveStake.
pub(crate) fn check_amount(amount: Amount) -> Result<(), TxError> {
    if amount == 0 {
        return Err(TxError::ZeroAmount("stake amount"));
    }
    Ok(())
}

/// Stateless checks of SetTake.
pub(crate) fn check_take(params: &ChainParams, take: u16) -> Result<(), TxError> {
    if take > params.max_take {
        return Err(TxError::TakeTooHigh {
            take,
            max: params.max_take,
        });
    }
    Ok(())
}

/// AddStake: move `amount` from the coldkey's balance to its stake on `hot`.
pub(crate) fn add_stake<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    hot: &AccountId,
    amount: Amount,
) -> Result<(), TxError> {
    let (ov, cold) = (&mut cx.state, &cx.sender);
    // Phase 2: the hotkey must be bound (registered at least once) so emission has an owner.
    if hotkey(ov, hot)?.is_none() {
        return Err(TxError::UnknownHotkey { hotkey: *hot });
    }
    // Phase 3.
    accounts::debit(ov, cold, amount, "stake amount + fee")?;
    increase_stake(ov, hot, cold, amount)?;
    cx.events.push(Event::StakeAdded {
        coldkey: *cold,
        hotkey: *hot,
        amount,
    });
    Ok(())
}

/// RemoveStake: move `amount` from the coldkey's stake on `hot` back to its balance.
pub(crate) fn remove_stake<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    hot: &AccountId,
    amount: Amount,
) -> Result<(), TxError> {
    let (ov, cold) = (&mut cx.state, &cx.sender);
    // decrease_stake checks the stake covers `amount` before it writes anything.
    decrease_stake(ov, hot, cold, amount)?;
    accounts::credit(ov, cold, amount)?;
    cx.events.push(Event::StakeRemoved {
        coldkey: *cold,
        hotkey: *hot,
        amount,
    });
    Ok(())
}

/// SetTake: the hotkey's owner changes its take.
pub(crate) fn set_take<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    hot: &AccountId,
    take: u16,
) -> Result<(), TxError> {
    let (ov, cold) = (&mut cx.state, &cx.sender);
    let mut info = hotkey(ov, hot)?.ok_or(TxError::UnknownHotkey { hotkey: *hot })?;
    if info.owner != *cold {
        return Err(TxError::NotHotkeyOwner {
            hotkey: *hot,
            owner: info.owner,
        });
    }
    info.take = take;
    state::put(ov, keys::hotkey_key(hot), &info);
    cx.events.push(Event::TakeSet { hotkey: *hot, take });
    Ok(())
}
