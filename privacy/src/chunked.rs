//! Chunked OHTTP (draft-ietf-ohai-chunked-ohttp) for streamed responses, sans-I/O.
//!
//! The request is small and sealed whole; the response is a sequence of chunks, each
//! sealed as soon as it is written, so a provider can stream server-sent events. Every
//! chunk is visible to the relay as a length, so seal one [`crate::padding::frame_event`]
//! frame per chunk: all chunks then have the same size.
//!
//! Client: [`encapsulate`] gives the request bytes and a [`ChunkedResponse`]; push the
//! response bytes into it as they arrive and take out plaintext chunks.
//! Gateway: [`decapsulate`] gives the request and a [`ChunkedResponseSealer`] whose
//! [`ChunkedResponseSealer::seal_chunk`] returns the bytes to send for each chunk.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use futures::task::noop_waker_ref;

use crate::oblivious::{
    Gateway, MAX_REQUEST_LEN, MIN_ENCAPSULATED_REQUEST_LEN, OhttpError, PublicKeyConfig, ReplayId,
    TAG_LEN,
};

/// The media type of a chunked encapsulated request.
pub const REQUEST_MEDIA_TYPE: &str = "message/ohttp-chunked-req";
/// The media type of a chunked encapsulated response.
pub const RESPONSE_MEDIA_TYPE: &str = "message/ohttp-chunked-res";
/// Largest plaintext in one chunk (the `ohttp` crate splits larger writes).
pub const MAX_CHUNK_LEN: usize = 1 << 14;
/// Longest chunked encapsulated request a gateway will open: the largest plaintext
/// in [`MAX_CHUNK_LEN`] chunks, each with an 8-byte length and a tag, plus the final chunk.
pub const MAX_ENCAPSULATED_REQUEST_LEN: usize = MIN_ENCAPSULATED_REQUEST_LEN
    + 1
    + MAX_REQUEST_LEN
    + (MAX_REQUEST_LEN / MAX_CHUNK_LEN + 1) * (8 + TAG_LEN);
/// Most received-but-unread ciphertext a [`ChunkedResponse`] buffers: 1 MiB.
pub const MAX_BUFFERED: usize = 1 << 20;

/// Bytes shared between a writer we hand to `ohttp` and our caller.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Feed>>);

#[derive(Default)]
struct Feed {
    bytes: VecDeque<u8>,
    finished: bool,
}

impl Shared {
    fn with<T>(&self, f: impl FnOnce(&mut Feed) -> T) -> T {
        let mut guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    fn drain_all(&self) -> Vec<u8> {
        self.with(|feed| feed.bytes.drain(..).collect())
    }
}

impl AsyncWrite for Shared {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.with(|feed| feed.bytes.extend(buf));
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for Shared {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        self.with(|feed| {
            if feed.bytes.is_empty() {
                return if feed.finished {
                    Poll::Ready(Ok(0))
                } else {
                    Poll::Pending
                };
            }
            let n = out.len().min(feed.bytes.len());
            for (o, b) in out.iter_mut().zip(feed.bytes.drain(..n)) {
                *o = b;
            }
            Poll::Ready(Ok(n))
        })
    }
}

fn io_error(e: std::io::Error) -> OhttpError {
    match e.into_inner() {
        Some(inner) => match inner.downcast::<ohttp::Error>() {
            Ok(oe) => OhttpError::from(*oe),
            Err(other) => OhttpError::Ohttp(ohttp::Error::Io(std::io::Error::other(other))),
        },
        None => OhttpError::Decrypt,
    }
}

/// Poll `f` once with a no-op waker: our buffers never wait on I/O.
fn poll_now<T>(f: impl FnOnce(&mut Context<'_>) -> Poll<T>) -> Poll<T> {
    let mut cx = Context::from_waker(noop_waker_ref());
    f(&mut cx)
}

/// Seal a request for a chunked response.
pub fn encapsulate(
    config: &PublicKeyConfig,
    request: &[u8],
) -> Result<(Vec<u8>, ChunkedResponse), OhttpError> {
    if request.len() > MAX_REQUEST_LEN {
        return Err(OhttpError::PlaintextTooLong {
            len: request.len(),
            max: MAX_REQUEST_LEN,
        });
    }
    let out = Shared::default();
    let client = ohttp::ClientRequest::from_encoded_config(config.encoded())?;
    let mut writer = Box::pin(client.encapsulate_stream(out.clone())?);
    let mut rest = request;
    while !rest.is_empty() {
        match poll_now(|cx| writer.as_mut().poll_write(cx, rest)) {
            Poll::Ready(Ok(n)) => rest = &rest[n..],
            Poll::Ready(Err(e)) => return Err(io_error(e)),
            Poll::Pending => return Err(OhttpError::Ohttp(ohttp::Error::NotReady)),
        }
    }
    match poll_now(|cx| writer.as_mut().poll_close(cx)) {
        Poll::Ready(Ok(())) => {}
        Poll::Ready(Err(e)) => return Err(io_error(e)),
        Poll::Pending => return Err(OhttpError::Ohttp(ohttp::Error::NotReady)),
    }
    let feed = Shared::default();
    let reader = writer.response(feed.clone())?;
    Ok((
        out.drain_all(),
        ChunkedResponse {
            feed,
            reader: Box::pin(reader),
            done: false,
            raw: VecDeque::new(),
            nonce_left: response_nonce_len(config)?,
            final_seen: false,
            finished: false,
        },
    ))
}

/// The response nonce length, `max(Nn, Nk)`, for the suite `ohttp` will pick: the
/// first suite in the configuration that it supports.
fn response_nonce_len(config: &PublicKeyConfig) -> Result<usize, OhttpError> {
    let suites = config.encoded().get(37..).unwrap_or_default();
    suites
        .chunks_exact(4)
        .find_map(|s| {
            match (
                u16::from_be_bytes([s[0], s[1]]),
                u16::from_be_bytes([s[2], s[3]]),
            ) {
                (1..=3, 1) => Some(16),
                (1..=3, 2 | 3) => Some(32),
                _ => None,
            }
        })
        .ok_or(OhttpError::UnsupportedSuite)
}

/// Client side of a chunked response: push ciphertext in, take plaintext out.
///
/// Received bytes are handed to the `ohttp` reader one whole chunk at a time: the
/// reader in `ohttp` 0.8 misreads a chunk length whose bytes arrive in two pieces.
pub struct ChunkedResponse {
    feed: Shared,
    reader: Pin<Box<dyn AsyncRead + Send>>,
    done: bool,
    /// Received bytes not yet handed to the reader.
    raw: VecDeque<u8>,
    /// Response nonce bytes still to hand over.
    nonce_left: usize,
    /// The zero length that opens the final chunk has been seen.
    final_seen: bool,
    /// [`ChunkedResponse::finish`] was called.
    finished: bool,
}

impl std::fmt::Debug for ChunkedResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkedResponse")
            .field("done", &self.done)
            .finish()
    }
}

impl ChunkedResponse {
    /// Add response bytes received from the relay.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), OhttpError> {
        let buffered = self.raw.len() + self.feed.with(|feed| feed.bytes.len());
        if buffered + bytes.len() > MAX_BUFFERED {
            return Err(OhttpError::Oversized {
                len: buffered + bytes.len(),
                max: MAX_BUFFERED,
            });
        }
        self.raw.extend(bytes);
        self.release();
        Ok(())
    }

    /// Mark the end of the response body.
    pub fn finish(&mut self) {
        self.finished = true;
        self.release();
    }

    /// Hand every complete piece of `raw` (nonce, whole chunks, the final chunk once
    /// the body has ended) to the reader.
    fn release(&mut self) {
        let mut ready = 0;
        let mut nonce_left = self.nonce_left;
        let mut final_seen = self.final_seen;
        loop {
            let rest = self.raw.len() - ready;
            if nonce_left > 0 {
                let n = nonce_left.min(rest);
                ready += n;
                nonce_left -= n;
                if nonce_left > 0 {
                    break;
                }
                continue;
            }
            if final_seen {
                if self.finished {
                    ready = self.raw.len();
                }
                break;
            }
            let Some(&first) = self.raw.get(ready) else {
                break;
            };
            let vlen = 1usize << (first >> 6);
            if rest < vlen {
                break;
            }
            let mut len = u64::from(first & 0x3f);
            for i in 1..vlen {
                len = (len << 8) | u64::from(self.raw.get(ready + i).copied().unwrap_or(0));
            }
            if len == 0 {
                final_seen = true;
                ready += vlen;
                continue;
            }
            // Oversized chunks are the reader's to refuse: hand them over whole or not at all.
            let Some(total) = usize::try_from(len).ok().and_then(|l| l.checked_add(vlen)) else {
                ready = self.raw.len();
                break;
            };
            if rest < total {
                if total > MAX_CHUNK_LEN + 64 {
                    // Let the reader see the length and fail now.
                    ready += vlen;
                }
                break;
            }
            ready += total;
        }
        self.nonce_left = nonce_left;
        self.final_seen = final_seen;
        let moved: Vec<u8> = self.raw.drain(..ready).collect();
        let finished = self.finished && self.raw.is_empty();
        self.feed.with(|feed| {
            feed.bytes.extend(moved);
            feed.finished = finished;
        });
    }

    /// Whether the final chunk has been read and authenticated.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The next decrypted chunk, if one is complete. `Ok(None)` means more bytes are
    /// needed, or, once [`Self::is_done`], that the response is complete. A response
    /// cut off before its final chunk is an error once [`Self::finish`] was called.
    pub fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, OhttpError> {
        if self.done {
            return Ok(None);
        }
        let mut buf = vec![0u8; MAX_CHUNK_LEN];
        match poll_now(|cx| self.reader.as_mut().poll_read(cx, &mut buf)) {
            Poll::Pending => Ok(None),
            Poll::Ready(Ok(0)) => {
                self.done = true;
                Ok(None)
            }
            Poll::Ready(Ok(n)) => {
                buf.truncate(n);
                Ok(Some(buf))
            }
            Poll::Ready(Err(e)) => Err(io_error(e)),
        }
    }
}

/// A decapsulated chunked request.
#[derive(Debug)]
pub struct ChunkedDecapsulated {
    /// Id of the key the request was sealed to.
    pub key_id: u8,
    /// Replay id: reject the request if this id was seen before.
    pub replay_id: ReplayId,
    /// The plaintext request.
    pub request: Vec<u8>,
    /// Seals the response chunks.
    pub response: ChunkedResponseSealer,
}

/// Open a chunked request (received whole; requests are bounded).
pub fn decapsulate(
    gateway: &Gateway,
    encapsulated: &[u8],
) -> Result<ChunkedDecapsulated, OhttpError> {
    if encapsulated.len() > MAX_ENCAPSULATED_REQUEST_LEN {
        return Err(OhttpError::Oversized {
            len: encapsulated.len(),
            max: MAX_ENCAPSULATED_REQUEST_LEN,
        });
    }
    if encapsulated.len() < MIN_ENCAPSULATED_REQUEST_LEN {
        return Err(OhttpError::Truncated {
            len: encapsulated.len(),
            min: MIN_ENCAPSULATED_REQUEST_LEN,
        });
    }
    let key_id = encapsulated[0];
    let server = gateway.server(key_id)?;
    let replay_id = ReplayId::of(encapsulated).ok_or(OhttpError::Truncated {
        len: encapsulated.len(),
        min: MIN_ENCAPSULATED_REQUEST_LEN,
    })?;
    let mut reader = Box::pin(
        server
            .clone()
            .decapsulate_stream(futures::io::Cursor::new(encapsulated.to_vec())),
    );
    let mut request = Vec::new();
    // The source is in memory, so this never waits.
    futures::executor::block_on(reader.as_mut().read_to_end(&mut request)).map_err(io_error)?;
    if request.len() > MAX_REQUEST_LEN {
        return Err(OhttpError::PlaintextTooLong {
            len: request.len(),
            max: MAX_REQUEST_LEN,
        });
    }
    let out = Shared::default();
    let writer = reader.response(out.clone())?;
    Ok(ChunkedDecapsulated {
        key_id,
        replay_id,
        request,
        response: ChunkedResponseSealer {
            out,
            writer: Box::pin(writer),
        },
    })
}

/// Gateway side of a chunked response.
pub struct ChunkedResponseSealer {
    out: Shared,
    writer: Pin<Box<dyn AsyncWrite + Send>>,
}

impl std::fmt::Debug for ChunkedResponseSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChunkedResponseSealer")
    }
}

impl ChunkedResponseSealer {
    /// Seal one chunk (split if over [`MAX_CHUNK_LEN`]) and return the bytes to send.
    /// The first call's bytes start with the response nonce.
    pub fn seal_chunk(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, OhttpError> {
        let mut rest = plaintext;
        while !rest.is_empty() {
            match poll_now(|cx| self.writer.as_mut().poll_write(cx, rest)) {
                Poll::Ready(Ok(n)) => rest = &rest[n..],
                Poll::Ready(Err(e)) => return Err(io_error(e)),
                Poll::Pending => return Err(OhttpError::Ohttp(ohttp::Error::NotReady)),
            }
        }
        Ok(self.out.drain_all())
    }

    /// Seal the final (empty, authenticated) chunk and return the bytes to send.
    pub fn finish(mut self) -> Result<Vec<u8>, OhttpError> {
        match poll_now(|cx| self.writer.as_mut().poll_close(cx)) {
            Poll::Ready(Ok(())) => Ok(self.out.drain_all()),
            Poll::Ready(Err(e)) => Err(io_error(e)),
            Poll::Pending => Err(OhttpError::Ohttp(ohttp::Error::NotReady)),
        }
    }
}
