//! A small, bounded, canonical binary codec for everything that is signed or hashed.
//!
//! Integers are little-endian and fixed width; byte strings and lists carry a `u32`
//! length prefix that is checked against a per-field bound *before* anything is
//! allocated. Decoding must consume the whole input, so every value has exactly one
//! encoding.

use thiserror::Error;

/// Why untrusted bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    /// The input ended before the value did.
    #[error("unexpected end of input while reading {0}")]
    UnexpectedEnd(&'static str),
    /// A length prefix exceeded the bound for its field.
    #[error("{field} has length {len}, above the limit of {max}")]
    TooLong {
        /// The field being decoded.
        field: &'static str,
        /// The length found on the wire.
        len: usize,
        /// The largest length accepted.
        max: usize,
    },
    /// An enum tag that no variant uses.
    #[error("unknown tag {tag} for {field}")]
    UnknownTag {
        /// The field being decoded.
        field: &'static str,
        /// The tag found on the wire.
        tag: u8,
    },
    /// Bytes were left over after the value was decoded.
    #[error("{0} trailing bytes after the value")]
    TrailingBytes(usize),
    /// A field held a value outside its domain.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field being decoded.
        field: &'static str,
        /// What was wrong with it.
        reason: &'static str,
    },
}

/// A value with one canonical byte encoding.
pub trait Encode {
    /// Append the encoding of `self` to `out`.
    fn encode_to(&self, out: &mut Vec<u8>);

    /// The encoding of `self` as a fresh vector.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_to(&mut out);
        out
    }
}

/// A value that can be read back from its canonical encoding.
pub trait Decode: Sized {
    /// Read one value from the front of `reader`.
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, CodecError>;

    /// Decode a value that must span all of `bytes`.
    fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut reader = Reader::new(bytes);
        let value = Self::decode_from(&mut reader)?;
        reader.finish()?;
        Ok(value)
    }
}

/// A cursor over untrusted bytes.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Start reading at the front of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.bytes.len()
    }

    /// Fail unless every byte was consumed.
    pub fn finish(&self) -> Result<(), CodecError> {
        match self.bytes.len() {
            0 => Ok(()),
            n => Err(CodecError::TrailingBytes(n)),
        }
    }

    /// Take the next `n` bytes.
    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], CodecError> {
        if self.bytes.len() < n {
            return Err(CodecError::UnexpectedEnd(field));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    /// Take a fixed-size array.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], CodecError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    /// Read a `u8`.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, CodecError> {
        Ok(self.array::<1>(field)?[0])
    }

    /// Read a little-endian `u16`.
    pub fn u16(&mut self, field: &'static str) -> Result<u16, CodecError> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    /// Read a little-endian `u32`.
    pub fn u32(&mut self, field: &'static str) -> Result<u32, CodecError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    /// Read a little-endian `u64`.
    pub fn u64(&mut self, field: &'static str) -> Result<u64, CodecError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    /// Read a boolean encoded as 0 or 1.
    pub fn bool(&mut self, field: &'static str) -> Result<bool, CodecError> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(CodecError::Invalid {
                field,
                reason: "boolean must be 0 or 1",
            }),
        }
    }

    /// Read a length prefix and check it against `max` before anything is allocated.
    pub fn len(&mut self, max: usize, field: &'static str) -> Result<usize, CodecError> {
        let len = self.u32(field)? as usize;
        if len > max {
            return Err(CodecError::TooLong { field, len, max });
        }
        Ok(len)
    }

    /// Read a length-prefixed byte string of at most `max` bytes.
    pub fn bytes(&mut self, max: usize, field: &'static str) -> Result<Vec<u8>, CodecError> {
        let len = self.len(max, field)?;
        Ok(self.take(len, field)?.to_vec())
    }

    /// Read a length-prefixed UTF-8 string of at most `max` bytes.
    pub fn string(&mut self, max: usize, field: &'static str) -> Result<String, CodecError> {
        String::from_utf8(self.bytes(max, field)?).map_err(|_| CodecError::Invalid {
            field,
            reason: "not UTF-8",
        })
    }

    /// Read a length-prefixed list of at most `max` items.
    pub fn list<T>(
        &mut self,
        max: usize,
        field: &'static str,
        mut item: impl FnMut(&mut Self) -> Result<T, CodecError>,
    ) -> Result<Vec<T>, CodecError> {
        let len = self.len(max, field)?;
        // Every item takes at least one byte, so the remaining input bounds the allocation too.
        let mut out = Vec::with_capacity(len.min(self.remaining()));
        for _ in 0..len {
            out.push(item(self)?);
        }
        Ok(out)
    }

    /// Read an optional value: a 0/1 flag, then the value if present.
    pub fn option<T>(
        &mut self,
        field: &'static str,
        item: impl FnOnce(&mut Self) -> Result<T, CodecError>,
    ) -> Result<Option<T>, CodecError> {
        if self.bool(field)? {
            item(self).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// Helpers for writing the primitive encodings.
pub trait WriteExt {
    /// Append a `u8`.
    fn put_u8(&mut self, v: u8);
    /// Append a little-endian `u16`.
    fn put_u16(&mut self, v: u16);
    /// Append a little-endian `u32`.
    fn put_u32(&mut self, v: u32);
    /// Append a little-endian `u64`.
    fn put_u64(&mut self, v: u64);
    /// Append a boolean as 0 or 1.
    fn put_bool(&mut self, v: bool);
    /// Append a `u32` length prefix.
    fn put_len(&mut self, len: usize);
    /// Append a length-prefixed byte string.
    fn put_bytes(&mut self, v: &[u8]);
}

impl WriteExt for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_bool(&mut self, v: bool) {
        self.push(u8::from(v));
    }
    fn put_len(&mut self, len: usize) {
        // Every bounded field is far below u32::MAX; saturate rather than wrap.
        self.put_u32(u32::try_from(len).unwrap_or(u32::MAX));
    }
    fn put_bytes(&mut self, v: &[u8]) {
        self.put_len(v.len());
        self.extend_from_slice(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_length_prefix_above_its_bound_is_rejected_before_allocation() {
        let mut bytes = Vec::new();
        bytes.put_u32(u32::MAX);
        let err = Reader::new(&bytes).bytes(16, "name").unwrap_err();
        assert_eq!(
            err,
            CodecError::TooLong {
                field: "name",
                len: u32::MAX as usize,
                max: 16
            }
        );
    }

    #[test]
    fn a_list_that_claims_more_items_than_bytes_fails_cleanly() {
        let mut bytes = Vec::new();
        bytes.put_u32(1000);
        let err = Reader::new(&bytes)
            .list(1000, "xs", |r| r.u64("x"))
            .unwrap_err();
        assert_eq!(err, CodecError::UnexpectedEnd("x"));
    }

    #[test]
    fn a_boolean_other_than_zero_or_one_is_rejected() {
        assert!(Reader::new(&[2]).bool("flag").is_err());
    }
}
