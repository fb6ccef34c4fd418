//! `plexus data download`: a task's published dataset or public training half, checked
//! against the chain.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use plexus_datastore::write_dataset;
use serde_json::json;

use super::{StoreArg, fetch_task};
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
    let (id, out) = (task.id, args.out.display());
    // The training half: the chain commits to the manifest, the manifest to the half.
    if args.training_half {
        let (manifest, csv) = store.task_training_half(&task).await?;
        let schema = store.task_schema(&task, args.metadata.as_deref()).await?;
        write_dataset(&schema, &csv, &args.out)?;
        let (rows, half) = (manifest.train_rows, manifest.train);
        output::print(
            ctx,
            &json!({ "task": id, "rows": rows, "training_half": half, "out": args.out, "verified": true }),
            || {
                format!(
                    "Downloaded the training half of task {id} ({rows} rows, {half}) to {out}; it matches the task's reference commitment."
                )
            },
        );
        return Ok(());
    }
    let Some(published) = &task.published else {
        bail!(
            "task {id} has no published dataset yet (phase: {}): a validator publishes after block {}",
            task.phase,
            task.reveal_deadline
        );
    };
    let schema = store.task_schema(&task, args.metadata.as_deref()).await?;
    let (rows, root) = (published.rows, published.merkle_root);
    let csv = store.published_dataset(&schema, &root, rows).await?;
    write_dataset(&schema, &csv, &args.out)?;
    output::print(
        ctx,
        &json!({ "task": id, "rows": rows, "merkle_root": root, "out": args.out, "verified": true }),
        || {
            format!(
                "Downloaded {rows} rows of task {id} to {out}; Merkle root {root} matches the chain."
            )
        },
    );
    Ok(())
}
