//! `plexus subnet|stake|weights`: build, sign and submit transactions, and read the chain.

use std::{path::PathBuf, time::Duration};

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, Subcommand};
use plexus_client::{
    ClientError, Sent,
    weights::{CommitFile, RevealProgress, Weights, WeightsError, WeightsSet},
};
use plexus_types::{
    AccountId, Hyperparams, Keypair, Mechanism, Netuid, Payload, format_plx, parse_plx_arg,
};
use plexus_wallet::Wallet;
use serde_json::json;

use crate::{context::Context, output};

/// How long a command waits for its transaction to be finalized.
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(60);

/// The optional fee flag.
#[derive(Debug, Clone, Args)]
pub(crate) struct FeeArg {
    /// Fee in PLX (default: the chain's minimum for this transaction).
    #[arg(long, value_parser = parse_plx_arg)]
    pub(crate) fee: Option<u64>,
}

/// Sign `payload` with `key`, submit it, and wait until a block includes it.
pub(crate) async fn send(
    ctx: &Context,
    key: &Keypair,
    payload: Payload,
    fee: Option<u64>,
) -> anyhow::Result<Sent> {
    let client = ctx.client()?;
    let sent = client.send_tx(key, payload, fee, INCLUSION_TIMEOUT).await;
    sent.map_err(client_error)
}

/// A failed transaction, with what it means for the user.
pub(crate) fn client_error(error: ClientError) -> anyhow::Error {
    let context = match &error {
        ClientError::Api { .. } => "the node refused the transaction",
        ClientError::TxTimeout { .. } => {
            "the transaction was accepted but not finalized in time; check it later with the API"
        }
        _ => "cannot reach the node",
    };
    anyhow::Error::new(error).context(context)
}

/// Print a finalized transaction after the line `what`.
pub(crate) fn print_receipt(ctx: &Context, receipt: &Sent, what: &str) {
    output::print(ctx, receipt, || {
        let (hash, height, fee) = (receipt.hash, receipt.height, format_plx(receipt.fee));
        format!("{what}\n  tx {hash} in block {height} (fee {fee} PLX)")
    });
}

/// The wallet and hotkey a command acts for.
#[derive(Debug, Clone, Args)]
pub(crate) struct KeyArgs {
    /// Wallet name.
    #[arg(long, default_value = "default")]
    pub(crate) name: String,
    /// Hotkey name within the wallet.
    #[arg(long, default_value = "default")]
    pub(crate) hotkey: String,
}

impl KeyArgs {
    pub(crate) fn wallet(&self, ctx: &Context) -> anyhow::Result<Wallet> {
        Ok(Wallet::open(&ctx.wallets()?, &self.name)?)
    }

    pub(crate) fn hotkey_key(&self, ctx: &Context) -> anyhow::Result<Keypair> {
        let password = ctx.password(&format!("Password for wallet '{}': ", self.name))?;
        Ok(self.wallet(ctx)?.unlock_hotkey(&self.hotkey, &password)?)
    }

    fn hotkey_address(&self, ctx: &Context) -> anyhow::Result<AccountId> {
        Ok(self.wallet(ctx)?.hotkey_address(&self.hotkey)?)
    }

    /// Where `plexus weights` keeps this hotkey's pending commit on `netuid`.
    fn commit_file(&self, ctx: &Context, netuid: Netuid) -> anyhow::Result<CommitFile> {
        let folder = self.wallet(ctx)?.path().join("commits");
        Ok(CommitFile::in_folder(&folder, &self.hotkey, netuid))
    }
}

/// Subnet commands.
#[derive(Debug, Subcommand)]
pub(crate) enum SubnetCommand {
    /// Create a subnet owned by the wallet's coldkey (burns the chain's lock cost).
    Create(CreateArgs),
    /// List subnets.
    List,
    /// Show a subnet and its metagraph.
    Show {
        /// The subnet.
        netuid: Netuid,
    },
    /// Register a wallet's hotkey on a subnet, paying the current burn price.
    Register {
        #[command(flatten)]
        key: KeyArgs,
        /// The subnet.
        #[arg(long)]
        netuid: Netuid,
        #[command(flatten)]
        fee: FeeArg,
    },
    /// Show a subnet's hyperparameters, or change them (owner only) with `--set key=value`.
    Hyperparams {
        /// The subnet.
        netuid: Netuid,
        /// Wallet name of the owner (for --set).
        #[arg(long, default_value = "default")]
        name: String,
        /// Changes, e.g. `--set tempo=20 --set commit_reveal=false`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        #[command(flatten)]
        fee: FeeArg,
    },
}

/// Flags of `plexus subnet create`.
#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// Wallet name (its coldkey owns the subnet).
    #[arg(long, default_value = "default")]
    name: String,
    /// The subnet's name.
    #[arg(long)]
    subnet_name: String,
    /// What the subnet pays for: inference, data or generic.
    #[arg(long, default_value = "generic", value_parser = parse_mechanism)]
    mechanism: Mechanism,
    /// Hyperparameters as a JSON file (default: development defaults).
    #[arg(long)]
    hyperparams: Option<PathBuf>,
    /// Use production-like defaults (tempo 360) instead of development ones.
    #[arg(long, conflicts_with = "hyperparams")]
    production: bool,
    #[command(flatten)]
    fee: FeeArg,
}

fn parse_mechanism(s: &str) -> Result<Mechanism, String> {
    serde_json::from_value(json!(s)).map_err(|_| "expected inference, data or generic".to_string())
}

pub(crate) async fn run_subnet(ctx: &Context, cmd: SubnetCommand) -> anyhow::Result<()> {
    let client = ctx.client()?;
    match cmd {
        SubnetCommand::Create(args) => create_subnet(ctx, &args).await,
        SubnetCommand::List => {
            let subnets = client.subnets().await?;
            output::print(ctx, &subnets.subnets, || subnets.to_string());
            Ok(())
        }
        SubnetCommand::Show { netuid } => {
            let subnet = client.subnet(netuid).await?.subnet;
            let metagraph = client.metagraph(netuid).await?;
            let value = json!({ "subnet": subnet, "metagraph": metagraph });
            output::print(ctx, &value, || format!("{subnet}{metagraph}"));
            Ok(())
        }
        SubnetCommand::Register { key, netuid, fee } => {
            let hotkey = key.hotkey_address(ctx)?;
            let coldkey = ctx.coldkey(&key.name)?;
            let subnet = client.subnet(netuid).await?.subnet;
            let receipt =
                send(ctx, &coldkey, Payload::Register { netuid, hotkey }, fee.fee).await?;
            let uid = client.metagraph(netuid).await?.uid_of(&hotkey);
            let value = json!({ "receipt": receipt, "uid": uid, "netuid": netuid });
            let (name, burn) = (&key.hotkey, format_plx(subnet.burn_price));
            let (uid, hash, height) = (or(uid, "?"), receipt.hash, receipt.height);
            output::print(ctx, &value, || {
                format!(
                    "Registered hotkey '{name}' ({hotkey}) on subnet {netuid} as UID {uid} for about {burn} PLX (tx {hash} in block {height})."
                )
            });
            Ok(())
        }
        SubnetCommand::Hyperparams {
            netuid,
            name,
            set,
            fee,
        } => {
            let subnet = client.subnet(netuid).await?.subnet;
            if set.is_empty() {
                let hyperparams = &subnet.hyperparams;
                output::print(ctx, hyperparams, || hyperparams.to_string());
                return Ok(());
            }
            let hyperparams = subnet
                .hyperparams
                .with_changes(&set)
                .map_err(|e| anyhow!(e))?;
            let key = ctx.coldkey(&name)?;
            let payload = Payload::SetHyperparams {
                netuid,
                hyperparams,
            };
            let receipt = send(ctx, &key, payload, fee.fee).await?;
            let what = format!("Updated hyperparameters of subnet {netuid}");
            print_receipt(ctx, &receipt, &what);
            Ok(())
        }
    }
}

/// `plexus subnet create`.
async fn create_subnet(ctx: &Context, args: &CreateArgs) -> anyhow::Result<()> {
    let hyperparams = match &args.hyperparams {
        Some(path) => {
            let (text, file) = (std::fs::read_to_string(path), path.display());
            let text = text.with_context(|| format!("cannot read {file}"))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{file} is not a hyperparameters file"))?
        }
        None if args.production => Hyperparams::production(),
        None => Hyperparams::default(),
    };
    let (name, subnet_name) = (&args.name, &args.subnet_name);
    let key = ctx.coldkey(name)?;
    let payload = Payload::CreateSubnet {
        name: subnet_name.clone(),
        mechanism: args.mechanism,
        hyperparams,
    };
    let receipt = send(ctx, &key, payload, args.fee.fee).await?;
    let netuid = ctx.client()?.subnets().await?;
    let netuid = netuid.newest(&key.account(), subnet_name);
    let value = json!({ "receipt": receipt, "netuid": netuid });
    let (hash, height, next) = (receipt.hash, receipt.height, or(netuid, "N"));
    let netuid = or(netuid, "?");
    output::print(ctx, &value, || {
        format!(
            "Created subnet '{subnet_name}' as netuid {netuid} (tx {hash} in block {height}).\nNext: `plexus subnet register --name {name} --hotkey HOTKEY --netuid {next}`"
        )
    });
    Ok(())
}

/// `value`, or `none` without one.
fn or(value: Option<impl ToString>, none: &str) -> String {
    value.map_or(none.to_owned(), |v| v.to_string())
}

/// Stake commands.
#[derive(Debug, Subcommand)]
pub(crate) enum StakeCommand {
    /// Stake PLX from the wallet's coldkey to a hotkey (own, or any with --hotkey-address).
    Add(StakeArgs),
    /// Withdraw stake back to the wallet's coldkey.
    Remove(StakeArgs),
    /// List the wallet coldkey's stakes.
    List {
        /// Wallet name.
        #[arg(long, default_value = "default")]
        name: String,
    },
}

/// Flags of `plexus stake add|remove`.
#[derive(Debug, Args)]
pub(crate) struct StakeArgs {
    #[command(flatten)]
    key: KeyArgs,
    /// Stake to (or unstake from) this address instead of a hotkey of the wallet
    /// (delegation).
    #[arg(long)]
    hotkey_address: Option<AccountId>,
    /// Amount in PLX.
    #[arg(long, value_parser = parse_plx_arg)]
    amount: u64,
    #[command(flatten)]
    fee: FeeArg,
}

pub(crate) async fn run_stake(ctx: &Context, cmd: StakeCommand) -> anyhow::Result<()> {
    let (args, remove) = match cmd {
        StakeCommand::Add(args) => (args, false),
        StakeCommand::Remove(args) => (args, true),
        StakeCommand::List { name } => {
            let coldkey = Wallet::open(&ctx.wallets()?, &name)?.coldkey_address();
            let stakes = ctx.client()?.stakes(&coldkey).await?;
            output::print(ctx, &stakes.stakes, || match stakes.stakes.is_empty() {
                true => format!("Wallet '{name}' has no stake. Add some with `plexus stake add`."),
                false => stakes.to_string(),
            });
            return Ok(());
        }
    };
    let hotkey = match args.hotkey_address {
        Some(address) => address,
        None => args.key.hotkey_address(ctx)?,
    };
    let coldkey = ctx.coldkey(&args.key.name)?;
    let amount = args.amount;
    let (payload, what) = match remove {
        true => (Payload::RemoveStake { hotkey, amount }, "Unstaked"),
        false => (Payload::AddStake { hotkey, amount }, "Staked"),
    };
    let receipt = send(ctx, &coldkey, payload, args.fee.fee).await?;
    let what = format!("{what} {} PLX on {hotkey}", format_plx(amount));
    print_receipt(ctx, &receipt, &what);
    Ok(())
}

/// Weights commands.
#[derive(Debug, Subcommand)]
pub(crate) enum WeightsCommand {
    /// Commit to weights now; reveal them in the next epoch with `plexus weights reveal`.
    Commit(WeightsArgs),
    /// Reveal the weights committed earlier by this hotkey on this subnet.
    Reveal {
        #[command(flatten)]
        key: KeyArgs,
        /// The subnet.
        #[arg(long)]
        netuid: Netuid,
    },
    /// Set weights: directly, or on a commit-reveal subnet commit now, wait for the next
    /// epoch (with a progress line) and reveal.
    Set(WeightsArgs),
}

/// Flags of `plexus weights commit|set`.
#[derive(Debug, Args)]
pub(crate) struct WeightsArgs {
    #[command(flatten)]
    key: KeyArgs,
    /// The subnet.
    #[arg(long)]
    netuid: Netuid,
    /// Weights as `uid:weight` pairs, weight either a u16 (0..=65535) or a fraction
    /// with a decimal point (`0.5`), e.g. `1:1.0,2:0.5`.
    #[arg(long)]
    weights: Weights,
    /// Weights version key.
    #[arg(long, default_value_t = 0)]
    version_key: u64,
}

/// A progress line on stderr while a commit waits for its reveal window.
pub(crate) fn reveal_progress(ctx: &Context) -> impl FnMut(RevealProgress) + use<> {
    let (quiet, mut last) = (ctx.json, None);
    move |step| match step {
        _ if quiet => {}
        RevealProgress::Committed { .. } => eprintln!("{step}"),
        RevealProgress::Waiting {
            height,
            reveal_from,
        } if last != Some(height) => {
            last = Some(height);
            eprint!("\r{step}");
            if height >= reveal_from {
                eprintln!();
            }
        }
        RevealProgress::Waiting { .. } => {}
    }
}

/// The context an error of the weights helper gets on the command line.
fn weights_error(error: WeightsError) -> anyhow::Error {
    match error {
        WeightsError::Client(e) => client_error(e),
        other => anyhow::Error::new(other),
    }
}

pub(crate) async fn run_weights(ctx: &Context, cmd: WeightsCommand) -> anyhow::Result<()> {
    let client = ctx.client()?;
    match cmd {
        WeightsCommand::Commit(args) => {
            let (key, netuid) = (&args.key, args.netuid);
            let file = key.commit_file(ctx, netuid)?;
            let hotkey = key.hotkey_key(ctx)?;
            let (receipt, pending) = client
                .commit_weights(&hotkey, netuid, args.weights, args.version_key, &file)
                .await
                .map_err(weights_error)?;
            let subnet = client.subnet(netuid).await?.subnet;
            let value =
                json!({ "receipt": receipt, "commit": pending.commit, "saved": file.path() });
            let (commit, height, next) = (pending.commit, receipt.height, subnet.next_epoch_block);
            let (name, hotkey) = (&key.name, &key.hotkey);
            output::print(ctx, &value, || {
                format!(
                    "Committed weights {commit} on subnet {netuid} (block {height}).\nReveal after block {next} with `plexus weights reveal --name {name} --hotkey {hotkey} --netuid {netuid}` (or let `plexus weights set` do both)."
                )
            });
        }
        WeightsCommand::Reveal { key, netuid } => {
            let file = key.commit_file(ctx, netuid)?;
            if file.load()?.is_none() {
                bail!(
                    "no saved commit at {}: run `plexus weights commit` first",
                    file.path().display()
                );
            }
            let hotkey = key.hotkey_key(ctx)?;
            let sent = client.reveal_weights(&hotkey, &file).await;
            let what = format!("Revealed weights on subnet {netuid}");
            print_receipt(ctx, &sent.map_err(weights_error)?, &what);
        }
        WeightsCommand::Set(args) => {
            let netuid = args.netuid;
            let file = args.key.commit_file(ctx, netuid)?;
            let hotkey = args.key.hotkey_key(ctx)?;
            let (weights, version) = (args.weights, args.version_key);
            let progress = reveal_progress(ctx);
            let set = client
                .set_weights(&hotkey, netuid, weights, version, &file, progress)
                .await
                .map_err(weights_error)?;
            match set {
                WeightsSet::Direct(sent) => {
                    print_receipt(ctx, &sent, &format!("Set weights on subnet {netuid}"));
                }
                WeightsSet::Revealed { commit, reveal } => {
                    let value = json!({ "commit": commit, "reveal": reveal });
                    let (c, r) = (commit, reveal);
                    output::print(ctx, &value, || {
                        format!(
                            "Set weights on subnet {netuid} by commit and reveal\n  commit tx {} in block {}\n  reveal tx {} in block {}",
                            c.hash, c.height, r.hash, r.height
                        )
                    });
                }
            }
        }
    }
    Ok(())
}
