//! `plexus data`: data tasks, the Gaussian copula, offline scoring, submissions,
//! the validator duty, and dataset downloads.

mod download;
mod generate;
mod score;
mod submit;
mod task;
mod validate;

use std::path::Path;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use plexus_api::wire::DataTaskAt;
pub(crate) use plexus_datastore::StoreFiles;
use plexus_datastore::{DataStore, InputError, ValidateError};

use crate::{chain::client_error, context::Context};

/// Where datasets and submissions are stored.
#[derive(Debug, Clone, Args)]
pub(crate) struct StoreArg {
    /// The dataset store: a directory, file:///path, or s3://bucket/prefix (credentials
    /// and endpoint from AWS_* variables). Default: $PLEXUS_HOME/datasets, else
    /// ~/.plexus/datasets.
    #[arg(long, env = "PLEXUS_DATA_STORE")]
    store: Option<String>,
}

impl StoreArg {
    fn open(&self, ctx: &Context) -> anyhow::Result<DataStore> {
        open_store(ctx, self.store.as_deref())
    }
}

/// The dataset store at `url`, else `$PLEXUS_HOME/datasets` (or `~/.plexus/datasets`).
pub(crate) fn open_store(ctx: &Context, url: Option<&str>) -> anyhow::Result<DataStore> {
    Ok(match url {
        Some(url) => DataStore::open(url)?,
        None => DataStore::local(&ctx.state_dir("datasets", None)?)?,
    })
}

/// `plexus data ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum DataCommand {
    /// Post, list and inspect data tasks.
    #[command(subcommand)]
    Task(task::TaskCommand),
    /// Sample synthetic rows with the Gaussian copula.
    Generate(generate::GenerateArgs),
    /// Score synthetic data against real data offline (SDMetrics-style report).
    Score(score::ScoreArgs),
    /// Commit to a submission, wait for the commit deadline, then reveal it.
    Submit(submit::SubmitArgs),
    /// Run the validator duty once for a task: score, set weights, publish the dataset.
    Validate(validate::ValidateArgs),
    /// Download a task's published dataset and check its Merkle root against the chain.
    Download(download::DownloadArgs),
}

pub(crate) async fn run(ctx: &Context, cmd: DataCommand) -> anyhow::Result<()> {
    match cmd {
        DataCommand::Task(cmd) => task::run(ctx, cmd).await,
        DataCommand::Generate(args) => generate::run(ctx, &args).await,
        DataCommand::Score(args) => score::run(ctx, &args),
        DataCommand::Submit(args) => submit::run(ctx, &args).await,
        DataCommand::Validate(args) => validate::run(ctx, &args).await,
        DataCommand::Download(args) => download::run(ctx, &args).await,
    }
}

/// Data task `id` and the height it was read at.
async fn fetch_task(ctx: &Context, id: u64) -> anyhow::Result<DataTaskAt> {
    ctx.client()?.data_task(id).await.with_context(|| {
        format!("cannot read data task {id}: list tasks with `plexus data task list`")
    })
}

/// A duty error as the user gave the files: `metadata` and `reference` by their paths,
/// a refused transaction with what it means.
fn named(error: ValidateError, metadata: &Path, reference: Option<&Path>) -> anyhow::Error {
    match error {
        ValidateError::Publish(e) => client_error(e),
        e => InputError::naming(e, metadata, reference).into(),
    }
}
