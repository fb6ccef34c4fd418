//! `plexus proxy`: an OpenAI-compatible endpoint on 127.0.0.1 that sends every
//! request over the private path, so any OpenAI client becomes private unchanged.
//!
//! The routes are [`plexus_session::proxy`]'s; this file parses flags and prints.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use clap::Args;
use plexus_session::{
    REQUEST_TIMEOUT,
    proxy::{DEFAULT_MAX_BODY, ProxyOptions, router_with},
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
    /// Require `Authorization: Bearer KEY` on every request (other local users and
    /// programs cannot spend the wallet's credits without it).
    #[arg(long, env = "PLEXUS_PROXY_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Also accept this `Host` name (besides loopback and `localhost`); repeat for
    /// several. Every other name is refused (DNS rebinding).
    #[arg(long = "allow-host", value_name = "HOST")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allowed_hosts: Vec<String>,
    /// Also let browser pages from this origin call the proxy; repeat for several.
    /// Loopback origins are allowed, every other origin is refused.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allowed_origins: Vec<String>,
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
    /// The bearer key every request must carry, if any.
    api_key: Option<String>,
    /// `Host` names accepted besides loopback and `localhost`.
    allowed_hosts: Vec<String>,
    /// Browser origins accepted besides loopback ones.
    allowed_origins: Vec<String>,
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
            api_key: None,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
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
    // Deposits bought while the proxy runs are fetched once due.
    let _fetching = session.spawn_fetching(coldkey.clone(), Duration::from_secs(60));
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
    let options = ProxyOptions {
        max_body: args.max_body_bytes,
        api_key: args.api_key.clone(),
        allowed_hosts: args.allowed_hosts.clone(),
        allowed_origins: args.allowed_origins.clone(),
    };
    let limits = plexus_serve::Limits {
        body_limit: args.max_body_bytes,
        ..plexus_serve::Limits::default()
    };
    plexus_serve::serve(
        listener,
        router_with(session, options),
        limits,
        shutdown_signal(),
    )
    .await
    .context("the proxy's server failed")
}
