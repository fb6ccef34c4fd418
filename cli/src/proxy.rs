//! `plexus proxy`: an OpenAI-compatible endpoint on 127.0.0.1 that sends every
//! request over the private path, so any OpenAI client becomes private unchanged.
//!
//! The routes are [`plexus_session::proxy`]'s; this file resolves settings and prints.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use plexus_serve::{settings::Layered, shutdown_signal};
use plexus_session::{proxy::router_with, settings::ProxySettings};
use serde_json::json;

use crate::{context::Context, credits::open_session, output};

/// Flags of `plexus proxy` (each also a key of its `--config` file).
pub(crate) type ProxyArgs = Layered<ProxySettings>;

pub(crate) async fn run(ctx: &Context, flags: &ProxyArgs) -> anyhow::Result<()> {
    let Some((args, ctx)) = ctx.service(flags, |s| s.node.as_deref())? else {
        return Ok(());
    };
    crate::init_logging();
    let coldkey = ctx.coldkey(&args.name)?;
    let session = open_session(&ctx, &args.name, &coldkey, args.relay.clone()).await?;
    let session = Arc::new(session.with_request_timeout(args.request_timeout()));
    // Deposits bought while the proxy runs are fetched once due.
    let _fetching = session.spawn_fetching(coldkey.clone(), Duration::from_secs(60));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    let (relay, credits) = (&args.relay, session.credits());
    output::print(
        &ctx,
        &json!({"proxy": format!("http://{local}/v1"), "credits": credits, "relay": relay}),
        || {
            format!(
                "Plexus private proxy\n  OpenAI API  http://{local}/v1 (base_url for any OpenAI client; any api_key)\n  relay       {relay}\n  credits     {credits}\nStop with Ctrl-C."
            )
        },
    );
    let limits = plexus_serve::Limits {
        body_limit: args.max_body_bytes,
        ..plexus_serve::Limits::default()
    };
    // The session is funded and its relay found before the proxy listens.
    let health = plexus_serve::health::routes(std::sync::Arc::new(|| Ok(())));
    let router = router_with(session, args.options()).merge(health);
    plexus_serve::serve(listener, router, limits, shutdown_signal())
        .await
        .context("the proxy's server failed")
}
