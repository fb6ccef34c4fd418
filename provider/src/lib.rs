//! Serve a language model over the OpenAI API with bounded queues, and publish it on a subnet.
//!
//! Owns the provider's serving path: the OpenAI routes over any engine, the private
//! gateway (OHTTP, credit tokens) and its crash-safe spent-token store ([`spent`], on
//! redb). May not depend on the node, its consensus or the chain's state database: it
//! reads and writes the chain only through `plexus-client`. Its [`settings`] are the
//! `plexus provider` settings (one struct: `--config` keys and, with the `clap`
//! feature, flags) and what starts a provider from them: its engines and its
//! [`ServiceConfig`].
//!
//! [`router`] wraps any [`Engine`] (and optionally an [`Embedder`]) in
//! `GET /v1/models`, `POST /v1/chat/completions`, `POST /v1/completions`,
//! `POST /v1/embeddings`, `GET /metrics` and `GET /health` ([`keyed_router`]: the same
//! behind an API key). At most
//! [`ProviderConfig::concurrency`] requests run at once and at most
//! [`ProviderConfig::queue`] wait; beyond that the answer is a 429 with
//! `Retry-After`. A client that disconnects cancels its generation; every request has
//! a deadline. [`announce`] registers the provider's hotkey and publishes `Serve`.
//! [`ProviderService`] is a whole provider process: the listener, the announcement,
//! the [`private`] path and its settlement rounds.

mod announce;
mod error;
mod gate;
mod metrics;
pub mod openai;
pub mod private;
mod server;
pub mod service;
pub mod settings;
pub mod spent;

use std::time::Duration;

pub use announce::{AnnounceError, Announced, announce};
pub use error::ProviderError;
pub use plexus_inference::{Embedder, Engine};
pub use server::{ENGINE_HEADER, Provider, WEIGHTS_HASH_HEADER, keyed_router, router};
pub use service::{ApiAccess, OnChain, ProviderService, ServiceConfig, ServiceError};
pub use settings::ProviderSettings;

/// How the provider serves.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Requests running at once: the engine's slots.
    pub concurrency: usize,
    /// Requests waiting for a slot before the provider answers 429.
    pub queue: usize,
    /// Deadline of one request, from arrival to its last byte, queueing included.
    pub request_timeout: Duration,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Largest `max_tokens` accepted (also capped by the model's context).
    pub max_tokens: u32,
    /// `max_tokens` of a chat request that names none.
    pub default_chat_max_tokens: u32,
    /// The operator, reported as `owned_by` in `/v1/models`.
    pub operator: String,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            concurrency: 1,
            queue: 64,
            request_timeout: Duration::from_secs(300),
            max_body_bytes: 1 << 20,
            max_tokens: 4096,
            default_chat_max_tokens: 512,
            operator: "plexus".to_owned(),
        }
    }
}
