use crate::support::penguins;
use plexus_synth::{
    ColumnData, GateParams, GaussianCopula, Schema, SubmissionScore, Table, score_submission,
    seed_from, split_reference, uniform_noise,
};

struct Task {
    schema: Schema,
    train: Table,
    holdout: Table,
    seed: [u8; 32],
}

fn task(block: u64) -> Task {
    let (schema, reference) = penguins();
    let seed = seed_from(b"penguins-task", block);
    let (train, holdout) = split_reference(&reference, seed);
    Task {
        schema,
        train,
        holdout,
        seed,
    }
}

fn score(t: &Task, s: &Table, earlier: &[Table]) -> SubmissionScore {
    score_submission(
        &t.schema,
        &t.train,
        &t.holdout,
        s,
        earlier,
        &GateParams::default(),
        t.seed,
    )
}

fn honest(t: &Task, rows: usize, salt: u64) -> Table {
    GaussianCopula::fit_stratified(&t.schema, &t.train, "species", t.seed)
        .unwrap()
        .sample(rows, seed_from(b"contributor", salt))
}

fn failed(s: &SubmissionScore) -> Vec<String> {
    s.gates
        .iter()
        .filter(|g| !g.passed)
        .map(|g| format!("{} {:.4} vs {:.4}", g.name, g.statistic, g.limit))
        .collect()
}

fn assert_zero(name: &str, s: &SubmissionScore) {
    assert_eq!(
        s.score,
        0.0,
        "{name} scored {} (gates failed: {:?})",
        s.score,
        failed(s)
    );
    assert!(!s.passed && s.accepted_rows == 0, "{name} passed the gates");
}

/// Add ±`scale`·range uniform jitter to every numerical value.
fn jitter(t: &Table, scale: f64, salt: u64) -> Table {
    let mut rng = plexus_synth::SeededRng::from_u64(salt);
    let cols = t
        .columns()
        .iter()
        .map(|c| match c {
            ColumnData::Numerical(v) => {
                let (lo, hi) = v
                    .iter()
                    .filter(|x| !x.is_nan())
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
                        (l.min(x), h.max(x))
                    });
                ColumnData::Numerical(
                    v.iter()
                        .map(|x| x + (rng.uniform() - 0.5) * 2.0 * scale * (hi - lo))
                        .collect(),
                )
            }
            other => other.clone(),
        })
        .collect();
    Table::from_columns(&task(1).schema, cols).unwrap()
}

#[test]
fn the_attacks_in_the_spec_score_zero() {
    for block in [1, 2, 3] {
        let t = task(block);
        let n = t.train.num_rows();
        let good = honest(&t, n, block);
        let base = score(&t, &good, &[]);
        assert!(
            base.passed && base.score > 0.5,
            "honest copula failed: {} {:?}",
            base.score,
            failed(&base)
        );

        assert_zero("verbatim copy", &score(&t, &t.train, &[]));
        assert_zero(
            "jittered copy",
            &score(&t, &jitter(&t.train, 0.005, block), &[]),
        );
        assert_zero("leaked holdout rows", &score(&t, &t.holdout, &[]));
        let half: Vec<usize> = (0..n / 2).collect();
        let partial = t
            .train
            .select(&half)
            .concat(&good.select(&(n / 2..n).collect::<Vec<_>>()));
        assert_zero("partial copy (50%)", &score(&t, &partial, &[]));
        let fifth: Vec<usize> = (0..n / 5).collect();
        let partial = t
            .train
            .select(&fifth)
            .concat(&good.select(&(n / 5..n).collect::<Vec<_>>()));
        assert_zero("partial copy (20%)", &score(&t, &partial, &[]));
        let noise = uniform_noise(&t.schema, &t.train, n, seed_from(b"attacker noise", block));
        assert_zero("uniform noise", &score(&t, &noise, &[]));
        let padded_rows: Vec<usize> = (0..n).map(|i| i % (n / 2)).collect();
        assert_zero(
            "duplicate padding",
            &score(&t, &good.select(&padded_rows), &[]),
        );
        assert_zero(
            "copying an earlier contributor",
            &score(&t, &good, std::slice::from_ref(&good)),
        );
        // An independent honest contributor after the first is not a copier.
        let other = honest(&t, n, block + 100);
        let second = score(&t, &other, std::slice::from_ref(&good));
        assert!(
            second.passed && second.score > 0.5,
            "second honest contributor: {} {:?}",
            second.score,
            failed(&second)
        );
    }
}
