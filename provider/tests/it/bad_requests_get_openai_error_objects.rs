use std::time::Duration;

use axum::body::Body;
use plexus_provider::ProviderConfig;

use crate::support::{MODEL, Scripted, call_json, chat, post, provider};

async fn refused(body: serde_json::Value, path: &str) -> (u16, serde_json::Value) {
    let (_, app) = provider(
        Scripted::new(vec!["a"], Duration::ZERO),
        ProviderConfig::default(),
    );
    let (status, body) = call_json(&app, post(path, &body)).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (status, body["error"].clone())
}

#[tokio::test]
async fn an_unknown_model_is_a_404_model_not_found() {
    let mut request = chat(false);
    request["model"] = "gpt-4o".into();
    let (status, error) = refused(request, "/v1/chat/completions").await;
    assert_eq!(status, 404);
    assert_eq!(error["code"], "model_not_found");
    assert_eq!(error["param"], "model");
}

#[tokio::test]
async fn out_of_range_sampling_values_name_the_field() {
    for (field, value) in [
        ("temperature", serde_json::json!(2.5)),
        ("top_p", serde_json::json!(0)),
        ("max_tokens", serde_json::json!(0)),
        ("max_tokens", serde_json::json!(1_000_000)),
        ("n", serde_json::json!(9)),
        ("n", serde_json::json!(0)),
        ("stop", serde_json::json!(vec!["s"; 17])),
        ("stop", serde_json::json!([""])),
        // Asked for, and not served: refused by name, never silently ignored.
        (
            "response_format",
            serde_json::json!({"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}),
        ),
        // Served, but out of range.
        ("logprobs", serde_json::json!(3)),
        ("top_logprobs", serde_json::json!(5)),
        ("presence_penalty", serde_json::json!(2.5)),
        ("frequency_penalty", serde_json::json!(-3)),
        ("repeat_penalty", serde_json::json!(0)),
        ("min_p", serde_json::json!(1.5)),
        ("logit_bias", serde_json::json!({"one": 5})),
        ("logit_bias", serde_json::json!({"1": 500})),
    ] {
        let mut request = chat(false);
        request[field] = value;
        let (status, error) = refused(request, "/v1/chat/completions").await;
        assert_eq!(status, 400, "{field}");
        assert_eq!(error["type"], "invalid_request_error");
        assert_eq!(error["param"], field);
    }
}

#[tokio::test]
async fn malformed_messages_are_refused() {
    for messages in [
        serde_json::json!([]),
        serde_json::json!([{"role": "tool", "content": "x"}]),
        serde_json::json!([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]),
        serde_json::json!([{"role": "user"}]),
    ] {
        let request = serde_json::json!({"model": MODEL, "messages": messages});
        let (status, error) = refused(request, "/v1/chat/completions").await;
        assert_eq!(status, 400, "{messages}");
        assert_eq!(error["param"], "messages");
    }
}

#[tokio::test]
async fn bad_json_oversized_bodies_and_unknown_routes_answer_in_json() {
    let config = ProviderConfig {
        max_body_bytes: 1024,
        ..ProviderConfig::default()
    };
    let (_, app) = provider(Scripted::new(vec!["a"], Duration::ZERO), config);
    let bad = axum::http::Request::post("/v1/chat/completions")
        .header("content-type", "application/json")
        .body(Body::from("{\"model\": 3"))
        .unwrap();
    let (status, body) = call_json(&app, bad).await;
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (400, Some("invalid_request_error"))
    );
    let big = serde_json::json!({"model": MODEL, "messages": [{"role": "user", "content": "x".repeat(4096)}]});
    let (status, body) = call_json(&app, post("/v1/chat/completions", &big)).await;
    assert_eq!(status, 413, "{body}");
    let (status, body) = call_json(&app, post("/v1/nothing", &serde_json::json!({}))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let get = axum::http::Request::get("/v1/chat/completions")
        .body(Body::empty())
        .unwrap();
    let (status, _) = call_json(&app, get).await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn embeddings_refuse_empty_inputs_and_unknown_formats() {
    let request = serde_json::json!({"model": crate::support::EMBED_MODEL, "input": ["a", ""]});
    let (status, error) = refused(request, "/v1/embeddings").await;
    assert_eq!((status, error["param"].as_str()), (400, Some("input")));
    let request = serde_json::json!({"model": crate::support::EMBED_MODEL, "input": "a", "encoding_format": "int8"});
    let (status, error) = refused(request, "/v1/embeddings").await;
    assert_eq!(
        (status, error["param"].as_str()),
        (400, Some("encoding_format"))
    );
}

#[tokio::test]
async fn a_request_past_its_deadline_is_a_504() {
    let config = ProviderConfig {
        request_timeout: Duration::from_millis(50),
        ..ProviderConfig::default()
    };
    let (_, app) = provider(
        Scripted::new(vec!["a"; 100], Duration::from_millis(10)),
        config,
    );
    let mut request = chat(false);
    request["max_tokens"] = 100.into();
    let (status, body) = call_json(&app, post("/v1/chat/completions", &request)).await;
    assert_eq!(status, 504);
    assert_eq!(body["error"]["code"], "timeout");
}
