//! `plexus wallet`: create, restore, list and use wallets.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use plexus_types::{AccountId, Payload, format_plx, parse_plx_arg};
use plexus_wallet::{Created, Mnemonic, Wallet, WordCount, list_wallets};
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
        } => create(ctx, &root, &name, hotkey, words, overwrite),
        WalletCommand::Regen {
            name,
            hotkey,
            mnemonic_file,
            overwrite,
        } => regen(
            ctx,
            &root,
            &name,
            hotkey.as_deref(),
            mnemonic_file.as_deref(),
            overwrite,
        ),
        WalletCommand::List => {
            let wallets = list_wallets(&root)?;
            let value: Vec<_> = wallets.iter().map(|w| w.to_json()).collect();
            output::print(ctx, &value, || match wallets.is_empty() {
                true => format!(
                    "No wallets in {}. Create one with `plexus wallet create --name NAME`.",
                    root.display()
                ),
                false => wallets.iter().map(ToString::to_string).collect(),
            });
            Ok(())
        }
        WalletCommand::Balance { name, address } => {
            let address = match address {
                Some(address) => address,
                None => Wallet::open(&root, &name)?.coldkey_address(),
            };
            let client = ctx.client()?;
            let account = client.account(&address).await?;
            let staked = client.stakes(&address).await?.total;
            let (balance, nonce) = (account.balance, account.nonce);
            let value =
                json!({ "address": address, "balance": balance, "staked": staked, "nonce": nonce });
            let (free, staked) = (format_plx(balance), format_plx(staked));
            output::print(ctx, &value, || {
                format!(
                    "{address}\n  free    {free} PLX\n  staked  {staked} PLX\n  nonce   {nonce}"
                )
            });
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
            let what = format!("Sent {} PLX to {to}", format_plx(amount));
            chain::print_receipt(ctx, &receipt, &what);
            Ok(())
        }
        WalletCommand::Faucet { name, amount } => faucet(ctx, &root, &name, amount).await,
    }
}

/// `plexus wallet faucet`: development chains only.
async fn faucet(ctx: &Context, root: &Path, name: &str, amount: u64) -> anyhow::Result<()> {
    let to = Wallet::open(root, name)?.coldkey_address();
    let config = ctx.client()?.chain().await?;
    let faucet = plexus_ledger::genesis::dev_faucet();
    if config.params.faucet != Some(faucet.account()) {
        bail!(
            "this chain has no development faucet (only `plexus node` devnets do); \
             ask someone with funds to `plexus wallet transfer` to {to}"
        );
    }
    let receipt = chain::send(ctx, &faucet, Payload::Transfer { to, amount }, None).await?;
    let what = format!(
        "Faucet sent {} PLX to wallet '{name}' ({to})",
        format_plx(amount)
    );
    chain::print_receipt(ctx, &receipt, &what);
    Ok(())
}

/// `plexus wallet regen`.
fn regen(
    ctx: &Context,
    root: &Path,
    name: &str,
    hotkey: Option<&str>,
    file: Option<&Path>,
    overwrite: bool,
) -> anyhow::Result<()> {
    let mnemonic = Mnemonic::parse(&read_mnemonic(file)?)?;
    let phrase = mnemonic.phrase();
    let (what, address) = match hotkey {
        None => {
            let password = ctx.new_password(&format!("wallet '{name}'"))?;
            let wallet = Wallet::regen_coldkey(root, name, &phrase, &password, overwrite)?;
            ("coldkey".to_string(), wallet.coldkey_address())
        }
        Some(hotkey) => {
            let (wallet, password, _) = ctx.unlock(name)?;
            let address = wallet.regen_hotkey(hotkey, &phrase, &password, overwrite)?;
            (format!("hotkey '{hotkey}'"), address)
        }
    };
    let value = json!({ "wallet": name, "key": what, "address": address });
    output::print(ctx, &value, || {
        format!("Restored {what} of wallet '{name}': {address}")
    });
    Ok(())
}

/// `plexus wallet create`.
fn create(
    ctx: &Context,
    root: &Path,
    name: &str,
    hotkey: Option<String>,
    words: u8,
    overwrite: bool,
) -> anyhow::Result<()> {
    let words = WordCount::try_from(usize::from(words)).context("--words must be 12 or 24")?;
    let existing = Wallet::open(root, name).ok().filter(|_| !overwrite);
    // Hotkeys share the coldkey's password: reuse it, checked by unlocking.
    let (wallet, password, coldkey) = match existing {
        Some(_) if hotkey.is_some() => {
            let (wallet, password, _) = ctx.unlock(name)?;
            (wallet, password, None)
        }
        _ => {
            let password = ctx.new_password(&format!("wallet '{name}'"))?;
            let (wallet, mnemonic) = Wallet::create(root, name, &password, words, overwrite)?;
            (wallet, password, Some(mnemonic))
        }
    };
    let hotkey = match hotkey {
        Some(hotkey) => {
            let (address, mnemonic) = wallet.create_hotkey(&hotkey, &password, words, overwrite)?;
            Some((hotkey, address, mnemonic))
        }
        None => None,
    };
    let created = Created {
        wallet: &wallet,
        coldkey,
        hotkey,
    };
    output::print(ctx, &created.to_json(), || created.to_string());
    Ok(())
}

/// The mnemonic to restore: from `file` (`-`: standard input), else
/// `PLEXUS_MNEMONIC`, else a hidden prompt.
fn read_mnemonic(file: Option<&Path>) -> anyhow::Result<String> {
    if let Some(path) = file {
        return Ok(plexus_wallet::read_phrase(path)?);
    }
    let text = match std::env::var("PLEXUS_MNEMONIC") {
        Ok(phrase) => phrase,
        Err(_) => rpassword::prompt_password("Mnemonic (hidden): ").context(
            "cannot read the mnemonic from the terminal: use --mnemonic-file or PLEXUS_MNEMONIC",
        )?,
    };
    Ok(text.trim().to_owned())
}
