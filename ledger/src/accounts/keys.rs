//! State keys of the accounts component (prefix `0x01`).

use plexus_types::AccountId;

/// Component prefix.
pub const PREFIX: u8 = 0x01;

/// An account's balance and nonce (`Account`): `[0x01, 0x00] ‖ account`.
pub fn account_key(account: &AccountId) -> Vec<u8> {
    let mut key = Vec::with_capacity(34);
    key.extend_from_slice(&[PREFIX, 0x00]);
    key.extend_from_slice(account.as_bytes());
    key
}

/// Supply accounting (`Supply`): `[0x01, 0x01]`.
pub fn supply_key() -> Vec<u8> {
    vec![PREFIX, 0x01]
}
