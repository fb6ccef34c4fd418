//! `plexus models`: an empty folder lists nothing; a GGUF file is installed under its
//! model name (again: nothing changes; a file that is not GGUF: refused) and listed
//! with its quantization; its hash by path and by name is the one a provider
//! publishes (the blake3 of the weights).

use serde_json::Value;

use crate::support::{default_model, fails, ok, plexus};

#[test]
fn plexus_models_lists_installs_and_hashes_a_gguf() {
    let source = default_model();
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    let cli = || {
        let mut cmd = plexus(&dir.path().join("wallets"));
        cmd.env("PLEXUS_MODELS", &models).arg("--json");
        cmd
    };
    let listed = |cmd: &mut std::process::Command| -> Value {
        serde_json::from_str(&ok(cmd.args(["models", "list"]))).unwrap()
    };
    assert_eq!(listed(&mut cli())["models"], serde_json::json!([]));

    let hashed: Value =
        serde_json::from_str(&ok(cli().args(["models", "hash"]).arg(&source))).unwrap();
    let hash = hashed["weights_hash"].as_str().unwrap().to_owned();
    assert_eq!(hash.len(), 64);

    let added: Value =
        serde_json::from_str(&ok(cli().args(["models", "add"]).arg(&source))).unwrap();
    assert_eq!(added["name"], "SmolLM2-135M-Instruct");
    assert_eq!(added["weights_hash"], hash.as_str());
    let again: Value =
        serde_json::from_str(&ok(cli().args(["models", "add"]).arg(&source))).unwrap();
    assert_eq!(
        again["path"], added["path"],
        "installing twice changes nothing"
    );

    let all = listed(&mut cli());
    let entries = all["models"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{all}");
    assert_eq!(entries[0]["name"], "SmolLM2-135M-Instruct");
    assert_eq!(entries[0]["kind"], "chat");
    assert_eq!(entries[0]["quantization"], "Q4_1");
    assert_eq!(
        entries[0]["bytes"].as_u64(),
        Some(std::fs::metadata(&source).unwrap().len())
    );

    let by_name: Value =
        serde_json::from_str(&ok(cli().args(["models", "hash", "SmolLM2-135M-Instruct"]))).unwrap();
    assert_eq!(by_name["weights_hash"], hash.as_str());

    let not_gguf = dir.path().join("notes.gguf");
    std::fs::write(&not_gguf, b"plain text, not weights").unwrap();
    let refused = fails(cli().args(["models", "add"]).arg(&not_gguf));
    assert!(refused.contains("not a GGUF file"), "{refused}");
    assert_eq!(listed(&mut cli())["models"].as_array().unwrap().len(), 1);
}
