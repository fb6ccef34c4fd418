//! `plexus issuer`: a validator's credit issuer: publish its keys on chain and sign
//! tokens for paid deposits, behind an OHTTP gateway reached through relays.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context as _;
use clap::Args;
use plexus_issuer::{Issuer, Service, router};
use plexus_privacy::{
    oblivious::{Gateway, GatewayKey},
    token::IssuerKey,
};
use plexus_types::{Netuid, Payload, credits::IssuerKeySpec};
use serde_json::json;

use crate::{
    context::{Context, load_or_create_secret},
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
    let dir = ctx.state_dir(
        &format!("issuer/{}", hotkey.account().to_address()),
        args.data_dir.as_ref(),
    )?;
    // RSA key generation takes a few seconds; the key is kept for its epoch.
    let key_path = dir.join(format!("token-key-1-{}.der", args.key_epoch));
    let key = match std::fs::read(&key_path) {
        Ok(der) => IssuerKey::from_der(&der)
            .with_context(|| format!("{} is not an issuer key", key_path.display()))?,
        Err(_) => {
            let key = IssuerKey::generate()?;
            plexus_wallet::write_private(&key_path, &key.to_der()?)?;
            key
        }
    };
    let seed = load_or_create_secret(&dir.join("ohttp.seed"))?;
    let ohttp = Gateway::new(vec![GatewayKey::derive(1, &seed)?])?;
    let client = ctx.client()?;
    {
        let chain = client.chain().await?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let local = listener.local_addr()?;
        let url = args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local}"));
        let ohttp_keys = ohttp.key_list()?;
        let spec = IssuerKeySpec {
            denomination: 1,
            key_epoch: args.key_epoch,
            spki: key.public().spki().to_vec(),
        };
        let current = client.issuer(&hotkey.account()).await.ok();
        let up_to_date = current.as_ref().is_some_and(|c| {
            c.issuer.url == url
                && c.issuer.ohttp_keys == ohttp_keys
                && c.issuer.keys.iter().any(|k| k.spki == spec.spki)
        });
        if !up_to_date {
            client
                .send_tx(
                    &hotkey,
                    Payload::RegisterIssuer {
                        netuid: args.netuid,
                        url: url.clone(),
                        ohttp_keys,
                        keys: vec![spec],
                    },
                    None,
                    Duration::from_secs(60),
                )
                .await
                .with_context(|| {
                    format!("cannot register as an issuer: the hotkey needs a validator permit on subnet {} (stake to it and wait an epoch)", args.netuid)
                })?;
        }
        let issuer = Issuer::open(
            hotkey.account(),
            chain.chain_id,
            vec![key],
            &dir.join("issued.redb"),
        )?;
        let service = Service::new(issuer, ohttp, client);
        output::print(
            ctx,
            &json!({"issuer": hotkey.account(), "gateway": format!("{url}/ohttp")}),
            || {
                format!(
                    "Plexus credit issuer {}\n  gateway  {url}/ohttp (reach it through a relay)\n  keys     1 credit per token, key epoch {}\nStop with Ctrl-C.",
                    hotkey.account(),
                    args.key_epoch
                )
            },
        );
        axum::serve(listener, router(service))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("the issuer's server failed")
    }
}
