//! `plexus data score`: an SDMetrics-style report of synthetic data against real data,
//! offline.

use std::path::PathBuf;

use clap::Args;
use plexus_synth::score_report;

use crate::{context::Context, output};
use plexus_datastore::{read_input, schema_input, table_input};

/// `plexus data score`.
#[derive(Debug, Args)]
pub(crate) struct ScoreArgs {
    /// SDV metadata JSON.
    #[arg(long)]
    metadata: PathBuf,
    /// Real rows (the training half when --holdout is given).
    #[arg(long)]
    real: PathBuf,
    /// Synthetic rows.
    #[arg(long)]
    synthetic: PathBuf,
    /// Held-out real rows: enables the gates, privacy and the score.
    #[arg(long)]
    holdout: Option<PathBuf>,
    /// Seed for the noise baseline.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub(super) fn run(ctx: &Context, args: &ScoreArgs) -> anyhow::Result<()> {
    let meta = read_input(&args.metadata, "metadata")?;
    let schema = schema_input(&meta, &args.metadata)?;
    let real = table_input(&schema, &args.real, "real data")?;
    let synthetic = table_input(&schema, &args.synthetic, "synthetic data")?;
    let holdout = match &args.holdout {
        Some(path) => Some(table_input(&schema, path, "holdout")?),
        None => None,
    };
    let out = score_report(&schema, &real, &synthetic, holdout.as_ref(), args.seed);
    output::print(ctx, &out, || plexus_datastore::score_text(&out));
    Ok(())
}
