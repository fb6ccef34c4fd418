//! `plexus sim yuma` prints, for LEDGER.md's scenarios, exactly the golden numbers.

use serde_json::Value;

use crate::support::{fails, ok, plexus, workspace};

fn run(vector: &str) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let path = workspace().join("ledger/tests/vectors").join(vector);
    let stdout = ok(plexus(dir.path())
        .args(["sim", "yuma", "--scenario"])
        .arg(path));
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

#[test]
fn original_bond_dynamics_match_subtensor_step_by_step() {
    let epochs = run("original_bond_dynamics.json");
    assert_eq!(epochs.len(), 7);
    // (step, bond column, expected u16 bonds of validators 0..3), from LEDGER.md.
    let expected: [(usize, usize, [u64; 4]); 7] = [
        (0, 4, [16383, 32767, 49151, 65535]),
        (1, 4, [14582, 32767, 49151, 65535]),
        (2, 4, [12603, 28321, 49151, 65535]),
        (3, 7, [12602, 28320, 49150, 65535]),
        (4, 7, [10951, 24609, 49150, 65535]),
        (5, 7, [9559, 21482, 49150, 65535]),
        (6, 7, [8376, 18824, 49150, 65535]),
    ];
    for (step, column, bonds) in expected {
        let epoch = &epochs[step];
        assert_eq!(epoch["epoch"].as_u64(), Some(step as u64));
        let got: Vec<u64> = (0..4)
            .map(|v| epoch["bonds"][v][column].as_u64().unwrap())
            .collect();
        assert_eq!(got, bonds, "step {}", step + 1);
    }
    assert_eq!(
        u64s(&epochs[0]["emission"]),
        [
            49999998, 99999999, 150000000, 200000001, 49998779, 100000610, 149996337, 200004272
        ]
    );
}

#[test]
fn without_valid_weights_validators_are_paid_by_stake() {
    let epochs = run("no_valid_weights.json");
    let last = epochs.last().unwrap();
    assert!(u64s(&last["consensus"]).iter().all(|&c| c == 0));
    assert!(u64s(&last["incentive"]).iter().all(|&c| c == 0));
    assert!(u64s(&last["dividends"]).iter().all(|&c| c == 0));
    assert_eq!(u64s(&last["emission"]), vec![99_999_999; 10]);
}

#[test]
fn the_512_uid_graph_pays_validators_and_servers_as_subtensor_does() {
    let epochs = run("graph_512.json");
    let last = epochs.last().unwrap();
    let dividends = u64s(&last["dividends"]);
    let emission = u64s(&last["emission"]);
    let consensus = u64s(&last["consensus"]);
    let incentive = u64s(&last["incentive"]);
    for v in 0..64 {
        assert_eq!(dividends[v], 1023, "validator {v} dividends");
        assert_eq!(emission[v], 7_812_500, "validator {v} emission");
    }
    for s in 64..512 {
        assert_eq!(consensus[s], 146, "server {s} consensus");
        assert_eq!(incentive[s], 146, "server {s} incentive");
        assert_eq!(emission[s], 1_116_071, "server {s} emission");
    }
    for v in 0..64 {
        for s in 64..512 {
            assert_eq!(last["bonds"][v][s].as_u64(), Some(65535));
        }
    }
}

#[test]
fn a_malformed_scenario_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(
        &path,
        r#"{"variant":"original","stake":[1,2],"epochs":[{"weights":{"0":[[9,1]]}}]}"#,
    )
    .unwrap();
    let stderr = fails(
        plexus(dir.path())
            .args(["sim", "yuma", "--scenario"])
            .arg(&path),
    );
    assert!(stderr.contains("is invalid"), "{stderr}");
    std::fs::write(&path, "not json").unwrap();
    let stderr = fails(
        plexus(dir.path())
            .args(["sim", "yuma", "--scenario"])
            .arg(&path),
    );
    assert!(stderr.contains("error"), "{stderr}");
}
