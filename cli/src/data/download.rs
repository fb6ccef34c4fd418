//! `plexus data download`: a task's published dataset or public training half, checked
//! against the chain.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use plexus_api::wire::DataTask;
use plexus_datastore::DataStore;
use serde_json::json;

use super::{StoreArg, fetch_task, public_reference, task_schema, write_dataset};
use crate::{context::Context, output};

/// `plexus data download`.
#[derive(Debug, Args)]
pub(crate) struct DownloadArgs {
    /// The task.
    #[arg(long)]
    task: u64,
    /// Output file: CSV, or Parquet when it ends in `.parquet`.
    #[arg(long)]
    out: PathBuf,
    /// Download the task's public training half (what contributors fit on) instead of
    /// its published dataset.
    #[arg(long)]
    training_half: bool,
    /// SDV metadata JSON (default: the task's schema from the store).
    #[arg(long)]
    metadata: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArg,
}

pub(super) async fn run(ctx: &Context, args: &DownloadArgs) -> anyhow::Result<()> {
    let store = args.store.open(ctx)?;
    let task = fetch_task(ctx, args.task).await?.task;
    if args.training_half {
        return training_half(ctx, args, &task, &store).await;
    }
    let Some(published) = &task.published else {
        bail!(
            "task {} has no published dataset yet (phase: {}): a validator publishes after block {}",
            task.id,
            task.phase,
            task.reveal_deadline
        );
    };
    let schema = task_schema(&task, args.metadata.as_deref(), &store).await?;
    let csv = store
        .published_dataset(&schema, &published.merkle_root, published.rows)
        .await?;
    let (rows, root) = (published.rows, published.merkle_root);
    write_dataset(&schema, &csv, &args.out)?;
    output::print(
        ctx,
        &json!({ "task": task.id, "rows": rows, "merkle_root": root, "out": args.out, "verified": true }),
        || {
            format!(
                "Downloaded {rows} rows of task {} to {}; Merkle root {root} matches the chain.",
                task.id,
                args.out.display()
            )
        },
    );
    Ok(())
}

/// The task's public training half: the chain commits to the manifest, the manifest to
/// the half, both checked on read.
async fn training_half(
    ctx: &Context,
    args: &DownloadArgs,
    task: &DataTask,
    store: &DataStore,
) -> anyhow::Result<()> {
    let manifest = public_reference(task, store).await?;
    let csv = store.training_half(&manifest).await?;
    let schema = task_schema(task, args.metadata.as_deref(), store).await?;
    write_dataset(&schema, &csv, &args.out)?;
    output::print(
        ctx,
        &json!({ "task": task.id, "rows": manifest.train_rows, "training_half": manifest.train, "out": args.out, "verified": true }),
        || {
            format!(
                "Downloaded the training half of task {} ({} rows, {}) to {}; it matches the task's reference commitment.",
                task.id,
                manifest.train_rows,
                manifest.train,
                args.out.display()
            )
        },
    );
    Ok(())
}
