//! `plexus data task create|list|show`.

use std::path::PathBuf;

use anyhow::{Context as _, anyhow};
use clap::{Args, Subcommand};
use plexus_datastore::{
    DataStore, InputError, PreparedTask, TaskFiles, TaskTerms, created_text, read_input,
    schema_input,
};
use plexus_types::Netuid;
use serde_json::json;

use super::{StoreArg, fetch_task};
use crate::{chain::send, context::Context, output};

/// `plexus data task ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum TaskCommand {
    /// Post a task on a data subnet, escrowing the bounty from the wallet's coldkey.
    Create(CreateArgs),
    /// List tasks, newest first.
    List {
        /// Only the tasks of this subnet.
        #[arg(long)]
        netuid: Option<Netuid>,
    },
    /// Show one task with its commits and reveals.
    Show {
        /// The task id.
        id: u64,
    },
}

/// `plexus data task create`.
#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// Wallet name (its coldkey pays the bounty).
    #[arg(long, default_value = "default")]
    name: String,
    /// SDV metadata JSON of the table (its blake3 goes on chain).
    #[arg(long)]
    metadata: PathBuf,
    /// The reference CSV validators score against. It is split 50/50 here: the
    /// training half goes into the store for contributors, the holdout stays with
    /// you and the validators, and the chain gets the hash of the split's manifest.
    #[arg(long)]
    reference: PathBuf,
    /// Keep the whole reference private: only its blake3 goes on chain, contributors
    /// see none of it, and validators split it after the reveal deadline.
    #[arg(long)]
    private: bool,
    #[command(flatten)]
    terms: TaskTerms,
    #[command(flatten)]
    store: StoreArg,
}

pub(super) async fn run(ctx: &Context, cmd: TaskCommand) -> anyhow::Result<()> {
    match cmd {
        TaskCommand::Create(args) => create(ctx, &args).await,
        TaskCommand::List { netuid } => {
            let tasks = ctx.client()?.data_tasks(netuid, None).await?;
            output::print(ctx, &tasks, || tasks.to_string());
            Ok(())
        }
        TaskCommand::Show { id } => {
            let at = fetch_task(ctx, id).await?;
            output::print(ctx, &at.task, || at.to_string());
            Ok(())
        }
    }
}

/// Check the reference against the schema, then put the schema (and, for a public
/// task, the training half and the split's manifest) into the store.
async fn store_files(
    ctx: &Context,
    args: &CreateArgs,
) -> anyhow::Result<(DataStore, PreparedTask)> {
    let meta = read_input(&args.metadata, "metadata")?;
    let schema = schema_input(&meta, &args.metadata)?;
    let reference_bytes = read_input(&args.reference, "reference")?;
    let files = TaskFiles::check(&schema, meta, &reference_bytes)
        .map_err(|e| InputError::reference(e, &args.reference))?;
    let store = args.store.open(ctx)?;
    let prepared = files.store(&store, args.private).await?;
    Ok((store, prepared))
}

async fn create(ctx: &Context, args: &CreateArgs) -> anyhow::Result<()> {
    let (store, stored) = store_files(ctx, args).await?;
    let coldkey = ctx.coldkey(&args.name)?;
    let client = ctx.client()?;
    let height = client.tip_height().await.context("cannot reach the node")?;
    let receipt = send(ctx, &coldkey, stored.payload(&args.terms, height), None).await?;
    let tasks = client.data_tasks(Some(args.terms.netuid), Some(20)).await?;
    let task = tasks
        .tasks
        .into_iter()
        .find(|t| t.creator == coldkey.account() && t.created_at == receipt.height)
        .ok_or_else(|| {
            anyhow!("the task was created but is not listed yet: run `plexus data task list`")
        })?;
    let public = &stored.public;
    output::print(
        ctx,
        &json!({ "receipt": receipt, "task": task, "public_reference": public }),
        || created_text(&task, receipt.height, public.as_ref(), store.describe()),
    );
    Ok(())
}
