//! `plexus data score`: an SDMetrics-style report of synthetic data against real data,
//! offline.

use std::path::PathBuf;

use clap::Args;
use plexus_synth::{
    GateParams, data_validity, dcr, new_row_synthesis, score_submission, seed_from,
};
use serde::Serialize;
use serde_json::json;

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

/// The JSON `plexus data score --json` prints.
#[derive(Debug, Serialize)]
struct ScoreOutput {
    quality: QualityOut,
    diagnostic: serde_json::Value,
    privacy: serde_json::Value,
    gates: Option<serde_json::Value>,
    score: Option<f64>,
    details: Option<plexus_synth::SubmissionScore>,
}

#[derive(Debug, Serialize)]
struct QualityOut {
    overall: f64,
    column_shapes: f64,
    column_pair_trends: f64,
    details: serde_json::Value,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| !x.is_nan());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub(super) fn run(ctx: &Context, args: &ScoreArgs) -> anyhow::Result<()> {
    let meta = read(&args.metadata, "metadata")?;
    let schema = schema_from(&meta, &args.metadata.display().to_string())?;
    let real = table(&schema, &args.real, "real data")?;
    let synthetic = table(&schema, &args.synthetic, "synthetic data")?;
    let report = plexus_synth::quality_report(&schema, &real, &synthetic);
    let validity = data_validity(&schema, &real, &synthetic);
    let new_rows = new_row_synthesis(&schema, &real, &synthetic);
    let mut out = ScoreOutput {
        quality: QualityOut {
            overall: report.overall,
            column_shapes: report.column_shapes,
            column_pair_trends: report.column_pair_trends,
            details: json!({ "shapes": report.shapes, "pairs": report.pairs }),
        },
        diagnostic: json!({ "data_validity": validity, "new_row_synthesis": new_rows }),
        privacy: json!({ "median_dcr_synthetic_to_real": median(dcr(&schema, &synthetic, &real)) }),
        gates: None,
        score: None,
        details: None,
    };
    if let Some(path) = &args.holdout {
        let holdout = table(&schema, path, "holdout")?;
        let seed = seed_from(b"plexus data score", args.seed);
        let s = score_submission(
            &schema,
            &real,
            &holdout,
            &synthetic,
            &[],
            &GateParams::default(),
            seed,
        );
        out.privacy = json!({
            "privacy": s.privacy,
            "privacy_factor": s.privacy_factor,
            "median_dcr_synthetic": s.median_dcr_synthetic,
            "median_dcr_holdout": s.median_dcr_holdout,
            "near_copy_threshold": s.near_copy_threshold,
        });
        out.gates = Some(json!({ "passed": s.passed, "gates": s.gates }));
        out.score = Some(s.score);
        out.details = Some(s);
    }
    output::print(ctx, &out, || human_score(&out, &report));
    Ok(())
}

fn human_score(out: &ScoreOutput, report: &plexus_synth::QualityReport) -> String {
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
