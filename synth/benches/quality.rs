//! QualityReport + DCR time for plexus-synth and for SDMetrics 0.32.0 on the same data, with the ratio.
//!
//! `cargo bench -p plexus-synth --bench quality` (sizes from `PLEXUS_BENCH_SIZES`, default
//! `1000,5000,20000,50000`). Data: penguins-shaped rows from our stratified copula, written to
//! CSV and read by both sides. SDMetrics' DCR is timed on the first `min(n, 1000)` synthetic rows
//! against the full references and scaled to n (its cost is linear in the synthetic rows);
//! ours is timed on all n. Scores are checked equal on the same rows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::support;

use plexus_synth::{dcr_overfitting_protection, quality_report};
use std::time::Instant;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing special either way.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let setup = common::setup("1000,5000,20000,50000");
    let (schema, meta) = (&setup.schema, &setup.meta);
    println!(
        "{:>7} | {:>10} {:>10} {:>10} | {:>11} {:>11} {:>11} | {:>7} | overall (ours = sdmetrics)",
        "rows",
        "ours Q s",
        "ours DCR s",
        "ours tot s",
        "sdm Q s",
        "sdm DCR s",
        "sdm tot s",
        "ratio"
    );
    for &n in &setup.sizes {
        let (paths, [real, synthetic, holdout]) = setup.tables(n);

        let t0 = Instant::now();
        let report = quality_report(schema, &real, &synthetic);
        let t1 = Instant::now();
        let _dcr = dcr_overfitting_protection(schema, &real, &synthetic, &holdout);
        let t2 = Instant::now();
        let (ours_q, ours_d) = ((t1 - t0).as_secs_f64(), (t2 - t1).as_secs_f64());

        let dcr_rows = n.min(1000);
        let theirs = support::bridge(&[
            "bench",
            meta.to_str().unwrap(),
            paths[0].to_str().unwrap(),
            paths[1].to_str().unwrap(),
            paths[2].to_str().unwrap(),
            &dcr_rows.to_string(),
        ]);
        let sub: Vec<usize> = (0..dcr_rows).collect();
        let ours_sub = dcr_overfitting_protection(schema, &real, &synthetic.select(&sub), &holdout);
        let their_overall = support::num(&theirs["overall"]);
        assert!(
            support::close(report.overall, their_overall),
            "overall differs: {} vs {their_overall}",
            report.overall
        );
        let their_closer = support::num(&theirs["closer_to_training"]);
        assert!(
            support::close(ours_sub.closer_to_training, their_closer),
            "DCR overfitting differs: {} vs {their_closer}",
            ours_sub.closer_to_training
        );
        let sdm_q = support::num(&theirs["quality_s"]);
        let sdm_d = support::num(&theirs["dcr_s"]) * n as f64 / dcr_rows as f64;
        let (ours, sdm) = (ours_q + ours_d, sdm_q + sdm_d);
        println!(
            "{n:>7} | {ours_q:>10.4} {ours_d:>10.4} {ours:>10.4} | {sdm_q:>11.3} {:>11} {sdm:>11.3} | {:>6.0}x | {:.6}",
            format!("{}{sdm_d:.3}", if dcr_rows < n { "~" } else { "" }),
            sdm / ours,
            report.overall
        );
    }
}
