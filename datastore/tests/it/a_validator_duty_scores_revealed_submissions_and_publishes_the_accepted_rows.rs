//! The duty over a store on a public reference: a copula sample fitted on the public
//! training half earns, a verbatim copy of that half and a missing blob earn nothing,
//! and the published dataset's root matches its stored CSV.

use plexus_datastore::{DataStore, Submission, TaskInput, csv_root, run_duty};
use plexus_synth::{GateParams, GaussianCopula, seed_from};
use plexus_types::{Hash, Keypair};

use crate::support::{Published, publish_penguins};

#[tokio::test]
async fn a_validator_duty_scores_revealed_submissions_and_publishes_the_accepted_rows() {
    let store = DataStore::memory();
    let Published {
        schema,
        reference,
        kind,
        train,
    } = publish_penguins(&store).await;
    let rows = train.num_rows();
    let seed = seed_from(b"contributor", 1);
    let sample = GaussianCopula::fit_stratified(&schema, &train, "species", seed)
        .unwrap()
        .sample(rows, seed)
        .to_csv(&schema);
    let copy = train.to_csv(&schema);
    let honest = store.put(sample).await.unwrap();
    let copied = store.put(copy).await.unwrap();
    let [a, b, c] = ["a", "b", "c"].map(|l| Keypair::from_label(l).account());
    let submissions = vec![
        Submission {
            hotkey: a,
            uid: Some(1),
            content_hash: honest,
            rows: rows as u64,
            committed_at: 5,
        },
        Submission {
            hotkey: b,
            uid: Some(2),
            content_hash: copied,
            rows: rows as u64,
            committed_at: 6,
        },
        Submission {
            hotkey: c,
            uid: Some(3),
            content_hash: Hash([7; 32]),
            rows: 10,
            committed_at: 7,
        },
    ];
    let input = |subs: Vec<Submission>| TaskInput {
        task: 0,
        reveal_deadline: 40,
        schema: &schema,
        reference: &reference,
        kind: kind.clone(),
        submissions: subs,
        params: GateParams::default(),
        credibility: Vec::new(),
        canaries: None,
    };
    let report = run_duty(&store, input(submissions.clone())).await.unwrap();
    assert!(report.public_reference);
    let [ra, rb, rc] = &report.submissions[..] else {
        panic!("three reports")
    };
    let sa = ra.score.as_ref().unwrap();
    assert!(sa.passed, "{:?}", sa.gates);
    assert!(sa.score > 0.5, "copula score {}", sa.score);
    let sb = rb.score.as_ref().unwrap();
    assert!(!sb.passed);
    assert_eq!(sb.score, 0.0);
    assert!(
        rc.error
            .as_ref()
            .unwrap()
            .contains("not in the dataset store")
    );
    assert_eq!(report.weights, vec![(1, 65535)]);
    assert!((ra.weight - 1.0).abs() < 1e-12);

    // The accepted dataset is the honest rows, stored under a root that recomputes.
    assert!(report.rows > 0 && report.rows <= rows as u64);
    let csv = store.get_dataset(&report.merkle_root).await.unwrap();
    assert_eq!(
        csv_root(&schema, &csv).unwrap(),
        (report.rows, report.merkle_root)
    );

    // Honest validators agree: the same inputs give the same report.
    let again = run_duty(&store, input(submissions)).await.unwrap();
    assert_eq!(again.weights, report.weights);
    assert_eq!(again.merkle_root, report.merkle_root);
    assert_eq!(again.seed, report.seed);
}
