//! Share ids, amounts, keys, transactions, blocks and bounded codecs.
//!
//! Owns the shared vocabulary and its bounded codecs. May not depend on any other
//! plexus crate, nor on storage, async runtimes or HTTP.

pub mod block;
pub mod codec;
pub mod credits;
pub mod data;
pub mod finality;
pub mod keys;
pub mod subnet;
pub mod tx;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use block::{Block, BlockHeader};
pub use codec::{CodecError, Decode, Encode};
pub use keys::{AccountId, KeyError, Keypair, Signature};
pub use subnet::{Endpoint, Hyperparams, LiquidAlpha, Mechanism, YumaVariant};
pub use tx::{Payload, SignedTransaction, Transaction};

/// An amount of PLX in base units.
pub type Amount = u64;
/// Base units in one PLX.
pub const PLX: Amount = 1_000_000_000;
/// The hard cap on total issuance: 21 million PLX.
pub const SUPPLY_CAP: Amount = 21_000_000 * PLX;
/// A subnet id.
pub type Netuid = u16;
/// A position within a subnet.
pub type Uid = u16;

/// A 32-byte digest (blake3 for blocks and transactions, sha256 for the state tree).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The all-zero digest, used as genesis's parent.
    pub const ZERO: Hash = Hash([0; 32]);

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parse 64 hex characters.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).map_err(|e| KeyError::BadHex(e.to_string()))?;
        Ok(Self(out))
    }
}

impl std::str::FromStr for Hash {
    type Err = KeyError;

    /// 64 hex digits.
    fn from_str(text: &str) -> Result<Self, KeyError> {
        Self::from_hex(text)
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::from_hex(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Encode for Hash {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for Hash {
    fn decode_from(r: &mut codec::Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self(r.array("hash")?))
    }
}

/// Format base units as PLX with nine decimals, e.g. `1.500000000`.
pub fn format_plx(amount: Amount) -> String {
    format!("{}.{:09}", amount / PLX, amount % PLX)
}

/// Parse a decimal PLX amount (`"1.5"`, `"0.000000001"`, `"42"`) into base units.
pub fn parse_plx(text: &str) -> Option<Amount> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 9 {
        return None;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(frac) {
        return None;
    }
    let whole: Amount = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: Amount = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    whole.checked_mul(PLX)?.checked_add(frac)
}

/// An error and its causes on one line, `: `-separated (for a message that must fit
/// one line: an API answer, a log line, a report).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// [`parse_plx`] for a command-line flag: the amount, or what is wrong with `text`.
pub fn parse_plx_arg(text: &str) -> Result<Amount, String> {
    parse_plx(text).ok_or_else(|| {
        format!("`{text}` is not a PLX amount: use digits with at most 9 decimals, e.g. 1.5")
    })
}

/// A fixed-width text table: `headers`, then one line per row, columns two spaces
/// apart (how the `plexus` binary prints lists).
pub fn text_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let cells: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        cells.join("  ").trim_end().to_string()
    };
    let headers: Vec<String> = headers.iter().map(ToString::to_string).collect();
    let mut out = vec![line(&headers)];
    out.extend(rows.iter().map(|row| line(row)));
    out.join("\n")
}

/// Serde helper: a list of byte strings as hex strings.
pub mod hex_list {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Serialize each byte string as lower-case hex.
    pub fn serialize<S: Serializer>(items: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        items
            .iter()
            .map(hex::encode)
            .collect::<Vec<_>>()
            .serialize(s)
    }

    /// Deserialize byte strings from hex.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Vec::<String>::deserialize(d)?
            .into_iter()
            .map(|h| hex::decode(h).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// Serde helper: bytes as a hex string.
pub mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize bytes as lower-case hex.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    /// Deserialize bytes from hex.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        hex::decode(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plx_amounts_parse_and_format_exactly() {
        assert_eq!(parse_plx("1.5"), Some(1_500_000_000));
        assert_eq!(parse_plx("0.000000001"), Some(1));
        assert_eq!(parse_plx("42"), Some(42 * PLX));
        assert_eq!(parse_plx(".5"), Some(PLX / 2));
        assert_eq!(parse_plx("1.0000000001"), None);
        assert_eq!(parse_plx("-1"), None);
        assert_eq!(parse_plx(""), None);
        assert_eq!(parse_plx("99999999999999999999"), None);
        assert_eq!(format_plx(1_500_000_000), "1.500000000");
    }
}
