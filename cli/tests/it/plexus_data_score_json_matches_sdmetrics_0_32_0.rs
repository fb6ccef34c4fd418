//! `plexus data score --json` against SDMetrics 0.32.0 itself, installed from PyPI into a
//! venv: on SDMetrics' own `student_placements` demo (its golden numbers included), and
//! on palmerpenguins and scikit-learn's bundled sets with samples from
//! `plexus data generate`. Overall, both properties and every detail row agree to 1e-6.

use std::path::Path;

use serde_json::Value;

use crate::support::{ok, plexus, workspace};

/// SDMetrics' answer for `args` through the bridge script the synth tests use too.
fn sdmetrics(python: &Path, args: &[&str]) -> Value {
    let script = workspace().join("synth/tests/support/sdmetrics_bridge.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sdmetrics bridge {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A JSON number, `null` read as NaN (both sides write NaN as null).
fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn close(a: &Value, b: &Value) -> bool {
    let (a, b) = (num(a), num(b));
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-6
}

/// Run `plexus data score --json` and compare it with SDMetrics' report on the same files.
fn assert_parity(cmd: &mut std::process::Command, dir: &Path, theirs: &Value, what: &str) {
    let (meta, real, synthetic) = (
        dir.join("metadata.json"),
        dir.join("real.csv"),
        dir.join("synthetic.csv"),
    );
    let out = ok(cmd
        .args(["data", "score", "--json", "--metadata"])
        .arg(&meta)
        .arg("--real")
        .arg(&real)
        .arg("--synthetic")
        .arg(&synthetic));
    let ours: Value = serde_json::from_str(&out).unwrap();
    let q = &ours["quality"];
    for key in ["overall", "column_shapes", "column_pair_trends"] {
        assert!(
            close(&q[key], &theirs[key]),
            "{what}: {key} plexus {} sdmetrics {}",
            q[key],
            theirs[key]
        );
    }
    let (shapes, their_shapes) = (
        q["details"]["shapes"].as_array().unwrap(),
        theirs["shapes"].as_array().unwrap(),
    );
    assert_eq!(shapes.len(), their_shapes.len(), "{what}: shape rows");
    for (o, t) in shapes.iter().zip(their_shapes) {
        assert_eq!(o["column"], t["column"], "{what}");
        assert!(
            close(&o["score"], &t["score"]),
            "{what}: {} plexus {} sdmetrics {}",
            o["column"],
            o["score"],
            t["score"]
        );
    }
    let (pairs, their_pairs) = (
        q["details"]["pairs"].as_array().unwrap(),
        theirs["pairs"].as_array().unwrap(),
    );
    assert_eq!(pairs.len(), their_pairs.len(), "{what}: pair rows");
    for (o, t) in pairs.iter().zip(their_pairs) {
        assert_eq!(
            (&o["column_1"], &o["column_2"]),
            (&t["column_1"], &t["column_2"]),
            "{what}"
        );
        assert!(
            close(&o["score"], &t["score"]) && o["meets_threshold"] == t["meets_threshold"],
            "{what}: {}/{} plexus {} ({}) sdmetrics {} ({})",
            o["column_1"],
            o["column_2"],
            o["score"],
            o["meets_threshold"],
            t["score"],
            t["meets_threshold"]
        );
    }
    eprintln!(
        "{what}: overall {} shapes {} pairs {} (plexus = sdmetrics 0.32.0)",
        q["overall"], q["column_shapes"], q["column_pair_trends"]
    );
}

#[test]
fn plexus_data_score_json_matches_sdmetrics_0_32_0() {
    let python =
        plexus_testing::sdmetrics_python(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")));
    let tmp = tempfile::tempdir().unwrap();
    let cli = || plexus(&tmp.path().join("wallets"));

    // SDMetrics' own demo pair, with its published golden numbers.
    let demo = tmp.path().join("student_placements");
    std::fs::create_dir_all(&demo).unwrap();
    let theirs = sdmetrics(&python, &["export-demo", demo.to_str().unwrap()]);
    for (key, golden) in [
        ("overall", 0.776727),
        ("column_shapes", 0.851108),
        ("column_pair_trends", 0.702346),
    ] {
        assert!((num(&theirs[key]) - golden).abs() < 5e-7, "{key}: {theirs}");
    }
    assert_parity(&mut cli(), &demo, &theirs, "student_placements");

    // Our own samples: palmerpenguins and scikit-learn's bundled sets.
    let penguins = tmp.path().join("penguins");
    std::fs::create_dir_all(&penguins).unwrap();
    let fixtures = workspace().join("synth/tests/fixtures");
    std::fs::copy(fixtures.join("penguins.csv"), penguins.join("real.csv")).unwrap();
    std::fs::copy(
        fixtures.join("penguins.json"),
        penguins.join("metadata.json"),
    )
    .unwrap();
    let mut sets = vec![("penguins", penguins, Some("species"))];
    for (name, stratify) in [
        ("iris", Some("target")),
        ("wine", Some("target")),
        ("breast_cancer", Some("target")),
        ("diabetes", None),
    ] {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        sdmetrics(&python, &["export-sklearn", name, dir.to_str().unwrap()]);
        sets.push((name, dir, stratify));
    }
    for (name, dir, stratify) in sets {
        let mut generate = cli();
        generate
            .args(["data", "generate", "--seed", "1", "--metadata"])
            .arg(dir.join("metadata.json"))
            .arg("--real")
            .arg(dir.join("real.csv"))
            .arg("--out")
            .arg(dir.join("synthetic.csv"));
        if let Some(column) = stratify {
            generate.args(["--stratify", column]);
        }
        ok(&mut generate);
        let theirs = sdmetrics(
            &python,
            &[
                "report",
                dir.join("metadata.json").to_str().unwrap(),
                dir.join("real.csv").to_str().unwrap(),
                dir.join("synthetic.csv").to_str().unwrap(),
            ],
        );
        assert!(
            theirs["pairs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["meets_threshold"] == true),
            "{name}: no pair meets the threshold, a weak check"
        );
        assert_parity(&mut cli(), &dir, &theirs, name);
    }
}
