//! Pad plaintexts to size buckets so that relays and observers learn only the bucket.
//!
//! Requests are padded with trailing zeros to the smallest of [`BUCKETS`]
//! (4, 16, 64 and 256 KiB) that holds them; a request larger than 256 KiB is refused.
//! BHTTP readers stop at the end of the message, and [`crate::message`] checks that
//! everything after it is zero.
//!
//! Whole responses are padded the same way, and beyond 256 KiB to the next power of
//! two up to [`MAX_RESPONSE_BUCKET`] ([`pad_response`]), so their size tells only
//! the bucket.
//!
//! Streamed responses are framed to a fixed [`EVENT_FRAME_LEN`] (a 4-byte
//! big-endian length, up to [`MAX_EVENT_LEN`] bytes of the body, zeros), so every
//! chunk the relay sees has the same size. The gateway does not send a frame per
//! event: it sends [`FRAMES_PER_TICK`] frames every [`STREAM_TICK`], filled with
//! whatever body bytes are waiting (or none), then one [`end_frame`], then empty
//! frames until the number of ticks reaches its bucket ([`stream_ticks_bucket`]).
//! The relay sees a constant-rate stream whose length tells only the bucket of the
//! answer's duration, not how many events (≈ output tokens) it held (the constant
//! rate cover traffic of mix networks such as Nym, applied to one response).

/// Request size buckets in bytes: 4 KiB, 16 KiB, 64 KiB, 256 KiB.
pub const BUCKETS: [usize; 4] = [4 << 10, 16 << 10, 64 << 10, 256 << 10];
/// The largest bucket.
pub const MAX_BUCKET: usize = 256 << 10;
/// Size of one padded response event frame: 1 KiB.
pub const EVENT_FRAME_LEN: usize = 1024;
/// Bytes of an event frame available for the event itself.
pub const MAX_EVENT_LEN: usize = EVENT_FRAME_LEN - 4;
/// The largest whole-response bucket: 4 MiB (the most an OHTTP response holds).
pub const MAX_RESPONSE_BUCKET: usize = 4 << 20;
/// Time between two frames of a streamed response: 20 ms (what a token may wait
/// before it leaves).
pub const STREAM_TICK: std::time::Duration = std::time::Duration::from_millis(20);
/// Frames sent every [`STREAM_TICK`]: 1, so a stream carries up to 51 KB of body a
/// second (several hundred OpenAI stream events).
pub const FRAMES_PER_TICK: usize = 1;
/// The fewest ticks a streamed response lasts: 32 (0.64 s).
pub const MIN_STREAM_TICKS: u64 = 32;
/// The length prefix of the frame that ends a streamed body.
const END_OF_BODY: u32 = u32::MAX;

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

/// The bucket a whole response of `len` bytes is padded to: one of [`BUCKETS`], or
/// beyond them the next power of two up to [`MAX_RESPONSE_BUCKET`].
pub fn response_bucket_for(len: usize) -> Option<usize> {
    bucket_for(len).or_else(|| (len <= MAX_RESPONSE_BUCKET).then(|| len.next_power_of_two()))
}

/// Pad a whole response with zeros to its bucket ([`response_bucket_for`]).
pub fn pad_response(mut plaintext: Vec<u8>) -> Result<Vec<u8>, PaddingError> {
    let bucket =
        response_bucket_for(plaintext.len()).ok_or(PaddingError::TooLarge(plaintext.len()))?;
    plaintext.resize(bucket, 0);
    Ok(plaintext)
}

/// How many ticks a streamed response whose body ended at tick `ticks` lasts: the
/// next power of two, at least [`MIN_STREAM_TICKS`].
pub fn stream_ticks_bucket(ticks: u64) -> u64 {
    ticks
        .max(MIN_STREAM_TICKS)
        .checked_next_power_of_two()
        .unwrap_or(u64::MAX)
}

/// The frame that says a streamed body is complete; only padding follows it.
pub fn end_frame() -> Vec<u8> {
    let mut out = Vec::with_capacity(EVENT_FRAME_LEN);
    out.extend_from_slice(&END_OF_BODY.to_be_bytes());
    out.resize(EVENT_FRAME_LEN, 0);
    out
}

/// What one frame of a streamed body holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFrame<'a> {
    /// Body bytes (possibly none: a frame sent while the model had nothing new).
    Data(&'a [u8]),
    /// The body is complete; later frames are padding.
    End,
}

/// Read one frame of a streamed body: [`frame_event`] data or the [`end_frame`].
pub fn unframe_stream(frame: &[u8]) -> Result<StreamFrame<'_>, PaddingError> {
    if frame.len() == EVENT_FRAME_LEN && frame[..4] == END_OF_BODY.to_be_bytes() {
        if frame[4..].iter().any(|&b| b != 0) {
            return Err(PaddingError::NonZeroPadding);
        }
        return Ok(StreamFrame::End);
    }
    unframe_event(frame).map(StreamFrame::Data)
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
