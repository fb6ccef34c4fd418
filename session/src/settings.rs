//! `plexus proxy`'s settings (one key per field of a `--config` file; with the `clap`
//! feature, the same fields as flags) and their defaults.

use std::{net::SocketAddr, time::Duration};

use serde::{Deserialize, Serialize};

use crate::{
    DEFAULT_RELAY_URL, REQUEST_TIMEOUT,
    proxy::{DEFAULT_MAX_BODY, ProxyOptions},
};

/// Everything a proxy process runs with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default, deny_unknown_fields)]
pub struct ProxySettings {
    /// The node this service reads the chain from (`--node` and `PLEXUS_NODE` win).
    #[cfg_attr(feature = "clap", arg(skip))]
    pub node: Option<String>,
    /// Wallet whose credits pay for the requests [default: default].
    #[cfg_attr(feature = "clap", arg(long))]
    pub name: String,
    /// Where to serve the OpenAI-compatible API (loopback only by default) [default:
    /// 127.0.0.1:8088].
    #[cfg_attr(feature = "clap", arg(long))]
    pub listen: SocketAddr,
    /// The OHTTP relay every request goes through [default: http://127.0.0.1:7080].
    #[cfg_attr(feature = "clap", arg(long, env = "PLEXUS_RELAY"))]
    pub relay: String,
    /// Largest request body taken, in bytes.
    #[cfg_attr(feature = "clap", arg(skip))]
    pub max_body_bytes: usize,
    /// Seconds one private request may take.
    #[cfg_attr(feature = "clap", arg(skip))]
    pub request_timeout_secs: u64,
    /// Require `Authorization: Bearer KEY` on every request (other local users and
    /// programs cannot spend the wallet's credits without it).
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PLEXUS_PROXY_API_KEY", hide_env_values = true)
    )]
    pub api_key: Option<String>,
    /// Also accept this `Host` name (besides loopback and `localhost`); repeat for
    /// several. Every other name is refused (DNS rebinding).
    #[cfg_attr(feature = "clap", arg(long = "allow-host", value_name = "HOST"))]
    pub allowed_hosts: Vec<String>,
    /// Also let browser pages from this origin call the proxy; repeat for several.
    /// Loopback origins are allowed, every other origin is refused.
    #[cfg_attr(feature = "clap", arg(long = "allow-origin", value_name = "ORIGIN"))]
    pub allowed_origins: Vec<String>,
}

impl Default for ProxySettings {
    fn default() -> Self {
        Self {
            node: None,
            name: "default".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8088)),
            relay: DEFAULT_RELAY_URL.into(),
            max_body_bytes: DEFAULT_MAX_BODY,
            request_timeout_secs: REQUEST_TIMEOUT.as_secs(),
            api_key: None,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
        }
    }
}

impl ProxySettings {
    /// What the proxy's routes accept.
    pub fn options(&self) -> ProxyOptions {
        ProxyOptions {
            max_body: self.max_body_bytes,
            api_key: self.api_key.clone(),
            allowed_hosts: self.allowed_hosts.clone(),
            allowed_origins: self.allowed_origins.clone(),
        }
    }

    /// How long one private request may take.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}
