//! The offline report of `plexus data score`: SDMetrics-style quality, diagnostics and
//! privacy of synthetic rows against real rows, and with a holdout the gates and the
//! F/U/P score the validators compute.

use serde::Serialize;
use serde_json::json;

use crate::{
    GateParams, QualityReport, Schema, SubmissionScore, Table, data_validity, dcr, median,
    new_row_synthesis, score_submission, seed_from,
};

/// The quality part of a [`ScoreReport`].
#[derive(Debug, Clone, Serialize)]
pub struct QualitySummary {
    /// The mean of the two properties.
    pub overall: f64,
    /// Column shapes.
    pub column_shapes: f64,
    /// Column pair trends.
    pub column_pair_trends: f64,
    /// Per column and per pair.
    pub details: serde_json::Value,
}

/// An offline report of synthetic rows against real rows (serialized as
/// `plexus data score --json` prints it).
#[derive(Debug, Clone, Serialize)]
pub struct ScoreReport {
    /// Quality.
    pub quality: QualitySummary,
    /// Data validity and new-row synthesis.
    pub diagnostic: serde_json::Value,
    /// Privacy: the median DCR, or with a holdout the P term and its inputs.
    pub privacy: serde_json::Value,
    /// The gates, with a holdout.
    pub gates: Option<serde_json::Value>,
    /// The score, with a holdout.
    pub score: Option<f64>,
    /// The full submission score, with a holdout.
    pub details: Option<SubmissionScore>,
    /// The quality report the summary came from.
    #[serde(skip)]
    pub report: QualityReport,
}

/// Report on `synthetic` against `real`; with `holdout` (the real rows held out of
/// training) also the gates and the score, with the noise baseline drawn from `seed`.
pub fn score_report(
    schema: &Schema,
    real: &Table,
    synthetic: &Table,
    holdout: Option<&Table>,
    seed: u64,
) -> ScoreReport {
    let report = crate::quality_report(schema, real, synthetic);
    let validity = data_validity(schema, real, synthetic);
    let new_rows = new_row_synthesis(schema, real, synthetic);
    let mut out = ScoreReport {
        quality: QualitySummary {
            overall: report.overall,
            column_shapes: report.column_shapes,
            column_pair_trends: report.column_pair_trends,
            details: json!({ "shapes": report.shapes, "pairs": report.pairs }),
        },
        diagnostic: json!({ "data_validity": validity, "new_row_synthesis": new_rows }),
        privacy: json!({ "median_dcr_synthetic_to_real": median(&dcr(schema, synthetic, real)) }),
        gates: None,
        score: None,
        details: None,
        report,
    };
    if let Some(holdout) = holdout {
        let seed = seed_from(b"plexus data score", seed);
        let s = score_submission(
            schema,
            real,
            holdout,
            synthetic,
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
            "membership_inference": s.membership,
            "worst_auc": s.membership.worst_auc,
            "worst_attack": s.membership.worst_attack,
            "disclosure_protection": s.disclosure_protection,
            "dcr_overfitting_protection": s.dcr_overfitting_protection,
        });
        out.gates = Some(json!({ "passed": s.passed, "gates": s.gates }));
        out.score = Some(s.score);
        out.details = Some(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::from_metadata_json(r#"{"columns": {"x": {"sdtype": "numerical"}}}"#)
            .expect("a schema")
    }

    fn table(xs: &[f64]) -> Table {
        let csv: String = std::iter::once("x".to_string())
            .chain(xs.iter().map(|x| x.to_string()))
            .collect::<Vec<_>>()
            .join("\n");
        Table::from_csv(&schema(), csv.as_bytes()).expect("a table")
    }

    #[test]
    fn the_median_skips_nan_and_averages_the_middle_pair() {
        assert_eq!(median(&[3.0, f64::NAN, 1.0, 2.0, 4.0]), 2.5);
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
        assert!(median(&[f64::NAN]).is_nan());
    }

    #[test]
    fn a_report_without_a_holdout_has_no_gates_and_one_with_a_holdout_has_a_score() {
        let schema = schema();
        let xs: Vec<f64> = (0..40).map(f64::from).collect();
        let real = table(&xs[..20]);
        let holdout = table(&xs[20..]);
        let synthetic = table(&xs.iter().map(|x| x + 0.5).collect::<Vec<_>>());
        let offline = score_report(&schema, &real, &synthetic, None, 0);
        assert!(offline.gates.is_none() && offline.score.is_none());
        let json = serde_json::to_value(&offline).expect("json");
        assert!(json["privacy"]["median_dcr_synthetic_to_real"].is_number());
        assert!(json.get("report").is_none());
        let scored = score_report(&schema, &real, &synthetic, Some(&holdout), 0);
        assert!(scored.score.is_some() && scored.details.is_some());
        let json = serde_json::to_value(&scored).expect("json");
        assert!(json["privacy"]["worst_auc"].is_number());
        assert!(json["privacy"]["worst_attack"].is_string());
        assert_eq!(
            scored.gates.as_ref().map(|g| g["passed"].is_boolean()),
            Some(true)
        );
    }
}
