//! `plexus data score` and `generate` on hostile files: malformed CSV, the wrong schema,
//! a huge field, non-UTF-8 bytes, broken metadata, a missing file. Each exits non-zero
//! with a sentence naming the file and the fault; nothing panics.

use crate::support::{fails, plexus, workspace};

#[test]
fn plexus_data_refuses_malformed_input_with_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let fixtures = workspace().join("synth/tests/fixtures");
    let meta = dir.join("penguins.json");
    let real = dir.join("penguins.csv");
    std::fs::copy(fixtures.join("penguins.json"), &meta).unwrap();
    std::fs::copy(fixtures.join("penguins.csv"), &real).unwrap();
    let header = std::fs::read_to_string(&real)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let good_row = "Adelie,Torgersen,39.1,18.7,181,3750,male,2007";

    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        (
            "ragged.csv",
            format!("{header}\n{good_row}\nAdelie,Torgersen,39.5\n").into_bytes(),
            &["malformed CSV at line 3", "expected 8 fields"],
        ),
        (
            "schema.csv",
            format!("{}\n{good_row}\n", header.replace("island", "isle")).into_bytes(),
            &[
                "header does not match the schema",
                "missing [\"island\"]",
                "unexpected [\"isle\"]",
            ],
        ),
        (
            "type.csv",
            format!("{header}\nAdelie,Torgersen,long,18.7,181,3750,male,2007\n").into_bytes(),
            &[
                "line 2",
                "\"bill_length_mm\"",
                "\"long\" is not a valid number",
            ],
        ),
        (
            "huge.csv",
            format!(
                "{header}\nAdelie,{},39.1,18.7,181,3750,male,2007\n",
                "x".repeat(1 << 20)
            )
            .into_bytes(),
            &["line 2: a field is longer than 65536 bytes"],
        ),
        (
            "latin1.csv",
            [
                format!("{header}\nAdelie,Torgersen,39.1,18.7,181,3750,male,2007\nAdelie,Tor")
                    .as_bytes(),
                b"\xe9",
                b"n,39.1,18.7,181,3750,male,2007\n",
            ]
            .concat(),
            &["line 3", "not valid UTF-8"],
        ),
        ("empty.csv", Vec::new(), &["input has no header row"]),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = fails(
            plexus(&dir.join("wallets"))
                .args(["data", "score", "--metadata"])
                .arg(&meta)
                .arg("--real")
                .arg(&real)
                .arg("--synthetic")
                .arg(&path),
        );
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(
            err.contains(name),
            "{name}: the message names the file: {err}"
        );
        for e in expected {
            assert!(err.contains(e), "{name}: expected {e:?} in: {err}");
        }
    }

    // Broken metadata and a missing file.
    let bad_meta = dir.join("bad.json");
    std::fs::write(&bad_meta, b"{\"columns\": [1, 2]}").unwrap();
    let err = fails(
        plexus(&dir.join("wallets"))
            .args(["data", "generate", "--metadata"])
            .arg(&bad_meta)
            .arg("--real")
            .arg(&real)
            .arg("--out")
            .arg(dir.join("out.csv")),
    );
    assert!(
        err.contains("bad.json is not SDV metadata JSON"),
        "bad metadata: {err}"
    );
    let err = fails(
        plexus(&dir.join("wallets"))
            .args(["data", "score", "--metadata"])
            .arg(&meta)
            .arg("--real")
            .arg(dir.join("absent.csv"))
            .arg("--synthetic")
            .arg(&real),
    );
    assert!(
        err.contains("cannot read real data") && err.contains("absent.csv"),
        "missing file: {err}"
    );
    // Nothing was written for the failed generate.
    assert!(!dir.join("out.csv").exists());
}
