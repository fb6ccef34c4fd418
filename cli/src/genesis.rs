//! `plexus genesis`: build a chain's genesis file from its validators' keys and its
//! balances, and print the hash every operator compares before starting.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use plexus_ledger::{
    ChainParams, Genesis,
    genesis::{DEV_FAUCET_BALANCE, dev_faucet},
};
use plexus_types::{AccountId, Amount, format_plx, parse_plx_arg};
use serde_json::json;

use crate::{context::Context, output};

/// The file every subcommand reads and writes unless `--file` names another.
const DEFAULT_FILE: &str = "genesis.json";

/// `plexus genesis …`.
#[derive(Debug, Subcommand)]
pub(crate) enum GenesisCommand {
    /// Start a genesis with no validator and no balance.
    Init {
        /// The genesis file to write.
        #[arg(long, default_value = DEFAULT_FILE)]
        file: PathBuf,
        /// The chain id every transaction will carry.
        #[arg(long)]
        chain_id: u64,
        /// Milliseconds between blocks.
        #[arg(long)]
        block_interval_ms: Option<u64>,
        /// Fund the published development faucet (its key is public: development
        /// chains only) with 1,000,000 PLX and let it mint (`plexus wallet faucet`).
        #[arg(long)]
        dev_faucet: bool,
        /// Blocks per consensus epoch: the validator set follows bonded stake,
        /// chosen at the end of each epoch (`plexus consensus bond`). Left out, the
        /// genesis validators are the set for good.
        #[arg(long)]
        epoch_length: Option<u64>,
        /// Least bond of a validator, in PLX (with --epoch-length; genesis validators
        /// are bonded this much).
        #[arg(long, value_parser = parse_plx_arg)]
        min_bond: Option<u64>,
        /// Fewest and most validators in a set (with --epoch-length), e.g. `4..100`.
        #[arg(long, value_parser = parse_range)]
        validators: Option<(u16, u16)>,
        /// Blocks an unbonded amount stays slashable before it is paid back (with
        /// --epoch-length).
        #[arg(long)]
        unbonding_delay: Option<u64>,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Add a consensus validator by its key (`plexus node --show-key` prints it).
    AddValidator {
        /// The genesis file.
        #[arg(long, default_value = DEFAULT_FILE)]
        file: PathBuf,
        /// The validator's public key (plx1…).
        key: AccountId,
    },
    /// Fund an account at genesis.
    AddAccount {
        /// The genesis file.
        #[arg(long, default_value = DEFAULT_FILE)]
        file: PathBuf,
        /// The account (plx1…).
        address: AccountId,
        /// Its balance in PLX (decimals allowed, e.g. 1000.5).
        #[arg(value_parser = parse_plx_arg)]
        amount: Amount,
    },
    /// Check a genesis and print its hash, validators and balances.
    Show {
        /// The genesis file.
        #[arg(long, default_value = DEFAULT_FILE)]
        file: PathBuf,
    },
}

pub(crate) fn run(ctx: &Context, command: GenesisCommand) -> anyhow::Result<()> {
    match command {
        GenesisCommand::Init {
            file,
            chain_id,
            block_interval_ms,
            dev_faucet: with_faucet,
            epoch_length,
            min_bond,
            validators,
            unbonding_delay,
            force,
        } => {
            if file.exists() && !force {
                bail!(
                    "{} exists: pass --force to replace it, or --file for another",
                    file.display()
                );
            }
            let mut params = ChainParams::default();
            if let Some(ms) = block_interval_ms {
                params.block_interval_ms = ms;
            }
            let consensus = &mut params.consensus;
            if let Some(length) = epoch_length {
                consensus.epoch_length = length;
            }
            if let Some(bond) = min_bond {
                consensus.min_bond = bond;
            }
            if let Some((min, max)) = validators {
                (consensus.min_validators, consensus.max_validators) = (min, max);
            }
            if let Some(delay) = unbonding_delay {
                consensus.unbonding_delay = delay;
            }
            let mut genesis = Genesis::empty(chain_id, params);
            if with_faucet {
                let faucet = dev_faucet().account();
                genesis.params.faucet = Some(faucet);
                genesis.add_account(faucet, DEV_FAUCET_BALANCE)?;
            }
            write(&file, &genesis)?;
            show(ctx, &file, &genesis);
        }
        GenesisCommand::AddValidator { file, key } => {
            let mut genesis = read(&file)?;
            genesis
                .add_validator(key)
                .with_context(|| format!("cannot add the validator to {}", file.display()))?;
            write(&file, &genesis)?;
            show(ctx, &file, &genesis);
        }
        GenesisCommand::AddAccount {
            file,
            address,
            amount,
        } => {
            let mut genesis = read(&file)?;
            genesis
                .add_account(address, amount)
                .with_context(|| format!("cannot fund the account in {}", file.display()))?;
            write(&file, &genesis)?;
            show(ctx, &file, &genesis);
        }
        GenesisCommand::Show { file } => {
            let genesis = read(&file)?;
            genesis
                .validate()
                .with_context(|| format!("{} cannot start a chain", file.display()))?;
            show(ctx, &file, &genesis);
        }
    }
    Ok(())
}

/// The genesis in `file`.
fn read(file: &Path) -> anyhow::Result<Genesis> {
    let text = std::fs::read_to_string(file).with_context(|| {
        format!(
            "cannot read {} (create one with `plexus genesis init`)",
            file.display()
        )
    })?;
    Genesis::from_json(&text).with_context(|| format!("{} is not a genesis", file.display()))
}

/// Write `genesis` to `file` through a temporary file, so a crash leaves the old one.
fn write(file: &Path, genesis: &Genesis) -> anyhow::Result<()> {
    let tmp = file.with_extension("json.tmp");
    let text = format!("{}\n", genesis.to_json());
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, file).with_context(|| format!("cannot write {}", file.display()))
}

/// Print the hash, the validators and the balances.
fn show(ctx: &Context, file: &Path, genesis: &Genesis) {
    let hash = genesis.hash();
    let total: Amount = genesis.accounts.iter().map(|a| a.balance).sum();
    let validators: Vec<String> = genesis
        .validators
        .iter()
        .map(|v| v.public_key.to_string())
        .collect();
    let value = json!({
        "file": file,
        "hash": hash,
        "chain_id": genesis.chain_id,
        "validators": validators,
        "accounts": genesis.accounts.len(),
        "total_balance": total,
        "faucet": genesis.params.faucet,
    });
    output::print(ctx, &value, || {
        let mut text = format!(
            "{}: chain {}, genesis hash {hash}\n  {} validator(s)\n",
            file.display(),
            genesis.chain_id,
            validators.len()
        );
        for key in &validators {
            text.push_str(&format!("    {key}\n"));
        }
        text.push_str(&format!(
            "  {} account(s) holding {} PLX\n",
            genesis.accounts.len(),
            format_plx(total)
        ));
        if genesis.params.faucet.is_some() {
            text.push_str(
                "  development faucet funded (its key is published: not for real value)\n",
            );
        }
        text.push_str("Compare the hash with every other operator, then start with `plexus node --genesis FILE --genesis-hash HASH`.");
        text
    });
}

/// `MIN..MAX`, e.g. `4..100`.
fn parse_range(text: &str) -> Result<(u16, u16), String> {
    let (min, max) = text
        .split_once("..")
        .ok_or_else(|| format!("{text:?} is not MIN..MAX"))?;
    let parse = |s: &str| s.trim().parse::<u16>().map_err(|e| format!("{s:?}: {e}"));
    let (min, max) = (parse(min)?, parse(max)?);
    match min >= 1 && min <= max {
        true => Ok((min, max)),
        false => Err(format!("{text:?}: need 1 <= MIN <= MAX")),
    }
}
