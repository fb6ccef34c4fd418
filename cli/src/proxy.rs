//! `plexus proxy`: an OpenAI-compatible endpoint on 127.0.0.1 that sends every
//! request over the private path, so any OpenAI client becomes private unchanged.
//!
//! The routes are [`plexus_session::proxy`]'s; this file parses flags and prints.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use clap::Args;
use plexus_session::{
    REQUEST_TIMEOUT,
    proxy::{DEFAULT_MAX_BODY, router},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    config::ConfigArgs,
    context::Context,
    credits::{DEFAULT_RELAY_URL, open_session},
    node::{init_logging, shutdown_signal},
    output,
};

/// Flags of `plexus proxy` (each also a key of its `--config` file).
#[derive(Debug, Args, Serialize)]
pub(crate) struct ProxyArgs {
    #[command(flatten)]
    #[serde(skip)]
    config: ConfigArgs,
    /// Wallet whose credits pay for the requests [default: default].
    #[arg(long)]
    name: Option<String>,
    /// Where to serve the OpenAI-compatible API (loopback only by default) [default:
    /// 127.0.0.1:8088].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// The OHTTP relay every request goes through [default: http://127.0.0.1:7080].
    #[arg(long, env = "PLEXUS_RELAY")]
    relay: Option<String>,
}

/// Everything `plexus proxy` runs with: defaults < `--config` file < environment <
/// flags.
#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ProxyConfig {
    /// The node this service reads the chain from (`--node` and `PLEXUS_NODE` win).
    node: Option<String>,
    name: String,
    listen: SocketAddr,
    relay: String,
    /// Largest request body taken, in bytes.
    max_body_bytes: usize,
    /// Seconds one private request may take.
    request_timeout_secs: u64,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        Self {
            node: None,
            name: "default".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8088)),
            relay: DEFAULT_RELAY_URL.into(),
            max_body_bytes: DEFAULT_MAX_BODY,
            request_timeout_secs: REQUEST_TIMEOUT.as_secs(),
        }
    }
}

#[allow(clippy::needless_pass_by_value)] // clap hands the flags over by value
pub(crate) async fn run(ctx: &Context, flags: ProxyArgs) -> anyhow::Result<()> {
    let args: ProxyConfig = flags.config.resolve(&flags)?;
    if flags.config.printed(&args)? {
        return Ok(());
    }
    let ctx = &ctx.with_node(args.node.as_deref());
    init_logging();
    let coldkey = ctx.coldkey(&args.name)?;
    let session = open_session(ctx, &args.name, &coldkey, args.relay.clone())
        .await?
        .with_request_timeout(Duration::from_secs(args.request_timeout_secs));
    let session = Arc::new(session);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    output::print(
        ctx,
        &json!({"proxy": format!("http://{local}/v1"), "credits": session.credits(), "relay": args.relay}),
        || {
            format!(
                "Plexus private proxy\n  OpenAI API  http://{local}/v1 (base_url for any OpenAI client; any api_key)\n  relay       {}\n  credits     {}\nStop with Ctrl-C.",
                args.relay,
                session.credits()
            )
        },
    );
    axum::serve(listener, router(session, args.max_body_bytes))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the proxy's server failed")
}
