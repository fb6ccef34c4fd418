//! Calibration of the gates on a small reference (palmerpenguins, 344 rows): over many
//! 50/50 splits, a stratified copula fitted on the training half alone (what a public
//! task shows contributors) passes every gate, a second honest contributor after it is
//! not taken for a copier, and a fresh real sample (a third of the reference, scored
//! against the other two thirds) stays under the near-copy limit. With the fixed 0.10
//! limit on the union of the two near-copy shares, 10 of 100 honest copula samples and
//! 65 of 100 real thirds failed; `near_copy_limit` allows for sampling noise instead.

use crate::support::penguins;
use plexus_synth::{
    GateParams, GaussianCopula, SeededRng, dcr::percentile, dcr_scaled_by, near_copy_limit,
    score_submission, seed_from, split_reference,
};

#[test]
fn an_honest_sample_passes_the_gates_on_every_split_of_a_small_reference() {
    let (schema, reference) = penguins();
    let params = GateParams::default();
    for split in 0..24u64 {
        let seed = seed_from(&split.to_le_bytes(), 1000 + split);
        let (train, holdout) = split_reference(&reference, seed);
        let n = train.num_rows();
        let failed = |s: &plexus_synth::SubmissionScore| -> Vec<String> {
            s.gates
                .iter()
                .filter(|g| !g.passed)
                .map(|g| format!("{} {:.4} > {:.4}", g.name, g.statistic, g.limit))
                .collect()
        };

        let first_seed = seed_from(b"first contributor", split);
        let first = GaussianCopula::fit_stratified(&schema, &train, "species", first_seed)
            .unwrap()
            .sample(n, first_seed);
        let s = score_submission(&schema, &train, &holdout, &first, &[], &params, seed);
        assert!(s.passed && s.score > 0.5, "split {split}: {:?}", failed(&s));

        let second_seed = seed_from(b"second contributor", split);
        let second = GaussianCopula::fit_stratified(&schema, &train, "species", second_seed)
            .unwrap()
            .sample(n * 2 / 3, second_seed);
        let s = score_submission(
            &schema,
            &train,
            &holdout,
            &second,
            std::slice::from_ref(&first),
            &params,
            seed,
        );
        assert!(
            s.passed && s.score > 0.5,
            "split {split}, second: {:?} score {} F {} membership {:?}",
            failed(&s),
            s.score,
            s.fidelity,
            s.membership
        );

        // A fresh real sample: thirds T, H, R of the reference; R plays the generator.
        let mut rows: Vec<usize> = (0..reference.num_rows()).collect();
        SeededRng::new(seed).shuffle(&mut rows);
        let k = rows.len() / 3;
        let (t, h, r) = (
            reference.select(&rows[..k]),
            reference.select(&rows[k..2 * k]),
            reference.select(&rows[2 * k..]),
        );
        let tau = percentile(
            &dcr_scaled_by(&schema, &h, &t, &t),
            params.near_copy_percentile,
        );
        let below = |d: Vec<f64>| d.iter().filter(|x| **x < tau).count() as f64 / d.len() as f64;
        let near = below(dcr_scaled_by(&schema, &r, &t, &t))
            .max(below(dcr_scaled_by(&schema, &r, &h, &t)));
        let limit = near_copy_limit(&params, r.num_rows(), h.num_rows());
        assert!(near <= limit, "split {split}: real third {near} > {limit}");
    }
}
