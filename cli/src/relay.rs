//! `plexus relay`: forward encapsulated requests to the gateways registered on chain.

use std::{net::SocketAddr, time::Duration};

use clap::Args;
use plexus_relay::{RateConfig, RelayConfig, RelayService, ServiceConfig, ServiceError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    config::ConfigArgs,
    context::Context,
    node::{cannot_listen, init_logging, shutdown_signal},
    output,
};

/// Flags of `plexus relay` (each also a key of its `--config` file).
#[derive(Debug, Args, Serialize)]
pub(crate) struct RelayArgs {
    #[command(flatten)]
    #[serde(skip)]
    config: ConfigArgs,
    /// Where to serve the relay (loopback by default: put it behind your own TLS
    /// front end to serve others, with the peer address preserved at the TCP level)
    /// [default: 127.0.0.1:7080].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Requests per second each client address may send, sustained [default: 5].
    #[arg(long)]
    rate: Option<u32>,
    /// Requests each client address may send at once [default: 20].
    #[arg(long)]
    burst: Option<u32>,
    /// Most client addresses tracked by the rate limiter [default: 65536].
    #[arg(long)]
    max_clients: Option<usize>,
    /// Seconds between two reads of the registered gateways from the node [default:
    /// 10].
    #[arg(long)]
    refresh_secs: Option<u64>,
    /// Also forward to gateways on loopback, private and link-local addresses: for a
    /// local network only.
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    allow_private_targets: bool,
    /// Let browser pages from this origin (e.g. the web app at
    /// `http://127.0.0.1:7070`) call the relay; repeat for several. None by default.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allow_origins: Vec<String>,
}

/// Everything `plexus relay` runs with: defaults < `--config` file < environment <
/// flags.
#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RelayFileConfig {
    /// The node this service reads the chain from (`--node` and `PLEXUS_NODE` win).
    node: Option<String>,
    listen: SocketAddr,
    rate: u32,
    burst: u32,
    max_clients: usize,
    refresh_secs: u64,
    allow_private_targets: bool,
    allow_origins: Vec<String>,
    /// Seconds connecting to a gateway may take (502 past it).
    connect_timeout_secs: u64,
    /// Seconds a gateway may take to send its response headers (504 past it).
    upstream_timeout_secs: u64,
    /// Longest silence between two pieces of a response, in seconds.
    idle_timeout_secs: u64,
    /// Seconds a client may take to send its request body (408 past it).
    body_timeout_secs: u64,
    /// Most response bytes relayed for one request.
    max_response_bytes: u64,
}

impl Default for RelayFileConfig {
    fn default() -> Self {
        let relay = RelayConfig::default();
        Self {
            node: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 7080)),
            rate: relay.rate.per_second,
            burst: relay.rate.burst,
            max_clients: relay.rate.max_tracked,
            refresh_secs: 10,
            allow_private_targets: false,
            allow_origins: Vec::new(),
            connect_timeout_secs: relay.connect_timeout.as_secs(),
            upstream_timeout_secs: relay.upstream_timeout.as_secs(),
            idle_timeout_secs: relay.idle_timeout.as_secs(),
            body_timeout_secs: relay.body_timeout.as_secs(),
            max_response_bytes: relay.max_response_bytes,
        }
    }
}

impl RelayFileConfig {
    fn service(&self, node: plexus_client::Client) -> ServiceConfig {
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

#[allow(clippy::needless_pass_by_value)] // clap hands the flags over by value
pub(crate) async fn run(ctx: &Context, flags: RelayArgs) -> anyhow::Result<()> {
    let args: RelayFileConfig = flags.config.resolve(&flags)?;
    if flags.config.printed(&args)? {
        return Ok(());
    }
    let ctx = &ctx.with_node(args.node.as_deref());
    init_logging();
    let service = RelayService::start(args.service(ctx.client()?))
        .await
        .map_err(explain)?;
    print_summary(ctx, &args, &service);
    service.run(shutdown_signal()).await.map_err(explain)
}

/// The service's errors, with what to do next where the flags can help.
fn explain(error: ServiceError) -> anyhow::Error {
    match error {
        ServiceError::Bind { addr, source } => cannot_listen(addr, source),
        other => other.into(),
    }
}

/// Where the relay serves and what it found on chain.
fn print_summary(ctx: &Context, args: &RelayFileConfig, service: &RelayService) {
    let local = service.local_addr();
    let first = service.first_refresh();
    let summary = json!({
        "relay": format!("http://{local}"),
        "node": ctx.node_url,
        "targets": first.targets,
        "skipped": first.skipped.bad_url,
        "refresh_error": first.failed.first().map(|(_, e)| e),
        "metrics": format!("http://{local}/metrics"),
    });
    output::print(ctx, &summary, || {
        let skipped = match first.skipped.bad_url {
            0 => String::new(),
            n if args.allow_private_targets => format!(" ({n} registered URLs unusable)"),
            n => format!(
                " ({n} registered URLs unusable or private: pass --allow-private-targets for a local network)"
            ),
        };
        let status = match first.failed.first() {
            Some((_, error)) => format!(
                "  node        {} unreachable for now ({error}); retrying every {} s\n",
                ctx.node_url, args.refresh_secs
            ),
            None => format!("  node        {}\n", ctx.node_url),
        };
        format!(
            "Plexus relay forwarding to {} gateway(s){skipped}\n  relay       http://{local}/v1/relay/{{hotkey}}\n  targets     http://{local}/v1/relay/targets\n{status}  metrics     http://{local}/metrics\nStop with Ctrl-C.",
            first.targets
        )
    });
}
