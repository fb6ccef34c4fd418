use crate::support::{assert_parity, bridge};
use plexus_synth::{
    ColumnKind, GaussianCopula, QualityOptions, Schema, Table, quality_report, quality_report_with,
    seed_from,
};
use std::path::Path;

/// Sample from our copula, write the CSV, and compare our report with SDMetrics' on the files.
fn check(dir: &Path, schema: &Schema, real_csv: &Path, what: &str) {
    let real = Table::from_csv(schema, &std::fs::read(real_csv).unwrap()).unwrap();
    let seed = seed_from(what.as_bytes(), 1);
    let stratum = schema.target.as_deref().filter(|t| {
        schema
            .index_of(t)
            .is_some_and(|i| schema.columns[i].kind == ColumnKind::Categorical)
    });
    let copula = match stratum {
        Some(t) => GaussianCopula::fit_stratified(schema, &real, t, seed).unwrap(),
        None => GaussianCopula::fit(schema, &real, seed).unwrap(),
    };
    let synthetic_csv = dir.join(format!("{what}-synthetic.csv"));
    std::fs::write(
        &synthetic_csv,
        copula.sample(real.num_rows(), seed).to_csv(schema),
    )
    .unwrap();
    let meta = dir.join(format!("{what}-metadata.json"));
    std::fs::write(&meta, schema.to_metadata_json()).unwrap();
    let synthetic = Table::from_csv(schema, &std::fs::read(&synthetic_csv).unwrap()).unwrap();
    let theirs = bridge(
        &[
            meta.to_str().unwrap(),
            real_csv.to_str().unwrap(),
            synthetic_csv.to_str().unwrap(),
        ]
        .iter()
        .fold(vec!["report"], |mut v, a| {
            v.push(a);
            v
        }),
    );
    let ours = quality_report(schema, &real, &synthetic);
    eprintln!(
        "{what}: overall {:.6} shapes {:.6} pairs {:.6}",
        ours.overall, ours.column_shapes, ours.column_pair_trends
    );
    assert!(
        ours.overall > 0.5 && ours.pairs.iter().any(|p| p.meets_threshold),
        "{what}: a weak check"
    );
    assert_parity(&ours, &theirs, what);
    let ours = quality_report_with(schema, &real, &synthetic, QualityOptions::no_thresholds());
    assert_parity(
        &ours,
        &theirs["no_thresholds"],
        &format!("{what}, no thresholds"),
    );
}

#[test]
fn quality_report_matches_sdmetrics_on_copula_samples_of_penguins_and_scikit_learn_sets() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let schema = Schema::from_metadata_json(
        &std::fs::read_to_string(fixtures.join("penguins.json")).unwrap(),
    )
    .unwrap();
    check(
        dir.path(),
        &schema,
        &fixtures.join("penguins.csv"),
        "penguins",
    );
    for name in ["iris", "wine", "breast_cancer", "diabetes"] {
        let sub = dir.path().join(name);
        std::fs::create_dir_all(&sub).unwrap();
        bridge(&["export-sklearn", name, sub.to_str().unwrap()]);
        let schema = Schema::from_metadata_json(
            &std::fs::read_to_string(sub.join("metadata.json")).unwrap(),
        )
        .unwrap();
        check(&sub, &schema, &sub.join("real.csv"), name);
    }
}
