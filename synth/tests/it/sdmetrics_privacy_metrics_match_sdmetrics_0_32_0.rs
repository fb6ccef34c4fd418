//! Parity of the ported SDMetrics privacy metrics, `DisclosureProtection` (CAP, zero CAP,
//! generalized CAP) and `DCROverfittingProtection`, with SDMetrics 0.32.0 on the same CSV
//! files, to 1e-6: honest samples, noisy copies (many ties) and SDMetrics' own demo pair.

use crate::data_sets::{honest, noisy_copy, tasks};
use crate::support::{bridge, close, num};
use plexus_synth::{
    CapMethod, ColumnKind, Schema, Table, dcr_overfitting_protection, disclosure_protection,
};
use std::path::Path;

/// Known columns: every categorical, boolean and numerical column but the sensitive one
/// (numerical ones cut into 10 bins; SDMetrics refuses raw floats as keys).
fn spec(schema: &Schema, sensitive: &[&str]) -> serde_json::Value {
    let known: Vec<&str> = schema
        .columns
        .iter()
        .filter(|c| {
            matches!(
                c.kind,
                ColumnKind::Categorical | ColumnKind::Boolean | ColumnKind::Numerical
            ) && !sensitive.contains(&c.name.as_str())
        })
        .map(|c| c.name.as_str())
        .collect();
    let continuous: Vec<&str> = schema
        .columns
        .iter()
        .filter(|c| c.kind == ColumnKind::Numerical)
        .map(|c| c.name.as_str())
        .collect();
    serde_json::json!({ "known": known, "sensitive": sensitive, "continuous": continuous })
}

fn strings(v: &serde_json::Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn check(
    dir: &Path,
    what: &str,
    schema: &Schema,
    real: &Path,
    synthetic: &Path,
    holdout: &Path,
    spec: &serde_json::Value,
) {
    let meta = dir.join(format!("{what}-meta.json"));
    std::fs::write(&meta, schema.to_metadata_json()).unwrap();
    let spec_path = dir.join(format!("{what}-spec.json"));
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let theirs = bridge(&[
        "privacy",
        meta.to_str().unwrap(),
        real.to_str().unwrap(),
        synthetic.to_str().unwrap(),
        holdout.to_str().unwrap(),
        spec_path.to_str().unwrap(),
    ]);
    let read = |p: &Path| Table::from_csv(schema, &std::fs::read(p).unwrap()).unwrap();
    let (r, s, h) = (read(real), read(synthetic), read(holdout));
    let (known, sensitive, continuous) = (
        strings(&spec["known"]),
        strings(&spec["sensitive"]),
        strings(&spec["continuous"]),
    );
    for (key, method) in [
        ("cap", CapMethod::Cap),
        ("zero_cap", CapMethod::ZeroCap),
        ("generalized_cap", CapMethod::GeneralizedCap),
    ] {
        let ours =
            disclosure_protection(schema, &r, &s, &known, &sensitive, method, &continuous, 10)
                .unwrap();
        let t = &theirs[key];
        eprintln!("{what} {key}: ours {ours:?}");
        for (name, o) in [
            ("score", ours.score),
            ("cap_protection", ours.cap_protection),
            ("baseline_protection", ours.baseline_protection),
        ] {
            assert!(
                close(o, num(&t[name])),
                "{what} {key} {name}: ours {o} sdmetrics {}",
                t[name]
            );
        }
    }
    let ours = dcr_overfitting_protection(schema, &r, &s, &h);
    let t = &theirs["dcr_overfitting"];
    eprintln!("{what} DCROverfittingProtection: ours {ours:?}");
    for (name, o) in [
        ("score", ours.score),
        ("closer_to_training", ours.closer_to_training),
        ("closer_to_holdout", ours.closer_to_holdout),
    ] {
        assert!(
            close(o, num(&t[name])),
            "{what} DCROverfittingProtection {name}: ours {o} sdmetrics {}",
            t[name]
        );
    }
}

#[test]
fn sdmetrics_privacy_metrics_match_sdmetrics_0_32_0() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for t in tasks(d, 3) {
        let write = |name: &str, table: &Table| {
            let p = d.join(format!("{}-{name}.csv", t.name));
            std::fs::write(&p, table.to_csv(&t.schema)).unwrap();
            p
        };
        let (real, holdout) = (write("real", &t.train), write("holdout", &t.holdout));
        let sensitive = t
            .schema
            .target
            .clone()
            .filter(|c| t.stratum.as_deref() == Some(c.as_str()))
            .unwrap_or_else(|| {
                t.schema
                    .columns
                    .iter()
                    .find(|c| c.kind == ColumnKind::Numerical)
                    .unwrap()
                    .name
                    .clone()
            });
        let spec = spec(&t.schema, &[sensitive.as_str()]);
        for (kind, table) in [
            ("copula", honest(&t, 3)),
            ("noisy", noisy_copy(&t, 0.3, 3)),
            ("verbatim", t.train.clone()),
        ] {
            let syn = write(kind, &table);
            check(
                d,
                &format!("{} {kind}", t.name),
                &t.schema,
                &real,
                &syn,
                &holdout,
                &spec,
            );
        }
    }
    // penguins with two sensitive columns, one of them binned.
    let t = &tasks(d, 4)[0];
    let syn = d.join("penguins-two.csv");
    std::fs::write(&syn, honest(t, 4).to_csv(&t.schema)).unwrap();
    let (real, holdout) = (d.join("penguins-t4.csv"), d.join("penguins-h4.csv"));
    std::fs::write(&real, t.train.to_csv(&t.schema)).unwrap();
    std::fs::write(&holdout, t.holdout.to_csv(&t.schema)).unwrap();
    let spec = serde_json::json!({
        "known": ["species", "island", "flipper_length_mm"],
        "sensitive": ["sex", "body_mass_g"],
        "continuous": ["flipper_length_mm", "body_mass_g"],
    });
    check(
        d,
        "penguins two sensitive",
        &t.schema,
        &real,
        &syn,
        &holdout,
        &spec,
    );
    // SDMetrics' own demo pair (real and synthetic student placements; the holdout is
    // the real table's second half).
    let demo = d.join("demo");
    std::fs::create_dir_all(&demo).unwrap();
    bridge(&["export-demo", demo.to_str().unwrap()]);
    let schema =
        Schema::from_metadata_json(&std::fs::read_to_string(demo.join("metadata.json")).unwrap())
            .unwrap();
    let spec = serde_json::json!({
        "known": ["gender", "high_perc", "degree_type", "work_experience"],
        "sensitive": ["placed"],
        "continuous": ["high_perc"],
    });
    check(
        &demo,
        "student_placements",
        &schema,
        &demo.join("real.csv"),
        &demo.join("synthetic.csv"),
        &demo.join("real.csv"),
        &spec,
    );
}
