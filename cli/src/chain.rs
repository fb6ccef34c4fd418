//! `plexus subnet|stake|weights`: build, sign and submit transactions, and read the chain.

use std::{path::PathBuf, str::FromStr, time::Duration};

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, Subcommand};
use plexus_client::{
    Client, ClientError, Sent,
    weights::{CommitFile, RevealProgress, Weights, WeightsError, WeightsSet},
};
use plexus_types::{
    AccountId, Hash, Hyperparams, Keypair, Mechanism, Netuid, Payload, format_plx, parse_plx,
};
use plexus_wallet::Wallet;
use serde::Serialize;
use serde_json::json;

use crate::{context::Context, output};

/// How long a command waits for its transaction to be finalized.
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(60);

/// An amount in PLX on the command line (`1.5`), held in base units.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Amount(pub(crate) u64);

impl FromStr for Amount {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_plx(s).map(Amount).ok_or_else(|| {
            format!("`{s}` is not a PLX amount: use digits with at most 9 decimals, e.g. 1.5")
        })
    }
}

/// The optional fee flag.
#[derive(Debug, Clone, Args)]
pub(crate) struct FeeArg {
    /// Fee in PLX (default: the chain's minimum for this transaction).
    #[arg(long)]
    pub(crate) fee: Option<Amount>,
}

/// What a finalized transaction looked like.
#[derive(Debug, Serialize)]
pub(crate) struct Receipt {
    pub(crate) hash: Hash,
    pub(crate) height: u64,
    pub(crate) sender: AccountId,
    pub(crate) fee: u64,
}

/// Sign `payload` with `key`, submit it, and wait until a block includes it.
pub(crate) async fn send(
    ctx: &Context,
    key: &Keypair,
    payload: Payload,
    fee: Option<Amount>,
) -> anyhow::Result<Receipt> {
    let client = ctx.client()?;
    client
        .send_tx(key, payload, fee.map(|f| f.0), INCLUSION_TIMEOUT)
        .await
        .map(Receipt::from)
        .map_err(client_error)
}

impl From<Sent> for Receipt {
    fn from(sent: Sent) -> Self {
        Self {
            hash: sent.hash,
            height: sent.height,
            sender: sent.sender,
            fee: sent.fee,
        }
    }
}

/// A failed transaction, with what it means for the user.
pub(crate) fn client_error(error: ClientError) -> anyhow::Error {
    match error {
        e @ ClientError::Api { .. } => {
            anyhow::Error::new(e).context("the node refused the transaction")
        }
        e @ ClientError::TxTimeout { .. } => anyhow::Error::new(e).context(
            "the transaction was accepted but not finalized in time; check it later with the API",
        ),
        e => anyhow::Error::new(e).context("cannot reach the node"),
    }
}

pub(crate) fn print_receipt(ctx: &Context, receipt: &Receipt, what: &str) {
    output::print(ctx, receipt, || {
        format!(
            "{what}\n  tx {} in block {} (fee {} PLX)",
            receipt.hash,
            receipt.height,
            format_plx(receipt.fee)
        )
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

    fn coldkey(&self, ctx: &Context) -> anyhow::Result<Keypair> {
        ctx.coldkey(&self.name)
    }

    pub(crate) fn hotkey_key(&self, ctx: &Context) -> anyhow::Result<Keypair> {
        let password = ctx.password(&format!("Password for wallet '{}': ", self.name))?;
        Ok(self.wallet(ctx)?.unlock_hotkey(&self.hotkey, &password)?)
    }

    fn hotkey_address(&self, ctx: &Context) -> anyhow::Result<AccountId> {
        Ok(self.wallet(ctx)?.hotkey_address(&self.hotkey)?)
    }
}

/// Subnet commands.
#[derive(Debug, Subcommand)]
pub(crate) enum SubnetCommand {
    /// Create a subnet owned by the wallet's coldkey (burns the chain's lock cost).
    Create {
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
    },
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

fn parse_mechanism(s: &str) -> Result<Mechanism, String> {
    serde_json::from_value(json!(s)).map_err(|_| "expected inference, data or generic".to_string())
}

pub(crate) async fn run_subnet(ctx: &Context, cmd: SubnetCommand) -> anyhow::Result<()> {
    let client = ctx.client()?;
    match cmd {
        SubnetCommand::Create {
            name,
            subnet_name,
            mechanism,
            hyperparams,
            production,
            fee,
        } => {
            create_subnet(
                ctx,
                name,
                subnet_name,
                mechanism,
                hyperparams,
                production,
                fee,
            )
            .await
        }
        SubnetCommand::List => list_subnets(ctx, &client).await,
        SubnetCommand::Show { netuid } => show_subnet(ctx, &client, netuid).await,
        SubnetCommand::Register { key, netuid, fee } => {
            let hotkey = key.hotkey_address(ctx)?;
            let coldkey = key.coldkey(ctx)?;
            let subnet = client.subnet(netuid).await?.subnet;
            let receipt =
                send(ctx, &coldkey, Payload::Register { netuid, hotkey }, fee.fee).await?;
            let metagraph = client.metagraph(netuid).await?;
            let uid = metagraph
                .neurons
                .iter()
                .find(|n| n.hotkey == hotkey)
                .map(|n| n.uid);
            output::print(
                ctx,
                &json!({ "receipt": receipt, "uid": uid, "netuid": netuid }),
                || {
                    format!(
                        "Registered hotkey '{}' ({hotkey}) on subnet {netuid} as UID {} for about {} PLX (tx {} in block {}).",
                        key.hotkey,
                        uid.map_or("?".into(), |u| u.to_string()),
                        format_plx(subnet.burn_price),
                        receipt.hash,
                        receipt.height,
                    )
                },
            );
            Ok(())
        }
        SubnetCommand::Hyperparams {
            netuid,
            name,
            set,
            fee,
        } => hyperparams(ctx, &client, netuid, name, set, fee).await,
    }
}

/// `plexus subnet hyperparams`: show them, or change some with `--set KEY=VALUE`.
async fn hyperparams(
    ctx: &Context,
    client: &Client,
    netuid: Netuid,
    name: String,
    set: Vec<String>,
    fee: FeeArg,
) -> anyhow::Result<()> {
    let subnet = client.subnet(netuid).await?.subnet;
    if set.is_empty() {
        output::print(ctx, &subnet.hyperparams, || {
            let value = serde_json::to_value(&subnet.hyperparams).unwrap_or_default();
            value
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| format!("{k:<22} {v}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default()
        });
        return Ok(());
    }
    let mut value = serde_json::to_value(&subnet.hyperparams)?;
    for change in &set {
        let (k, v) = change
            .split_once('=')
            .ok_or_else(|| anyhow!("`{change}` is not KEY=VALUE"))?;
        let object = value
            .as_object_mut()
            .context("hyperparameters are an object")?;
        if !object.contains_key(k) {
            bail!(
                "unknown hyperparameter `{k}`; known: {}",
                object.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        let parsed = serde_json::from_str(v).unwrap_or_else(|_| json!(v));
        object.insert(k.to_string(), parsed);
    }
    let hyperparams: Hyperparams =
        serde_json::from_value(value).context("the new hyperparameters are invalid")?;
    let key = ctx.coldkey(&name)?;
    let receipt = send(
        ctx,
        &key,
        Payload::SetHyperparams {
            netuid,
            hyperparams,
        },
        fee.fee,
    )
    .await?;
    print_receipt(
        ctx,
        &receipt,
        &format!("Updated hyperparameters of subnet {netuid}"),
    );
    Ok(())
}

/// `plexus subnet create`.
async fn create_subnet(
    ctx: &Context,
    name: String,
    subnet_name: String,
    mechanism: Mechanism,
    hyperparams: Option<PathBuf>,
    production: bool,
    fee: FeeArg,
) -> anyhow::Result<()> {
    let client = ctx.client()?;
    let hyperparams = match hyperparams {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a hyperparameters file", path.display()))?
        }
        None if production => Hyperparams::production(),
        None => Hyperparams::default(),
    };
    let key = ctx.coldkey(&name)?;
    let receipt = send(
        ctx,
        &key,
        Payload::CreateSubnet {
            name: subnet_name.clone(),
            mechanism,
            hyperparams,
        },
        fee.fee,
    )
    .await?;
    let subnets = client.subnets().await?.subnets;
    let netuid = subnets
        .iter()
        .filter(|s| s.owner == key.account() && s.name == subnet_name)
        .map(|s| s.netuid)
        .max();
    output::print(
        ctx,
        &json!({ "receipt": receipt, "netuid": netuid }),
        || {
            format!(
                "Created subnet '{subnet_name}' as netuid {} (tx {} in block {}).\nNext: `plexus subnet register --name {name} --hotkey HOTKEY --netuid {}`",
                netuid.map_or("?".into(), |n| n.to_string()),
                receipt.hash,
                receipt.height,
                netuid.map_or("N".into(), |n| n.to_string()),
            )
        },
    );
    Ok(())
}

/// `plexus subnet list`.
async fn list_subnets(ctx: &Context, client: &Client) -> anyhow::Result<()> {
    let subnets = client.subnets().await?.subnets;
    output::print(ctx, &subnets, || {
        if subnets.is_empty() {
            return "No subnets yet. Create one with `plexus subnet create --subnet-name NAME`."
                .into();
        }
        let rows = subnets
            .iter()
            .map(|s| {
                vec![
                    s.netuid.to_string(),
                    s.name.clone(),
                    format!("{:?}", s.mechanism).to_lowercase(),
                    format!("{}/{}", s.n, s.hyperparams.max_uids),
                    s.hyperparams.tempo.to_string(),
                    format_plx(s.burn_price),
                    s.owner.to_string(),
                ]
            })
            .collect::<Vec<_>>();
        output::table(
            &[
                "NETUID",
                "NAME",
                "MECHANISM",
                "UIDS",
                "TEMPO",
                "BURN",
                "OWNER",
            ],
            &rows,
        )
    });
    Ok(())
}

/// `plexus subnet show`.
async fn show_subnet(ctx: &Context, client: &Client, netuid: Netuid) -> anyhow::Result<()> {
    let subnet = client.subnet(netuid).await?.subnet;
    let metagraph = client.metagraph(netuid).await?;
    output::print(
        ctx,
        &json!({ "subnet": subnet, "metagraph": metagraph }),
        || {
            let mut out = format!(
                "Subnet {} '{}' ({:?}), owner {}\n  uids {}/{}  tempo {}  epoch {} (next at block {})  burn {} PLX\n  pending emission {} PLX  last epoch paid {} PLX\n\n",
                subnet.netuid,
                subnet.name,
                subnet.mechanism,
                subnet.owner,
                subnet.n,
                subnet.hyperparams.max_uids,
                subnet.hyperparams.tempo,
                subnet.epoch_index,
                subnet.next_epoch_block,
                format_plx(subnet.burn_price),
                format_plx(subnet.pending_emission),
                format_plx(subnet.last_epoch_emission),
            );
            let rows = metagraph
                .neurons
                .iter()
                .map(|n| {
                    vec![
                        n.uid.to_string(),
                        short(&n.hotkey),
                        format_plx(n.stake),
                        ratio(n.incentive),
                        ratio(n.dividends),
                        ratio(n.consensus),
                        ratio(n.validator_trust),
                        if n.validator_permit {
                            "yes".into()
                        } else {
                            "".into()
                        },
                        format_plx(n.emission),
                        n.endpoint.as_ref().map_or(String::new(), |e| e.url.clone()),
                    ]
                })
                .collect::<Vec<_>>();
            out.push_str(&output::table(
                &[
                    "UID",
                    "HOTKEY",
                    "STAKE",
                    "INCENTIVE",
                    "DIVIDENDS",
                    "CONSENSUS",
                    "VTRUST",
                    "PERMIT",
                    "EMISSION",
                    "ENDPOINT",
                ],
                &rows,
            ));
            out
        },
    );
    Ok(())
}

/// Stake commands.
#[derive(Debug, Subcommand)]
pub(crate) enum StakeCommand {
    /// Stake PLX from the wallet's coldkey to a hotkey (own, or any with --hotkey-address).
    Add {
        #[command(flatten)]
        key: KeyArgs,
        /// Stake to this address instead of a hotkey of the wallet (delegation).
        #[arg(long)]
        hotkey_address: Option<AccountId>,
        /// Amount in PLX.
        #[arg(long)]
        amount: Amount,
        #[command(flatten)]
        fee: FeeArg,
    },
    /// Withdraw stake back to the wallet's coldkey.
    Remove {
        #[command(flatten)]
        key: KeyArgs,
        /// Unstake from this address instead of a hotkey of the wallet.
        #[arg(long)]
        hotkey_address: Option<AccountId>,
        /// Amount in PLX.
        #[arg(long)]
        amount: Amount,
        #[command(flatten)]
        fee: FeeArg,
    },
    /// List the wallet coldkey's stakes.
    List {
        /// Wallet name.
        #[arg(long, default_value = "default")]
        name: String,
    },
}

pub(crate) async fn run_stake(ctx: &Context, cmd: StakeCommand) -> anyhow::Result<()> {
    match cmd {
        StakeCommand::Add {
            key,
            hotkey_address,
            amount,
            fee,
        } => change_stake(ctx, &key, hotkey_address, amount, &fee, false).await,
        StakeCommand::Remove {
            key,
            hotkey_address,
            amount,
            fee,
        } => change_stake(ctx, &key, hotkey_address, amount, &fee, true).await,
        StakeCommand::List { name } => {
            let coldkey = Wallet::open(&ctx.wallets()?, &name)?.coldkey_address();
            let client = ctx.client()?;
            let stakes = client.stakes(&coldkey).await?.stakes;
            output::print(ctx, &stakes, || {
                if stakes.is_empty() {
                    return format!(
                        "Wallet '{name}' has no stake. Add some with `plexus stake add`."
                    );
                }
                let rows = stakes
                    .iter()
                    .map(|s| vec![s.hotkey.to_string(), format_plx(s.amount)])
                    .collect::<Vec<_>>();
                output::table(&["HOTKEY", "STAKE (PLX)"], &rows)
            });
            Ok(())
        }
    }
}

async fn change_stake(
    ctx: &Context,
    key: &KeyArgs,
    hotkey_address: Option<AccountId>,
    amount: Amount,
    fee: &FeeArg,
    remove: bool,
) -> anyhow::Result<()> {
    let hotkey = match hotkey_address {
        Some(address) => address,
        None => key.hotkey_address(ctx)?,
    };
    let coldkey = key.coldkey(ctx)?;
    let (payload, what) = if remove {
        (
            Payload::RemoveStake {
                hotkey,
                amount: amount.0,
            },
            "Unstaked",
        )
    } else {
        (
            Payload::AddStake {
                hotkey,
                amount: amount.0,
            },
            "Staked",
        )
    };
    let receipt = send(ctx, &coldkey, payload, fee.fee).await?;
    print_receipt(
        ctx,
        &receipt,
        &format!("{what} {} PLX on {hotkey}", format_plx(amount.0)),
    );
    Ok(())
}

/// Weights commands.
#[derive(Debug, Subcommand)]
pub(crate) enum WeightsCommand {
    /// Commit to weights now; reveal them in the next epoch with `plexus weights reveal`.
    Commit {
        #[command(flatten)]
        key: KeyArgs,
        /// The subnet.
        #[arg(long)]
        netuid: Netuid,
        /// Weights as `uid:weight` pairs, weight either a u16 (0..=65535) or a fraction
        /// with a decimal point (`0.5`), e.g. `1:1.0,2:0.5`.
        #[arg(long)]
        weights: WeightList,
        /// Weights version key.
        #[arg(long, default_value_t = 0)]
        version_key: u64,
    },
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
    Set {
        #[command(flatten)]
        key: KeyArgs,
        /// The subnet.
        #[arg(long)]
        netuid: Netuid,
        /// Weights as `uid:weight` pairs (see `commit`).
        #[arg(long)]
        weights: WeightList,
        /// Weights version key.
        #[arg(long, default_value_t = 0)]
        version_key: u64,
    },
}

/// Parsed `uid:weight` pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WeightList(Weights);

impl FromStr for WeightList {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut pairs = Vec::new();
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (uid, weight) = pair
                .split_once(':')
                .ok_or_else(|| format!("`{pair}` is not uid:weight"))?;
            let uid: u16 = uid
                .trim()
                .parse()
                .map_err(|_| format!("`{uid}` is not a UID"))?;
            let weight = weight.trim();
            let weight = if weight.contains('.') {
                let x: f64 = weight
                    .parse()
                    .map_err(|_| format!("`{weight}` is not a number"))?;
                if !(0.0..=1.0).contains(&x) {
                    return Err(format!("fraction `{weight}` must be within 0 and 1"));
                }
                // Client-side convenience only: the chain sees the u16.
                (x * 65535.0).floor() as u16
            } else {
                weight
                    .parse()
                    .map_err(|_| format!("`{weight}` is not a u16 weight"))?
            };
            pairs.push((uid, weight));
        }
        if pairs.is_empty() {
            return Err("no weights given; write e.g. 1:1.0,2:0.5".into());
        }
        Ok(Self(Weights::from_pairs(&pairs)))
    }
}

/// Where `plexus weights` keeps a hotkey's pending commit on a subnet.
fn commit_file(wallet: &Wallet, hotkey: &str, netuid: Netuid) -> CommitFile {
    CommitFile::in_folder(&wallet.path().join("commits"), hotkey, netuid)
}

/// A progress line on stderr while a commit waits for its reveal window.
pub(crate) fn reveal_progress(ctx: &Context) -> impl FnMut(RevealProgress) + use<> {
    let quiet = ctx.json;
    let mut last = None;
    move |step| {
        if quiet {
            return;
        }
        match step {
            RevealProgress::Committed {
                height,
                epoch,
                reveal_from,
            } => eprintln!(
                "Committed weights in block {height} (epoch {epoch}); they are revealed once block {reveal_from} is finalized."
            ),
            RevealProgress::Waiting {
                height,
                reveal_from,
            } if last != Some(height) => {
                last = Some(height);
                eprint!("\r  waiting for the reveal window: block {height} of {reveal_from}  ");
                if height >= reveal_from {
                    eprintln!();
                }
            }
            RevealProgress::Waiting { .. } => {}
        }
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
        WeightsCommand::Commit {
            key,
            netuid,
            weights,
            version_key: version,
        } => {
            let file = commit_file(&key.wallet(ctx)?, &key.hotkey, netuid);
            let hotkey = key.hotkey_key(ctx)?;
            let (sent, pending) = client
                .commit_weights(&hotkey, netuid, weights.0, version, &file)
                .await
                .map_err(weights_error)?;
            let subnet = client.subnet(netuid).await?.subnet;
            let receipt = Receipt::from(sent);
            output::print(
                ctx,
                &json!({ "receipt": receipt, "commit": pending.commit, "saved": file.path() }),
                || {
                    format!(
                        "Committed weights {} on subnet {netuid} (block {}).\nReveal after block {} with `plexus weights reveal --name {} --hotkey {} --netuid {netuid}` (or let `plexus weights set` do both).",
                        pending.commit,
                        receipt.height,
                        subnet.next_epoch_block,
                        key.name,
                        key.hotkey
                    )
                },
            );
            Ok(())
        }
        WeightsCommand::Reveal { key, netuid } => {
            let file = commit_file(&key.wallet(ctx)?, &key.hotkey, netuid);
            if file.load()?.is_none() {
                bail!(
                    "no saved commit at {}: run `plexus weights commit` first",
                    file.path().display()
                );
            }
            let hotkey = key.hotkey_key(ctx)?;
            let sent = client
                .reveal_weights(&hotkey, &file)
                .await
                .map_err(weights_error)?;
            print_receipt(
                ctx,
                &Receipt::from(sent),
                &format!("Revealed weights on subnet {netuid}"),
            );
            Ok(())
        }
        WeightsCommand::Set {
            key,
            netuid,
            weights,
            version_key: version,
        } => set_weights(ctx, &client, key, netuid, weights, version).await,
    }
}

/// `plexus weights set`: directly, or commit, wait and reveal on commit-reveal subnets.
async fn set_weights(
    ctx: &Context,
    client: &Client,
    key: KeyArgs,
    netuid: Netuid,
    weights: WeightList,
    version: u64,
) -> anyhow::Result<()> {
    let file = commit_file(&key.wallet(ctx)?, &key.hotkey, netuid);
    let hotkey = key.hotkey_key(ctx)?;
    let set = client
        .set_weights(
            &hotkey,
            netuid,
            weights.0,
            version,
            &file,
            reveal_progress(ctx),
        )
        .await
        .map_err(weights_error)?;
    match set {
        WeightsSet::Direct(sent) => print_receipt(
            ctx,
            &Receipt::from(sent),
            &format!("Set weights on subnet {netuid}"),
        ),
        WeightsSet::Revealed { commit, reveal } => {
            let (commit, reveal) = (Receipt::from(commit), Receipt::from(reveal));
            output::print(ctx, &json!({ "commit": commit, "reveal": reveal }), || {
                format!(
                    "Set weights on subnet {netuid} by commit and reveal\n  commit tx {} in block {}\n  reveal tx {} in block {}",
                    commit.hash, commit.height, reveal.hash, reveal.height
                )
            });
        }
    }
    Ok(())
}

fn short(id: &AccountId) -> String {
    let text = id.to_string();
    format!("{}…{}", &text[..10], &text[text.len() - 6..])
}

fn ratio(x: u16) -> String {
    format!("{:.4}", f64::from(x) / 65535.0)
}
