//! What the data workflows did, as people read it: the text the `plexus data`
//! commands print without `--json`.

use plexus_client::{Sent, weights::WeightsSet, wire::DataTask};
use plexus_synth::ScoreReport;
use plexus_types::{format_plx, text_table};

use crate::{PublicReference, validate::DutyOutcome};

impl DutyOutcome {
    /// The transactions the duty sent, in order.
    pub fn receipts(&self) -> Vec<Sent> {
        let Some(sent) = &self.sent else {
            return Vec::new();
        };
        let weights = match &sent.weights {
            None => vec![],
            Some(WeightsSet::Direct(set)) => vec![*set],
            Some(WeightsSet::Revealed { commit, reveal }) => vec![*commit, *reveal],
        };
        weights.into_iter().chain(sent.published).collect()
    }

    /// Every submission's scores and weight, then a line on each step sent (the
    /// signed report stored in `store`).
    pub fn text(&self, store: &str) -> String {
        let report = &self.report;
        let rows: Vec<Vec<String>> = report
            .submissions
            .iter()
            .map(|s| {
                let sc = s.score.as_ref();
                let four = |x: f64| format!("{x:.4}");
                vec![
                    s.uid.map_or("-".into(), |u| u.to_string()),
                    s.hotkey.to_string(),
                    sc.map_or("-".into(), |x| {
                        if x.passed { "pass" } else { "fail" }.into()
                    }),
                    sc.map_or("-".into(), |x| four(x.fidelity)),
                    sc.and_then(|x| x.utility).map_or("-".into(), four),
                    sc.map_or("-".into(), |x| four(x.privacy)),
                    sc.map_or("-".into(), |x| four(x.score)),
                    four(s.weight),
                    s.error.clone().unwrap_or_default(),
                ]
            })
            .collect();
        let headers = [
            "uid", "hotkey", "gates", "F", "U", "P", "score", "weight", "error",
        ];
        format!(
            "Task {} (seed {}):\n{}\n\n{}",
            self.task.id,
            report.seed,
            text_table(&headers, &rows),
            self.notes(store).join("\n")
        )
    }

    fn notes(&self, store: &str) -> Vec<String> {
        let Some(sent) = &self.sent else {
            return Vec::new();
        };
        let mut notes = vec![match &sent.weights {
            None => "No submission earns: no weights set.".to_string(),
            Some(WeightsSet::Direct(set)) => format!("Set weights in block {}.", set.height),
            Some(WeightsSet::Revealed { commit, reveal }) => format!(
                "Committed weights in block {} and revealed them in block {}.",
                commit.height, reveal.height
            ),
        }];
        notes.push(match &sent.published {
            Some(published) => format!(
                "Published {} rows with root {} in block {}.",
                self.report.rows, self.report.merkle_root, published.height
            ),
            None => "The dataset was already published.".into(),
        });
        notes.push(format!("Stored the signed score report in {store}."));
        notes
    }
}

/// What `plexus data task create` says about a task created in block `height` with
/// its files in `store`.
pub fn created_text(
    task: &DataTask,
    height: u64,
    public: Option<&PublicReference>,
    store: &str,
) -> String {
    let shared = match public {
        Some(m) => format!(
            "The training half ({} rows, {}) is in the store {store} for contributors; the holdout ({} rows) stays private.
Contributors: `plexus data generate --task {} --out SYN.csv`, then `plexus data submit --task {} --file SYN.csv`.",
            m.train_rows, m.train, m.holdout_rows, task.id, task.id
        ),
        None => format!(
            "The reference is private: contributors see none of it.
Contributors: `plexus data submit --task {} --file SYN.csv`.",
            task.id
        ),
    };
    format!(
        "Created data task {} on subnet {} with a bounty of {} PLX (block {height}).
Commits until block {}, reveals until block {}.
{shared}",
        task.id,
        task.netuid,
        format_plx(task.bounty),
        task.commit_deadline,
        task.reveal_deadline,
    )
}

/// An SDMetrics-style quality report, then the gates and the F/U/P score when a
/// holdout was given.
pub fn score_text(out: &ScoreReport) -> String {
    let pct = |x: f64| match x.is_nan() {
        true => "n/a".to_string(),
        false => format!("{:.2}%", x * 100.0),
    };
    let mut s = format!(
        "Overall Score (Average): {}\n\nProperties:\n- Column Shapes: {}\n- Column Pair Trends: {}\n",
        pct(out.quality.overall),
        pct(out.quality.column_shapes),
        pct(out.quality.column_pair_trends)
    );
    let shapes: Vec<Vec<String>> = out
        .report
        .shapes
        .iter()
        .map(|d| {
            let metric = format!("{:?}", d.metric);
            vec![d.column.clone(), metric, format!("{:.6}", d.score)]
        })
        .collect();
    s.push('\n');
    s.push_str(&text_table(&["Column", "Metric", "Score"], &shapes));
    s.push('\n');
    let Some(d) = &out.details else {
        s.push_str("\nPass --holdout HOLD.csv for the gates and the F/U/P score.\n");
        return s;
    };
    let passed = if d.passed { "all passed" } else { "FAILED" };
    s.push_str(&format!("\nGates ({passed}):\n"));
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
    s.push_str(&text_table(&["gate", "statistic", "limit", ""], &rows));
    s.push_str(&format!(
        "\n\nF (fidelity) {:.6}  U (utility) {}  P (privacy) {:.6} (factor {:.6})\nScore: {:.6}\n",
        d.fidelity,
        d.utility.map_or("n/a".into(), |u| format!("{u:.6}")),
        d.privacy,
        d.privacy_factor,
        d.score
    ));
    s
}
