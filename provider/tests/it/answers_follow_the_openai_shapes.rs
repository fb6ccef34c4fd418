use std::time::Duration;

use plexus_provider::ProviderConfig;

use crate::support::{
    EMBED_MODEL, MODEL, Scripted, call, call_json, chat, post, provider, sse_data,
};

#[tokio::test]
async fn models_lists_the_chat_and_the_embedding_model() {
    let (_, app) = provider(
        Scripted::new(vec!["a"], Duration::ZERO),
        ProviderConfig::default(),
    );
    let request = axum::http::Request::get("/v1/models")
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, body) = call_json(&app, request).await;
    assert_eq!(status, 200);
    let ids: Vec<_> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, vec![MODEL, EMBED_MODEL]);
    assert_eq!(body["object"], "list");
}

#[tokio::test]
async fn a_chat_answer_carries_text_usage_and_the_engine_fingerprint() {
    let (p, app) = provider(
        Scripted::new(vec!["Hel", "lo", "!"], Duration::ZERO),
        ProviderConfig::default(),
    );
    let (status, headers, body) = call(&app, post("/v1/chat/completions", &chat(false))).await;
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["content"], "Hello!");
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["prompt_tokens"], 7);
    assert_eq!(body["usage"]["completion_tokens"], 3);
    assert_eq!(body["usage"]["total_tokens"], 10);
    assert_eq!(body["system_fingerprint"], p.fingerprint());
    let hash = blake3::hash(MODEL.as_bytes()).to_hex().to_string();
    assert_eq!(headers["x-plexus-weights-hash"], hash.as_str());
    assert!(
        headers["x-plexus-engine"]
            .to_str()
            .unwrap()
            .starts_with("scripted/1")
    );
}

#[tokio::test]
async fn a_streamed_chat_opens_with_the_role_ends_with_usage_and_done() {
    let (_, app) = provider(
        Scripted::new(vec!["a", "b", "c", "d"], Duration::ZERO),
        ProviderConfig::default(),
    );
    let mut request = chat(true);
    request["max_tokens"] = 3.into();
    let (status, headers, body) = call(&app, post("/v1/chat/completions", &request)).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/event-stream");
    let data = sse_data(&body);
    assert_eq!(data.last().unwrap(), "[DONE]");
    let chunks: Vec<serde_json::Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "abc");
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "length");
    assert!(finish["usage"].is_null());
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"].as_array().unwrap().len(), 0);
    assert_eq!(usage["usage"]["completion_tokens"], 3);
    let ids: std::collections::BTreeSet<_> = chunks
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "every chunk of a stream shares one id");
}

#[tokio::test]
async fn text_completions_stream_and_collect_the_same_text() {
    let (_, app) = provider(
        Scripted::new(vec!["x", "y"], Duration::ZERO),
        ProviderConfig::default(),
    );
    let request = serde_json::json!({"model": MODEL, "prompt": "p", "max_tokens": 5});
    let (status, body) = call_json(&app, post("/v1/completions", &request)).await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "text_completion");
    assert_eq!(body["choices"][0]["text"], "xy");
    let request =
        serde_json::json!({"model": MODEL, "prompt": ["p"], "max_tokens": 5, "stream": true});
    let (_, _, body) = call(&app, post("/v1/completions", &request)).await;
    let data = sse_data(&body);
    let text: String = data[..data.len() - 1]
        .iter()
        .map(|d| {
            serde_json::from_str::<serde_json::Value>(d).unwrap()["choices"][0]["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(text, "xy");
}

#[tokio::test]
async fn embeddings_come_as_floats_or_as_little_endian_base64() {
    let (_, app) = provider(
        Scripted::new(vec![], Duration::ZERO),
        ProviderConfig::default(),
    );
    let request = serde_json::json!({"model": EMBED_MODEL, "input": ["ab", "abcd"]});
    let (status, body) = call_json(&app, post("/v1/embeddings", &request)).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"][1]["embedding"],
        serde_json::json!([4.0, 1.0, -0.5])
    );
    assert_eq!(body["data"][1]["index"], 1);
    let request =
        serde_json::json!({"model": EMBED_MODEL, "input": "abc", "encoding_format": "base64"});
    let (_, body) = call_json(&app, post("/v1/embeddings", &request)).await;
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let floats: Vec<f32> = bytes
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(floats, vec![3.0, 1.0, -0.5]);
}

#[tokio::test]
async fn a_token_id_prompt_is_served_and_several_prompts_are_refused() {
    let (_, app) = provider(
        Scripted::new(vec!["x", "y"], Duration::ZERO),
        ProviderConfig::default(),
    );
    for prompt in [serde_json::json!([1, 2, 3]), serde_json::json!([[1, 2, 3]])] {
        let request = serde_json::json!({"model": MODEL, "prompt": prompt, "max_tokens": 5});
        let (status, body) = call_json(&app, post("/v1/completions", &request)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["choices"][0]["text"], "xy");
    }
    for prompt in [
        serde_json::json!([[1], [2]]),
        serde_json::json!(["a", "b"]),
        serde_json::json!([]),
        serde_json::json!([[]]),
    ] {
        let request = serde_json::json!({"model": MODEL, "prompt": prompt, "max_tokens": 5});
        let (status, body) = call_json(&app, post("/v1/completions", &request)).await;
        assert_eq!(status, 400, "{prompt}: {body}");
        assert_eq!(body["error"]["param"], "prompt", "{body}");
    }
}

#[tokio::test]
async fn token_id_embedding_inputs_are_read_as_the_cl100k_text_they_spell() {
    let (_, app) = provider(
        Scripted::new(vec![], Duration::ZERO),
        ProviderConfig::default(),
    );
    // "Hello world" in cl100k_base, as LangChain's OpenAIEmbeddings sends it: the
    // vector of the text itself (the test embedder's first component is its length).
    for input in [
        serde_json::json!([9906, 1917]),
        serde_json::json!([[9906, 1917], [9906]]),
    ] {
        let request = serde_json::json!({"model": EMBED_MODEL, "input": input});
        let (status, body) = call_json(&app, post("/v1/embeddings", &request)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"][0]["embedding"][0], 11.0, "{body}");
    }
    for input in [
        serde_json::json!([9906, 4_000_000]),
        serde_json::json!([[9906], []]),
        serde_json::json!([[9906], "mixed"]),
    ] {
        let request = serde_json::json!({"model": EMBED_MODEL, "input": input});
        let (status, body) = call_json(&app, post("/v1/embeddings", &request)).await;
        assert_eq!(status, 400, "{input}: {body}");
        assert_eq!(
            body["error"]["param"].as_str().unwrap_or("input"),
            "input",
            "{body}"
        );
    }
}

#[tokio::test]
async fn metrics_count_requests_and_tokens() {
    let (p, app) = provider(
        Scripted::new(vec!["a", "b"], Duration::ZERO),
        ProviderConfig::default(),
    );
    call(&app, post("/v1/chat/completions", &chat(false))).await;
    let text = p.metrics();
    assert!(
        text.contains("plexus_provider_completion_tokens_total 2"),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/v1/chat/completions",status="200""#),
        "{text}"
    );
    assert!(text.contains("plexus_provider_queue_depth 0"), "{text}");
}
