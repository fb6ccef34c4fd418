//! `plexus credits`: buy credit tokens and see what is left (the work is
//! `plexus_session`'s).

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use plexus_client::trust::TrustAnchor;
use plexus_session::{issuance, store::CreditStore};
use plexus_types::{AccountId, credits::CREDIT_BUNDLES};
use serde_json::json;

use crate::{context::Context, output};

/// The relay a fresh `plexus relay` (and `plexus devnet`) serves.
pub(crate) const DEFAULT_RELAY_URL: &str = "http://127.0.0.1:7080";

/// `plexus credits …`.
#[derive(Debug, Subcommand)]
pub(crate) enum CreditsCommand {
    /// Buy a bundle of credits: pay an issuer on chain, then fetch blind-signed tokens
    /// through a relay.
    Buy(BuyArgs),
    /// Credits left in this wallet's token store, per provider.
    Balance(BalanceArgs),
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
    /// The OHTTP relay the issuance goes through.
    #[arg(long, env = "PLEXUS_RELAY", default_value = DEFAULT_RELAY_URL)]
    relay: String,
    /// Fetch the tokens of this deposit, already paid, instead of paying again (after
    /// a purchase whose issuance failed).
    #[arg(long, value_name = "DEPOSIT")]
    resume: Option<u64>,
}

/// Flags of `plexus credits balance`.
#[derive(Debug, Args)]
pub(crate) struct BalanceArgs {
    /// Wallet whose token store to read.
    #[arg(long, default_value = "default")]
    name: String,
}

pub(crate) async fn run(ctx: &Context, cmd: CreditsCommand) -> anyhow::Result<()> {
    match cmd {
        CreditsCommand::Buy(args) => buy(ctx, &args).await,
        CreditsCommand::Balance(args) => balance(ctx, &args),
        CreditsCommand::Issuers => issuers(ctx).await,
    }
}

async fn issuers(ctx: &Context) -> anyhow::Result<()> {
    let client = ctx.client()?;
    let list = client.issuers().await?;
    output::print(ctx, &list, || {
        let mut text = format!(
            "Credit price {} PLX per credit\n",
            plexus_types::format_plx(list.credit_price)
        );
        if list.issuers.is_empty() {
            text.push_str("No credit issuers yet: a validator starts one with `plexus issuer`.");
        }
        for i in &list.issuers {
            text.push_str(&format!("{}  {}\n", i.hotkey, i.url));
            for k in &i.keys {
                text.push_str(&format!(
                    "  key epoch {} denomination {}: escrow {} PLX, {} tokens settled\n",
                    k.key_epoch,
                    k.denomination,
                    plexus_types::format_plx(k.escrow),
                    k.tokens_settled
                ));
            }
        }
        text.trim_end().to_owned()
    });
    Ok(())
}

fn balance(ctx: &Context, args: &BalanceArgs) -> anyhow::Result<()> {
    let coldkey = ctx.coldkey(&args.name)?;
    let store = open_store(ctx, &args.name, &coldkey)?;
    let per = store.per_origin()?;
    let total: u64 = per.values().sum();
    output::print(ctx, &json!({"credits": total, "per_provider": per}), || {
        let mut text = format!("{total} credits in wallet '{}'", args.name);
        for (origin, n) in &per {
            text.push_str(&format!("\n  {n:>6}  for provider {origin}"));
        }
        if total == 0 {
            text.push_str(&format!(
                "\nBuy some with `plexus credits buy --name {}`.",
                args.name
            ));
        }
        text
    });
    Ok(())
}

async fn buy(ctx: &Context, args: &BuyArgs) -> anyhow::Result<()> {
    if !CREDIT_BUNDLES.contains(&args.credits) {
        bail!("--credits must be one of 10, 100 or 1000 (fixed bundles keep purchases unlinkable)");
    }
    let coldkey = ctx.coldkey(&args.name)?;
    let store = open_store(ctx, &args.name, &coldkey)?;
    let session = open_session(ctx, &args.name, &coldkey, args.relay.clone()).await?;
    let (client, anchor) = (session.client(), session.anchor());
    let bought = match args.resume {
        None => {
            issuance::buy(
                client,
                anchor,
                &coldkey,
                args.credits,
                args.issuer,
                &args.relay,
            )
            .await?
        }
        Some(id) => issuance::resume(client, anchor, &coldkey, id, &args.relay).await?,
    };
    let n = bought.len();
    store.add(bought)?;
    let total = store.total()?;
    output::print(
        ctx,
        &json!({"bought": args.credits, "tokens": n, "credits": total}),
        || {
            format!(
                "Bought {} credits ({n} tokens, bound to providers chosen at random; the issuer cannot link them to you).\nWallet '{}' now holds {total} credits. Chat with `plexus chat --name {}`.",
                args.credits, args.name, args.name
            )
        },
    );
    Ok(())
}

/// Open wallet `name`'s credit token store for its `coldkey`.
pub(crate) fn open_store(
    ctx: &Context,
    name: &str,
    coldkey: &plexus_types::Keypair,
) -> anyhow::Result<CreditStore> {
    let path = CreditStore::path_in(&ctx.wallets()?.join(name));
    Ok(CreditStore::open(&path, coldkey)?)
}

/// A private-path session for wallet `name`: its credit store, `relay`, and the chain
/// it trusts: the genesis file in `PLEXUS_GENESIS`, else the chain pinned in the
/// wallet's `chain.json` at first use (a node serving another chain is refused).
pub(crate) async fn open_session(
    ctx: &Context,
    name: &str,
    coldkey: &plexus_types::Keypair,
    relay: String,
) -> anyhow::Result<plexus_session::Session> {
    let client = ctx.client()?;
    let anchor = match std::env::var_os("PLEXUS_GENESIS") {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read PLEXUS_GENESIS {}", path.display()))?;
            let genesis = plexus_ledger::Genesis::from_json(&text)
                .with_context(|| format!("PLEXUS_GENESIS {} is not a genesis", path.display()))?;
            TrustAnchor::from_genesis(&genesis)
        }
        None => TrustAnchor::pinned(&client, &ctx.wallets()?.join(name).join("chain.json")).await?,
    };
    let store = open_store(ctx, name, coldkey)?;
    Ok(plexus_session::Session::new(client, relay, store, anchor))
}
