//! Finding 2: the price is read from the request the engine runs. A text completion
//! naming `max_completion_tokens` (which completions ignore), 2,048 embedding inputs,
//! a 100 KB prompt, four choices (`n`), or a chat naming no limit on a provider whose
//! default is long, each for one credit, is refused before any work; paid in full, each
//! is served.

use std::time::Duration;

use plexus_provider::ProviderConfig;
use serde_json::json;

use crate::{
    gateway::{start, tokens},
    support::{EMBED_MODEL, MODEL, Scripted},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn underpriced_requests_are_refused_and_the_same_requests_paid_in_full_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Scripted::new(vec!["a"; 600], Duration::ZERO);
    let config = ProviderConfig {
        default_chat_max_tokens: 2048,
        ..ProviderConfig::default()
    };
    let p = start(&dir.path().join("spent.redb"), engine.clone(), config).await;

    let completion = json!({
        "model": MODEL, "prompt": "hi", "max_completion_tokens": 1, "max_tokens": 2048,
    });
    let inputs: Vec<String> = (0..2048).map(|i| format!("{i}")).collect();
    let embeddings = json!({"model": EMBED_MODEL, "input": inputs});
    let long_prompt = json!({
        "model": MODEL, "max_tokens": 1,
        "messages": [{"role": "user", "content": "x".repeat(100_000)}],
    });
    // Four choices of 300 tokens are four answers, not one.
    let choices = json!({
        "model": MODEL, "max_tokens": 300, "n": 4,
        "messages": [{"role": "user", "content": "hi"}],
    });
    let cases = [
        ("/v1/completions", completion),
        ("/v1/embeddings", embeddings),
        ("/v1/chat/completions", long_prompt),
        ("/v1/chat/completions", choices),
    ];
    for (path, body) in &cases {
        let (status, answer) = p.send(path, body, tokens(1)).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (402, Some("insufficient_credits")),
            "{path} was served for one credit: {answer}"
        );
    }
    for (path, body) in &cases {
        let need = plexus_types::credits::credits_for(path, body.to_string().as_bytes());
        let (status, answer) = p
            .send(path, body, tokens(usize::try_from(need).unwrap()))
            .await;
        assert_eq!(status, 200, "{path} paid with {need} credits: {answer}");
    }

    // A chat naming no limit: the private path serves (and prices) the rule's default,
    // not the operator's longer one.
    let open = json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]});
    let (status, answer) = p.send("/v1/chat/completions", &open, tokens(1)).await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["usage"]["completion_tokens"].as_u64().unwrap() <= 512,
        "one credit bought {answer}"
    );
}
