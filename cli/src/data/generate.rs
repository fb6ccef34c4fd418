//! `plexus data generate`.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;
use plexus_datastore::{
    content_hash,
    generate::{synthesize, task_training},
    read_input, schema_input, table_input,
};
use serde_json::json;

use super::{StoreArg, fetch_task};
use crate::{context::Context, output};

/// `plexus data generate`.
#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// SDV metadata JSON.
    #[arg(long)]
    metadata: PathBuf,
    /// Real rows to fit the copula on (default with --task: the task's public training half).
    #[arg(long)]
    real: Option<PathBuf>,
    /// Rows to sample (default: the size of the task's training half with --task, the
    /// size validators expect; otherwise half the real rows).
    #[arg(long)]
    rows: Option<usize>,
    /// Seed (default: derived from --task, else 0).
    #[arg(long)]
    seed: Option<u64>,
    /// Fit one copula per value of this categorical column.
    #[arg(long)]
    stratify: Option<String>,
    /// Check the metadata against this task's schema hash, seed from it, and fit on its
    /// public training half unless --real is given.
    #[arg(long)]
    task: Option<u64>,
    /// Output CSV.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    store: StoreArg,
}

pub(super) async fn run(ctx: &Context, args: &GenerateArgs) -> anyhow::Result<()> {
    let meta = read_input(&args.metadata, "metadata")?;
    let schema = schema_input(&meta, &args.metadata)?;
    // With --task: the metadata must be the task's, the seed and (unless --real is
    // given) the real rows come from it.
    let (seed, half) = match args.task {
        Some(id) => {
            let task = fetch_task(ctx, id).await?.task;
            let store = match args.real {
                Some(_) => None,
                None => Some(args.store.open(ctx)?),
            };
            let half = task_training(&task, &meta, &args.metadata, &schema, store.as_ref());
            (args.seed.unwrap_or(id), half.await?)
        }
        None => (args.seed.unwrap_or(0), None),
    };
    let (real, default_rows) = match (&args.real, half) {
        (Some(path), _) => {
            let real = table_input(&schema, path, "real data")?;
            let rows = real.num_rows() / 2;
            (real, rows)
        }
        (None, Some(half)) => {
            let rows = half.num_rows();
            (half, rows)
        }
        (None, None) => {
            bail!("pass --real REAL.csv, or --task ID to fit on a public task's training half")
        }
    };
    let rows = args.rows.unwrap_or(default_rows.max(1));
    let csv = synthesize(&schema, &real, rows, seed, args.stratify.as_deref())?;
    std::fs::write(&args.out, &csv)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let value = json!({ "rows": rows, "out": args.out, "content_hash": content_hash(&csv) });
    output::print(ctx, &value, || {
        format!("Wrote {rows} synthetic rows to {}", args.out.display())
    });
    Ok(())
}
