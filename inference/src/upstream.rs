//! An engine that forwards to any OpenAI-compatible server (vLLM, llama.cpp server,
//! TGI, Ollama) over HTTP, streaming with server-sent events.
//!
//! The upstream server cannot prove which weights it runs, so the operator declares
//! the weights hash (and what they know of the engine) in [`UpstreamConfig`].

use std::{collections::VecDeque, time::Duration};

use futures::{StreamExt, future::BoxFuture, stream::BoxStream};
use plexus_types::Hash;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    Embedder, Embeddings, EngineError, EngineInfo, FinishReason, Generation, GenerationRequest,
    ModelInfo, Output, Prompt, TokenLogprob, TopLogprob, Usage,
};

/// Largest single SSE line accepted from an upstream server.
const MAX_LINE: usize = 1 << 20;

/// Where the upstream server is and what it serves.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    /// Base URL, with or without the `/v1` suffix, e.g. `http://127.0.0.1:8000`.
    pub base_url: String,
    /// The model name the upstream server knows.
    pub model_id: String,
    /// The id clients ask for, when it is not the upstream's name (vLLM's
    /// `--served-model-name`).
    pub served_id: Option<String>,
    /// blake3 of the weights file, as declared by the operator.
    pub weights_hash: Hash,
    /// Context length of the upstream model.
    pub context_length: u32,
    /// Bearer token for the upstream server, if it wants one.
    pub api_key: Option<String>,
    /// What runs upstream: name, version, quantization, kernel (declared).
    pub engine: EngineInfo,
    /// Time allowed to connect and to receive the response headers.
    pub timeout: Duration,
}

impl UpstreamConfig {
    /// A config with the engine described as `upstream` and unknown details, a
    /// 30-second timeout and no API key.
    pub fn new(
        base_url: impl Into<String>,
        model_id: impl Into<String>,
        weights_hash: Hash,
        context_length: u32,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            model_id: model_id.into(),
            served_id: None,
            weights_hash,
            context_length,
            api_key: None,
            engine: EngineInfo {
                name: "upstream".into(),
                version: "openai-compatible".into(),
                quantization: "unknown".into(),
                kernel: "unknown".into(),
            },
            timeout: Duration::from_secs(30),
        }
    }
}

/// An [`Engine`](crate::Engine) and [`Embedder`] backed by an OpenAI-compatible
/// server.
#[derive(Debug, Clone)]
pub struct UpstreamEngine {
    info: ModelInfo,
    /// The model name requests to the upstream carry.
    upstream_model: String,
    /// `.../v1`, without a trailing slash.
    api: String,
    api_key: Option<String>,
    timeout: Duration,
    http: reqwest::Client,
}

impl UpstreamEngine {
    /// An engine for `config`, without contacting the server.
    pub fn new(config: UpstreamConfig) -> Result<Self, EngineError> {
        let base = config.base_url.trim_end_matches('/');
        let api = if base.ends_with("/v1") {
            base.to_string()
        } else {
            format!("{base}/v1")
        };
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| EngineError::Upstream(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            info: ModelInfo {
                id: config.served_id.unwrap_or_else(|| config.model_id.clone()),
                weights_hash: config.weights_hash,
                context_length: config.context_length,
                engine: config.engine,
            },
            upstream_model: config.model_id,
            api,
            api_key: config.api_key,
            timeout: config.timeout,
            http,
        })
    }

    /// An engine for `config`, after checking that the server answers `GET
    /// /v1/models` in the OpenAI format and lists the model.
    pub async fn connect(config: UpstreamConfig) -> Result<Self, EngineError> {
        let engine = Self::new(config)?;
        let models = engine.list_models().await?;
        if !models.contains(&engine.upstream_model) {
            return Err(EngineError::Upstream(format!(
                "the server does not serve {} (it lists: {})",
                engine.upstream_model,
                models.join(", ")
            )));
        }
        Ok(engine)
    }

    /// The model ids the upstream server lists.
    pub async fn list_models(&self) -> Result<Vec<String>, EngineError> {
        #[derive(Deserialize)]
        struct List {
            data: Vec<Entry>,
        }
        #[derive(Deserialize)]
        struct Entry {
            id: String,
        }
        let response = self
            .request(self.http.get(format!("{}/models", self.api)))
            .send()
            .await
            .map_err(|e| EngineError::Upstream(format!("GET /v1/models: {e}")))?;
        let response = check_status(response).await?;
        let list: List = response
            .json()
            .await
            .map_err(|e| not_openai(format!("GET /v1/models: {e}")))?;
        Ok(list.data.into_iter().map(|m| m.id).collect())
    }

    fn request(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let builder = builder.timeout(self.timeout);
        match &self.api_key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    fn body(&self, request: &GenerationRequest) -> (String, Value) {
        let s = &request.sampling;
        let mut body = json!({
            "model": self.upstream_model,
            "max_tokens": s.max_tokens,
            "temperature": s.temperature,
            "top_p": s.top_p,
            // OpenAI's seed is a signed 64-bit integer, and servers (a Plexus provider
            // among them) refuse larger ones: the same 64 bits, read as signed.
            "seed": i64::from_le_bytes(s.seed.to_le_bytes()),
            "stream": true,
            "stream_options": { "include_usage": true },
        });
        if !s.stop.is_empty() {
            body["stop"] = json!(s.stop);
        }
        // Penalties and truncation: OpenAI's fields, and the extensions llama.cpp's
        // server, vLLM and Ollama's OpenAI endpoint take, only where they are not neutral.
        for (field, value, neutral) in [
            ("presence_penalty", s.presence_penalty, 0.0),
            ("frequency_penalty", s.frequency_penalty, 0.0),
            ("repeat_penalty", s.repeat_penalty, 1.0),
            ("min_p", s.min_p, 0.0),
        ] {
            if value != neutral {
                body[field] = json!(value);
            }
        }
        if s.top_k > 0 {
            body["top_k"] = json!(s.top_k);
        }
        if !s.logit_bias.is_empty() {
            let bias: serde_json::Map<String, Value> = s
                .logit_bias
                .iter()
                .map(|(token, bias)| (token.to_string(), json!(bias)))
                .collect();
            body["logit_bias"] = Value::Object(bias);
        }
        let chat = matches!(request.prompt, Prompt::Chat(_));
        match (s.logprobs, chat) {
            (Some(top), true) => {
                body["logprobs"] = json!(true);
                body["top_logprobs"] = json!(top);
            }
            // The legacy completions API: the number of alternatives, 0 for none.
            (Some(top), false) => body["logprobs"] = json!(top),
            (None, _) => {}
        }
        match &request.prompt {
            Prompt::Chat(messages) => {
                body["messages"] = json!(
                    messages
                        .iter()
                        .map(|m| json!({ "role": m.role.as_str(), "content": m.content }))
                        .collect::<Vec<_>>()
                );
                (format!("{}/chat/completions", self.api), body)
            }
            Prompt::Text(text) => {
                body["prompt"] = json!(text);
                (format!("{}/completions", self.api), body)
            }
            Prompt::Tokens(ids) => {
                body["prompt"] = json!(ids);
                (format!("{}/completions", self.api), body)
            }
        }
    }
}

fn not_openai(detail: impl std::fmt::Display) -> EngineError {
    EngineError::Upstream(format!("not an OpenAI-compatible answer: {detail}"))
}

/// Pass a success through; turn an error status into an [`EngineError`] carrying the
/// server's OpenAI error message when there is one (4xx means the request was bad).
async fn check_status(response: reqwest::Response) -> Result<reqwest::Response, EngineError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("message"))
                .or_else(|| v.get("error"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| body.chars().take(200).collect());
    if status.as_u16() == 400 || status.as_u16() == 422 {
        Err(EngineError::InvalidRequest(message))
    } else {
        Err(EngineError::Upstream(format!("status {status}: {message}")))
    }
}

impl crate::Engine for UpstreamEngine {
    fn model(&self) -> &ModelInfo {
        &self.info
    }

    fn generate(&self, request: GenerationRequest) -> Generation {
        if let Err(error) = request.sampling.check() {
            return Box::pin(futures::stream::once(async move { Err(error.into()) }));
        }
        let (url, body) = self.body(&request);
        let send = self.request(self.http.post(url)).json(&body).send();
        let state = SseState::Connecting(Box::pin(async move {
            let response = send
                .await
                .map_err(|e| EngineError::Upstream(format!("request failed: {e}")))?;
            let response = check_status(response).await?;
            let is_sse = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/event-stream"));
            if !is_sse {
                return Err(not_openai("expected a text/event-stream response"));
            }
            Ok(response
                .bytes_stream()
                .map(|chunk| chunk.map(|b| b.to_vec()).map_err(|e| e.to_string()))
                .boxed())
        }));
        // The response stream lives inside this one: dropping it closes the
        // connection, which cancels the upstream generation.
        Box::pin(futures::stream::unfold(state, |state| async move {
            let mut state = state;
            let item = state.next().await?;
            Some((item, state))
        }))
    }
}

type Connecting =
    BoxFuture<'static, Result<BoxStream<'static, Result<Vec<u8>, String>>, EngineError>>;

/// Reading an OpenAI SSE stream.
enum SseState {
    Connecting(Connecting),
    Reading(Box<SseReader>),
    Done,
}

impl SseState {
    async fn next(&mut self) -> Option<Result<Output, EngineError>> {
        loop {
            match self {
                SseState::Done => return None,
                SseState::Connecting(fut) => match fut.await {
                    Ok(body) => {
                        *self = SseState::Reading(Box::new(SseReader {
                            body,
                            buf: Vec::new(),
                            ready: VecDeque::new(),
                            parser: ChunkParser::default(),
                        }))
                    }
                    Err(e) => {
                        *self = SseState::Done;
                        return Some(Err(e));
                    }
                },
                SseState::Reading(reader) => {
                    let item = reader.next().await;
                    if !matches!(item, Some(Ok(Output::Text { .. }))) {
                        *self = SseState::Done;
                    }
                    return item;
                }
            }
        }
    }
}

struct SseReader {
    body: BoxStream<'static, Result<Vec<u8>, String>>,
    buf: Vec<u8>,
    ready: VecDeque<Result<Output, EngineError>>,
    parser: ChunkParser,
}

impl SseReader {
    async fn next(&mut self) -> Option<Result<Output, EngineError>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if self.parser.done {
                return None;
            }
            while let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line);
                if let Some(out) = self.parser.line(line.trim_end_matches(['\r', '\n'])) {
                    self.ready.push_back(out);
                }
                if self.parser.done {
                    break;
                }
            }
            if !self.ready.is_empty() || self.parser.done {
                continue;
            }
            if self.buf.len() > MAX_LINE {
                return Some(Err(not_openai("an SSE line is too long")));
            }
            match self.body.next().await {
                Some(Ok(bytes)) => self.buf.extend_from_slice(&bytes),
                Some(Err(e)) => {
                    return Some(Err(EngineError::Upstream(format!("stream broke: {e}"))));
                }
                None => {
                    // A last line without a newline, then the end.
                    if !self.buf.is_empty() {
                        self.buf.push(b'\n');
                        continue;
                    }
                    return Some(self.parser.end());
                }
            }
        }
    }
}

/// Turns `data:` lines of chat or text completion chunks into outputs.
#[derive(Debug, Default)]
struct ChunkParser {
    reason: Option<FinishReason>,
    usage: Option<Usage>,
    pieces: u32,
    done: bool,
}

impl ChunkParser {
    /// One SSE line: `data: {...}` or `data: [DONE]`; comments, `event:`, `id:` and
    /// blank lines are ignored.
    fn line(&mut self, line: &str) -> Option<Result<Output, EngineError>> {
        let data = line.strip_prefix("data:")?.trim_start();
        if data == "[DONE]" {
            return Some(self.end());
        }
        let chunk: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => {
                self.done = true;
                return Some(Err(not_openai(format!("bad JSON in the stream: {e}"))));
            }
        };
        if let Some(error) = chunk.get("error") {
            self.done = true;
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| error.to_string(), str::to_string);
            return Some(Err(EngineError::Upstream(message)));
        }
        if let Some(usage) = chunk.get("usage").filter(|u| !u.is_null()) {
            let count = |k: &str| usage.get(k).and_then(Value::as_u64).unwrap_or(0) as u32;
            self.usage = Some(Usage {
                prompt_tokens: count("prompt_tokens"),
                completion_tokens: count("completion_tokens"),
            });
        }
        let Some(choices) = chunk.get("choices").and_then(Value::as_array) else {
            if chunk.get("usage").is_some() {
                return None;
            }
            self.done = true;
            return Some(Err(not_openai("a chunk without choices")));
        };
        let choice = choices.first()?;
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.reason = Some(match reason {
                "length" => FinishReason::Length,
                _ => FinishReason::Stop,
            });
        }
        let text = choice
            .pointer("/delta/content")
            .or_else(|| choice.get("text"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let logprobs = logprobs_of(choice);
        if text.is_empty() && logprobs.is_empty() {
            return None;
        }
        self.pieces += 1;
        Some(Ok(Output::Text {
            text: text.to_string(),
            tokens: Vec::new(),
            logprobs,
        }))
    }

    /// The end of the stream: `Finished` if the server said why it stopped.
    fn end(&mut self) -> Result<Output, EngineError> {
        self.done = true;
        match self.reason {
            Some(reason) => Ok(Output::Finished {
                reason,
                usage: self.usage.unwrap_or(Usage {
                    prompt_tokens: 0,
                    completion_tokens: self.pieces,
                }),
            }),
            None => Err(EngineError::Upstream(
                "the stream ended without a finish_reason".into(),
            )),
        }
    }
}

impl Embedder for UpstreamEngine {
    fn model(&self) -> &ModelInfo {
        &self.info
    }

    fn embed(&self, inputs: Vec<String>) -> BoxFuture<'static, Result<Embeddings, EngineError>> {
        #[derive(Deserialize)]
        struct Answer {
            data: Vec<Item>,
            #[serde(default)]
            usage: Option<EmbedUsage>,
        }
        #[derive(Deserialize)]
        struct Item {
            #[serde(default)]
            index: usize,
            embedding: Vec<f32>,
        }
        #[derive(Deserialize)]
        struct EmbedUsage {
            #[serde(default)]
            prompt_tokens: u32,
        }
        let count = inputs.len();
        let body = json!({ "model": self.upstream_model, "input": inputs });
        let send = self
            .request(self.http.post(format!("{}/embeddings", self.api)))
            .json(&body)
            .send();
        Box::pin(async move {
            if count == 0 {
                return Err(EngineError::InvalidRequest(
                    "at least one input is required".into(),
                ));
            }
            let response = send
                .await
                .map_err(|e| EngineError::Upstream(format!("request failed: {e}")))?;
            let answer: Answer = check_status(response)
                .await?
                .json()
                .await
                .map_err(|e| not_openai(format!("POST /v1/embeddings: {e}")))?;
            if answer.data.len() != count {
                return Err(not_openai(format!(
                    "{} embeddings for {count} inputs",
                    answer.data.len()
                )));
            }
            let mut data = answer.data;
            data.sort_by_key(|d| d.index);
            let vectors = data
                .into_iter()
                .map(|d| {
                    let norm = d.embedding.iter().map(|x| x * x).sum::<f32>().sqrt();
                    if norm > 0.0 {
                        d.embedding.iter().map(|x| x / norm).collect()
                    } else {
                        d.embedding
                    }
                })
                .collect();
            Ok(Embeddings {
                vectors,
                prompt_tokens: answer.usage.map_or(0, |u| u.prompt_tokens),
            })
        })
    }
}

/// The log-probabilities a streamed choice carries: chat's `logprobs.content` (token,
/// bytes, logprob, top_logprobs) or the legacy completions API's parallel arrays.
fn logprobs_of(choice: &Value) -> Vec<TokenLogprob> {
    let entry = |token: &str, bytes: Option<&Value>, logprob: Option<f64>| TopLogprob {
        id: None,
        bytes: bytes
            .and_then(Value::as_array)
            .map(|b| {
                b.iter()
                    .filter_map(|x| x.as_u64())
                    .map(|x| x as u8)
                    .collect()
            })
            .unwrap_or_else(|| token.as_bytes().to_vec()),
        logprob: logprob.map_or(f32::NEG_INFINITY, |l| l as f32),
    };
    if let Some(content) = choice
        .pointer("/logprobs/content")
        .and_then(Value::as_array)
    {
        return content
            .iter()
            .map(|t| {
                let token = t.get("token").and_then(Value::as_str).unwrap_or_default();
                TokenLogprob {
                    token: entry(
                        token,
                        t.get("bytes"),
                        t.get("logprob").and_then(Value::as_f64),
                    ),
                    top: t
                        .get("top_logprobs")
                        .and_then(Value::as_array)
                        .map(|top| {
                            top.iter()
                                .map(|a| {
                                    let token =
                                        a.get("token").and_then(Value::as_str).unwrap_or_default();
                                    entry(
                                        token,
                                        a.get("bytes"),
                                        a.get("logprob").and_then(Value::as_f64),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            })
            .collect();
    }
    let (Some(tokens), Some(logprobs)) = (
        choice.pointer("/logprobs/tokens").and_then(Value::as_array),
        choice
            .pointer("/logprobs/token_logprobs")
            .and_then(Value::as_array),
    ) else {
        return Vec::new();
    };
    let tops = choice
        .pointer("/logprobs/top_logprobs")
        .and_then(Value::as_array);
    tokens
        .iter()
        .zip(logprobs)
        .enumerate()
        .map(|(i, (token, logprob))| {
            let token = token.as_str().unwrap_or_default();
            let mut top: Vec<TopLogprob> = tops
                .and_then(|t| t.get(i))
                .and_then(Value::as_object)
                .map(|alternatives| {
                    alternatives
                        .iter()
                        .map(|(t, l)| entry(t, None, l.as_f64()))
                        .collect()
                })
                .unwrap_or_default();
            top.sort_by(|a, b| b.logprob.total_cmp(&a.logprob));
            TokenLogprob {
                token: entry(token, None, logprob.as_f64()),
                top,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logprobs_of_chat_and_completion_chunks_are_read_most_likely_first() {
        let mut p = ChunkParser::default();
        let chat = r#"data: {"choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":{"content":[{"token":"Hi","logprob":-0.25,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.25,"bytes":[72,105]},{"token":"Hello","logprob":-1.5,"bytes":[72,101,108,108,111]}]}]}}]}"#;
        let Some(Ok(Output::Text { logprobs, .. })) = p.line(chat) else {
            panic!("a text chunk");
        };
        assert_eq!(logprobs.len(), 1);
        assert_eq!(logprobs[0].token.bytes, b"Hi");
        assert_eq!(logprobs[0].token.logprob, -0.25);
        assert_eq!(logprobs[0].top[1].bytes, b"Hello");
        let text = r#"data: {"choices":[{"index":0,"text":" a","logprobs":{"tokens":[" a"],"token_logprobs":[-0.5],"top_logprobs":[{" b":-2.0," a":-0.5}]}}]}"#;
        let Some(Ok(Output::Text { logprobs, .. })) = p.line(text) else {
            panic!("a text chunk");
        };
        assert_eq!(logprobs[0].token.bytes, b" a");
        let top: Vec<_> = logprobs[0].top.iter().map(|t| t.logprob).collect();
        assert_eq!(top, vec![-0.5, -2.0]);
    }

    #[test]
    fn chat_and_text_chunks_become_outputs() {
        let mut p = ChunkParser::default();
        assert!(p.line(": keep-alive").is_none());
        let out = p
            .line(
                r#"data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#,
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            out,
            Output::Text {
                text: "Hi".into(),
                tokens: vec![],
                logprobs: vec![],
            }
        );
        let out = p
            .line(r#"data: {"choices":[{"index":0,"text":" there","finish_reason":"length"}]}"#)
            .unwrap()
            .unwrap();
        assert!(matches!(out, Output::Text { .. }));
        assert!(
            p.line(r#"data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#)
                .is_none()
        );
        let end = p.line("data: [DONE]").unwrap().unwrap();
        assert_eq!(
            end,
            Output::Finished {
                reason: FinishReason::Length,
                usage: Usage {
                    prompt_tokens: 5,
                    completion_tokens: 2
                }
            }
        );
    }

    /// An engine for a server nobody listens on: enough to build request bodies.
    fn offline_engine() -> UpstreamEngine {
        UpstreamEngine::new(UpstreamConfig::new(
            "http://127.0.0.1:1",
            "m",
            Hash([0; 32]),
            2048,
        ))
        .unwrap()
    }

    #[test]
    fn penalties_bias_truncation_and_logprobs_are_forwarded_and_neutral_values_are_not() {
        let engine = offline_engine();
        let chat = |sampling| GenerationRequest {
            prompt: Prompt::Chat(vec![crate::ChatMessage {
                role: crate::Role::User,
                content: "hi".into(),
            }]),
            sampling,
        };
        let plain = engine.body(&chat(crate::Sampling::default())).1;
        for field in [
            "presence_penalty",
            "frequency_penalty",
            "repeat_penalty",
            "min_p",
            "top_k",
            "logit_bias",
            "logprobs",
            "top_logprobs",
        ] {
            assert!(
                plain.get(field).is_none(),
                "{field} sent at its neutral value"
            );
        }
        let shaped = crate::Sampling {
            presence_penalty: 0.5,
            frequency_penalty: -0.5,
            repeat_penalty: 1.1,
            min_p: 0.05,
            top_k: 40,
            logit_bias: vec![(50_256, -100.0)],
            logprobs: Some(3),
            ..crate::Sampling::default()
        };
        let body = engine.body(&chat(shaped.clone())).1;
        assert_eq!(body["presence_penalty"], json!(0.5));
        assert_eq!(body["frequency_penalty"], json!(-0.5));
        assert_eq!(body["top_k"], json!(40));
        assert_eq!(body["logit_bias"], json!({"50256": -100.0}));
        assert_eq!(
            (body["logprobs"].clone(), body["top_logprobs"].clone()),
            (json!(true), json!(3))
        );
        // The legacy completions API counts alternatives in `logprobs`.
        let text = engine
            .body(&GenerationRequest {
                prompt: Prompt::Text("hi".into()),
                sampling: shaped,
            })
            .1;
        assert_eq!(text["logprobs"], json!(3));
    }

    #[test]
    fn a_seed_beyond_the_signed_range_reaches_the_upstream_as_the_same_bits_signed() {
        let engine = offline_engine();
        for seed in [0, 3, i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX] {
            let request = GenerationRequest {
                prompt: Prompt::Text("hi".into()),
                sampling: crate::Sampling {
                    seed,
                    ..crate::Sampling::default()
                },
            };
            let sent = engine.body(&request).1["seed"].as_i64();
            let sent = sent.unwrap_or_else(|| panic!("seed {seed} was not sent as an i64"));
            // A Plexus provider reads it back to the same sampler seed.
            assert_eq!(u64::from_le_bytes(sent.to_le_bytes()), seed);
        }
    }

    #[test]
    fn garbage_in_the_stream_is_an_upstream_error() {
        let mut p = ChunkParser::default();
        assert!(matches!(
            p.line("data: <html>"),
            Some(Err(EngineError::Upstream(_)))
        ));
        assert!(p.done);
    }
}
