//! Encrypt inference requests with Oblivious HTTP and pay for them with unlinkable Privacy Pass tokens.
//!
//! Owns the private path's wire formats and cryptography: OHTTP key configurations
//! and encapsulation, BHTTP messages, padding, chunked responses and Privacy Pass
//! tokens. May not depend on storage engines, async runtimes or HTTP stacks: it is
//! sans-I/O, every function takes and returns bytes (or, for chunked responses, a
//! caller-supplied `AsyncRead`/`AsyncWrite`). Keeping spent tokens on disk is the
//! provider's job (`plexus_provider::spent`).
//!
//! - [`oblivious`]: OHTTP (RFC 9458) key configurations, client and gateway.
//! - [`message`]: BHTTP (RFC 9292) requests and responses.
//! - [`padding`]: size buckets that hide plaintext lengths from relays.
//! - [`chunked`]: chunked OHTTP for streamed responses (draft-ietf-ohai-chunked-ohttp).
//! - [`token`]: Privacy Pass publicly verifiable tokens, type 0x0002 (RFC 9578, RFC 9474).

pub mod chunked;
pub mod message;
pub mod oblivious;
pub mod padding;
pub mod rotation;
pub mod token;
