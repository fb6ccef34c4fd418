//! The data sets the membership-inference tests run on (each at least 300 rows), the
//! honest generator of each task, and the memoriser an attacker would submit instead.

use crate::support::{bridge, penguins};
use plexus_synth::{
    Canaries, ColumnData, ColumnKind, GateParams, GaussianCopula, Schema, SeededRng,
    SubmissionScore, Table, score_submission_with_canaries, seed_from, split_reference,
};

/// One scoring task: a reference split into train T and holdout H with its public seed.
pub(crate) struct Task {
    pub(crate) name: String,
    pub(crate) schema: Schema,
    pub(crate) train: Table,
    pub(crate) holdout: Table,
    pub(crate) seed: [u8; 32],
    /// The categorical column the honest copula stratifies on, if any.
    pub(crate) stratum: Option<String>,
}

impl Task {
    /// Score `synthetic` against this task with the default gates, and the validator's
    /// `canaries` when it planted some.
    pub(crate) fn score(&self, synthetic: &Table, canaries: Option<&Canaries>) -> SubmissionScore {
        score_submission_with_canaries(
            &self.schema,
            &self.train,
            &self.holdout,
            synthetic,
            &[],
            &GateParams::default(),
            self.seed,
            canaries,
        )
    }
}

/// palmerpenguins (344 rows) and scikit-learn's breast_cancer (569) and diabetes (442).
pub(crate) fn tasks(dir: &std::path::Path, block: u64) -> Vec<Task> {
    let mut out = Vec::new();
    let (schema, reference) = penguins();
    out.push(task(
        "penguins",
        schema,
        &reference,
        Some("species".into()),
        block,
    ));
    for name in ["breast_cancer", "diabetes"] {
        let sub = dir.join(name);
        if !sub.join("real.csv").exists() {
            std::fs::create_dir_all(&sub).unwrap();
            bridge(&["export-sklearn", name, sub.to_str().unwrap()]);
        }
        let schema = Schema::from_metadata_json(
            &std::fs::read_to_string(sub.join("metadata.json")).unwrap(),
        )
        .unwrap();
        let reference =
            Table::from_csv(&schema, &std::fs::read(sub.join("real.csv")).unwrap()).unwrap();
        let stratum = schema.target.clone().filter(|t| {
            schema
                .index_of(t)
                .is_some_and(|i| schema.columns[i].kind == ColumnKind::Categorical)
        });
        out.push(task(name, schema, &reference, stratum, block));
    }
    out
}

fn task(
    name: &str,
    schema: Schema,
    reference: &Table,
    stratum: Option<String>,
    block: u64,
) -> Task {
    assert!(reference.num_rows() >= 300, "{name}: too small");
    let seed = seed_from(format!("{name}-task").as_bytes(), block);
    let (train, holdout) = split_reference(reference, seed);
    Task {
        name: name.into(),
        schema,
        train,
        holdout,
        seed,
        stratum,
    }
}

/// An honest Gaussian-copula sample of |T| rows fitted on T (stratified where the task has
/// a categorical target).
pub(crate) fn honest(t: &Task, salt: u64) -> Table {
    let seed = seed_from(b"honest contributor", salt);
    let copula = match &t.stratum {
        Some(c) => GaussianCopula::fit_stratified(&t.schema, &t.train, c, seed).unwrap(),
        None => GaussianCopula::fit(&t.schema, &t.train, seed).unwrap(),
    };
    copula.sample(t.train.num_rows(), seed)
}

/// The memoriser: T's own rows with Gaussian noise of `k` standard deviations added to each
/// numeric column (clipped to the column's range in T), categorical columns copied.
pub(crate) fn noisy_copy(t: &Task, k: f64, salt: u64) -> Table {
    let mut rng = SeededRng::from_u64(salt);
    let cols = t
        .train
        .columns()
        .iter()
        .map(|c| match c {
            ColumnData::Numerical(v) => {
                let present: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
                let n = present.len().max(1) as f64;
                let mean = present.iter().sum::<f64>() / n;
                let sd = (present.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
                let lo = present.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                ColumnData::Numerical(
                    v.iter()
                        .map(|x| {
                            let z = rng.normal();
                            if x.is_nan() {
                                *x
                            } else {
                                (x + k * sd * z).clamp(lo, hi)
                            }
                        })
                        .collect(),
                )
            }
            other => other.clone(),
        })
        .collect();
    Table::from_columns(&t.schema, cols).unwrap()
}
