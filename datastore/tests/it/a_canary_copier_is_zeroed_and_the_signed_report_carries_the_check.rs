//! Canaries in the duty: the validator plants unique rows in the training half it gives
//! contributors; the honest copula fitted on that half earns, a submission carrying one
//! canary row (and nothing else a gate sees) scores 0, and the signed report carries the
//! canary check and the membership-inference breakdown for the web app.

use plexus_datastore::{DataStore, Submission, TaskInput, run_duty};
use plexus_synth::{Canaries, GateParams, GaussianCopula, seed_from};
use plexus_types::{Keypair, data::SignedReport};

use crate::support::{Published, publish_penguins};

#[tokio::test]
async fn a_canary_copier_is_zeroed_and_the_signed_report_carries_the_check() {
    let store = DataStore::memory();
    let Published {
        schema,
        reference,
        kind,
        train,
    } = publish_penguins(&store).await;

    // The validator's canaries, and the training half as contributors get it.
    let canaries = Canaries::draw(&schema, &train, 8, seed_from(b"validator secret", 9));
    let public = canaries.plant(&train);
    let rows = train.num_rows();
    let seed = seed_from(b"contributor", 2);
    let honest = GaussianCopula::fit_stratified(&schema, &public, "species", seed)
        .unwrap()
        .sample(rows, seed);
    let leaky = public
        .select(&[public.num_rows() - 1])
        .concat(&honest.select(&(1..rows).collect::<Vec<_>>()));
    let [a, b] = ["a", "b"].map(|l| Keypair::from_label(l).account());
    let submissions = vec![
        Submission {
            hotkey: a,
            uid: Some(1),
            content_hash: store.put(honest.to_csv(&schema)).await.unwrap(),
            rows: rows as u64,
            committed_at: 5,
        },
        Submission {
            hotkey: b,
            uid: Some(2),
            content_hash: store.put(leaky.to_csv(&schema)).await.unwrap(),
            rows: rows as u64,
            committed_at: 6,
        },
    ];
    let report = run_duty(
        &store,
        TaskInput {
            task: 3,
            reveal_deadline: 40,
            schema: &schema,
            reference: &reference,
            kind,
            submissions,
            params: GateParams::default(),
            credibility: Vec::new(),
            canaries: Some(&canaries),
        },
    )
    .await
    .unwrap();
    let fair = report.submissions[0].score.as_ref().unwrap();
    let leak = report.submissions[1].score.as_ref().unwrap();
    assert!(fair.passed && fair.score > 0.5, "honest: {:?}", fair.gates);
    assert_eq!(fair.canaries.as_ref().unwrap().reproduced, 0);
    assert_eq!(leak.canaries.as_ref().unwrap().reproduced, 1);
    assert_eq!(leak.score, 0.0);
    assert!(leak.gates.iter().any(|g| g.name == "canaries" && !g.passed));
    assert_eq!(report.weights, vec![(1, 65535)]);

    // What the validator signs and stores is what the web app reads back.
    let key = Keypair::from_label("validator");
    let signed = SignedReport::sign(&key, 3, serde_json::to_string(&report).unwrap());
    signed.verify().unwrap();
    // (Read back as JSON: a DutyReport does not deserialize from its own JSON when a
    // quality detail is NaN, which travels as null.)
    let json: serde_json::Value = serde_json::from_str(&signed.report).unwrap();
    let check = &json["submissions"][1]["score"]["canaries"];
    assert_eq!(check["planted"], 8);
    assert_eq!(check["reproduced"], 1);
    assert_eq!(
        check["commitment"],
        blake3::hash(&canaries.rows().to_csv(&schema))
            .to_hex()
            .to_string()
    );
    let m = &json["submissions"][0]["score"]["membership"];
    assert!(m["worst_auc"].as_f64().unwrap() >= 0.0);
    assert!(m["worst_attack"].is_string() && m["attacks"].as_array().unwrap().len() == 3);
}
