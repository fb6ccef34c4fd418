//! State keys of the consensus validator component (prefix `0x09`).

use plexus_types::AccountId;

/// Component prefix.
pub const PREFIX: u8 = 0x09;

/// An operator's validator record (`Validator`): `[0x09, 0x00] ‖ operator`.
pub fn validator_key(operator: &AccountId) -> Vec<u8> {
    let mut key = vec![PREFIX, 0x00];
    key.extend_from_slice(operator.as_bytes());
    key
}

/// The operator a consensus key belongs to, now or pending (`AccountId`):
/// `[0x09, 0x01] ‖ consensus key`.
pub fn key_owner_key(consensus_key: &AccountId) -> Vec<u8> {
    let mut key = vec![PREFIX, 0x01];
    key.extend_from_slice(consensus_key.as_bytes());
    key
}

/// Every operator that ever bonded, sorted (`Vec<AccountId>`): `[0x09, 0x02]`.
pub fn operators_key() -> Vec<u8> {
    vec![PREFIX, 0x02]
}

/// The consensus set of an epoch, consensus keys sorted (`Vec<AccountId>`):
/// `[0x09, 0x03] ‖ epoch (u64 big-endian)`.
pub fn set_key(epoch: u64) -> Vec<u8> {
    let mut key = vec![PREFIX, 0x03];
    key.extend_from_slice(&epoch.to_be_bytes());
    key
}

/// Operators with an unbonding entry maturing at a height, sorted
/// (`Vec<AccountId>`): `[0x09, 0x04] ‖ height (u64 big-endian)`.
pub fn releases_key(height: u64) -> Vec<u8> {
    let mut key = vec![PREFIX, 0x04];
    key.extend_from_slice(&height.to_be_bytes());
    key
}
