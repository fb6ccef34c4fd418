//! `plexus issuer`: a validator's credit issuer: publish its keys on chain and sign
//! tokens for paid deposits, behind an OHTTP gateway reached through relays.

use plexus_issuer::{IssuerService, IssuerSettings};
use plexus_serve::{settings::Layered, shutdown_signal};
use serde_json::json;

use crate::{
    context::{Context, required_netuid},
    output,
};

/// Flags of `plexus issuer` (each also a key of its `--config` file).
pub(crate) type IssuerArgs = Layered<IssuerSettings>;

pub(crate) async fn run(ctx: &Context, flags: &IssuerArgs) -> anyhow::Result<()> {
    let Some((args, ctx)) = ctx.service(flags, |s| s.node.as_deref())? else {
        return Ok(());
    };
    let netuid = required_netuid(args.netuid)?;
    crate::init_logging();
    let (_, hotkey) = ctx.hotkey(&args.name, &args.hotkey)?;
    let kind = format!("issuer/{}", hotkey.account().to_address());
    let data_dir = ctx.state_dir(&kind, args.data_dir.as_ref())?;
    let config = args.service_config(ctx.client()?, hotkey, netuid, data_dir);
    let service = IssuerService::start(config).await?;
    let gateway = service.gateway_url();
    output::print(
        &ctx,
        &json!({"issuer": service.hotkey(), "gateway": gateway}),
        || {
            format!(
                "Plexus credit issuer {}\n  gateway  {gateway} (reach it through a relay)\n  keys     1 credit per token, key epoch {}\nStop with Ctrl-C.",
                service.hotkey(),
                service.key_epoch()
            )
        },
    );
    Ok(service.run(shutdown_signal()).await?)
}
