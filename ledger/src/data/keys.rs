//! State keys of the data component (prefix `0x06`). Task ids are big-endian.

use plexus_types::{AccountId, tx::DataTaskId};

/// Component prefix.
pub const PREFIX: u8 = 0x06;

fn task_tag(tag: u8, task: DataTaskId) -> Vec<u8> {
    let mut key = Vec::with_capacity(10);
    key.extend_from_slice(&[PREFIX, tag]);
    key.extend_from_slice(&task.to_be_bytes());
    key
}

/// The id the next data task gets (`u64`): `[0x06, 0x00]`.
pub fn next_task_key() -> Vec<u8> {
    vec![PREFIX, 0x00]
}

/// Base units escrowed by every open data task together (`u64`): `[0x06, 0x01]`.
pub fn escrow_key() -> Vec<u8> {
    vec![PREFIX, 0x01]
}

/// A data task (`DataTask`): `[0x06, 0x02] ‖ task`.
pub fn task_key(task: DataTaskId) -> Vec<u8> {
    task_tag(0x02, task)
}

/// A task's contributors in commit order (`Vec<AccountId>`): `[0x06, 0x03] ‖ task`.
pub fn contributors_key(task: DataTaskId) -> Vec<u8> {
    task_tag(0x03, task)
}

/// One contributor's commit and reveal (`Contribution`): `[0x06, 0x04] ‖ task ‖ hotkey`.
pub fn contribution_key(task: DataTaskId, hotkey: &AccountId) -> Vec<u8> {
    let mut key = task_tag(0x04, task);
    key.extend_from_slice(hotkey.as_bytes());
    key
}
