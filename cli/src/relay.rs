//! `plexus relay`: forward encapsulated requests to the gateways registered on chain.

use std::{net::SocketAddr, time::Duration};

use clap::Args;
use plexus_relay::{RateConfig, RelayConfig, RelayService, ServiceConfig, ServiceError};
use serde_json::json;

use crate::{
    context::Context,
    node::{cannot_listen, init_logging, shutdown_signal},
    output,
};

/// Flags of `plexus relay`.
#[derive(Debug, Args)]
pub(crate) struct RelayArgs {
    /// Where to serve the relay (loopback by default: put it behind your own TLS
    /// front end to serve others, with the peer address preserved at the TCP level).
    #[arg(long, default_value = "127.0.0.1:7080")]
    listen: SocketAddr,
    /// Requests per second each client address may send, sustained.
    #[arg(long, default_value_t = RateConfig::default().per_second)]
    rate: u32,
    /// Requests each client address may send at once.
    #[arg(long, default_value_t = RateConfig::default().burst)]
    burst: u32,
    /// Most client addresses tracked by the rate limiter.
    #[arg(long, default_value_t = RateConfig::default().max_tracked)]
    max_clients: usize,
    /// Seconds between two reads of the registered gateways from the node.
    #[arg(long, default_value_t = 10)]
    refresh_secs: u64,
    /// Also forward to gateways on loopback, private and link-local addresses: for a
    /// local network only.
    #[arg(long)]
    allow_private_targets: bool,
    /// Let browser pages from this origin (e.g. the web app at
    /// `http://127.0.0.1:7070`) call the relay; repeat for several. None by default.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origins: Vec<String>,
}

pub(crate) async fn run(ctx: &Context, args: RelayArgs) -> anyhow::Result<()> {
    init_logging();
    let config = ServiceConfig {
        listen: args.listen,
        relay: RelayConfig {
            rate: RateConfig {
                per_second: args.rate,
                burst: args.burst,
                max_tracked: args.max_clients,
            },
            allow_private_targets: args.allow_private_targets,
            ..RelayConfig::default()
        },
        node: ctx.client()?,
        refresh_every: Duration::from_secs(args.refresh_secs),
        allow_origins: args.allow_origins.clone(),
    };
    let service = RelayService::start(config).await.map_err(explain)?;
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
fn print_summary(ctx: &Context, args: &RelayArgs, service: &RelayService) {
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
