//! State keys of the subnets component (prefix `0x03`). Netuids are big-endian.

use plexus_types::Netuid;

/// Component prefix.
pub const PREFIX: u8 = 0x03;

fn key(tag: u8, netuid: Netuid) -> Vec<u8> {
    let mut key = vec![PREFIX, tag];
    key.extend_from_slice(&netuid.to_be_bytes());
    key
}

/// Every netuid, sorted (`Vec<u16>`): `[0x03, 0x00]`.
pub fn subnet_list_key() -> Vec<u8> {
    vec![PREFIX, 0x00]
}

/// The netuid the next subnet gets (`u16`): `[0x03, 0x01]`.
pub fn next_netuid_key() -> Vec<u8> {
    vec![PREFIX, 0x01]
}

/// Name, mechanism and owner (`SubnetInfo`): `[0x03, 0x02] ‖ netuid`.
pub fn info_key(netuid: Netuid) -> Vec<u8> {
    key(0x02, netuid)
}

/// Hyperparameters (`Hyperparams`): `[0x03, 0x03] ‖ netuid`.
pub fn hyperparams_key(netuid: Netuid) -> Vec<u8> {
    key(0x03, netuid)
}

/// Size, pending emission, epoch clock and burn price (`SubnetState`): `[0x03, 0x04] ‖ netuid`.
pub fn subnet_state_key(netuid: Netuid) -> Vec<u8> {
    key(0x04, netuid)
}
