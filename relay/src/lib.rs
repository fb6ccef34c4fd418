//! Forward encapsulated requests without learning their content.
//!
//! The OHTTP relay of RFC 9458 for Plexus: it sees who asks (the TCP peer) but not
//! what (the body is HPKE-encrypted to the gateway), and the gateway sees what but
//! not who. Routes ([`router`]):
//!
//! - `POST /v1/relay/{target}`: `{target}` is the `plx1…` hotkey of a gateway in the
//!   [`Directory`]; the body, `message/ohttp-req` or `message/ohttp-chunked-req` and
//!   at most the privacy crate's limit for its type, is posted to the gateway's
//!   registered URL + `/ohttp` with only `content-type` (and `host`,
//!   `content-length`): no client address, forwarding, user-agent, cookie or
//!   authorization header. The answer streams back frame by frame with only its
//!   `content-type` (`message/ohttp-res` or `message/ohttp-chunked-res`); any other
//!   answer is a 502.
//! - `GET /v1/relay/targets` ([`wire::Targets`]), `GET /metrics`, `GET /healthz`.
//! - Browsers on origins the operator allows may call both ([`cors`]).
//!
//! Served by the shared loop of `plexus-serve` ([`serve_within`]): a header timeout,
//! a connection cap that closes the idlest connection when full, and a body ceiling,
//! so idle or trickling clients (slow-loris) cannot hold it.
//!
//! Never an open proxy: unknown targets are 404 `unknown_target`, malformed ones
//! 400, other media types 415, oversized bodies 413, clients over their rate 429
//! with `Retry-After` (a token bucket per TCP peer address, [`limiter`]); an
//! unreachable gateway is a 502 and a slow one a 504. Unless
//! [`RelayConfig::allow_private_targets`], registered URLs that name or resolve to
//! loopback, private or link-local addresses are never contacted. Errors are the
//! node API's JSON, `{"error": {"code", "message"}}`.
//!
//! **The relay logs no content**: no body, no header value, no client address; see
//! [`router`]'s module for exactly what is logged.
//!
//! The [`Directory`] is refreshed by a [`Refresher`] from [`TargetSource`]s:
//! [`ChainTargets`] lists every neuron serving an endpoint on every subnet; more
//! sources merge in with [`Refresher::with_source`], and a failing source keeps its
//! last good listing. [`RelayService`] is a whole relay process: bind, refresh from
//! the chain's providers and issuers, serve.
//!
//! Owns the relay's forwarding, rate limits, gateway directory, [`RelayService`] and
//! its [`settings`] (`--config` keys and, with the `clap` feature, flags).
//! May not depend on the node, an engine or the ledger: it reads the chain through
//! `plexus-client`.

pub mod cors;
pub mod directory;
mod error;
pub mod limiter;
mod metrics;
mod server;
pub mod service;
pub mod settings;
pub mod source;
mod upstream;
/// The JSON the relay answers with besides errors (shared with clients).
pub use plexus_client::relay as wire;

use std::time::Duration;

pub use directory::{Directory, Listed};
pub use error::RelayError;
pub use limiter::RateConfig;
pub use server::{Relay, default_limits, router, serve, serve_with_origins, serve_within};
pub use service::{RelayService, ServiceConfig, ServiceError};
pub use settings::RelaySettings;
pub use source::{
    ChainTargets, IssuerTargets, RefreshReport, Refresher, SourceError, TargetSource,
};

/// How the relay forwards.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The per-client rate limit.
    pub rate: RateConfig,
    /// Forward to gateways on loopback, private and link-local addresses too: for a
    /// local network (devnet), never for a public relay.
    pub allow_private_targets: bool,
    /// How long connecting to a gateway may take (502 past it).
    pub connect_timeout: Duration,
    /// How long a gateway may take to send its response headers (504 past it). A
    /// non-chunked response comes only once the whole answer is ready.
    pub upstream_timeout: Duration,
    /// Longest silence between two pieces of a response before it is cut off.
    pub idle_timeout: Duration,
    /// How long a client may take to send its request body (408 past it).
    pub body_timeout: Duration,
    /// Most response bytes relayed for one request before it is cut off.
    pub max_response_bytes: u64,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            rate: RateConfig::default(),
            allow_private_targets: false,
            connect_timeout: Duration::from_secs(10),
            upstream_timeout: Duration::from_secs(300),
            idle_timeout: Duration::from_secs(120),
            body_timeout: Duration::from_secs(30),
            max_response_bytes: 64 << 20,
        }
    }
}

/// Why a relay could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The rate limit is unusable.
    #[error(transparent)]
    Rate(#[from] limiter::RateConfigError),
    /// The TLS client for `https` gateways could not be set up.
    #[error("cannot set up TLS for gateways: {0}")]
    Tls(String),
}
