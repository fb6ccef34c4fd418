//! State keys of the chain-parameters component (prefix `0x00`).

/// Component prefix.
pub const PREFIX: u8 = 0x00;

/// The chain configuration (`ChainConfig`): `[0x00]`.
pub fn config_key() -> Vec<u8> {
    vec![PREFIX]
}
