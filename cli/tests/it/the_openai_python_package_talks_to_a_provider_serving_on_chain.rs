//! A provider registers and serves on a subnet of a local node; the official `openai`
//! Python package lists its models, chats with and without streaming, completes text
//! and gets embeddings; greedy answers repeat exactly; the weights hash on chain is the
//! blake3 of the weights file.

use std::{io::Read as _, process::Command};

use serde_json::Value;

use crate::support::{LocalNet, ProviderProcess, clients_venv, default_model, ok, workspace};

fn blake3_of(path: &std::path::Path) -> String {
    let mut file = std::fs::File::open(path).unwrap();
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    hasher.finalize().to_hex().to_string()
}

#[test]
fn the_openai_python_package_talks_to_a_provider_serving_on_chain() {
    let model = default_model();
    let (python, _) = clients_venv();
    let net = LocalNet::start();
    let cli = || net.cli();
    ok(cli().args(["wallet", "create", "--name", "op", "--hotkey", "provider"]));
    ok(cli().args(["wallet", "faucet", "--name", "op", "--amount", "500"]));
    let subnet: Value = serde_json::from_str(&ok(cli().args([
        "--json",
        "subnet",
        "create",
        "--name",
        "op",
        "--subnet-name",
        "inference",
    ])))
    .unwrap();
    let netuid = subnet["netuid"].as_u64().unwrap().to_string();

    let provider = ProviderProcess::start(
        cli(),
        net.dir.path(),
        &[
            "--netuid",
            &netuid,
            "--name",
            "op",
            "--hotkey",
            "provider",
            "--operator",
            "alice-labs",
        ],
    );

    // The chain shows what the provider serves, with the hash of the file it loaded.
    let show: Value =
        serde_json::from_str(&ok(cli().args(["--json", "subnet", "show", &netuid]))).unwrap();
    let neurons = show["metagraph"]["neurons"]
        .as_array()
        .unwrap_or_else(|| panic!("{show}"));
    let endpoint = &neurons[0]["endpoint"];
    assert_eq!(endpoint["model"], "SmolLM2-135M-Instruct", "{show}");
    assert_eq!(endpoint["url"].as_str(), Some(provider.url.as_str()));
    assert_eq!(endpoint["operator"], "alice-labs");
    assert_eq!(
        endpoint["weights_hash"].as_str(),
        Some(blake3_of(&model).as_str())
    );

    let out = Command::new(&python)
        .arg(workspace().join("cli/tests/it/py/openai_client.py"))
        .arg(format!("{}/v1", provider.api_url))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the openai client failed:\n{}\nprovider log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        provider.log()
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    println!("{seen:#}");

    assert_eq!(seen["models"][0], "SmolLM2-135M-Instruct");
    let chat = seen["chat"].as_array().unwrap();
    let first = chat[0]["content"].as_str().unwrap();
    assert!(first.contains("Paris"), "{first}");
    // Greedy is deterministic: the same request, the same answer and token count.
    assert_eq!(chat[0], chat[1]);
    assert!(chat[0]["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    let fingerprint = chat[0]["fingerprint"].as_str().unwrap();
    assert!(fingerprint.starts_with("llama.cpp-"), "{fingerprint}");
    // Streaming gives the same greedy text, in several chunks, with the usage last.
    assert_eq!(seen["stream"]["content"].as_str(), Some(first));
    assert!(seen["stream"]["chunks"].as_u64().unwrap() > 1);
    assert_eq!(seen["stream"]["usage"], chat[0]["usage"]);
    assert!(!seen["completion"]["text"].as_str().unwrap().is_empty());
    // Embeddings: all-MiniLM-L6-v2's published similarity for this pair.
    assert_eq!(seen["embeddings"]["dims"], 384);
    let cosine = seen["embeddings"]["cosine"].as_f64().unwrap();
    assert!((cosine - 0.755337).abs() < 1e-4, "{cosine}");
    // Log-probabilities: one finite, non-positive value per generated token, the
    // greedy token ranked first among three alternatives, and the tokens spelling the
    // answer; streamed, the same values chunk by chunk.
    let logprobs = &seen["logprobs"];
    let tokens = logprobs["tokens"].as_array().unwrap();
    assert_eq!(
        tokens.len() as u64,
        logprobs["completion_tokens"].as_u64().unwrap(),
        "{logprobs}"
    );
    let mut spelled = String::new();
    for token in tokens {
        let lp = token["logprob"].as_f64().unwrap();
        assert!(lp.is_finite() && lp <= 0.0, "{token}");
        let top = token["top"].as_array().unwrap();
        assert_eq!(top.len(), 3, "{token}");
        assert_eq!(
            top[0]["token"], token["token"],
            "greedy takes the most likely"
        );
        assert!(
            top.windows(2)
                .all(|w| w[0]["logprob"].as_f64() >= w[1]["logprob"].as_f64())
        );
        let mass: f64 = top
            .iter()
            .map(|a| a["logprob"].as_f64().unwrap().exp())
            .sum();
        assert!(mass <= 1.0 + 1e-4, "{token}");
        spelled.push_str(token["token"].as_str().unwrap());
    }
    assert_eq!(spelled, logprobs["content"].as_str().unwrap());
    let streamed: Vec<f64> = seen["streamed_logprobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let whole: Vec<f64> = tokens
        .iter()
        .map(|t| t["logprob"].as_f64().unwrap())
        .collect();
    assert_eq!(streamed, whole);
    let completion = &seen["completion_logprobs"];
    let texts = completion["tokens"].as_array().unwrap();
    assert_eq!(
        texts.len(),
        completion["token_logprobs"].as_array().unwrap().len()
    );
    assert_eq!(
        texts
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect::<String>(),
        completion["text"].as_str().unwrap()
    );
    assert_eq!(completion["text_offset"][0], 0);
    assert!(
        completion["top"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.as_object().unwrap().len() == 2)
    );
    // n = 3: three indexed choices, sampled with their own seeds, streamed the same.
    let choices = &seen["choices"];
    assert_eq!(
        choices["indexes"],
        serde_json::json!([0, 1, 2]),
        "{choices}"
    );
    let contents: Vec<&str> = choices["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(contents.iter().all(|c| !c.is_empty()));
    assert!(
        contents.windows(2).any(|w| w[0] != w[1]),
        "sampled choices differ: {contents:?}"
    );
    assert_eq!(seen["streamed_choices"]["contents"], choices["contents"]);
    assert_eq!(
        seen["streamed_choices"]["finished"],
        serde_json::json!([0, 1, 2])
    );
    // Penalties reach the sampler.
    assert_ne!(seen["penalised"], seen["plain"], "{seen}");
    assert_eq!(seen["unknown_model_error"]["status"], 404);
    assert_eq!(seen["unknown_model_error"]["code"], "model_not_found");
}
