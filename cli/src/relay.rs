//! `plexus relay`: forward encapsulated requests to the gateways registered on chain.

use plexus_relay::{RelayService, RelaySettings, ServiceError};
use plexus_serve::{settings::Layered, shutdown_signal};

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
    let (json, text) = args.summary(&service, &ctx.node_url);
    output::print(&ctx, &json, || text);
    service.run(shutdown_signal()).await.map_err(explain)
}
