//! A tiny in-process OpenAI-compatible server on 127.0.0.1:0.

use std::{
    convert::Infallible,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    body::Body,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use futures::StreamExt;
use plexus_inference::{
    Embedder, Engine, EngineError, FinishReason, GenerationRequest, Prompt, Sampling,
    UpstreamConfig, UpstreamEngine, Usage,
};
use plexus_types::Hash;
use serde_json::{Value, json};

use crate::support::{chat, collect};

#[derive(Clone, Default)]
struct Server {
    last_body: Arc<Mutex<Option<Value>>>,
    endless_dropped: Arc<AtomicBool>,
}

/// An SSE body sent in 7-byte pieces, so lines arrive split.
fn sse(text: String) -> Response {
    let bytes = text.into_bytes();
    let pieces: Vec<Result<Vec<u8>, Infallible>> =
        bytes.chunks(7).map(|c| Ok(c.to_vec())).collect();
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(futures::stream::iter(pieces)),
    )
        .into_response()
}

fn chat_chunk(content: &str, finish: Option<&str>) -> String {
    let chunk = json!({
        "id": "c1", "object": "chat.completion.chunk", "model": "tiny",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}],
    });
    format!("data: {chunk}\n\n")
}

struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

async fn chat_completions(State(server): State<Server>, Json(body): Json<Value>) -> Response {
    *server.last_body.lock().unwrap() = Some(body.clone());
    match body["model"].as_str().unwrap_or_default() {
        "tiny" => {
            let mut text = String::from(": a comment\n\n");
            text += &chat_chunk("Hel", None);
            text += &chat_chunk("lo é", None);
            text += &chat_chunk("", Some("stop"));
            text += &format!(
                "data: {}\n\n",
                json!({"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 3}})
            );
            text += "data: [DONE]\n\n";
            sse(text)
        }
        "html" => ([(header::CONTENT_TYPE, "text/html")], "<html>hello</html>").into_response(),
        "bad-json" => sse("data: {oops\n\n".into()),
        "truncated" => sse(chat_chunk("partial", None)),
        "refuse" => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"message": "prompt too long", "type": "invalid_request_error"}})),
        )
            .into_response(),
        "broken" => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        "endless" => {
            let flag = DropFlag(server.endless_dropped);
            let stream = futures::stream::unfold(flag, |flag| async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let piece: Result<String, Infallible> = Ok(chat_chunk("tick ", None));
                Some((piece, flag))
            });
            (
                [(header::CONTENT_TYPE, "text/event-stream")],
                Body::from_stream(stream),
            )
                .into_response()
        }
        other => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"message": format!("no model {other}")}})),
        )
            .into_response(),
    }
}

async fn completions(State(server): State<Server>, Json(body): Json<Value>) -> Response {
    *server.last_body.lock().unwrap() = Some(body);
    let mut text = String::new();
    for (piece, finish) in [("one", Value::Null), (" two", json!("length"))] {
        let chunk = json!({"object": "text_completion",
            "choices": [{"index": 0, "text": piece, "finish_reason": finish}]});
        text += &format!("data: {chunk}\r\n\r\n");
    }
    text += "data: [DONE]\r\n\r\n";
    sse(text)
}

async fn embeddings(Json(body): Json<Value>) -> Response {
    let n = body["input"].as_array().map_or(0, Vec::len);
    let data: Vec<Value> = (0..n)
        .rev()
        .map(|i| json!({"object": "embedding", "index": i, "embedding": [3.0, 4.0 * i as f32]}))
        .collect();
    Json(json!({"object": "list", "data": data, "usage": {"prompt_tokens": 7, "total_tokens": 7}}))
        .into_response()
}

async fn models() -> Response {
    Json(json!({"object": "list", "data": [{"id": "tiny", "object": "model"}]})).into_response()
}

async fn start() -> (String, Server) {
    let server = Server::default();
    let app = Router::new()
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/completions", post(completions))
        .route("/v1/embeddings", post(embeddings))
        .with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), server)
}

fn upstream(base: &str, model: &str) -> UpstreamEngine {
    UpstreamEngine::new(UpstreamConfig::new(base, model, Hash([7; 32]), 2048)).unwrap()
}

fn request(prompt: Prompt) -> GenerationRequest {
    GenerationRequest {
        prompt,
        sampling: Sampling {
            max_tokens: 16,
            stop: vec!["END".into()],
            seed: 3,
            ..Sampling::default()
        },
    }
}

async fn first_error(engine: &UpstreamEngine) -> EngineError {
    let mut stream = engine.generate(request(chat("hi")));
    loop {
        match stream.next().await {
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                assert!(stream.next().await.is_none(), "items after an error");
                return e;
            }
            None => panic!("no error"),
        }
    }
}

#[tokio::test]
async fn a_chat_stream_is_parsed_and_the_request_is_openai_shaped() {
    let (base, server) = start().await;
    let engine = UpstreamEngine::connect(UpstreamConfig::new(&base, "tiny", Hash([7; 32]), 2048))
        .await
        .unwrap();
    assert_eq!(Engine::model(&engine).weights_hash, Hash([7; 32]));
    let out = collect(engine.generate(request(chat("hi")))).await;
    assert_eq!(out.text, "Hello é");
    assert_eq!(out.reason, FinishReason::Stop);
    assert_eq!(
        out.usage,
        Usage {
            prompt_tokens: 9,
            completion_tokens: 3
        }
    );
    let body = server.last_body.lock().unwrap().clone().unwrap();
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["stream_options"]["include_usage"], json!(true));
    assert_eq!(body["messages"][0]["role"], json!("user"));
    assert_eq!(body["messages"][0]["content"], json!("hi"));
    assert_eq!(body["max_tokens"], json!(16));
    assert_eq!(body["stop"], json!(["END"]));
    assert_eq!(body["seed"], json!(3));
}

#[tokio::test]
async fn a_text_completion_stream_is_parsed() {
    let (base, server) = start().await;
    let engine = upstream(&format!("{base}/v1/"), "tiny");
    let out = collect(engine.generate(request(Prompt::Text("count".into())))).await;
    assert_eq!(out.text, "one two");
    assert_eq!(out.reason, FinishReason::Length);
    assert_eq!(out.usage.completion_tokens, 2);
    let body = server.last_body.lock().unwrap().clone().unwrap();
    assert_eq!(body["prompt"], json!("count"));
}

#[tokio::test]
async fn answers_that_are_not_the_openai_api_are_errors() {
    let (base, _) = start().await;
    for model in ["html", "bad-json", "truncated", "broken", "missing"] {
        let err = first_error(&upstream(&base, model)).await;
        assert!(matches!(err, EngineError::Upstream(_)), "{model}: {err:?}");
    }
    match first_error(&upstream(&base, "refuse")).await {
        EngineError::InvalidRequest(message) => assert_eq!(message, "prompt too long"),
        other => panic!("{other:?}"),
    }
    let err = first_error(&upstream("http://127.0.0.1:9", "tiny")).await;
    assert!(matches!(err, EngineError::Upstream(_)), "{err:?}");
    let err = UpstreamEngine::connect(UpstreamConfig::new(&base, "other", Hash::ZERO, 1))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("tiny"), "{err}");
}

#[tokio::test]
async fn dropping_an_upstream_generation_closes_the_connection() {
    let (base, server) = start().await;
    let engine = upstream(&base, "endless");
    let mut stream = engine.generate(request(chat("hi")));
    for _ in 0..3 {
        stream.next().await.unwrap().unwrap();
    }
    assert!(!server.endless_dropped.load(Ordering::SeqCst));
    drop(stream);
    tokio::time::timeout(Duration::from_secs(5), async {
        while !server.endless_dropped.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the server kept streaming to a dropped generation");
}

#[tokio::test]
async fn upstream_embeddings_come_back_in_input_order_and_unit_length() {
    let (base, _) = start().await;
    let engine = upstream(&base, "tiny");
    let out = engine.embed(vec!["a".into(), "b".into()]).await.unwrap();
    assert_eq!(out.vectors, vec![vec![1.0, 0.0], vec![0.6, 0.8]]);
    assert_eq!(out.prompt_tokens, 7);
}
