//! Privacy scoring time: the membership-inference ensemble and the ported SDMetrics privacy
//! metrics next to SDMetrics 0.32.0's own `DisclosureProtection` + `DCROverfittingProtection`
//! on the same data, and the ensemble's cost against today's whole report.
//!
//! `cargo bench -p plexus-synth --bench privacy` (sizes from `PLEXUS_BENCH_SIZES`, default
//! `1000,10000,50000`). Data: penguins-shaped rows from our stratified copula: T, H and S of n
//! rows each, written to CSV and read by both sides. SDMetrics' DCR is timed on the first
//! `min(n, 1000)` synthetic rows against the full halves and scaled to n (its cost is linear in
//! the synthetic rows), as the quality bench does; its DisclosureProtection runs on all n.
//! "today's report" is `score_submission` less the ensemble and the two new SDMetrics ports
//! (each timed alone on the same inputs): quality, noise and real baselines, DCR gates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::support;

use plexus_synth::{
    GateParams, MembershipParams, dcr_overfitting_protection, default_disclosure_protection,
    membership_inference, score_submission, seed_from,
};
use std::time::Instant;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let setup = common::setup("1000,10000,50000");
    let (schema, dir, meta) = (&setup.schema, &setup.dir, &setup.meta);
    // SDMetrics' attack as our report runs it: species sensitive, the rest known, numbers binned.
    let spec = dir.path().join("spec.json");
    std::fs::write(
        &spec,
        serde_json::json!({
            "known": ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm",
                      "body_mass_g", "sex", "year"],
            "sensitive": ["species"],
            "continuous": ["bill_length_mm", "bill_depth_mm", "flipper_length_mm",
                           "body_mass_g", "year"],
        })
        .to_string(),
    )
    .unwrap();
    println!(
        "{:>6} | {:>9} {:>9} {:>9} {:>9} | {:>9} {:>9} {:>10} | {:>8} {:>11} | worst AUC",
        "rows",
        "ours all",
        "ensemble",
        "sdm ports",
        "today",
        "sdm DiscP",
        "sdm DCR",
        "sdm total",
        "ens/tdy",
        "sdm/(ports)"
    );
    for &n in &setup.sizes {
        let (paths, [real, synthetic, holdout]) = setup.tables(n);
        let seed = seed_from(b"privacy bench", n as u64);

        let t0 = Instant::now();
        let s = score_submission(
            schema,
            &real,
            &holdout,
            &synthetic,
            &[],
            &GateParams::default(),
            seed,
        );
        let all = t0.elapsed().as_secs_f64();
        let canonical = synthetic.canonicalize(&real);
        let t1 = Instant::now();
        let m = membership_inference(
            schema,
            &real,
            &holdout,
            &canonical,
            &MembershipParams::default(),
            seed,
        );
        let ensemble = t1.elapsed().as_secs_f64();
        let t2 = Instant::now();
        let _ = default_disclosure_protection(schema, &real, &canonical);
        let _ = dcr_overfitting_protection(schema, &real, &canonical, &holdout);
        let ports = t2.elapsed().as_secs_f64();
        let today = (all - ensemble - ports).max(1e-9);
        assert_eq!(
            m.worst_auc, s.membership.worst_auc,
            "the ensemble is deterministic"
        );

        let dcr_rows = n.min(1000);
        let theirs = support::bridge(&[
            "privacy-bench",
            meta.to_str().unwrap(),
            paths[0].to_str().unwrap(),
            paths[1].to_str().unwrap(),
            paths[2].to_str().unwrap(),
            spec.to_str().unwrap(),
            &dcr_rows.to_string(),
        ]);
        let sdm_disc = support::num(&theirs["cap"]["seconds"]);
        let sdm_dcr =
            support::num(&theirs["dcr_overfitting"]["seconds"]) * n as f64 / dcr_rows as f64;
        let sdm = sdm_disc + sdm_dcr;
        println!(
            "{n:>6} | {all:>9.3} {ensemble:>9.3} {ports:>9.3} {today:>9.3} | {sdm_disc:>9.3} {:>9} {sdm:>10.3} | {:>7.2}x {:>10.0}x | {:.4} ({})",
            format!("{}{sdm_dcr:.2}", if dcr_rows < n { "~" } else { "" }),
            ensemble / today,
            sdm / ports.max(1e-9),
            m.worst_auc,
            m.worst_attack
        );
    }
}
