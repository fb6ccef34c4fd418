//! A scripted engine: answers each request with a fixed list of pieces, one per
//! `delay`, and records how many generations were dropped before finishing.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{Router, body::Body, http::Request};
use futures::future::BoxFuture;
use http_body_util::BodyExt;
use plexus_inference::{
    Embedder, Embeddings, Engine, EngineError, EngineInfo, FinishReason, Generation,
    GenerationRequest, ModelInfo, Output, Usage,
};
use plexus_provider::{Provider, ProviderConfig, router};
use plexus_types::Hash;
use tower::ServiceExt;

pub(crate) const MODEL: &str = "scripted-1";
pub(crate) const EMBED_MODEL: &str = "scripted-embed";

pub(crate) struct Scripted {
    info: ModelInfo,
    pieces: Vec<&'static str>,
    delay: Duration,
    pub(crate) cancelled: Arc<AtomicUsize>,
    pub(crate) started: Arc<AtomicUsize>,
}

fn info(id: &str) -> ModelInfo {
    ModelInfo {
        id: id.to_owned(),
        weights_hash: Hash(*blake3::hash(id.as_bytes()).as_bytes()),
        context_length: 2048,
        engine: EngineInfo {
            name: "scripted".to_owned(),
            version: "1".to_owned(),
            quantization: "none".to_owned(),
            kernel: "test".to_owned(),
        },
    }
}

impl Scripted {
    pub(crate) fn new(pieces: Vec<&'static str>, delay: Duration) -> Arc<Self> {
        Arc::new(Self {
            info: info(MODEL),
            pieces,
            delay,
            cancelled: Arc::default(),
            started: Arc::default(),
        })
    }
}

impl Engine for Scripted {
    fn model(&self) -> &ModelInfo {
        &self.info
    }

    fn generate(&self, request: GenerationRequest) -> Generation {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let max = request.sampling.max_tokens as usize;
        let pieces: Vec<String> = self.pieces.iter().map(|p| (*p).to_owned()).collect();
        let (delay, cancelled) = (self.delay, Arc::clone(&self.cancelled));
        self.started.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            let mut sent = 0u32;
            for piece in pieces.into_iter().take(max) {
                tokio::time::sleep(delay).await;
                let out = Output::Text {
                    text: piece,
                    tokens: vec![sent],
                    logprobs: Vec::new(),
                };
                if tx.send(Ok(out)).await.is_err() {
                    cancelled.fetch_add(1, Ordering::SeqCst);
                    return;
                }
                sent += 1;
            }
            let reason = if sent as usize == max {
                FinishReason::Length
            } else {
                FinishReason::Stop
            };
            let usage = Usage {
                prompt_tokens: 7,
                completion_tokens: sent,
            };
            let _ = tx.send(Ok(Output::Finished { reason, usage })).await;
        });
        Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
    }
}

pub(crate) struct Vectors(ModelInfo);

impl Embedder for Vectors {
    fn model(&self) -> &ModelInfo {
        &self.0
    }

    fn embed(&self, inputs: Vec<String>) -> BoxFuture<'static, Result<Embeddings, EngineError>> {
        Box::pin(async move {
            let vectors = inputs
                .iter()
                .map(|s| vec![s.len() as f32, 1.0, -0.5])
                .collect();
            Ok(Embeddings {
                vectors,
                prompt_tokens: u32::try_from(inputs.len()).unwrap(),
            })
        })
    }
}

pub(crate) fn provider(engine: Arc<Scripted>, config: ProviderConfig) -> (Provider, Router) {
    let embedder: Arc<dyn Embedder> = Arc::new(Vectors(info(EMBED_MODEL)));
    let provider = Provider::new(engine, Some(embedder), config);
    let app = router(provider.clone());
    (provider, app)
}

pub(crate) fn post(path: &str, body: &serde_json::Value) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

pub(crate) async fn call(
    app: &Router,
    request: Request<Body>,
) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

pub(crate) async fn call_json(app: &Router, request: Request<Body>) -> (u16, serde_json::Value) {
    let (status, _, body) = call(app, request).await;
    (status, serde_json::from_slice(&body).unwrap())
}

/// The `data:` payloads of an SSE body.
pub(crate) fn sse_data(body: &[u8]) -> Vec<String> {
    String::from_utf8(body.to_vec())
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("data: ").map(str::to_owned))
        .collect()
}

pub(crate) fn chat(stream: bool) -> serde_json::Value {
    serde_json::json!({
        "model": MODEL,
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 16,
        "stream": stream,
        "stream_options": {"include_usage": true},
    })
}
