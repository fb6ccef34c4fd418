//! `plexus relay`: forward encapsulated requests to the gateways registered on chain.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use clap::Args;
use plexus_relay::{ChainTargets, IssuerTargets, RateConfig, Refresher, Relay, RelayConfig};
use serde_json::json;

use crate::{
    context::Context,
    node::{init_logging, shutdown_signal},
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
    serve(ctx, args).await
}

async fn serve(ctx: &Context, args: RelayArgs) -> anyhow::Result<()> {
    let config = RelayConfig {
        rate: RateConfig {
            per_second: args.rate,
            burst: args.burst,
            max_tracked: args.max_clients,
        },
        allow_private_targets: args.allow_private_targets,
        ..RelayConfig::default()
    };
    let relay = Relay::new(config).context("cannot set up the relay")?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}: pass --listen 127.0.0.1:PORT",
                args.listen
            )
        })?;
    let local = listener.local_addr().context("no local address")?;
    let chain = Arc::new(ChainTargets::new(ctx.client()?));
    let issuers = Arc::new(IssuerTargets::new(ctx.client()?));
    let mut refresher = Refresher::new(&relay, chain).with_source(issuers);
    let first = refresher.refresh(&relay).await;
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
    // The first refresh is done: the loop starts one period later.
    let every = Duration::from_secs(args.refresh_secs.max(1));
    let refreshed = relay.clone();
    let refreshing = tokio::spawn(async move {
        tokio::time::sleep(every).await;
        refresher.run(refreshed, every).await;
    });
    let served =
        plexus_relay::serve_with_origins(listener, relay, &args.allow_origins, shutdown_signal())
            .await;
    refreshing.abort();
    served.context("the relay's server failed")
}
