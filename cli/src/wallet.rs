//! `plexus wallet`: create, restore, list and use wallets.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use plexus_types::{AccountId, Payload, format_plx, parse_plx_arg};
use plexus_wallet::{Mnemonic, Wallet, WordCount, list_wallets};
use serde_json::json;

use crate::{
    chain::{self, FeeArg},
    context::Context,
    output,
};

/// Wallet commands.
#[derive(Debug, Subcommand)]
pub(crate) enum WalletCommand {
    /// Create a wallet: a coldkey and, optionally, a first hotkey, each with its own mnemonic.
    Create {
        /// Wallet name.
        #[arg(long, default_value = "default")]
        name: String,
        /// Also create a hotkey with this name (or only it, if the coldkey exists).
        #[arg(long)]
        hotkey: Option<String>,
        /// Mnemonic length: 12 or 24 words.
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u8).range(12..=24))]
        words: u8,
        /// Replace existing keys with the same names.
        #[arg(long)]
        overwrite: bool,
    },
    /// Restore a coldkey (or, with --hotkey, a hotkey) from its mnemonic.
    Regen {
        /// Wallet name.
        #[arg(long, default_value = "default")]
        name: String,
        /// Restore this hotkey instead of the coldkey.
        #[arg(long)]
        hotkey: Option<String>,
        /// Read the mnemonic from this file (`-`: standard input). Without it, from
        /// `PLEXUS_MNEMONIC`, else a hidden prompt; never from a flag, which `ps` shows.
        #[arg(long, value_name = "FILE")]
        mnemonic_file: Option<PathBuf>,
        /// Replace an existing key.
        #[arg(long)]
        overwrite: bool,
    },
    /// List wallets with their coldkey and hotkey addresses.
    List,
    /// Show an account's balance and nonce.
    Balance {
        /// Wallet name (its coldkey).
        #[arg(long, default_value = "default", conflicts_with = "address")]
        name: String,
        /// Any address instead of a wallet's coldkey.
        #[arg(long)]
        address: Option<AccountId>,
    },
    /// Send PLX from a wallet's coldkey.
    Transfer {
        /// Wallet name (its coldkey signs).
        #[arg(long, default_value = "default")]
        name: String,
        /// Receiving address (`plx1…`).
        #[arg(long)]
        to: AccountId,
        /// Amount in PLX, e.g. `1.5`.
        #[arg(long, value_parser = parse_plx_arg)]
        amount: u64,
        #[command(flatten)]
        fee: FeeArg,
    },
    /// Development chains only: take PLX from the published faucet key.
    Faucet {
        /// Wallet name (its coldkey receives).
        #[arg(long, default_value = "default")]
        name: String,
        /// Amount in PLX.
        #[arg(long, default_value = "1000", value_parser = parse_plx_arg)]
        amount: u64,
    },
}

pub(crate) async fn run(ctx: &Context, cmd: WalletCommand) -> anyhow::Result<()> {
    let root = ctx.wallets()?;
    match cmd {
        WalletCommand::Create {
            name,
            hotkey,
            words,
            overwrite,
        } => create(ctx, &root, name, hotkey, words, overwrite).await,
        WalletCommand::Regen {
            name,
            hotkey,
            mnemonic_file,
            overwrite,
        } => {
            let mnemonic = read_mnemonic(mnemonic_file.as_deref())?;
            regen(ctx, &root, name, hotkey, &mnemonic, overwrite).await
        }
        WalletCommand::List => list(ctx, &root),
        WalletCommand::Balance { name, address } => {
            let address = match address {
                Some(address) => address,
                None => Wallet::open(&root, &name)?.coldkey_address(),
            };
            let client = ctx.client()?;
            let account = client.account(&address).await?;
            let stakes = client.stakes(&address).await?;
            let staked = stakes.total;
            output::print(
                ctx,
                &json!({ "address": address, "balance": account.balance, "staked": staked, "nonce": account.nonce }),
                || {
                    format!(
                        "{address}\n  free    {} PLX\n  staked  {} PLX\n  nonce   {}",
                        format_plx(account.balance),
                        format_plx(staked),
                        account.nonce
                    )
                },
            );
            Ok(())
        }
        WalletCommand::Transfer {
            name,
            to,
            amount,
            fee,
        } => {
            let key = ctx.coldkey(&name)?;
            let receipt = chain::send(ctx, &key, Payload::Transfer { to, amount }, fee.fee).await?;
            chain::print_receipt(
                ctx,
                &receipt,
                &format!("Sent {} PLX to {to}", format_plx(amount)),
            );
            Ok(())
        }
        WalletCommand::Faucet { name, amount } => faucet(ctx, &root, name, amount).await,
    }
}

/// `plexus wallet create`.
async fn create(
    ctx: &Context,
    root: &Path,
    name: String,
    hotkey: Option<String>,
    words: u8,
    overwrite: bool,
) -> anyhow::Result<()> {
    let words = WordCount::try_from(usize::from(words)).context("--words must be 12 or 24")?;
    let existing = Wallet::open(root, &name).ok().filter(|_| !overwrite);
    // Hotkeys share the coldkey's password: reuse it, checked by unlocking.
    let (wallet, password, coldkey_words) = match existing {
        Some(_) if hotkey.is_some() => {
            let (wallet, password, _) = ctx.unlock(&name)?;
            (wallet, password, None)
        }
        _ => {
            let password = ctx.new_password(&format!("wallet '{name}'"))?;
            let (wallet, mnemonic) = Wallet::create(root, &name, &password, words, overwrite)?;
            (wallet, password, Some(mnemonic))
        }
    };
    let mut hotkey_out = None;
    if let Some(hotkey) = &hotkey {
        let (address, mnemonic) = wallet.create_hotkey(hotkey, &password, words, overwrite)?;
        hotkey_out = Some((hotkey.clone(), address, mnemonic));
    }
    print_created(ctx, &wallet, coldkey_words.as_ref(), hotkey_out.as_ref());
    Ok(())
}

/// The mnemonic to restore: from `file` (`-`: standard input), else `PLEXUS_MNEMONIC`,
/// else a hidden prompt.
fn read_mnemonic(file: Option<&Path>) -> anyhow::Result<String> {
    use std::io::Read as _;
    /// A 24-word phrase is under 300 bytes; anything far larger is not one.
    const MAX: u64 = 4096;
    let mut text = String::new();
    match file {
        Some(path) if path.as_os_str() == "-" => {
            std::io::stdin()
                .take(MAX)
                .read_to_string(&mut text)
                .context("cannot read the mnemonic from standard input")?;
        }
        Some(path) => {
            std::fs::File::open(path)
                .and_then(|f| f.take(MAX).read_to_string(&mut text))
                .with_context(|| format!("cannot read the mnemonic from {}", path.display()))?;
        }
        None => match std::env::var("PLEXUS_MNEMONIC") {
            Ok(phrase) => text = phrase,
            Err(_) => {
                text = rpassword::prompt_password("Mnemonic (hidden): ").context(
                    "cannot read the mnemonic from the terminal: use --mnemonic-file or PLEXUS_MNEMONIC",
                )?;
            }
        },
    }
    Ok(text.trim().to_owned())
}

/// `plexus wallet regen`.
async fn regen(
    ctx: &Context,
    root: &Path,
    name: String,
    hotkey: Option<String>,
    mnemonic: &str,
    overwrite: bool,
) -> anyhow::Result<()> {
    let mnemonic = Mnemonic::parse(mnemonic)?;
    let (what, address) = match &hotkey {
        None => {
            let password = ctx.new_password(&format!("wallet '{name}'"))?;
            let wallet =
                Wallet::regen_coldkey(root, &name, &mnemonic.phrase(), &password, overwrite)?;
            ("coldkey".to_string(), wallet.coldkey_address())
        }
        Some(hotkey) => {
            let (wallet, password, _) = ctx.unlock(&name)?;
            let address = wallet.regen_hotkey(hotkey, &mnemonic.phrase(), &password, overwrite)?;
            (format!("hotkey '{hotkey}'"), address)
        }
    };
    output::print(
        ctx,
        &json!({ "wallet": name, "key": what, "address": address }),
        || format!("Restored {what} of wallet '{name}': {address}"),
    );
    Ok(())
}

/// `plexus wallet list`.
fn list(ctx: &Context, root: &Path) -> anyhow::Result<()> {
    let wallets = list_wallets(root)?;
    let value: Vec<_> = wallets
        .iter()
        .map(|w| {
            json!({
                "name": w.name,
                "coldkey": w.coldkey,
                "hotkeys": w.hotkeys.iter().map(|(n, a)| json!({"name": n, "address": a})).collect::<Vec<_>>(),
            })
        })
        .collect();
    output::print(ctx, &value, || {
        if wallets.is_empty() {
            return format!(
                "No wallets in {}. Create one with `plexus wallet create --name NAME`.",
                root.display()
            );
        }
        let mut out = String::new();
        for w in &wallets {
            out.push_str(&format!("{}  coldkey {}\n", w.name, w.coldkey));
            for (hotkey, address) in &w.hotkeys {
                out.push_str(&format!("  └─ hotkey {hotkey}  {address}\n"));
            }
        }
        out
    });
    Ok(())
}

/// `plexus wallet faucet`.
async fn faucet(ctx: &Context, root: &Path, name: String, amount: u64) -> anyhow::Result<()> {
    let to = Wallet::open(root, &name)?.coldkey_address();
    let client = ctx.client()?;
    let config = client.chain().await?;
    let faucet = plexus_ledger::genesis::dev_faucet();
    if config.params.faucet != Some(faucet.account()) {
        bail!(
            "this chain has no development faucet (only `plexus node` devnets do); \
             ask someone with funds to `plexus wallet transfer` to {to}"
        );
    }
    let receipt = chain::send(ctx, &faucet, Payload::Transfer { to, amount }, None).await?;
    chain::print_receipt(
        ctx,
        &receipt,
        &format!(
            "Faucet sent {} PLX to wallet '{name}' ({to})",
            format_plx(amount)
        ),
    );
    Ok(())
}

fn print_created(
    ctx: &Context,
    wallet: &Wallet,
    coldkey: Option<&Mnemonic>,
    hotkey: Option<&(String, AccountId, Mnemonic)>,
) {
    let value = json!({
        "wallet": wallet.name(),
        "path": wallet.path(),
        "coldkey": wallet.coldkey_address(),
        "coldkey_mnemonic": coldkey.map(|m| m.phrase().to_string()),
        "hotkey": hotkey.map(|(name, address, m)| json!({"name": name, "address": address, "mnemonic": m.phrase().to_string()})),
    });
    output::print(ctx, &value, || {
        let mut out = format!(
            "Wallet '{}' in {}\n",
            wallet.name(),
            wallet.path().display()
        );
        if let Some(m) = coldkey {
            out.push_str(&format!(
                "  coldkey  {}\n  mnemonic (write it down; it is the only way to restore this key):\n    {}\n",
                wallet.coldkey_address(),
                m.phrase().as_str()
            ));
        }
        if let Some((name, address, m)) = hotkey {
            out.push_str(&format!(
                "  hotkey '{name}'  {address}\n  hotkey mnemonic:\n    {}\n",
                m.phrase().as_str()
            ));
        }
        out.push_str("Next: `plexus wallet balance --name ");
        out.push_str(wallet.name());
        out.push('`');
        out
    });
}
