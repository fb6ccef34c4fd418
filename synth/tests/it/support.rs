//! Shared helpers: fixtures, and the shared Python venv with sdmetrics 0.32.0 for parity checks.

use plexus_synth::{Schema, Table};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The palmerpenguins fixture (CC0) and its schema.
pub(crate) fn penguins() -> (Schema, Table) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let schema =
        Schema::from_metadata_json(&std::fs::read_to_string(dir.join("penguins.json")).unwrap())
            .unwrap();
    let table =
        Table::from_csv(&schema, &std::fs::read(dir.join("penguins.csv")).unwrap()).unwrap();
    (schema, table)
}

/// The shared SDMetrics 0.32.0 venv (`plexus_testing::sdmetrics_python`), installed
/// once for every parity test of the workspace.
pub(crate) fn python() -> PathBuf {
    plexus_testing::sdmetrics_python(Path::new(env!("CARGO_TARGET_TMPDIR")))
}

/// Run the bridge script with arguments; its stdout parsed as JSON.
pub(crate) fn bridge(args: &[&str]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/sdmetrics_bridge.py");
    let out = Command::new(python())
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bridge {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.is_empty() {
        return serde_json::Value::Null;
    }
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A JSON number, with `null` read as NaN.
pub(crate) fn num(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// Equal to 1e-6, NaN equal to NaN.
pub(crate) fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-6
}

/// Assert our report matches SDMetrics' JSON (overall, properties, every detail row).
pub(crate) fn assert_parity(
    ours: &plexus_synth::QualityReport,
    theirs: &serde_json::Value,
    what: &str,
) {
    let shapes = theirs["shapes"].as_array().unwrap();
    assert_eq!(shapes.len(), ours.shapes.len(), "{what}: shape rows");
    for (o, t) in ours.shapes.iter().zip(shapes) {
        assert_eq!(o.column, t["column"].as_str().unwrap());
        assert!(
            close(o.score, num(&t["score"])),
            "{what}: shape {} ours {} sdmetrics {}",
            o.column,
            o.score,
            t["score"]
        );
    }
    let pairs = theirs["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), ours.pairs.len(), "{what}: pair rows");
    for (o, t) in ours.pairs.iter().zip(pairs) {
        assert_eq!(o.column_1, t["column_1"].as_str().unwrap());
        assert_eq!(o.column_2, t["column_2"].as_str().unwrap());
        assert!(
            close(o.score, num(&t["score"]))
                && o.meets_threshold == t["meets_threshold"].as_bool().unwrap(),
            "{what}: pair {}/{} ours {} ({}) sdmetrics {} ({})",
            o.column_1,
            o.column_2,
            o.score,
            o.meets_threshold,
            t["score"],
            t["meets_threshold"]
        );
    }
    let pairs = [
        ("overall", ours.overall),
        ("column_shapes", ours.column_shapes),
        ("column_pair_trends", ours.column_pair_trends),
    ];
    for (key, value) in pairs {
        assert!(
            close(value, num(&theirs[key])),
            "{what}: {key} ours {value} sdmetrics {}",
            theirs[key]
        );
    }
}
