//! Upstream mode forwards the whole request: a provider pointed at a second provider
//! (which requires an API key, as a hosted vLLM would) serves the same greedy answer,
//! the same log-probabilities and the same penalised answer as the second one does
//! directly, under the name it was told to serve.

use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::support::{ProviderProcess, default_model, plexus};

const KEY: &str = "upstream-secret";

fn chat(http: &Client, url: &str, key: Option<&str>, body: &Value) -> (Value, Option<String>) {
    let mut request = http.post(format!("{url}/v1/chat/completions")).json(body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().unwrap();
    let hash = response
        .headers()
        .get("x-plexus-weights-hash")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let status = response.status();
    let body: Value = response.json().unwrap();
    assert!(status.is_success(), "{url}: {status} {body}");
    (body, hash)
}

#[test]
fn a_provider_in_upstream_mode_forwards_sampling_and_logprobs_unchanged() {
    let _ = default_model();
    let dir = tempfile::tempdir().unwrap();
    let wallets = dir.path().join("wallets");
    let mut cmd = plexus(&wallets);
    cmd.env("PLEXUS_PROVIDER_API_KEY", KEY);
    let upstream = ProviderProcess::start(cmd, dir.path(), &["--no-embeddings"]);
    let http = Client::new();
    let ask = |model: &str, extra: Value| {
        let mut body = json!({
            "model": model,
            "messages": [{"role": "user", "content": "Write the word cat ten times, separated by spaces."}],
            "temperature": 0, "max_tokens": 16, "logprobs": true, "top_logprobs": 2,
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let (direct, hash) = chat(
        &http,
        &upstream.api_url,
        Some(KEY),
        &ask("SmolLM2-135M-Instruct", json!({})),
    );
    let hash = hash.expect("the provider names its weights hash");

    let mut cmd = plexus(&wallets);
    cmd.env("PLEXUS_UPSTREAM_API_KEY", KEY);
    let forwarding = ProviderProcess::start(
        cmd,
        dir.path(),
        &[
            "--upstream",
            &upstream.api_url,
            "--upstream-model",
            "SmolLM2-135M-Instruct",
            "--weights-hash",
            &hash,
            "--served-model-name",
            "smol",
        ],
    );
    let models: Value = http
        .get(format!("{}/v1/models", forwarding.api_url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(models["data"][0]["id"], "smol", "{models}");

    let (forwarded, forwarded_hash) =
        chat(&http, &forwarding.api_url, None, &ask("smol", json!({})));
    assert_eq!(forwarded_hash.as_deref(), Some(hash.as_str()));
    assert_eq!(
        forwarded["choices"][0]["message"]["content"],
        direct["choices"][0]["message"]["content"]
    );
    assert_eq!(
        forwarded["choices"][0]["logprobs"], direct["choices"][0]["logprobs"],
        "log-probabilities pass through unchanged"
    );
    // Penalties and truncation reach the upstream's sampler.
    let shaped = json!({"frequency_penalty": 2.0, "presence_penalty": 1.0, "top_k": 5});
    let (direct_shaped, _) = chat(
        &http,
        &upstream.api_url,
        Some(KEY),
        &ask("SmolLM2-135M-Instruct", shaped.clone()),
    );
    let (forwarded_shaped, _) = chat(&http, &forwarding.api_url, None, &ask("smol", shaped));
    assert_ne!(
        direct_shaped["choices"][0]["message"]["content"],
        direct["choices"][0]["message"]["content"]
    );
    assert_eq!(
        forwarded_shaped["choices"][0]["message"]["content"],
        direct_shaped["choices"][0]["message"]["content"]
    );
}
