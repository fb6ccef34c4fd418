//! The curve a contributor should know: noise level → score and worst-case membership AUC
//! for a memoriser (the training half plus Gaussian noise of k standard deviations per
//! numeric column, clipped to range, categoricals copied) against an honest Gaussian copula
//! of the same task, on palmerpenguins and scikit-learn's breast_cancer and diabetes.
//!
//! `cargo bench -p plexus-synth --bench privacy_curve`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code, unreachable_pub)]
#[path = "../tests/it/support.rs"]
mod support;

#[allow(dead_code, unreachable_pub)]
#[path = "../tests/it/data_sets.rs"]
mod data_sets;

use plexus_synth::SubmissionScore;

fn failed(s: &SubmissionScore) -> String {
    let f: Vec<&str> = s
        .gates
        .iter()
        .filter(|g| !g.passed)
        .map(|g| g.name.as_str())
        .collect();
    if f.is_empty() {
        "-".into()
    } else {
        f.join(",")
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for t in data_sets::tasks(dir.path(), 1) {
        let honest = t.score(&data_sets::honest(&t, 1), None);
        println!(
            "\n{} (T {} rows, H {} rows)",
            t.name,
            t.train.num_rows(),
            t.holdout.num_rows()
        );
        println!("| submission | score | worst AUC (attack) | privacy factor | F | failed gates |");
        println!("|---|---|---|---|---|---|");
        let row = |what: String, s: &SubmissionScore| {
            println!(
                "| {what} | {:.3} | {:.3} ({}) | {:.3} | {:.3} | {} |",
                s.score,
                s.membership.worst_auc,
                s.membership.worst_attack.replace('_', " "),
                s.privacy_factor,
                s.fidelity,
                failed(s)
            );
        };
        row("honest copula".into(), &honest);
        for step in 0..=10 {
            let k = f64::from(step) / 10.0;
            let s = t.score(&data_sets::noisy_copy(&t, k, 7 + step as u64), None);
            row(format!("noisy copy, {k:.1} std"), &s);
        }
    }
}
