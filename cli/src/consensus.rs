//! `plexus consensus bond|unbond|rotate-key|set`: run a consensus validator on a chain
//! whose validator set follows bonded stake, and read the set a light client would.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use plexus_client::trust::TrustAnchor;
use plexus_types::{AccountId, Keypair, Payload, format_plx, parse_plx_arg};

use crate::{
    chain::{FeeArg, print_receipt, send},
    context::Context,
    output,
};

/// Consensus validator commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ConsensusCommand {
    /// Bond PLX for a consensus key: it enters the set at the next epoch boundary if
    /// its bond is among the largest (and at least the chain's minimum).
    Bond {
        #[command(flatten)]
        signer: Operator,
        /// The key the validator votes with (`plexus node --show-key` prints it);
        /// the operator's own key when left out.
        #[arg(long)]
        consensus_key: Option<AccountId>,
        /// Amount in PLX.
        #[arg(long, value_parser = parse_plx_arg)]
        amount: u64,
        #[command(flatten)]
        fee: FeeArg,
    },
    /// Unbond PLX: it stops counting at once and returns after the unbonding delay.
    Unbond {
        #[command(flatten)]
        signer: Operator,
        /// Amount in PLX.
        #[arg(long, value_parser = parse_plx_arg)]
        amount: u64,
        #[command(flatten)]
        fee: FeeArg,
    },
    /// Vote with another key from the next epoch (start a node with that key then).
    RotateKey {
        #[command(flatten)]
        signer: Operator,
        /// The new consensus key.
        #[arg(long)]
        new_key: AccountId,
        #[command(flatten)]
        fee: FeeArg,
    },
    /// The validator set of an epoch (the current one when left out), followed from
    /// the genesis set through certified hand-overs: nothing the node says is taken
    /// on trust but the genesis.
    Set {
        /// The epoch.
        #[arg(long)]
        epoch: Option<u64>,
    },
}

/// Who signs: a wallet's coldkey, or a node's own key (a genesis validator's
/// operator is its node key).
#[derive(Debug, Args)]
pub(crate) struct Operator {
    /// Wallet whose coldkey operates the validator.
    #[arg(long, default_value = "default", conflicts_with = "node_dir")]
    name: String,
    /// Sign with the key of the node whose data folder this is instead.
    #[arg(long)]
    node_dir: Option<PathBuf>,
}

impl Operator {
    fn key(&self, ctx: &Context) -> anyhow::Result<Keypair> {
        match &self.node_dir {
            Some(dir) => {
                let path = dir.join(plexus_node::KEY_FILE);
                plexus_node::read_key(&path)
                    .with_context(|| format!("cannot read the node key {}", path.display()))
            }
            None => ctx.coldkey(&self.name),
        }
    }
}

pub(crate) async fn run(ctx: &Context, cmd: ConsensusCommand) -> anyhow::Result<()> {
    let (key, payload, fee, what) = match cmd {
        ConsensusCommand::Bond {
            signer,
            consensus_key,
            amount,
            fee,
        } => {
            let key = signer.key(ctx)?;
            let consensus_key = consensus_key.unwrap_or(key.account());
            let what = format!("Bonded {} PLX for {consensus_key}", format_plx(amount));
            let payload = Payload::Bond {
                consensus_key,
                amount,
            };
            (key, payload, fee, what)
        }
        ConsensusCommand::Unbond {
            signer,
            amount,
            fee,
        } => {
            let what = format!("Unbonding {} PLX", format_plx(amount));
            (signer.key(ctx)?, Payload::Unbond { amount }, fee, what)
        }
        ConsensusCommand::RotateKey {
            signer,
            new_key,
            fee,
        } => {
            let what = format!("Votes with {new_key} from the next epoch");
            let payload = Payload::RotateConsensusKey { new_key };
            (signer.key(ctx)?, payload, fee, what)
        }
        ConsensusCommand::Set { epoch } => return show_set(ctx, epoch).await,
    };
    let receipt = send(ctx, &key, payload, fee.fee).await?;
    print_receipt(ctx, &receipt, &what);
    Ok(())
}

async fn show_set(ctx: &Context, epoch: Option<u64>) -> anyhow::Result<()> {
    let client = ctx.client()?;
    let anchor = TrustAnchor::served(&client).await?;
    let epoch = match epoch {
        Some(epoch) => epoch,
        None => {
            let tip = client.status().await?.node.finalized_height;
            tip.checked_div(anchor.epoch_length).unwrap_or(0)
        }
    };
    let set = client
        .validator_set(&anchor, epoch)
        .await
        .with_context(|| format!("following the validator set to epoch {epoch}"))?;
    output::print(
        ctx,
        &serde_json::json!({ "epoch": epoch, "validators": set }),
        || {
            let mut text = format!("Validator set of consensus epoch {epoch} ({}):", set.len());
            for key in &set {
                text.push_str(&format!("\n  {key}"));
            }
            text
        },
    );
    Ok(())
}
