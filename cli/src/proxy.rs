//! `plexus proxy`: an OpenAI-compatible endpoint on 127.0.0.1 that sends every
//! request over the private path, so any OpenAI client becomes private unchanged.
//!
//! The routes are [`plexus_session::proxy`]'s; this file parses flags and prints.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use clap::Args;
use plexus_session::{Session, proxy::router};
use serde_json::json;

use crate::{
    context::Context,
    credits::{DEFAULT_RELAY_URL, open_store},
    node::{init_logging, shutdown_signal},
    output,
};

/// Flags of `plexus proxy`.
#[derive(Debug, Args)]
pub(crate) struct ProxyArgs {
    /// Wallet whose credits pay for the requests.
    #[arg(long, default_value = "default")]
    name: String,
    /// Where to serve the OpenAI-compatible API (loopback only by default).
    #[arg(long, default_value = "127.0.0.1:8088")]
    listen: SocketAddr,
    /// The OHTTP relay every request goes through.
    #[arg(long, env = "PLEXUS_RELAY", default_value = DEFAULT_RELAY_URL)]
    relay: String,
}

pub(crate) async fn run(ctx: &Context, args: ProxyArgs) -> anyhow::Result<()> {
    init_logging();
    let coldkey = ctx.coldkey(&args.name)?;
    let store = open_store(ctx, &args.name, &coldkey)?;
    let session = Arc::new(Session::new(ctx.client()?, args.relay.clone(), store));
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
    axum::serve(listener, router(session))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the proxy's server failed")
}
