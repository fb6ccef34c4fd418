//! Encrypt inference requests with Oblivious HTTP and pay for them with unlinkable Privacy Pass tokens.
//!
//! The crate is sans-I/O: every function takes and returns bytes (or, for chunked
//! responses, a caller-supplied `AsyncRead`/`AsyncWrite`), except [`spent`], which
//! owns a file on disk.
//!
//! - [`oblivious`]: OHTTP (RFC 9458) key configurations, client and gateway.
//! - [`message`]: BHTTP (RFC 9292) requests and responses.
//! - [`padding`]: size buckets that hide plaintext lengths from relays.
//! - [`chunked`]: chunked OHTTP for streamed responses (draft-ietf-ohai-chunked-ohttp).
//! - [`token`]: Privacy Pass publicly verifiable tokens, type 0x0002 (RFC 9578, RFC 9474).
//! - [`spent`]: a crash-safe store of spent token nonces and replay ids.

pub mod chunked;
pub mod message;
pub mod oblivious;
pub mod padding;
pub mod spent;
pub mod token;
