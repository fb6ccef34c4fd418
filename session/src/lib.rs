//! Pay for and send requests over the private path: credits, providers, pricing and chat.
//!
//! The client half of private inference, shared by `plexus chat`, `plexus proxy`,
//! `plexus credits` and the validator (whose probes must look like users' requests):
//! - [`store`]: a wallet's unspent credit tokens, sealed at rest and safe to share
//!   between processes;
//! - [`issuance`]: buying a bundle on chain and fetching its blind-signed tokens from
//!   the issuer through a relay;
//! - [`providers`]: which providers serve privately, and the OHTTP route to one;
//! - [`Session`]: pick a provider, pay it with the right number of tokens
//!   ([`plexus_types::credits::credits_for`], the one pricing rule) and send;
//! - [`chat`]: the one chat request body users and validators send, and reading a
//!   streamed answer;
//! - [`history`]: conversations kept on this device only, sealed, and [`turn`]: one
//!   turn of one sent and kept;
//! - [`wallet`]: a wallet's store, trusted chain, balance and refunds;
//! - `proxy` (feature `proxy`): an OpenAI-compatible API that sends every request
//!   privately.
//!
//! Owns everything a client needs to use the private path. May not depend on the
//! server halves (provider, issuer, relay, node) nor on storage engines.

pub mod chat;
pub mod history;
pub mod issuance;
mod issuer_proof;
pub mod providers;
#[cfg(feature = "proxy")]
pub mod proxy;
pub mod sealed;
mod session;
#[cfg(feature = "proxy")]
pub mod settings;
pub mod store;
pub mod turn;
pub mod wallet;

pub use session::{Answer, DIRECTORY_TTL, PAYMENT_TRIES, REQUEST_TIMEOUT, SendError, Session};

/// The relay a fresh `plexus relay` (and `plexus devnet`) serves.
pub const DEFAULT_RELAY_URL: &str = "http://127.0.0.1:7080";
