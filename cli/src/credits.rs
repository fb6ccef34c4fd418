//! `plexus credits`: buy credit tokens and see what is left (the work is
//! `plexus_session`'s).

use std::{path::PathBuf, time::Duration};

use anyhow::bail;
use clap::{Args, Subcommand};
use plexus_client::trust::TrustAnchor;
use plexus_session::{
    issuance::{self, KeyPolicy},
    store::CreditStore,
    wallet::{self, Balance, RefundError},
};
use plexus_types::{AccountId, credits::CREDIT_BUNDLES, format_plx};
use serde_json::json;

use crate::{chain::client_error, context::Context, output};

pub(crate) use plexus_session::DEFAULT_RELAY_URL;

/// `plexus credits …`.
#[derive(Debug, Subcommand)]
pub(crate) enum CreditsCommand {
    /// Buy a bundle of credits: pay an issuer on chain now; its blind-signed tokens
    /// are fetched through a relay at a random later moment (or at once with `--now`).
    Buy(BuyArgs),
    /// Fetch the tokens of paid deposits that are due (`plexus chat` and `plexus
    /// proxy` do this too when they start).
    Fetch(FetchArgs),
    /// Take back a deposit on chain: in full if its issuer key over-issued, else its
    /// share of the key's escrow once the key's settle window has closed.
    Refund(RefundArgs),
    /// Credits left in this wallet's token store, per provider, and deposits pending.
    Balance {
        /// Wallet whose token store to read.
        #[arg(long, default_value = "default")]
        name: String,
    },
    /// Credit issuers on chain and their keys.
    Issuers,
}

/// Flags of `plexus credits buy`.
#[derive(Debug, Args)]
pub(crate) struct BuyArgs {
    /// Wallet whose coldkey pays.
    #[arg(long, default_value = "default")]
    name: String,
    /// Credits to buy: 10, 100 or 1000.
    #[arg(long, default_value_t = 100)]
    credits: u32,
    /// Issuer hotkey (default: one at random among those on chain).
    #[arg(long)]
    issuer: Option<AccountId>,
    /// The OHTTP relay requests go through (issuance avoids it when
    /// `--issuance-relay` names another).
    #[arg(long, env = "PLEXUS_RELAY", default_value = DEFAULT_RELAY_URL)]
    relay: String,
    /// The OHTTP relay the issuance goes through: best another operator's than
    /// `--relay`'s, so the relay that carries your requests never sees you fetch the
    /// tokens of a purchase that names your wallet (default: `--relay`, with a warning).
    #[arg(long, env = "PLEXUS_ISSUANCE_RELAY")]
    issuance_relay: Option<String>,
    /// Fetch the tokens at a moment drawn at random within this many seconds after
    /// payment, among other wallets' purchases.
    #[arg(long, env = "PLEXUS_ISSUANCE_WINDOW_SECS", default_value_t = issuance::DEFAULT_ISSUANCE_WINDOW.as_secs())]
    issuance_window_secs: u64,
    /// Fetch the tokens right after paying. The relay then sees this client fetch tokens
    /// just as a purchase naming this wallet lands on chain, and can link the two: for
    /// scripts that accept that.
    #[arg(long)]
    now: bool,
    #[command(flatten)]
    policy: KeyPolicy,
    /// Fetch the tokens of this deposit, already paid, now instead of paying again
    /// (after a purchase whose issuance failed).
    #[arg(long, value_name = "DEPOSIT")]
    resume: Option<u64>,
}

/// Flags of `plexus credits fetch`.
#[derive(Debug, Args)]
pub(crate) struct FetchArgs {
    /// Wallet whose deposits to fetch.
    #[arg(long, default_value = "default")]
    name: String,
    /// Fetch every pending deposit now, due or not (the relay may link this client to
    /// purchases that landed on chain moments ago).
    #[arg(long)]
    now: bool,
    /// Go through this relay instead of the one chosen at purchase.
    #[arg(long)]
    issuance_relay: Option<String>,
}

/// Flags of `plexus credits refund`.
#[derive(Debug, Args)]
pub(crate) struct RefundArgs {
    /// Wallet whose coldkey paid the deposit.
    #[arg(long, default_value = "default")]
    name: String,
    /// The deposit id (`plexus credits balance` lists pending ones).
    #[arg(long)]
    deposit: u64,
}

pub(crate) async fn run(ctx: &Context, cmd: CreditsCommand) -> anyhow::Result<()> {
    match cmd {
        CreditsCommand::Buy(args) => buy(ctx, &args).await,
        CreditsCommand::Fetch(args) => fetch(ctx, &args).await,
        CreditsCommand::Refund(args) => refund(ctx, &args).await,
        CreditsCommand::Balance { name } => {
            let coldkey = ctx.coldkey(&name)?;
            let balance = Balance::of(&open_store(ctx, &name, &coldkey)?)?;
            output::print(ctx, &balance, || balance.text(&name));
            Ok(())
        }
        CreditsCommand::Issuers => {
            let list = ctx.client()?.issuers().await?;
            output::print(ctx, &list, || list.to_string());
            Ok(())
        }
    }
}

async fn buy(ctx: &Context, args: &BuyArgs) -> anyhow::Result<()> {
    if !CREDIT_BUNDLES.contains(&args.credits) {
        bail!("--credits must be one of 10, 100 or 1000 (fixed bundles keep purchases unlinkable)");
    }
    let coldkey = ctx.coldkey(&args.name)?;
    let store = open_store(ctx, &args.name, &coldkey)?;
    let client = ctx.client()?;
    let anchor = trust_anchor(ctx, &args.name, &client).await?;
    let name = &args.name;
    let relay = match &args.issuance_relay {
        Some(r) => r.clone(),
        None => {
            eprintln!(
                "warning: the tokens will be fetched through the relay your requests use ({}); name another operator's relay with --issuance-relay (or PLEXUS_ISSUANCE_RELAY) so it cannot link this purchase to your requests",
                args.relay
            );
            args.relay.clone()
        }
    };
    let fetch_now = |id| issuance::resume_into(&client, &anchor, &store, &coldkey, id, &relay);
    if let Some(id) = args.resume {
        let n = fetch_now(id).await?;
        let total = store.total()?;
        let value = json!({"deposit": id, "tokens": n, "credits": total});
        output::print(ctx, &value, || {
            format!(
                "Fetched {n} tokens of deposit {id}. Wallet '{name}' now holds {total} credits."
            )
        });
        return Ok(());
    }
    let policy = args.policy;
    let window = match args.now {
        true => {
            eprintln!(
                "warning: --now fetches the tokens right after paying: the relay {relay} sees this client fetch them just as the purchase naming wallet '{name}' lands on chain, and can link the two"
            );
            Duration::ZERO
        }
        false => Duration::from_secs(args.issuance_window_secs),
    };
    let (credits, issuer) = (args.credits, args.issuer);
    let pending = issuance::pay(
        &client, &anchor, &store, &coldkey, credits, issuer, policy, &relay, window,
    )
    .await?;
    let (tokens, due_in) = match args.now {
        true => (fetch_now(pending.deposit).await?, 0),
        false => (0, pending.not_before.saturating_sub(issuance::unix_now())),
    };
    let total = store.total()?;
    output::print(
        ctx,
        &json!({"bought": credits, "deposit": pending.deposit, "pending": !args.now,
            "due_in_secs": due_in, "tokens": tokens, "credits": total}),
        || match args.now {
            true => format!(
                "Bought {credits} credits ({tokens} tokens, bound to providers chosen at random; the issuer cannot link them to you).\nWallet '{name}' now holds {total} credits. Chat with `plexus chat --name {name}`."
            ),
            false => format!(
                "Paid for {credits} credits (deposit {}). Its tokens are fetched through {relay} in {due_in}s, at a random moment so the relay cannot link them to this purchase: by `plexus credits fetch --name {name}`, or by `plexus chat` / `plexus proxy` when they start after that.\nWallet '{name}' holds {total} credits now.",
                pending.deposit
            ),
        },
    );
    Ok(())
}

async fn fetch(ctx: &Context, args: &FetchArgs) -> anyhow::Result<()> {
    let coldkey = ctx.coldkey(&args.name)?;
    let store = open_store(ctx, &args.name, &coldkey)?;
    let client = ctx.client()?;
    let anchor = trust_anchor(ctx, &args.name, &client).await?;
    if args.now {
        eprintln!(
            "warning: --now fetches deposits that are not due: the relay may link this client to purchases that landed on chain moments ago"
        );
    }
    let relay = args.issuance_relay.as_deref();
    let fetched =
        issuance::fetch_pending(&client, &anchor, &store, &coldkey, args.now, relay).await?;
    let total = store.total()?;
    output::print(ctx, &fetched.to_json(total), || fetched.text(total));
    if !fetched.failed.is_empty() {
        bail!(
            "{} deposit(s) could not be fetched; they stay pending",
            fetched.failed.len()
        );
    }
    Ok(())
}

async fn refund(ctx: &Context, args: &RefundArgs) -> anyhow::Result<()> {
    let coldkey = ctx.coldkey(&args.name)?;
    let done = wallet::refund(&ctx.client()?, &coldkey, args.deposit).await;
    let done = done.map_err(|e| match e {
        RefundError::Send(e) => client_error(e),
        e => e.into(),
    })?;
    // A refunded deposit will never be issued: forget it if it was pending.
    if let Ok(store) = open_store(ctx, &args.name, &coldkey) {
        store.drop_pending(args.deposit)?;
    }
    output::print(ctx, &done, || {
        format!(
            "Refunded {} PLX of deposit {} ({} PLX paid) to wallet '{}' at block {}.",
            format_plx(done.refunded),
            done.deposit,
            format_plx(done.paid),
            args.name,
            done.height
        )
    });
    Ok(())
}

/// Open wallet `name`'s credit token store for its `coldkey`.
fn open_store(
    ctx: &Context,
    name: &str,
    coldkey: &plexus_types::Keypair,
) -> anyhow::Result<CreditStore> {
    Ok(wallet::open_store(&ctx.wallets()?.join(name), coldkey)?)
}

/// The chain wallet `name` trusts: the genesis file in `PLEXUS_GENESIS`, else the
/// chain pinned in the wallet's `chain.json` at first use.
async fn trust_anchor(
    ctx: &Context,
    name: &str,
    client: &plexus_client::Client,
) -> anyhow::Result<TrustAnchor> {
    let dir = ctx.wallets()?.join(name);
    Ok(wallet::trust_anchor(client, &dir, genesis().as_deref()).await?)
}

/// The genesis file `PLEXUS_GENESIS` names, if any.
fn genesis() -> Option<PathBuf> {
    std::env::var_os("PLEXUS_GENESIS").map(PathBuf::from)
}

/// A private-path session for wallet `name` through `relay`, after fetching the
/// deposits paid earlier whose random issuance moment has passed.
pub(crate) async fn open_session(
    ctx: &Context,
    name: &str,
    coldkey: &plexus_types::Keypair,
    relay: String,
) -> anyhow::Result<plexus_session::Session> {
    let (client, dir) = (ctx.client()?, ctx.wallets()?.join(name));
    let issuance_relay = std::env::var("PLEXUS_ISSUANCE_RELAY").ok();
    let genesis = genesis();
    let session = wallet::open_session(
        client,
        &dir,
        coldkey,
        relay,
        genesis.as_deref(),
        issuance_relay,
    );
    let session = session.await?;
    match session.fetch_due(coldkey).await {
        Ok(fetched) => fetched
            .notices(name)
            .iter()
            .for_each(|line| eprintln!("{line}")),
        Err(e) => eprintln!("warning: cannot read pending deposits: {e}"),
    }
    Ok(session)
}
