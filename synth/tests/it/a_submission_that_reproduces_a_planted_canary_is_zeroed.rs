//! Canaries: a validator plants unique rows in the training half it hands contributors. An
//! honest generator fitted on that half never reproduces one; a submission that copies a
//! couple of training rows (too few for the near-copy gate) and hits a canary scores 0,
//! and the check is in the report.

use crate::data_sets::tasks;
use plexus_synth::{Canaries, GaussianCopula, seed_from};

#[test]
fn a_submission_that_reproduces_a_planted_canary_is_zeroed() {
    let dir = tempfile::tempdir().unwrap();
    for block in 1..4u64 {
        for t in tasks(dir.path(), block) {
            let canaries = Canaries::draw(&t.schema, &t.train, 8, seed_from(b"validator", block));
            assert_eq!(canaries.len(), 8, "{}: canaries drawn", t.name);
            // What contributors fit on: the real training half with the canaries in it.
            let public = canaries.plant(&t.train);
            let seed = seed_from(b"contributor", block);
            let copula = match &t.stratum {
                Some(c) => GaussianCopula::fit_stratified(&t.schema, &public, c, seed).unwrap(),
                None => GaussianCopula::fit(&t.schema, &public, seed).unwrap(),
            };
            let n = t.train.num_rows();
            let honest = copula.sample(n, seed);
            let fair = t.score(&honest, Some(&canaries));
            let check = fair.canaries.clone().unwrap();
            eprintln!(
                "{} split {block}: honest {:.4} {check:?}",
                t.name, fair.score
            );
            assert_eq!(check.planted, 8);
            assert_eq!(
                check.reproduced, 0,
                "{}: an honest sample hit a canary",
                t.name
            );
            assert!(fair.passed, "{}: honest failed {:?}", t.name, fair.gates);

            // Copy 2 rows of the public half (one of them a canary) into the honest sample.
            let canary_row = public.num_rows() - 1 - (block as usize % 8);
            let copied: Vec<usize> = vec![0, canary_row];
            let keep: Vec<usize> = (copied.len()..n).collect();
            let leaky = public.select(&copied).concat(&honest.select(&keep));
            let s = t.score(&leaky, Some(&canaries));
            eprintln!(
                "{} split {block}: 2 copied rows, one a canary: {:.4} {:?}",
                t.name, s.score, s.canaries
            );
            assert_eq!(s.canaries.as_ref().unwrap().reproduced, 1);
            // The canary is what catches it: every other gate lets two copied rows through.
            let failed: Vec<&str> = s
                .gates
                .iter()
                .filter(|g| !g.passed)
                .map(|g| g.name.as_str())
                .collect();
            assert_eq!(failed, ["canaries"], "{}", t.name);
            assert_eq!(s.score, 0.0, "{}: a canary copier scored", t.name);
            assert!(
                serde_json::to_string(&s)
                    .unwrap()
                    .contains("\"canaries\":{\"planted\":8"),
                "the check is in the report"
            );
        }
    }
}
