//! `plexus relay`: forward encapsulated requests to the gateways registered on chain.

use plexus_relay::{RelayService, RelaySettings, ServiceError};
use plexus_serve::{settings::Layered, shutdown_signal};
use serde_json::json;

use crate::{context::Context, output};

/// Flags of `plexus relay` (each also a key of its `--config` file).
pub(crate) type RelayArgs = Layered<RelaySettings>;

pub(crate) async fn run(ctx: &Context, flags: &RelayArgs) -> anyhow::Result<()> {
    let Some((args, ctx)) = ctx.service(flags, |s| s.node.as_deref())? else {
        return Ok(());
    };
    crate::init_logging();
    let explain = |error| match error {
        ServiceError::Bind { addr, source } => crate::cannot_listen(addr, source),
        other => anyhow::Error::new(other),
    };
    let service = RelayService::start(args.service_config(ctx.client()?))
        .await
        .map_err(explain)?;
    print_summary(&ctx, &args, &service);
    service.run(shutdown_signal()).await.map_err(explain)
}

/// Where the relay serves and what it found on chain.
fn print_summary(ctx: &Context, args: &RelaySettings, service: &RelayService) {
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
