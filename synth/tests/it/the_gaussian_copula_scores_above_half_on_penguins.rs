use crate::support::penguins;
use plexus_synth::{GateParams, GaussianCopula, score_submission, seed_from, split_reference};

#[test]
fn the_gaussian_copula_scores_above_half_on_penguins() {
    let (schema, reference) = penguins();
    for block in [10, 11, 12, 13, 14] {
        let seed = seed_from(b"penguins", block);
        let (train, holdout) = split_reference(&reference, seed);
        let n = train.num_rows();
        let stratified = GaussianCopula::fit_stratified(&schema, &train, "species", seed)
            .unwrap()
            .sample(n, seed);
        let plain = GaussianCopula::fit(&schema, &train, seed)
            .unwrap()
            .sample(n, seed);
        let s = score_submission(
            &schema,
            &train,
            &holdout,
            &stratified,
            &[],
            &GateParams::default(),
            seed,
        );
        let p = score_submission(
            &schema,
            &train,
            &holdout,
            &plain,
            &[],
            &GateParams::default(),
            seed,
        );
        eprintln!(
            "block {block}: stratified score {:.3} (F {:.3} U {:?} P {:.3} Q {:.3}), plain score {:.3} (F {:.3} U {:?} P {:.3} Q {:.3}) gates {:?}",
            s.score,
            s.fidelity,
            s.utility,
            s.privacy,
            s.quality.overall,
            p.score,
            p.fidelity,
            p.utility,
            p.privacy,
            p.quality.overall,
            p.gates
                .iter()
                .filter(|g| !g.passed)
                .map(|g| &g.name)
                .collect::<Vec<_>>()
        );
        assert!(
            s.passed && s.score > 0.5,
            "stratified copula scored {}",
            s.score
        );
        assert!(s.score > p.score, "stratification should lift the score");
        // Same seed, same sample, same score.
        let again = GaussianCopula::fit_stratified(&schema, &train, "species", seed)
            .unwrap()
            .sample(n, seed);
        assert_eq!(again.to_csv(&schema), stratified.to_csv(&schema));
    }
}
