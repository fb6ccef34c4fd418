//! State keys of the weights component (prefix `0x05`): weights, bonds and commits.

use plexus_types::{Netuid, Uid};

/// Component prefix.
pub const PREFIX: u8 = 0x05;

fn uid_key(tag: u8, netuid: Netuid, uid: Uid) -> Vec<u8> {
    let mut key = vec![PREFIX, tag];
    key.extend_from_slice(&netuid.to_be_bytes());
    key.extend_from_slice(&uid.to_be_bytes());
    key
}

/// A UID's weights row, sparse and max-upscaled (`Vec<(u16, u16)>`): `[0x05, 0x00] ‖ netuid ‖ uid`.
pub fn weights_key(netuid: Netuid, uid: Uid) -> Vec<u8> {
    uid_key(0x00, netuid, uid)
}

/// A UID's bonds row, sparse (`Vec<(u16, u16)>`): `[0x05, 0x01] ‖ netuid ‖ uid`.
pub fn bonds_key(netuid: Netuid, uid: Uid) -> Vec<u8> {
    uid_key(0x01, netuid, uid)
}

/// A UID's pending weights commit (`WeightsCommit`): `[0x05, 0x02] ‖ netuid ‖ uid`.
pub fn commit_key(netuid: Netuid, uid: Uid) -> Vec<u8> {
    uid_key(0x02, netuid, uid)
}
