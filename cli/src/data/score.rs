//! `plexus data score`: an SDMetrics-style report of synthetic data against real data,
//! offline.

use std::path::PathBuf;

use clap::Args;
use plexus_synth::{ScoreReport, score_report};

use super::{read, schema_from, table};
use crate::{context::Context, output};

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
    let meta = read(&args.metadata, "metadata")?;
    let schema = schema_from(&meta, &args.metadata.display().to_string())?;
    let real = table(&schema, &args.real, "real data")?;
    let synthetic = table(&schema, &args.synthetic, "synthetic data")?;
    let holdout = match &args.holdout {
        Some(path) => Some(table(&schema, path, "holdout")?),
        None => None,
    };
    let out = score_report(&schema, &real, &synthetic, holdout.as_ref(), args.seed);
    output::print(ctx, &out, || human_score(&out));
    Ok(())
}

fn human_score(out: &ScoreReport) -> String {
    let report = &out.report;
    let pct = |x: f64| {
        if x.is_nan() {
            "n/a".to_string()
        } else {
            format!("{:.2}%", x * 100.0)
        }
    };
    let mut s = format!(
        "Overall Score (Average): {}\n\nProperties:\n- Column Shapes: {}\n- Column Pair Trends: {}\n",
        pct(out.quality.overall),
        pct(out.quality.column_shapes),
        pct(out.quality.column_pair_trends)
    );
    let shapes: Vec<Vec<String>> = report
        .shapes
        .iter()
        .map(|d| {
            vec![
                d.column.clone(),
                format!("{:?}", d.metric),
                format!("{:.6}", d.score),
            ]
        })
        .collect();
    s.push('\n');
    s.push_str(&output::table(&["Column", "Metric", "Score"], &shapes));
    s.push('\n');
    if let Some(d) = &out.details {
        s.push_str(&format!(
            "\nGates ({}):\n",
            if d.passed { "all passed" } else { "FAILED" }
        ));
        let rows: Vec<Vec<String>> = d
            .gates
            .iter()
            .map(|g| {
                vec![
                    g.name.clone(),
                    format!("{:.6}", g.statistic),
                    format!("{:.6}", g.limit),
                    if g.passed { "pass" } else { "FAIL" }.to_string(),
                ]
            })
            .collect();
        s.push_str(&output::table(&["gate", "statistic", "limit", ""], &rows));
        s.push_str(&format!(
            "\n\nF (fidelity) {:.6}  U (utility) {}  P (privacy) {:.6} (factor {:.6})\nScore: {:.6}\n",
            d.fidelity,
            d.utility.map_or("n/a".into(), |u| format!("{u:.6}")),
            d.privacy,
            d.privacy_factor,
            d.score
        ));
    } else {
        s.push_str("\nPass --holdout HOLD.csv for the gates and the F/U/P score.\n");
    }
    s
}
