//! Pad plaintexts to size buckets so that relays and observers learn only the bucket.
//!
//! Requests are padded with trailing zeros to the smallest of [`BUCKETS`]
//! (4, 16, 64 and 256 KiB) that holds them; a request larger than 256 KiB is refused.
//! BHTTP readers stop at the end of the message, and [`crate::message`] checks that
//! everything after it is zero.
//!
//! Streamed response events are framed to a fixed [`EVENT_FRAME_LEN`] (a 4-byte
//! big-endian length, the event, zeros), so every chunk the relay sees has the same
//! size. An event longer than a frame is split by the caller.

/// Request size buckets in bytes: 4 KiB, 16 KiB, 64 KiB, 256 KiB.
pub const BUCKETS: [usize; 4] = [4 << 10, 16 << 10, 64 << 10, 256 << 10];
/// The largest bucket.
pub const MAX_BUCKET: usize = 256 << 10;
/// Size of one padded response event frame: 1 KiB.
pub const EVENT_FRAME_LEN: usize = 1024;
/// Bytes of an event frame available for the event itself.
pub const MAX_EVENT_LEN: usize = EVENT_FRAME_LEN - 4;

/// Errors from padding and unpadding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaddingError {
    /// The plaintext is larger than the largest bucket.
    #[error("plaintext of {0} bytes is larger than the largest bucket")]
    TooLarge(usize),
    /// An event is larger than a frame holds.
    #[error("event of {0} bytes does not fit a frame")]
    EventTooLarge(usize),
    /// A frame is not exactly [`EVENT_FRAME_LEN`] bytes, or its length prefix is wrong.
    #[error("malformed event frame")]
    MalformedFrame,
    /// Padding held a non-zero byte.
    #[error("non-zero padding")]
    NonZeroPadding,
}

/// The bucket a plaintext of `len` bytes is padded to, if any.
pub fn bucket_for(len: usize) -> Option<usize> {
    BUCKETS.iter().copied().find(|&b| len <= b)
}

/// Pad `plaintext` with zeros to its bucket.
pub fn pad_to_bucket(mut plaintext: Vec<u8>) -> Result<Vec<u8>, PaddingError> {
    let bucket = bucket_for(plaintext.len()).ok_or(PaddingError::TooLarge(plaintext.len()))?;
    plaintext.resize(bucket, 0);
    Ok(plaintext)
}

/// Frame one response event into exactly [`EVENT_FRAME_LEN`] bytes.
pub fn frame_event(event: &[u8]) -> Result<Vec<u8>, PaddingError> {
    let len = u32::try_from(event.len()).map_err(|_| PaddingError::EventTooLarge(event.len()))?;
    if event.len() > MAX_EVENT_LEN {
        return Err(PaddingError::EventTooLarge(event.len()));
    }
    let mut out = Vec::with_capacity(EVENT_FRAME_LEN);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(event);
    out.resize(EVENT_FRAME_LEN, 0);
    Ok(out)
}

/// Recover the event from a frame made by [`frame_event`].
pub fn unframe_event(frame: &[u8]) -> Result<&[u8], PaddingError> {
    if frame.len() != EVENT_FRAME_LEN {
        return Err(PaddingError::MalformedFrame);
    }
    let len = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
    let len = usize::try_from(len).map_err(|_| PaddingError::MalformedFrame)?;
    if len > MAX_EVENT_LEN {
        return Err(PaddingError::MalformedFrame);
    }
    let (event, padding) = frame[4..].split_at(len);
    if padding.iter().any(|&b| b != 0) {
        return Err(PaddingError::NonZeroPadding);
    }
    Ok(event)
}
