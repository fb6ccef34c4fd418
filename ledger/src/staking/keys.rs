//! State keys of the staking component (prefix `0x02`).

use plexus_types::AccountId;

/// Component prefix.
pub const PREFIX: u8 = 0x02;

fn key(tag: u8, parts: &[&AccountId]) -> Vec<u8> {
    let mut key = Vec::with_capacity(2 + 32 * parts.len());
    key.extend_from_slice(&[PREFIX, tag]);
    for p in parts {
        key.extend_from_slice(p.as_bytes());
    }
    key
}

/// Stake of one coldkey on one hotkey (`u64`): `[0x02, 0x00] ‖ hotkey ‖ coldkey`.
pub fn stake_key(hotkey: &AccountId, coldkey: &AccountId) -> Vec<u8> {
    key(0x00, &[hotkey, coldkey])
}

/// A hotkey's owner, take and total stake (`HotkeyInfo`): `[0x02, 0x01] ‖ hotkey`.
pub fn hotkey_key(hotkey: &AccountId) -> Vec<u8> {
    key(0x01, &[hotkey])
}

/// Coldkeys with stake on a hotkey, sorted (`Vec<AccountId>`): `[0x02, 0x02] ‖ hotkey`.
pub fn nominators_key(hotkey: &AccountId) -> Vec<u8> {
    key(0x02, &[hotkey])
}

/// Hotkeys a coldkey has stake on, sorted (`Vec<AccountId>`): `[0x02, 0x03] ‖ coldkey`.
pub fn staked_hotkeys_key(coldkey: &AccountId) -> Vec<u8> {
    key(0x03, &[coldkey])
}

/// Hotkeys owned by a coldkey, sorted (`Vec<AccountId>`): `[0x02, 0x04] ‖ coldkey`.
pub fn owned_hotkeys_key(coldkey: &AccountId) -> Vec<u8> {
    key(0x04, &[coldkey])
}

/// Σ stake over every hotkey (`u64`): `[0x02, 0x05]`.
pub fn total_stake_key() -> Vec<u8> {
    vec![PREFIX, 0x05]
}
