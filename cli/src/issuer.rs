//! `plexus issuer`: a validator's credit issuer: publish its keys on chain and sign
//! tokens for paid deposits, behind an OHTTP gateway reached through relays.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context as _;
use clap::Args;
use plexus_issuer::{IssuerService, ServiceConfig, service::DEFAULT_TX_TIMEOUT};
use plexus_types::Netuid;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    config::{ConfigArgs, HotkeyFlags, required_netuid},
    context::Context,
    node::{init_logging, shutdown_signal},
    output,
};

/// Flags of `plexus issuer` (each also a key of its `--config` file).
#[derive(Debug, Args, Serialize)]
pub(crate) struct IssuerArgs {
    #[command(flatten)]
    #[serde(skip)]
    config: ConfigArgs,
    #[command(flatten)]
    #[serde(flatten)]
    key: HotkeyFlags,
    /// Where to serve the issuance gateway [default: 127.0.0.1:8100].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// The URL published on chain (default: http://LISTEN).
    #[arg(long)]
    public_url: Option<String>,
    /// State folder (keys, used deposits). Default: ~/.plexus/issuer/HOTKEY.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// Everything `plexus issuer` runs with: defaults < `--config` file < environment <
/// flags.
#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct IssuerConfig {
    /// The node this service reads the chain from (`--node` and `PLEXUS_NODE` win).
    node: Option<String>,
    name: String,
    hotkey: String,
    netuid: Option<Netuid>,
    listen: SocketAddr,
    public_url: Option<String>,
    data_dir: Option<PathBuf>,
    /// Seconds the registration transaction may take to be finalized.
    tx_timeout_secs: u64,
}

impl Default for IssuerConfig {
    fn default() -> Self {
        Self {
            node: None,
            name: "default".into(),
            hotkey: "default".into(),
            netuid: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8100)),
            public_url: None,
            data_dir: None,
            tx_timeout_secs: DEFAULT_TX_TIMEOUT.as_secs(),
        }
    }
}

#[allow(clippy::needless_pass_by_value)] // clap hands the flags over by value
pub(crate) async fn run(ctx: &Context, flags: IssuerArgs) -> anyhow::Result<()> {
    let args: IssuerConfig = flags.config.resolve(&flags)?;
    if flags.config.printed(&args)? {
        return Ok(());
    }
    let ctx = &ctx.with_node(args.node.as_deref());
    let netuid = required_netuid(args.netuid)?;
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
        netuid,
        listen: args.listen,
        public_url: args.public_url.clone(),
        data_dir,
        tx_timeout: Duration::from_secs(args.tx_timeout_secs),
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
