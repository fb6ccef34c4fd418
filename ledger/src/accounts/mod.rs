//! Accounts: balances, nonces, transfers, fees and supply accounting.
//!
//! Fees are burned. Supply is tracked as genesis + emitted − burned, and the
//! conservation invariant says that equals Σ balances + Σ stake + pending subnet
//! emission at every block.

pub mod keys;

use plexus_types::{
    AccountId, Amount, CodecError,
    codec::{Reader, WriteExt},
};
use serde::{Deserialize, Serialize};

use crate::{
    TxError,
    context::TxContext,
    events::Event,
    state::{self, StateError, Value},
    store::{Overlay, StateReader},
};

/// An account's free balance and next nonce.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Free balance in base units.
    pub balance: Amount,
    /// The nonce the account's next transaction must carry.
    pub nonce: u64,
}

impl Value for Account {
    fn put(&self, out: &mut Vec<u8>) {
        out.put_u64(self.balance);
        out.put_u64(self.nonce);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            balance: r.u64("balance")?,
            nonce: r.u64("nonce")?,
        })
    }
}

/// Where every base unit came from and went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supply {
    /// Allocated in genesis.
    pub genesis: Amount,
    /// Emitted by blocks since genesis.
    pub emitted: Amount,
    /// Burned by fees, registrations and subnet creation.
    pub burned: Amount,
}

impl Supply {
    /// Tokens in existence: genesis + emitted − burned (the halving schedule's issuance).
    pub fn issuance(&self) -> Amount {
        self.genesis
            .saturating_add(self.emitted)
            .saturating_sub(self.burned)
    }
}

impl Value for Supply {
    fn put(&self, out: &mut Vec<u8>) {
        out.put_u64(self.genesis);
        out.put_u64(self.emitted);
        out.put_u64(self.burned);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            genesis: r.u64("genesis supply")?,
            emitted: r.u64("emitted")?,
            burned: r.u64("burned")?,
        })
    }
}

/// Read an account (the default, empty account when never touched).
pub fn account(state: &impl StateReader, id: &AccountId) -> Result<Account, StateError> {
    state::get_or_default(state, &keys::account_key(id))
}

/// Read the supply accounting.
pub fn supply(state: &impl StateReader) -> Result<Supply, StateError> {
    state::get_or_default(state, &keys::supply_key())
}

/// Buffer an account, or its deletion once it is empty.
pub(crate) fn put_account<R: StateReader>(ov: &mut Overlay<R>, id: &AccountId, acct: &Account) {
    state::put_or_delete(ov, keys::account_key(id), acct);
}

pub(crate) fn put_supply<R: StateReader>(ov: &mut Overlay<R>, supply: &Supply) {
    state::put(ov, keys::supply_key(), supply);
}

/// Add `amount` to a free balance.
pub(crate) fn credit<R: StateReader>(
    ov: &mut Overlay<R>,
    id: &AccountId,
    amount: Amount,
) -> Result<(), TxError> {
    if amount == 0 {
        return Ok(());
    }
    let mut acct = account(ov, id)?;
    acct.balance = acct
        .balance
        .checked_add(amount)
        .ok_or(TxError::Overflow("balance"))?;
    put_account(ov, id, &acct);
    Ok(())
}

impl Account {
    /// Take `amount` from the balance, or say what it lacks for `what`.
    fn withdraw(&mut self, amount: Amount, what: &'static str) -> Result<(), TxError> {
        self.balance = self
            .balance
            .checked_sub(amount)
            .ok_or(TxError::InsufficientBalance {
                have: self.balance,
                need: amount,
                what,
            })?;
        Ok(())
    }
}

/// Take `amount` from a free balance.
pub(crate) fn debit<R: StateReader>(
    ov: &mut Overlay<R>,
    id: &AccountId,
    amount: Amount,
    what: &'static str,
) -> Result<(), TxError> {
    let mut acct = account(ov, id)?;
    acct.withdraw(amount, what)?;
    put_account(ov, id, &acct);
    Ok(())
}

/// Record `amount` as burned (the caller already removed it from a balance).
pub(crate) fn record_burn<R: StateReader>(
    ov: &mut Overlay<R>,
    amount: Amount,
) -> Result<(), TxError> {
    if amount == 0 {
        return Ok(());
    }
    let mut s = supply(ov)?;
    s.burned = s
        .burned
        .checked_add(amount)
        .ok_or(TxError::Overflow("burned"))?;
    put_supply(ov, &s);
    Ok(())
}

/// Phase 2 for every transaction: the nonce is the next one and the balance covers
/// the fee plus whatever else the payload spends from the free balance.
pub(crate) fn check_nonce_and_funds(
    acct: &Account,
    nonce: u64,
    fee: Amount,
    spend: Amount,
    what: &'static str,
) -> Result<(), TxError> {
    if nonce < acct.nonce {
        return Err(TxError::StaleNonce {
            nonce,
            expected: acct.nonce,
        });
    }
    if nonce > acct.nonce {
        return Err(TxError::FutureNonce {
            nonce,
            expected: acct.nonce,
        });
    }
    let need = fee
        .checked_add(spend)
        .ok_or(TxError::Overflow("fee + amount"))?;
    if acct.balance < need {
        return Err(TxError::InsufficientBalance {
            have: acct.balance,
            need,
            what,
        });
    }
    Ok(())
}

/// Phase 3 for every transaction: burn the fee and advance the nonce.
pub(crate) fn charge_fee_and_bump_nonce<R: StateReader>(
    ov: &mut Overlay<R>,
    sender: &AccountId,
    fee: Amount,
) -> Result<(), TxError> {
    let mut acct = account(ov, sender)?;
    acct.withdraw(fee, "fee")?;
    acct.nonce = acct
        .nonce
        .checked_add(1)
        .ok_or(TxError::Overflow("nonce"))?;
    put_account(ov, sender, &acct);
    record_burn(ov, fee)
}

/// Stateless checks of a transfer.
pub(crate) fn check_transfer(amount: Amount) -> Result<(), TxError> {
    if amount == 0 {
        return Err(TxError::ZeroAmount("transfer amount"));
    }
    Ok(())
}

/// Execute a transfer (the sender's funds were checked in phase 2).
pub(crate) fn transfer<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    to: &AccountId,
    amount: Amount,
) -> Result<(), TxError> {
    let from = cx.sender;
    debit(&mut cx.state, &from, amount, "amount + fee")?;
    credit(&mut cx.state, to, amount)?;
    cx.events.push(Event::Transfer {
        from,
        to: *to,
        amount,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_must_be_exactly_the_next_one() {
        let acct = Account {
            balance: 10,
            nonce: 3,
        };
        assert!(matches!(
            check_nonce_and_funds(&acct, 2, 1, 0, "fee"),
            Err(TxError::StaleNonce {
                nonce: 2,
                expected: 3
            })
        ));
        assert!(matches!(
            check_nonce_and_funds(&acct, 4, 1, 0, "fee"),
            Err(TxError::FutureNonce {
                nonce: 4,
                expected: 3
            })
        ));
        assert!(check_nonce_and_funds(&acct, 3, 1, 9, "x").is_ok());
        assert!(matches!(
            check_nonce_and_funds(&acct, 3, 1, 10, "x"),
            Err(TxError::InsufficientBalance {
                have: 10,
                need: 11,
                ..
            })
        ));
        assert!(matches!(
            check_nonce_and_funds(&acct, 3, u64::MAX, 1, "x"),
            Err(TxError::Overflow(_))
        ));
    }
}
