//! `plexus credits`: buy credit tokens and see what is left (the work is
//! `plexus_session`'s).

use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use plexus_client::trust::TrustAnchor;
use plexus_session::{
    issuance::{self, Fetched, KeyPolicy},
    store::CreditStore,
};
use plexus_types::{AccountId, Payload, credits::CREDIT_BUNDLES};
use serde_json::json;

use crate::{chain, context::Context, output};

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
    /// Refuse an issuer key published fewer than this many blocks ago (a new key can
    /// single out its first buyers).
    #[arg(long, default_value_t = 0)]
    min_key_age_blocks: u64,
    /// Refuse an issuer key fewer than this many distinct wallets bought on.
    #[arg(long, default_value_t = 0)]
    min_key_buyers: u64,
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
        CreditsCommand::Fetch(args) => fetch(ctx, &args).await,
        CreditsCommand::Refund(args) => refund(ctx, &args).await,
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
            text.push_str(&format!(
                "{}  {}\n  bond: {} PLX staked, {} PLX required{}\n",
                i.hotkey,
                i.url,
                plexus_types::format_plx(i.self_stake),
                plexus_types::format_plx(i.bond_required),
                if i.retired {
                    ", retired (sells no more)"
                } else {
                    ""
                }
            ));
            for k in &i.keys {
                text.push_str(&format!(
                    "  key epoch {} denomination {}: {}, {} buyers, {} blocks old, escrow {} PLX, {} tokens settled, settle window closes at block {}{}\n",
                    k.key_epoch,
                    k.denomination,
                    if k.on_sale { "on sale" } else { "not on sale" },
                    k.buyers,
                    k.age_blocks,
                    plexus_types::format_plx(k.escrow),
                    k.tokens_settled,
                    k.closes_at,
                    if k.over_issued {
                        ", OVER-ISSUED (deposits refundable in full)"
                    } else {
                        ""
                    }
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
    let pending = store.pending()?;
    let now = issuance::unix_now();
    let pending_json: Vec<_> = pending
        .iter()
        .map(|p| {
            json!({"deposit": p.deposit, "credits": p.credits, "issuer": p.issuer,
                "due_in_secs": p.not_before.saturating_sub(now), "relay": p.relay})
        })
        .collect();
    output::print(
        ctx,
        &json!({"credits": total, "per_provider": per, "pending": pending_json}),
        || {
            let mut text = format!("{total} credits in wallet '{}'", args.name);
            for (origin, n) in &per {
                text.push_str(&format!("\n  {n:>6}  for provider {origin}"));
            }
            for p in &pending {
                text.push_str(&format!(
                    "\n  {:>6}  paid (deposit {}), tokens due in {}s through {}",
                    p.credits,
                    p.deposit,
                    p.not_before.saturating_sub(now),
                    p.relay
                ));
            }
            if total == 0 && pending.is_empty() {
                text.push_str(&format!(
                    "\nBuy some with `plexus credits buy --name {}`.",
                    args.name
                ));
            }
            text
        },
    );
    Ok(())
}

async fn buy(ctx: &Context, args: &BuyArgs) -> anyhow::Result<()> {
    if !CREDIT_BUNDLES.contains(&args.credits) {
        bail!("--credits must be one of 10, 100 or 1000 (fixed bundles keep purchases unlinkable)");
    }
    let coldkey = ctx.coldkey(&args.name)?;
    let store = open_store(ctx, &args.name, &coldkey)?;
    let client = ctx.client()?;
    let anchor = trust_anchor(ctx, &args.name, &client).await?;
    let issuance_relay = match &args.issuance_relay {
        Some(r) => r.clone(),
        None => {
            eprintln!(
                "warning: the tokens will be fetched through the relay your requests use ({}); name another operator's relay with --issuance-relay (or PLEXUS_ISSUANCE_RELAY) so it cannot link this purchase to your requests",
                args.relay
            );
            args.relay.clone()
        }
    };
    if let Some(id) = args.resume {
        let n =
            issuance::resume_into(&client, &anchor, &store, &coldkey, id, &issuance_relay).await?;
        let total = store.total()?;
        output::print(
            ctx,
            &json!({"deposit": id, "tokens": n, "credits": total}),
            || {
                format!(
                    "Fetched {n} tokens of deposit {id}. Wallet '{}' now holds {total} credits.",
                    args.name
                )
            },
        );
        return Ok(());
    }
    let policy = KeyPolicy {
        min_key_age_blocks: args.min_key_age_blocks,
        min_key_buyers: args.min_key_buyers,
    };
    let window = if args.now {
        eprintln!(
            "warning: --now fetches the tokens right after paying: the relay {issuance_relay} sees this client fetch them just as the purchase naming wallet '{}' lands on chain, and can link the two",
            args.name
        );
        Duration::ZERO
    } else {
        Duration::from_secs(args.issuance_window_secs)
    };
    let pending = issuance::pay(
        &client,
        &anchor,
        &store,
        &coldkey,
        args.credits,
        args.issuer,
        policy,
        &issuance_relay,
        window,
    )
    .await?;
    let mut tokens = 0;
    if args.now {
        tokens = issuance::resume_into(
            &client,
            &anchor,
            &store,
            &coldkey,
            pending.deposit,
            &issuance_relay,
        )
        .await?;
    }
    let total = store.total()?;
    let due_in = pending.not_before.saturating_sub(issuance::unix_now());
    output::print(
        ctx,
        &json!({"bought": args.credits, "deposit": pending.deposit, "pending": !args.now,
            "due_in_secs": if args.now { 0 } else { due_in }, "tokens": tokens, "credits": total}),
        || {
            if args.now {
                format!(
                    "Bought {} credits ({tokens} tokens, bound to providers chosen at random; the issuer cannot link them to you).\nWallet '{}' now holds {total} credits. Chat with `plexus chat --name {}`.",
                    args.credits, args.name, args.name
                )
            } else {
                format!(
                    "Paid for {} credits (deposit {}). Its tokens are fetched through {issuance_relay} in {due_in}s, at a random moment so the relay cannot link them to this purchase: by `plexus credits fetch --name {}`, or by `plexus chat` / `plexus proxy` when they start after that.\nWallet '{}' holds {total} credits now.",
                    args.credits, pending.deposit, args.name, args.name
                )
            }
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
    let fetched = issuance::fetch_pending(
        &client,
        &anchor,
        &store,
        &coldkey,
        args.now,
        args.issuance_relay.as_deref(),
    )
    .await?;
    let total = store.total()?;
    let failed: Vec<String> = fetched
        .failed
        .iter()
        .map(|(d, e)| format!("deposit {d}: {}", error_chain(e)))
        .collect();
    let now = issuance::unix_now();
    output::print(
        ctx,
        &json!({
            "issued": fetched.issued.iter().map(|(d, n)| json!({"deposit": d, "tokens": n})).collect::<Vec<_>>(),
            "waiting": fetched.waiting.iter().map(|p| json!({"deposit": p.deposit, "due_in_secs": p.not_before.saturating_sub(now)})).collect::<Vec<_>>(),
            "failed": failed,
            "credits": total,
        }),
        || fetched_text(&fetched, &failed, now, total),
    );
    if !fetched.failed.is_empty() {
        bail!(
            "{} deposit(s) could not be fetched; they stay pending",
            fetched.failed.len()
        );
    }
    Ok(())
}

/// A failed issuance's message chain, for printing.
fn error_chain(e: &issuance::BuyError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn fetched_text(fetched: &Fetched, failed: &[String], now: u64, total: u64) -> String {
    let mut text = String::new();
    for (d, n) in &fetched.issued {
        text.push_str(&format!("Fetched {n} tokens of deposit {d}.\n"));
    }
    for p in &fetched.waiting {
        text.push_str(&format!(
            "Deposit {} is due in {}s (`--now` fetches it at once).\n",
            p.deposit,
            p.not_before.saturating_sub(now)
        ));
    }
    for f in failed {
        text.push_str(&format!("Not fetched: {f}\n"));
    }
    text.push_str(&format!("{total} credits held."));
    text
}

async fn refund(ctx: &Context, args: &RefundArgs) -> anyhow::Result<()> {
    let coldkey = ctx.coldkey(&args.name)?;
    let client = ctx.client()?;
    let before = client
        .deposit(args.deposit)
        .await
        .with_context(|| format!("deposit {} is not on chain", args.deposit))?
        .deposit;
    if before.buyer != coldkey.account() {
        bail!("deposit {} was paid by another wallet", args.deposit);
    }
    if let Some(amount) = before.refunded {
        bail!(
            "deposit {} was refunded already ({} PLX)",
            args.deposit,
            plexus_types::format_plx(amount)
        );
    }
    // Say so before paying a fee when the chain would refuse it anyway.
    let key = client
        .issuers()
        .await?
        .issuers
        .into_iter()
        .flat_map(|i| i.keys)
        .find(|k| k.key_id == before.key_id);
    let height = client.tip_height().await?;
    if let Some(k) = key
        && !k.over_issued
        && height < k.closes_at
    {
        bail!(
            "deposit {} is refundable from block {} (now {height}), once its issuer key's settle window has closed; nothing was sent",
            args.deposit,
            k.closes_at
        );
    }
    let receipt = chain::send(
        ctx,
        &coldkey,
        Payload::RefundCredits {
            deposit: args.deposit,
        },
        None,
    )
    .await?;
    let refunded = client
        .deposit(args.deposit)
        .await?
        .deposit
        .refunded
        .unwrap_or(0);
    // A refunded deposit will never be issued: forget it if it was pending.
    if let Ok(store) = open_store(ctx, &args.name, &coldkey) {
        store.drop_pending(args.deposit)?;
    }
    output::print(
        ctx,
        &json!({"deposit": args.deposit, "paid": before.amount, "refunded": refunded, "height": receipt.height}),
        || {
            format!(
                "Refunded {} PLX of deposit {} ({} PLX paid) to wallet '{}' at block {}.",
                plexus_types::format_plx(refunded),
                args.deposit,
                plexus_types::format_plx(before.amount),
                args.name,
                receipt.height
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

/// The chain wallet `name` trusts: the genesis file in `PLEXUS_GENESIS`, else the
/// chain pinned in the wallet's `chain.json` at first use (a node serving another chain
/// is refused).
pub(crate) async fn trust_anchor(
    ctx: &Context,
    name: &str,
    client: &plexus_client::Client,
) -> anyhow::Result<TrustAnchor> {
    Ok(match std::env::var_os("PLEXUS_GENESIS") {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read PLEXUS_GENESIS {}", path.display()))?;
            let genesis = plexus_ledger::Genesis::from_json(&text)
                .with_context(|| format!("PLEXUS_GENESIS {} is not a genesis", path.display()))?;
            TrustAnchor::from_genesis(&genesis)
        }
        None => TrustAnchor::pinned(client, &ctx.wallets()?.join(name).join("chain.json")).await?,
    })
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
    let anchor = trust_anchor(ctx, name, &client).await?;
    let store = open_store(ctx, name, coldkey)?;
    let session = plexus_session::Session::new(client, relay, store, anchor)
        .with_issuance_relay(std::env::var("PLEXUS_ISSUANCE_RELAY").ok());
    // Deposits paid earlier whose random issuance moment has passed.
    match session.fetch_due(coldkey).await {
        Ok(fetched) => {
            for (d, n) in &fetched.issued {
                eprintln!("Fetched {n} tokens of deposit {d}.");
            }
            for (d, e) in &fetched.failed {
                eprintln!("warning: deposit {d} stays pending: {}", error_chain(e));
            }
            if !fetched.waiting.is_empty() {
                eprintln!(
                    "{} paid deposit(s) not fetched yet (`plexus credits balance --name {name}` says when they are due).",
                    fetched.waiting.len()
                );
            }
        }
        Err(e) => eprintln!("warning: cannot read pending deposits: {e}"),
    }
    Ok(session)
}
