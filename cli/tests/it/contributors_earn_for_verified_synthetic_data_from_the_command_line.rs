//! A data task end to end through the binary on a local network: a requester posts a
//! task with a public reference (the training half goes into the store, the chain
//! commits to the split), two honest contributors submit Gaussian copula samples fitted
//! on that half and an attacker submits the half verbatim, the validator scores, commits
//! and reveals weights on the commit-reveal subnet, emission lands on the honest
//! contributors in proportion to their weights and not on the copier, and the accepted
//! dataset downloads (CSV and Parquet) with a Merkle root that matches the chain, from
//! the command line and from the node's API (which also serves the validator's signed
//! score report, and refuses a store whose copy no longer matches the chain).

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{LocalNet, ok, workspace};

fn json(cmd: &mut std::process::Command) -> Value {
    serde_json::from_str(&ok(cmd.arg("--json"))).expect("--json prints JSON")
}

/// GET `url`: the status, the body, and its `error.code` when it is a JSON error.
fn get(url: &str) -> (u16, Vec<u8>, Option<String>) {
    let response = reqwest::blocking::get(url).unwrap();
    let status = response.status().as_u16();
    let body = response.bytes().unwrap().to_vec();
    let code = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(String::from));
    (status, body, code)
}

fn lines(path: &str) -> usize {
    std::fs::read_to_string(path).unwrap().lines().count()
}

#[test]
fn contributors_earn_for_verified_synthetic_data_from_the_command_line() {
    let net = LocalNet::start();
    let store = net.dir.path().join("store");
    let cli = || {
        let mut cmd = net.cli();
        cmd.env("PLEXUS_DATA_STORE", &store);
        cmd
    };
    let path = |name: &str| net.dir.path().join(name).to_str().unwrap().to_string();

    // Fixtures: palmerpenguins and its SDV metadata.
    let fixtures = workspace().join("synth/tests/fixtures");
    std::fs::copy(fixtures.join("penguins.csv"), path("penguins.csv")).unwrap();
    std::fs::copy(fixtures.join("penguins.json"), path("penguins.json")).unwrap();

    // Offline tools first: generate a sample, score it.
    ok(cli().args([
        "data",
        "generate",
        "--metadata",
        &path("penguins.json"),
        "--real",
        &path("penguins.csv"),
        "--stratify",
        "species",
        "--seed",
        "7",
        "--out",
        &path("offline.csv"),
    ]));
    let scored = json(cli().args([
        "data",
        "score",
        "--metadata",
        &path("penguins.json"),
        "--real",
        &path("penguins.csv"),
        "--synthetic",
        &path("offline.csv"),
    ]));
    let overall = scored["quality"]["overall"].as_f64().unwrap();
    assert!(overall > 0.5 && overall <= 1.0, "{scored}");
    assert!(scored["quality"]["column_shapes"].as_f64().is_some());
    assert!(
        scored["quality"]["details"]["shapes"]
            .as_array()
            .unwrap()
            .len()
            == 8
    );

    // The economy: a wallet with a validator and three contributor hotkeys on a data
    // subnet with the default hyperparameters (commit-reveal on).
    ok(cli().args([
        "wallet",
        "create",
        "--name",
        "alice",
        "--hotkey",
        "validator",
    ]));
    for h in ["honest", "second", "copier"] {
        ok(cli().args(["wallet", "create", "--name", "alice", "--hotkey", h]));
    }
    ok(cli().args(["wallet", "faucet", "--name", "alice", "--amount", "1000"]));
    let subnet = json(cli().args([
        "subnet",
        "create",
        "--name",
        "alice",
        "--subnet-name",
        "penguins",
        "--mechanism",
        "data",
    ]));
    let netuid = subnet["netuid"].as_u64().unwrap().to_string();
    for hotkey in ["validator", "honest", "second", "copier"] {
        ok(cli().args([
            "subnet", "register", "--name", "alice", "--hotkey", hotkey, "--netuid", &netuid,
        ]));
    }
    ok(cli().args([
        "stake",
        "add",
        "--name",
        "alice",
        "--hotkey",
        "validator",
        "--amount",
        "100",
    ]));

    // The requester posts the task; the training half goes public.
    let created = json(cli().args([
        "data",
        "task",
        "create",
        "--name",
        "alice",
        "--netuid",
        &netuid,
        "--metadata",
        &path("penguins.json"),
        "--reference",
        &path("penguins.csv"),
        "--bounty",
        "50",
        "--commit-blocks",
        "15",
        "--reveal-blocks",
        "8",
    ]));
    let task = created["task"]["id"].as_u64().unwrap().to_string();
    let reveal_deadline = created["task"]["reveal_deadline"].as_u64().unwrap();
    let public = &created["public_reference"];
    assert_eq!(public["train_rows"].as_u64(), Some(172), "{created}");
    assert_eq!(public["holdout_rows"].as_u64(), Some(172), "{created}");

    // Contributors fit on the training half only; the copier takes it verbatim.
    for (seed, rows, out) in [("7", None, "honest.csv"), ("8", Some("120"), "second.csv")] {
        let mut cmd = cli();
        cmd.args([
            "data",
            "generate",
            "--task",
            &task,
            "--metadata",
            &path("penguins.json"),
            "--stratify",
            "species",
            "--seed",
            seed,
            "--out",
            &path(out),
        ]);
        if let Some(rows) = rows {
            cmd.args(["--rows", rows]);
        }
        ok(&mut cmd);
    }
    assert_eq!(lines(&path("honest.csv")), 173);
    assert_eq!(lines(&path("second.csv")), 121);
    let half = json(cli().args([
        "data",
        "download",
        "--task",
        &task,
        "--training-half",
        "--out",
        &path("copy.csv"),
    ]));
    assert_eq!(half["verified"], true);
    assert_eq!(lines(&path("copy.csv")), 173);

    // All three submit at once (each commits, waits, reveals).
    let submit = |hotkey: &str, file: &str| {
        let mut cmd = cli();
        cmd.args([
            "data", "submit", "--name", "alice", "--hotkey", hotkey, "--task", &task, "--file",
            file, "--json",
        ]);
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children = [
        submit("honest", &path("honest.csv")),
        submit("second", &path("second.csv")),
        submit("copier", &path("copy.csv")),
    ];
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "submit failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let shown = json(cli().args(["data", "task", "show", &task]));
    assert_eq!(shown["reveals"].as_u64(), Some(3), "{shown}");

    // The node serves the training half from the same store, checked against the
    // task; nothing is published or scored yet.
    let api = format!("{}/v1/data/tasks/{task}", net.node.url());
    let (status, training, _) = get(&format!("{api}/training"));
    assert_eq!(status, 200);
    assert_eq!(training, std::fs::read(path("copy.csv")).unwrap());
    let (status, _, code) = get(&format!("{api}/dataset"));
    assert_eq!((status, code.as_deref()), (404, Some("not_published")));
    let (status, body, _) = get(&format!("{api}/reports"));
    assert_eq!(status, 200);
    let none: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(none["reports"], serde_json::json!([]));
    let (status, _, code) = get(&format!("{api}/dataset?format=xlsx"));
    assert_eq!((status, code.as_deref()), (400, Some("invalid_query")));

    // After the reveal deadline the validator scores, commits and reveals weights, and
    // publishes the accepted dataset.
    let deadline = Instant::now() + Duration::from_secs(90);
    while net.node.height().unwrap_or(0) <= reveal_deadline {
        assert!(Instant::now() < deadline, "the chain stalled");
        std::thread::sleep(Duration::from_millis(300));
    }
    let validate = |dry_run: bool| {
        let mut cmd = cli();
        cmd.args([
            "data",
            "validate",
            "--name",
            "alice",
            "--hotkey",
            "validator",
            "--task",
            &task,
            "--metadata",
            &path("penguins.json"),
            "--reference",
            &path("penguins.csv"),
        ]);
        if dry_run {
            cmd.arg("--dry-run");
        }
        json(&mut cmd)
    };
    let validated = validate(false);
    let report = &validated["report"];
    assert_eq!(report["public_reference"], true, "{report}");
    assert_eq!(
        validated["receipts"].as_array().unwrap().len(),
        3,
        "commit, reveal, publish"
    );
    let subs = report["submissions"].as_array().unwrap();
    let by_uid = |uid: u64| subs.iter().find(|s| s["uid"] == uid).unwrap();
    let (honest, second, copier) = (by_uid(1), by_uid(2), by_uid(3));
    for s in [honest, second] {
        assert_eq!(s["score"]["passed"], true, "{s}");
        assert!(s["score"]["score"].as_f64().unwrap() > 0.5, "{s}");
        assert!((s["credibility"].as_f64().unwrap() - 0.15).abs() < 1e-12);
    }
    assert_eq!(copier["score"]["passed"], false, "{copier}");
    assert_eq!(copier["score"]["score"].as_f64(), Some(0.0));
    assert_eq!(copier["credibility"].as_f64(), Some(0.0));
    let weights: Vec<(u64, u64)> = report["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w[0].as_u64().unwrap(), w[1].as_u64().unwrap()))
        .collect();
    assert_eq!(weights.len(), 2, "{weights:?}");
    assert_eq!((weights[0].0, weights[1].0), (1, 2));
    assert!(weights.iter().any(|w| w.1 == 65535), "{weights:?}");
    let weight_ratio = weights[1].1 as f64 / weights[0].1 as f64;

    // Scoring the task again starts from the credibility recorded before it.
    let again = validate(true);
    assert_eq!(again["report"]["weights"], report["weights"]);
    assert_eq!(
        again["report"]["submissions"][0]["credibility"],
        report["submissions"][0]["credibility"]
    );

    // Emission follows Yuma: after the next epoch the honest contributors earn in
    // proportion to their weights, the copier nothing.
    let show = || json(cli().args(["subnet", "show", &netuid]));
    let epoch = show()["subnet"]["epoch_index"].as_u64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while show()["subnet"]["epoch_index"].as_u64().unwrap() <= epoch {
        assert!(Instant::now() < deadline, "no epoch after {epoch}");
        std::thread::sleep(Duration::from_millis(300));
    }
    let shown = show();
    let neurons = shown["metagraph"]["neurons"].as_array().unwrap();
    let field = |uid: usize, key: &str| neurons[uid][key].as_u64().unwrap() as f64;
    let incentive_ratio = field(2, "incentive") / field(1, "incentive");
    let emission_ratio = field(2, "emission") / field(1, "emission");
    assert!(
        (incentive_ratio - weight_ratio).abs() < 1e-3,
        "incentive {incentive_ratio} vs weights {weight_ratio}: {shown}"
    );
    assert!(
        (emission_ratio - weight_ratio).abs() < 1e-2,
        "emission {emission_ratio} vs weights {weight_ratio}: {shown}"
    );
    assert_eq!(field(3, "incentive"), 0.0, "{shown}");
    assert_eq!(field(3, "emission"), 0.0, "{shown}");

    // The accepted dataset downloads and its root matches the chain.
    let task_view = json(cli().args(["data", "task", "show", &task]));
    let root = task_view["published"]["merkle_root"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(task_view["escrow"].as_u64(), Some(0));
    let downloaded = json(cli().args([
        "data",
        "download",
        "--task",
        &task,
        "--out",
        &path("dataset.csv"),
    ]));
    assert_eq!(downloaded["merkle_root"].as_str(), Some(root.as_str()));
    assert_eq!(downloaded["verified"], true);
    let rows = std::fs::read_to_string(path("dataset.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(Some(rows as u64), task_view["published"]["rows"].as_u64());

    // The same dataset as Parquet holds the same rows.
    json(cli().args([
        "data",
        "download",
        "--task",
        &task,
        "--out",
        &path("dataset.parquet"),
    ]));
    let schema = plexus_synth::Schema::from_metadata_json(
        &std::fs::read_to_string(path("penguins.json")).unwrap(),
    )
    .unwrap();
    let from_csv =
        plexus_synth::Table::from_csv(&schema, &std::fs::read(path("dataset.csv")).unwrap())
            .unwrap();
    let from_parquet = plexus_synth::Table::from_parquet_file(
        &schema,
        std::fs::File::open(path("dataset.parquet")).unwrap(),
        plexus_synth::Limits::default(),
    )
    .unwrap();
    assert_eq!(from_parquet.row_keys(&schema), from_csv.row_keys(&schema));

    // The node's API serves the same files and the validator's signed breakdown.
    let (status, csv, _) = get(&format!("{api}/dataset"));
    assert_eq!(status, 200);
    assert_eq!(csv, std::fs::read(path("dataset.csv")).unwrap());
    let (status, parquet, _) = get(&format!("{api}/dataset?format=parquet"));
    assert_eq!(status, 200);
    std::fs::write(path("served.parquet"), parquet).unwrap();
    let served = plexus_synth::Table::from_parquet_file(
        &schema,
        std::fs::File::open(path("served.parquet")).unwrap(),
        plexus_synth::Limits::default(),
    )
    .unwrap();
    assert_eq!(served.row_keys(&schema), from_csv.row_keys(&schema));
    let (status, body, _) = get(&format!("{api}/reports"));
    assert_eq!(status, 200);
    let reports: Value = serde_json::from_slice(&body).unwrap();
    let reports = reports["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["uid"].as_u64(), Some(0));
    let signed: plexus_types::data::SignedReport = serde_json::from_value(serde_json::json!({
        "task": task.parse::<u64>().unwrap(),
        "validator": reports[0]["validator"],
        "report": reports[0]["report"],
        "signature": reports[0]["signature"],
    }))
    .unwrap();
    signed.verify().unwrap();
    let served_report: Value = serde_json::from_str(&signed.report).unwrap();
    assert_eq!(served_report["weights"], report["weights"]);
    assert_eq!(served_report["submissions"], report["submissions"]);

    // A store whose copy no longer matches the chain is refused, not served.
    let stored = net
        .dir
        .path()
        .join("store/datasets")
        .join(format!("{root}.csv"));
    let text = std::fs::read_to_string(&stored).unwrap();
    let tampered = text.replacen("Adelie", "Gentoo", 1);
    assert_ne!(tampered, text);
    std::fs::write(&stored, tampered).unwrap();
    let (status, _, code) = get(&format!("{api}/dataset"));
    assert_eq!((status, code.as_deref()), (502, Some("dataset_corrupt")));
}
