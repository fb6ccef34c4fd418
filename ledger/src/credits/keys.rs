//! State keys of the credits component (prefix `0x07`). Ids are big-endian.

use plexus_types::{AccountId, Hash};

/// Component prefix.
pub const PREFIX: u8 = 0x07;

fn tagged(tag: u8, rest: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(2 + rest.len());
    key.extend_from_slice(&[PREFIX, tag]);
    key.extend_from_slice(rest);
    key
}

/// The id the next deposit gets (`u64`): `[0x07, 0x00]`.
pub fn next_deposit_key() -> Vec<u8> {
    vec![PREFIX, 0x00]
}

/// Base units held in every issuer key's escrow together (`u64`): `[0x07, 0x01]`.
pub fn escrow_key() -> Vec<u8> {
    vec![PREFIX, 0x01]
}

/// Every issuer hotkey, sorted (`Vec<AccountId>`): `[0x07, 0x02]`.
pub fn issuers_key() -> Vec<u8> {
    vec![PREFIX, 0x02]
}

/// An issuer's endpoint and key ids (`Issuer`): `[0x07, 0x03] ‖ issuer`.
pub fn issuer_key(issuer: &AccountId) -> Vec<u8> {
    tagged(0x03, issuer.as_bytes())
}

/// One issuer key and its escrow (`IssuerKey`): `[0x07, 0x04] ‖ key id`.
pub fn issuer_key_record_key(key_id: &Hash) -> Vec<u8> {
    tagged(0x04, &key_id.0)
}

/// A deposit (`Deposit`): `[0x07, 0x05] ‖ deposit id`.
pub fn deposit_key(id: u64) -> Vec<u8> {
    tagged(0x05, &id.to_be_bytes())
}

/// A settled token nonce (`SettledNonce`): `[0x07, 0x06] ‖ nonce`. Proofs of
/// inclusion and exclusion under this key show whether a token was paid.
pub fn settled_nonce_key(nonce: &[u8; 32]) -> Vec<u8> {
    tagged(0x06, nonce)
}

/// Marks that `buyer` bought on a key (`[1]`): `[0x07, 0x07] ‖ key id ‖ buyer`. Counts
/// each key's distinct buyers.
pub fn key_buyer_key(key_id: &Hash, buyer: &AccountId) -> Vec<u8> {
    let mut rest = Vec::with_capacity(64);
    rest.extend_from_slice(&key_id.0);
    rest.extend_from_slice(buyer.as_bytes());
    tagged(0x07, &rest)
}

/// What the buyer of a deposit took back (`u64`): `[0x07, 0x08] ‖ deposit id`.
pub fn refund_key(id: u64) -> Vec<u8> {
    tagged(0x08, &id.to_be_bytes())
}
