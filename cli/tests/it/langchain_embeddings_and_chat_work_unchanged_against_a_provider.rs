//! LangChain as its users point it at an OpenAI endpoint, unchanged: `langchain-openai`'s
//! `OpenAIEmbeddings` with its defaults (long-text splitting with tiktoken, so the
//! inputs arrive as cl100k_base token ids) and `ChatOpenAI` (invoke, stream, logprobs)
//! against a provider serving the default models.

use std::process::Command;

use serde_json::Value;

use crate::support::{ProviderProcess, clients_venv, default_model, plexus, workspace};

#[test]
fn langchain_embeddings_and_chat_work_unchanged_against_a_provider() {
    let _ = default_model();
    let (python, tiktoken_cache) = clients_venv();
    let dir = tempfile::tempdir().unwrap();
    let provider = ProviderProcess::start(plexus(&dir.path().join("wallets")), dir.path(), &[]);

    let out = Command::new(&python)
        .arg(workspace().join("cli/tests/it/py/langchain_client.py"))
        .arg(format!("{}/v1", provider.api_url))
        .args(["SmolLM2-135M-Instruct", "all-MiniLM-L6-v2"])
        .env("TIKTOKEN_CACHE_DIR", &tiktoken_cache)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "langchain failed:\n{}\nprovider log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        provider.log()
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    println!("{seen:#}");

    // The token ids are read back as the texts they spell: all-MiniLM-L6-v2's
    // published similarity for this pair, as when the texts are sent as strings.
    let embeddings = &seen["embeddings"];
    assert_eq!(embeddings["dims"], 384);
    let cosine = embeddings["cosine"].as_f64().unwrap();
    assert!((cosine - 0.755337).abs() < 1e-4, "{cosine}");
    assert!(embeddings["query_equals_document"].as_f64().unwrap() < 1e-6);

    let invoked = seen["invoke"].as_str().unwrap();
    assert!(invoked.contains("Paris"), "{invoked}");
    assert_eq!(
        seen["stream"].as_str(),
        Some(invoked),
        "greedy, streamed the same"
    );
    let logprobs = seen["logprobs"].as_array().unwrap();
    assert!(!logprobs.is_empty());
    assert!(
        logprobs
            .iter()
            .all(|l| l.as_f64().is_some_and(|l| l.is_finite() && l <= 0.0))
    );
}
