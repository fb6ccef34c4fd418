//! Typed reads and writes over the raw key-value state.
//!
//! Every stored value uses the canonical `plexus_types` codec (never serde), so two
//! nodes that apply the same blocks hold the same bytes and the same state root.

use plexus_types::{
    AccountId, CodecError, Decode, Encode, Endpoint, Hash, Hyperparams,
    codec::{Reader, WriteExt},
};
use thiserror::Error;

use crate::store::{Overlay, StateReader, StoreError};

/// Most items in any stored list (nominators of a hotkey, hotkeys of a coldkey, a sparse row).
pub(crate) const MAX_STORED_LIST: usize = 1 << 22;

/// Why the ledger could not read its own state.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StateError {
    /// The backing store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored value did not decode: the state is corrupt or from another version.
    #[error("state value under key {key} is corrupt: {error}")]
    Corrupt {
        /// The key, hex encoded.
        key: String,
        /// What the decoder found.
        error: CodecError,
    },
    /// A value that genesis always writes is missing: the state was never initialised.
    #[error("state has no {0}: was genesis applied?")]
    Missing(&'static str),
}

/// A value stored in the state with the canonical codec.
pub(crate) trait Value: Sized {
    /// Append the encoding.
    fn put(&self, out: &mut Vec<u8>);
    /// Read one value.
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError>;

    /// The encoding as a fresh vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.put(&mut out);
        out
    }

    /// Decode a value spanning all of `bytes`.
    fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(bytes);
        let v = Self::take(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

impl Value for u64 {
    fn put(&self, out: &mut Vec<u8>) {
        out.put_u64(*self);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        r.u64("u64")
    }
}

impl Value for u16 {
    fn put(&self, out: &mut Vec<u8>) {
        out.put_u16(*self);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        r.u16("u16")
    }
}

/// Implement [`Value`] for types that already have the types codec.
macro_rules! codec_value {
    ($($t:ty),* $(,)?) => {$(
        impl Value for $t {
            fn put(&self, out: &mut Vec<u8>) {
                self.encode_to(out);
            }
            fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
                <$t as Decode>::decode_from(r)
            }
        }
    )*};
}
codec_value!(
    AccountId,
    Hash,
    Hyperparams,
    Endpoint,
    crate::params::ChainConfig
);

impl Value for Vec<AccountId> {
    fn put(&self, out: &mut Vec<u8>) {
        out.put_len(self.len());
        self.iter().for_each(|a| a.encode_to(out));
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        r.list(MAX_STORED_LIST, "account list", AccountId::decode_from)
    }
}

impl Value for Vec<u16> {
    fn put(&self, out: &mut Vec<u8>) {
        out.put_len(self.len());
        self.iter().for_each(|v| out.put_u16(*v));
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        r.list(MAX_STORED_LIST, "u16 list", |r| r.u16("u16"))
    }
}

/// A sparse row of `(uid, value)` pairs, sorted by uid.
impl Value for Vec<(u16, u16)> {
    fn put(&self, out: &mut Vec<u8>) {
        out.put_len(self.len());
        for (uid, v) in self {
            out.put_u16(*uid);
            out.put_u16(*v);
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        r.list(MAX_STORED_LIST, "sparse row", |r| {
            Ok((r.u16("uid")?, r.u16("value")?))
        })
    }
}

/// Read and decode the value under `key`.
pub(crate) fn get<T: Value>(state: &impl StateReader, key: &[u8]) -> Result<Option<T>, StateError> {
    match state.get(key)? {
        None => Ok(None),
        Some(bytes) => T::from_bytes(&bytes)
            .map(Some)
            .map_err(|error| StateError::Corrupt {
                key: hex_key(key),
                error,
            }),
    }
}

/// Read the value under `key`, or its default when absent.
pub(crate) fn get_or_default<T: Value + Default>(
    state: &impl StateReader,
    key: &[u8],
) -> Result<T, StateError> {
    Ok(get(state, key)?.unwrap_or_default())
}

/// Encode and buffer `value` under `key`.
pub(crate) fn put<R: StateReader, T: Value>(overlay: &mut Overlay<R>, key: Vec<u8>, value: &T) {
    overlay.put(key, value.to_bytes());
}

/// Buffer `value` under `key`, or a deletion when it equals the default (zero stake, empty list).
pub(crate) fn put_or_delete<R: StateReader, T: Value + Default + PartialEq>(
    overlay: &mut Overlay<R>,
    key: Vec<u8>,
    value: &T,
) {
    if *value == T::default() {
        overlay.delete(key);
    } else {
        overlay.put(key, value.to_bytes());
    }
}

fn hex_key(key: &[u8]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// Insert `item` into a sorted list if absent; returns whether it was inserted.
pub(crate) fn sorted_insert<T: Ord>(list: &mut Vec<T>, item: T) -> bool {
    match list.binary_search(&item) {
        Ok(_) => false,
        Err(pos) => {
            list.insert(pos, item);
            true
        }
    }
}

/// Remove `item` from a sorted list if present; returns whether it was removed.
pub(crate) fn sorted_remove<T: Ord>(list: &mut Vec<T>, item: &T) -> bool {
    match list.binary_search(item) {
        Ok(pos) => {
            list.remove(pos);
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemStore;

    #[test]
    fn a_value_round_trips_and_a_default_value_is_deleted() {
        let store = MemStore::new();
        let mut ov = Overlay::new(&store);
        put(&mut ov, b"k".to_vec(), &7u64);
        assert_eq!(get::<u64>(&ov, b"k").unwrap(), Some(7));
        put_or_delete(&mut ov, b"k".to_vec(), &0u64);
        assert_eq!(get::<u64>(&ov, b"k").unwrap(), None);
        let row: Vec<(u16, u16)> = vec![(1, 2), (3, 65535)];
        put(&mut ov, b"r".to_vec(), &row);
        assert_eq!(get::<Vec<(u16, u16)>>(&ov, b"r").unwrap(), Some(row));
    }

    #[test]
    fn a_corrupt_value_is_reported_with_its_key() {
        let store = MemStore::new();
        let mut ov = Overlay::new(&store);
        ov.put(vec![0xab], vec![1, 2, 3]);
        assert!(matches!(
            get::<u64>(&ov, &[0xab]),
            Err(StateError::Corrupt { key, .. }) if key == "ab"
        ));
    }
}
