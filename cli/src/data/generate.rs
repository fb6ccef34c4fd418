//! `plexus data generate`.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;
use plexus_datastore::{content_hash, read_input, schema_input, table_input};
use plexus_synth::{GaussianCopula, Schema, Table, seed_from};
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
    let (seed_u64, training_half) = match args.task {
        Some(id) => from_task(ctx, args, &meta, &schema, id).await?,
        None => (args.seed.unwrap_or(0), None),
    };
    let (real, default_rows) = match (&args.real, training_half) {
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
    let seed = seed_from(b"plexus data generate", seed_u64);
    let model = match &args.stratify {
        Some(column) => GaussianCopula::fit_stratified(&schema, &real, column, seed),
        None => GaussianCopula::fit(&schema, &real, seed),
    }
    .context("cannot fit the Gaussian copula to the real data")?;
    let csv = model.sample(rows, seed).to_csv(&schema);
    std::fs::write(&args.out, &csv)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    output::print(
        ctx,
        &json!({ "rows": rows, "out": args.out, "content_hash": content_hash(&csv) }),
        || format!("Wrote {rows} synthetic rows to {}", args.out.display()),
    );
    Ok(())
}

/// With `--task`: check the metadata against the task, take the seed from it, and
/// fetch its public training half unless `--real` is given.
async fn from_task(
    ctx: &Context,
    args: &GenerateArgs,
    meta: &[u8],
    schema: &Schema,
    id: u64,
) -> anyhow::Result<(u64, Option<Table>)> {
    let task = fetch_task(ctx, id).await?.task;
    if content_hash(meta) != task.schema_hash {
        bail!(
            "{} is not the schema of task {id} (it hashes to {}, the task's is {})",
            args.metadata.display(),
            content_hash(meta),
            task.schema_hash
        );
    }
    let seed = args.seed.unwrap_or(id);
    if args.real.is_some() {
        return Ok((seed, None));
    }
    let (_, csv) = args.store.open(ctx)?.task_training_half(&task).await?;
    let half = Table::from_csv(schema, &csv)
        .context("the task's training half does not parse against its schema")?;
    Ok((seed, Some(half)))
}
