//! `plexus relay`'s settings (one key per field of a `--config` file; with the `clap`
//! feature, the same fields as flags), their defaults and the [`ServiceConfig`] they
//! start.

use std::{net::SocketAddr, time::Duration};

use serde::{Deserialize, Serialize};

use crate::{RateConfig, RelayConfig, RelayService, service::ServiceConfig};

/// Everything a relay process runs with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default, deny_unknown_fields)]
pub struct RelaySettings {
    /// The node this service reads the chain from (`--node` and `PLEXUS_NODE` win).
    #[cfg_attr(feature = "clap", arg(skip))]
    pub node: Option<String>,
    /// Where to serve the relay (loopback by default: put it behind your own TLS
    /// front end to serve others, with the peer address preserved at the TCP level)
    /// [default: 127.0.0.1:7080].
    #[cfg_attr(feature = "clap", arg(long))]
    pub listen: SocketAddr,
    /// Requests per second each client address may send, sustained [default: 5].
    #[cfg_attr(feature = "clap", arg(long))]
    pub rate: u32,
    /// Requests each client address may send at once [default: 20].
    #[cfg_attr(feature = "clap", arg(long))]
    pub burst: u32,
    /// Most client addresses tracked by the rate limiter [default: 65536].
    #[cfg_attr(feature = "clap", arg(long))]
    pub max_clients: usize,
    /// Seconds between two reads of the registered gateways from the node [default:
    /// 10].
    #[cfg_attr(feature = "clap", arg(long))]
    pub refresh_secs: u64,
    /// Also forward to gateways on loopback, private and link-local addresses: for a
    /// local network only.
    #[cfg_attr(feature = "clap", arg(long))]
    pub allow_private_targets: bool,
    /// Let browser pages from this origin (e.g. the web app at
    /// `http://127.0.0.1:7070`) call the relay; repeat for several. None by default.
    #[cfg_attr(feature = "clap", arg(long = "allow-origin", value_name = "ORIGIN"))]
    pub allow_origins: Vec<String>,
    /// Seconds connecting to a gateway may take (502 past it).
    #[cfg_attr(feature = "clap", arg(skip))]
    pub connect_timeout_secs: u64,
    /// Seconds a gateway may take to send its response headers (504 past it).
    #[cfg_attr(feature = "clap", arg(skip))]
    pub upstream_timeout_secs: u64,
    /// Longest silence between two pieces of a response, in seconds.
    #[cfg_attr(feature = "clap", arg(skip))]
    pub idle_timeout_secs: u64,
    /// Seconds a client may take to send its request body (408 past it).
    #[cfg_attr(feature = "clap", arg(skip))]
    pub body_timeout_secs: u64,
    /// Most response bytes relayed for one request.
    #[cfg_attr(feature = "clap", arg(skip))]
    pub max_response_bytes: u64,
}

impl Default for RelaySettings {
    fn default() -> Self {
        let relay = RelayConfig::default();
        Self {
            node: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 7080)),
            rate: relay.rate.per_second,
            burst: relay.rate.burst,
            max_clients: relay.rate.max_tracked,
            refresh_secs: 10,
            allow_private_targets: relay.allow_private_targets,
            allow_origins: Vec::new(),
            connect_timeout_secs: relay.connect_timeout.as_secs(),
            upstream_timeout_secs: relay.upstream_timeout.as_secs(),
            idle_timeout_secs: relay.idle_timeout.as_secs(),
            body_timeout_secs: relay.body_timeout.as_secs(),
            max_response_bytes: relay.max_response_bytes,
        }
    }
}

impl RelaySettings {
    /// The service's configuration, reading the chain from `node`.
    pub fn service_config(&self, node: plexus_client::Client) -> ServiceConfig {
        ServiceConfig {
            listen: self.listen,
            relay: RelayConfig {
                rate: RateConfig {
                    per_second: self.rate,
                    burst: self.burst,
                    max_tracked: self.max_clients,
                },
                allow_private_targets: self.allow_private_targets,
                connect_timeout: Duration::from_secs(self.connect_timeout_secs),
                upstream_timeout: Duration::from_secs(self.upstream_timeout_secs),
                idle_timeout: Duration::from_secs(self.idle_timeout_secs),
                body_timeout: Duration::from_secs(self.body_timeout_secs),
                max_response_bytes: self.max_response_bytes,
            },
            node,
            refresh_every: Duration::from_secs(self.refresh_secs),
            allow_origins: self.allow_origins.clone(),
        }
    }
}

impl RelaySettings {
    /// What a relay started with these settings, reading the chain from `node`,
    /// reports: where it serves and what it found on chain, as JSON and as text.
    pub fn summary(&self, service: &RelayService, node: &str) -> (serde_json::Value, String) {
        let local = service.local_addr();
        let first = service.first_refresh();
        let json = serde_json::json!({
            "relay": format!("http://{local}"),
            "node": node,
            "targets": first.targets,
            "skipped": first.skipped.bad_url,
            "refresh_error": first.failed.first().map(|(_, e)| e),
            "metrics": format!("http://{local}/metrics"),
        });
        let skipped = match first.skipped.bad_url {
            0 => String::new(),
            n if self.allow_private_targets => format!(" ({n} registered URLs unusable)"),
            n => format!(
                " ({n} registered URLs unusable or private: pass --allow-private-targets for a local network)"
            ),
        };
        let status = match first.failed.first() {
            Some((_, error)) => format!(
                "  node        {node} unreachable for now ({error}); retrying every {} s\n",
                self.refresh_secs
            ),
            None => format!("  node        {node}\n"),
        };
        let text = format!(
            "Plexus relay forwarding to {} gateway(s){skipped}\n  relay       http://{local}/v1/relay/{{hotkey}}\n  targets     http://{local}/v1/relay/targets\n{status}  metrics     http://{local}/metrics\nStop with Ctrl-C.",
            first.targets
        );
        (json, text)
    }
}
