//! State keys of the neurons component (prefix `0x04`): UIDs, registrations,
//! epoch scores and endpoints. Netuids and UIDs are big-endian.

use plexus_types::{AccountId, Netuid, Uid};

/// Component prefix.
pub const PREFIX: u8 = 0x04;

fn uid_key(tag: u8, netuid: Netuid, uid: Uid) -> Vec<u8> {
    let mut key = vec![PREFIX, tag];
    key.extend_from_slice(&netuid.to_be_bytes());
    key.extend_from_slice(&uid.to_be_bytes());
    key
}

/// Who holds a UID (`Neuron`): `[0x04, 0x00] ‖ netuid ‖ uid`.
pub fn neuron_key(netuid: Netuid, uid: Uid) -> Vec<u8> {
    uid_key(0x00, netuid, uid)
}

/// A hotkey's UID on a subnet (`u16`): `[0x04, 0x01] ‖ netuid ‖ hotkey`. The API
/// proves registrations (and, by exclusion, non-registration) with this key.
pub fn registration_key(netuid: Netuid, hotkey: &AccountId) -> Vec<u8> {
    let mut key = vec![PREFIX, 0x01];
    key.extend_from_slice(&netuid.to_be_bytes());
    key.extend_from_slice(hotkey.as_bytes());
    key
}

/// The last epoch's outputs for a UID (`NeuronScores`): `[0x04, 0x02] ‖ netuid ‖ uid`.
pub fn scores_key(netuid: Netuid, uid: Uid) -> Vec<u8> {
    uid_key(0x02, netuid, uid)
}

/// A UID's served endpoint (`Endpoint`): `[0x04, 0x03] ‖ netuid ‖ uid`.
pub fn endpoint_key(netuid: Netuid, uid: Uid) -> Vec<u8> {
    uid_key(0x03, netuid, uid)
}
