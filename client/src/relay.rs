//! The JSON a relay (`plexus-relay`) answers with besides errors.

use plexus_types::AccountId;
use serde::{Deserialize, Serialize};

/// `GET /v1/relay/targets`: every gateway the relay forwards to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targets {
    /// How many there are.
    pub count: usize,
    /// Each gateway, by hotkey.
    pub targets: Vec<Target>,
}

/// One gateway: post to `/v1/relay/{hotkey}` to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The hotkey it registered with, the `{target}` of the relay route.
    pub hotkey: AccountId,
    /// The base URL it registered on chain (public information).
    pub url: String,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Always `ok` while the relay serves.
    pub status: String,
    /// Gateways in the directory now.
    pub targets: usize,
}
