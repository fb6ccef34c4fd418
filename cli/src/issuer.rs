//! `plexus issuer`: a validator's credit issuer: publish its keys on chain and sign
//! tokens for paid deposits, behind an OHTTP gateway reached through relays.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context as _;
use clap::Args;
use plexus_issuer::{IssuerService, ServiceConfig, service::DEFAULT_TX_TIMEOUT};
use plexus_types::Netuid;
use serde_json::json;

use crate::{
    context::Context,
    node::{init_logging, shutdown_signal},
    output,
};

/// Flags of `plexus issuer`.
#[derive(Debug, Args)]
pub(crate) struct IssuerArgs {
    /// Wallet holding the validator hotkey.
    #[arg(long, default_value = "default")]
    name: String,
    /// The validator hotkey that issues (it needs a validator permit on --netuid).
    #[arg(long, default_value = "default")]
    hotkey: String,
    /// A subnet on which the hotkey holds a validator permit.
    #[arg(long)]
    netuid: Netuid,
    /// Where to serve the issuance gateway.
    #[arg(long, default_value = "127.0.0.1:8100")]
    listen: SocketAddr,
    /// The URL published on chain (default: http://LISTEN).
    #[arg(long)]
    public_url: Option<String>,
    /// The key epoch to issue under (a new epoch means a new RSA key).
    #[arg(long, default_value_t = 0)]
    key_epoch: u32,
    /// State folder (keys, used deposits). Default: ~/.plexus/issuer/HOTKEY.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

pub(crate) async fn run(ctx: &Context, args: IssuerArgs) -> anyhow::Result<()> {
    init_logging();
    let (wallet, password, _) = ctx.unlock(&args.name)?;
    let hotkey = wallet
        .unlock_hotkey(&args.hotkey, &password)
        .with_context(|| format!("wallet '{}' has no hotkey '{}'", args.name, args.hotkey))?;
    let data_dir = ctx.state_dir(
        &format!("issuer/{}", hotkey.account().to_address()),
        args.data_dir.as_ref(),
    )?;
    let service = IssuerService::start(ServiceConfig {
        node: ctx.client()?,
        hotkey,
        netuid: args.netuid,
        listen: args.listen,
        public_url: args.public_url,
        key_epoch: args.key_epoch,
        data_dir,
        tx_timeout: DEFAULT_TX_TIMEOUT,
    })
    .await?;
    let gateway = service.gateway_url();
    output::print(
        ctx,
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
