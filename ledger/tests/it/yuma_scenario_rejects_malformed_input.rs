//! The scenario simulator rejects malformed scenarios with clear messages.

use plexus_ledger::yuma::scenario::{self, ScenarioError};

fn err(json: &str) -> String {
    match scenario::run_json(json) {
        Ok(out) => panic!("accepted: {out}"),
        Err(e) => e.to_string(),
    }
}

const OK: &str = r#"{"variant":"original","stake":[1,0],"emission_per_epoch":10,"epochs":[{"weights":{"0":[[1,5]]}}]}"#;

#[test]
fn a_minimal_scenario_runs_and_prints_one_line_per_epoch() {
    let out = scenario::run_json(OK).unwrap();
    assert_eq!(out.lines().count(), 1);
    let line: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let keys: Vec<&str> = line
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "bonds",
            "consensus",
            "dividends",
            "emission",
            "epoch",
            "incentive",
            "validator_trust"
        ]
    );
    assert_eq!(line["emission"], serde_json::json!([5, 5]));
    assert_eq!(line["bonds"], serde_json::json!([[0, 65535], [0, 0]]));
}

#[test]
fn unknown_variants_and_fields_are_rejected() {
    let e = err(&OK.replace("original", "yuma4"));
    assert!(e.contains("unknown variant `yuma4`"), "{e}");
    let e = err(&OK.replace("\"stake\"", "\"stakes\""));
    assert!(e.contains("unknown field `stakes`"), "{e}");
    let e = err(&OK.replace("\"epochs\":[", "\"hyperparams\":{\"kapa\":1},\"epochs\":["));
    assert!(e.contains("unknown field `kapa`"), "{e}");
    let e = err(&OK.replace("{\"weights\"", "{\"weight\""));
    assert!(e.contains("unknown field `weight`"), "{e}");
}

#[test]
fn out_of_range_uids_are_rejected() {
    assert_eq!(
        err(&OK.replace("\"0\":", "\"2\":")),
        "epoch 0: UID 2 is out of range; the scenario has 2 UIDs (0..2)"
    );
    assert_eq!(
        err(&OK.replace("[[1,5]]", "[[1,5],[9,1]]")),
        "epoch 0: UID 9 is out of range; the scenario has 2 UIDs (0..2)"
    );
    assert_eq!(
        err(&OK.replace("\"0\":", "\"x\":")),
        "epoch 0: weights key \"x\" is not a UID"
    );
    let e = err(&OK.replace("[[1,5]]", "[[1,70000]]"));
    assert!(e.contains("expected u16"), "{e}");
    let e = err(&OK.replace("[[1,5]]", "[[1,5,6]]"));
    assert!(
        e.starts_with("invalid scenario: trailing characters"),
        "{e}"
    );
}

#[test]
fn duplicate_targets_are_rejected() {
    assert_eq!(
        err(&OK.replace("[[1,5]]", "[[1,5],[1,6]]")),
        "epoch 0: UID 0 weights UID 1 more than once"
    );
}

#[test]
fn sizes_are_capped() {
    assert_eq!(
        err(&OK.replace("[1,0]", "[]")),
        "the scenario has no UIDs: `stake` is empty"
    );
    let stake = format!("[{}]", vec!["0"; 65_536].join(","));
    assert_eq!(
        err(&OK.replace("[1,0]", &stake)),
        "the scenario has 65536 UIDs; at most 65535 are allowed"
    );
    let epochs = format!("[{}]", vec!["{}"; 10_001].join(","));
    let e = err(&OK.replace("[{\"weights\":{\"0\":[[1,5]]}}]", &epochs));
    assert_eq!(
        e,
        "the scenario lists 10001 epochs; at most 10000 are allowed"
    );
    let stake = format!("[{}]", vec!["1"; 20_000].join(","));
    let e = err(&OK.replace("[1,0]", &stake));
    assert!(
        e.starts_with("the output would hold 400000000 bond cells"),
        "{e}"
    );
}

#[test]
fn inapplicable_hyperparameters_are_rejected() {
    let la =
        r#""hyperparams":{"liquid_alpha":{"alpha_low":1,"alpha_high":2,"steepness":3}},"epochs""#;
    assert_eq!(
        err(&OK.replace("\"epochs\"", la)),
        "hyperparameter `liquid_alpha`: only applies to the yuma3 variant"
    );
    let bad = la.replace("\"alpha_low\":1", "\"alpha_low\":9");
    assert_eq!(
        err(&OK.replace("\"epochs\"", &bad).replace("original", "yuma3")),
        "hyperparameter `liquid_alpha`: alpha_low must not exceed alpha_high"
    );
    let bma = r#""hyperparams":{"bonds_moving_average":1000001},"epochs""#;
    assert_eq!(
        err(&OK.replace("\"epochs\"", bma)),
        "hyperparameter `bonds_moving_average`: must be at most 1000000 (parts per million)"
    );
}

#[test]
fn a_scenario_runs_the_same_twice() {
    let json = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/yuma3_kappa_moves_first.json"
    ));
    assert_eq!(
        scenario::run_json(json).unwrap(),
        scenario::run_json(json).unwrap()
    );
}

#[test]
fn the_error_type_keeps_the_json_source() {
    let e = scenario::run_json("{").unwrap_err();
    assert!(matches!(e, ScenarioError::Json(_)));
    assert!(e.to_string().starts_with("invalid scenario: EOF"), "{e}");
}
