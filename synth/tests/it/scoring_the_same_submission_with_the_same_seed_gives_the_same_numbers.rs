use crate::support::penguins;
use plexus_synth::{
    GateParams, GaussianCopula, WeightInput, score_submission, seed_from, split_reference,
    update_credibility, weights,
};

#[test]
fn scoring_the_same_submission_with_the_same_seed_gives_the_same_numbers() {
    let (schema, reference) = penguins();
    let seed = seed_from(b"task-7", 1234);
    let (train, holdout) = split_reference(&reference, seed);
    assert_eq!(train.num_rows() + holdout.num_rows(), reference.num_rows());
    let (t2, h2) = split_reference(&reference, seed);
    assert_eq!(t2.to_csv(&schema), train.to_csv(&schema));
    assert_eq!(h2.to_csv(&schema), holdout.to_csv(&schema));
    let other = split_reference(&reference, seed_from(b"task-7", 1235)).0;
    assert_ne!(
        other.to_csv(&schema),
        train.to_csv(&schema),
        "a new reveal block reshuffles"
    );

    let s = GaussianCopula::fit(&schema, &train, seed)
        .unwrap()
        .sample(train.num_rows(), seed);
    let params = GateParams::default();
    let a = score_submission(&schema, &train, &holdout, &s, &[], &params, seed);
    let b = score_submission(&schema, &train, &holdout, &s, &[], &params, seed);
    let json = |x: &plexus_synth::SubmissionScore| serde_json::to_string(x).unwrap();
    assert_eq!(json(&a), json(&b), "two validators agree bit for bit");
    assert!(a.score > 0.0 && a.score <= 1.0);

    // Weights follow score · rows · credibility^2.5 and sum to one.
    let mut cred = 0.0;
    for _ in 0..10 {
        cred = update_credibility(cred, true);
    }
    assert!((cred - (1.0 - 0.85f64.powi(10))).abs() < 1e-12);
    let w = weights(
        &[
            WeightInput {
                score: a.score,
                accepted_rows: a.accepted_rows,
                credibility: cred,
            },
            WeightInput {
                score: a.score,
                accepted_rows: a.accepted_rows / 2,
                credibility: cred,
            },
            WeightInput {
                score: 0.0,
                accepted_rows: 100,
                credibility: 1.0,
            },
        ],
        train.num_rows(),
    );
    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!((w[0] / w[1] - a.accepted_rows as f64 / (a.accepted_rows / 2) as f64).abs() < 1e-9);
    assert_eq!(w[2], 0.0);
}
