//! The HTTP routes: OpenAI-compatible generation and embeddings over any engine.

use std::{
    convert::Infallible,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{MatchedPath, Path, Request, State, rejection::BytesRejection},
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{
        IntoResponse, Response,
        sse::{Event, Sse},
    },
    routing::{get, post},
};
use base64::Engine as _;
use futures::StreamExt;
use plexus_inference::{
    ChatMessage, Embedder, Engine, FinishReason, Generation, GenerationRequest, Output, Prompt,
    Role, Sampling, TokenLogprob, Usage as EngineUsage,
};
use plexus_types::credits::{
    CHAT_PATH, COMPLETIONS_PATH, DEFAULT_COMPLETION_MAX_TOKENS, EMBEDDINGS_PATH, MODELS_PATH, Work,
};
use serde::de::DeserializeOwned;
use tokio::{sync::mpsc, time::Instant};
use tokio_stream::wrappers::ReceiverStream;

use crate::{
    ProviderConfig,
    error::ProviderError,
    gate::{Gate, Ticket},
    metrics::{Metrics, RequestLabels},
    openai::{
        AnswerMessage, ChatChoice, ChatChunk, ChatRequest, ChatResponse, ChunkChoice,
        CompletionChoice, CompletionRequest, CompletionResponse, Content, Delta, Embedding,
        EmbeddingRequest, EmbeddingResponse, EmbeddingUsage, ErrorResponse,
        Generation as OpenAiGeneration, Model, ModelList, OneOrMany, RequestMessage, TextsOrTokens,
        Usage, Vector,
    },
};

/// Most choices (`n`) one request may ask for.
const MAX_CHOICES: u32 = 8;
/// Most stop strings per request: more than OpenAI's 4, as llama.cpp's server and
/// vLLM take (agents and LangChain send more).
const MAX_STOP: usize = 16;
/// Longest stop string, in bytes.
const MAX_STOP_BYTES: usize = 256;
/// Most messages in one chat request.
const MAX_MESSAGES: usize = 1024;
/// Most inputs in one embeddings request, as OpenAI allows.
const MAX_EMBEDDING_INPUTS: usize = 2048;
/// SSE events buffered per stream before the engine waits for a slow client.
const STREAM_BUFFER: usize = 32;
/// Header carrying the blake3 hash of the served weights.
pub const WEIGHTS_HASH_HEADER: &str = "x-plexus-weights-hash";
/// Header carrying engine, version, quantization and kernel level.
pub const ENGINE_HEADER: &str = "x-plexus-engine";

/// A model served over the OpenAI API. Cheap to clone.
#[derive(Clone)]
pub struct Provider {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Arc<dyn Engine>,
    embedder: Option<Arc<dyn Embedder>>,
    config: ProviderConfig,
    gate: Arc<Gate>,
    metrics: Metrics,
    created: u64,
    fingerprint: String,
    engine_header: HeaderValue,
    weights_header: HeaderValue,
    ids: AtomicU64,
}

impl Provider {
    /// Serve `engine` (and `embedder`, if any) as `config` says.
    pub fn new(
        engine: Arc<dyn Engine>,
        embedder: Option<Arc<dyn Embedder>>,
        config: ProviderConfig,
    ) -> Self {
        let gate = Gate::new(config.concurrency, config.queue);
        let model = engine.model();
        let e = &model.engine;
        let hash = model.weights_hash.to_hex();
        let fingerprint = format!(
            "{}-{}-{}-{}-{}",
            e.name,
            e.version,
            e.quantization,
            e.kernel,
            &hash[..16]
        )
        .replace(char::is_whitespace, "_");
        let engine_header = HeaderValue::from_str(&format!(
            "{}/{}; quantization={}; kernel={}",
            e.name, e.version, e.quantization, e.kernel
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("unknown"));
        let weights_header =
            HeaderValue::from_str(&hash).unwrap_or_else(|_| HeaderValue::from_static("unknown"));
        let created = unix_secs();
        Self {
            inner: Arc::new(Inner {
                metrics: Metrics::new(Arc::clone(&gate)),
                engine,
                embedder,
                config,
                gate,
                created,
                fingerprint,
                engine_header,
                weights_header,
                ids: AtomicU64::new(0),
            }),
        }
    }

    /// `system_fingerprint` of every answer: engine, version, quantization, kernel
    /// level and the start of the weights hash.
    pub fn fingerprint(&self) -> &str {
        &self.inner.fingerprint
    }

    /// Refuse new requests (503); running ones finish.
    pub fn shut_down(&self) {
        self.inner.gate.close();
    }

    /// The Prometheus text exposition of the provider's metrics.
    pub fn metrics(&self) -> String {
        self.inner.metrics.encode()
    }
}

/// The provider's routes over `provider`, open to whoever reaches the listener: bind
/// it to loopback, or use [`keyed_router`].
pub fn router(provider: Provider) -> Router {
    routes(provider)
        .route("/health", get(health))
        .merge(health_routes())
}

/// The provider's routes over `provider`, answering only requests that carry
/// `Authorization: Bearer <api_key>` (as llama.cpp server's and vLLM's `--api-key`);
/// `GET /health` stays open.
pub fn keyed_router(provider: Provider, api_key: &str) -> Router {
    let key = Arc::new(blake3::hash(api_key.as_bytes()));
    routes(provider)
        .layer(middleware::from_fn_with_state(key, require_key))
        .route("/health", get(health))
        .merge(health_routes())
}

/// `GET /healthz` and `GET /readyz`: a provider serves only once its model is
/// loaded, so answering is being ready.
pub(crate) fn health_routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    plexus_serve::health::routes(Arc::new(|| Ok(())))
}

/// `GET /health`: the process is up.
pub(crate) async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// Refuse a request without the API key (compared as blake3 hashes, in constant time).
async fn require_key(
    State(key): State<Arc<blake3::Hash>>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| blake3::hash(v.trim().as_bytes()));
    if presented.is_some_and(|p| p == *key) {
        return next.run(request).await;
    }
    let mut response = ProviderError::Invalid {
        message: "this API needs its key: Authorization: Bearer KEY".to_owned(),
        param: None,
    }
    .into_response();
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response
}

fn routes(provider: Provider) -> Router {
    Router::new()
        .route("/v1/models", get(models))
        .route("/v1/models/{id}", get(model))
        .route("/v1/chat/completions", post(chat))
        .route("/v1/completions", post(completions))
        .route("/v1/embeddings", post(embeddings))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(
            provider.inner.config.max_body_bytes,
        ))
        .layer(middleware::from_fn_with_state(provider.clone(), track))
        .with_state(provider)
}

/// Count each request by route and status, and stamp the engine headers.
async fn track(State(p): State<Provider>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let mut response = next.run(request).await;
    let status = response.status().as_u16();
    p.inner
        .metrics
        .requests
        .get_or_create(&RequestLabels { route, status })
        .inc();
    let headers = response.headers_mut();
    headers.insert(ENGINE_HEADER, p.inner.engine_header.clone());
    headers.insert(WEIGHTS_HASH_HEADER, p.inner.weights_header.clone());
    response
}

async fn not_found(request: Request) -> ProviderError {
    ProviderError::NotFound(request.uri().path().to_owned())
}

async fn method_not_allowed(request: Request) -> Response {
    let error = ProviderError::Invalid {
        message: format!(
            "{} is not allowed on {}",
            request.method(),
            request.uri().path()
        ),
        param: None,
    };
    let mut response = error.into_response();
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
}

async fn metrics(State(p): State<Provider>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        p.metrics(),
    )
}

fn model_entry(p: &Inner, id: &str) -> Model {
    Model {
        id: id.to_owned(),
        object: "model".to_owned(),
        created: p.created,
        owned_by: p.config.operator.clone(),
    }
}

fn served_ids(p: &Inner) -> Vec<String> {
    let mut ids = vec![p.engine.model().id.clone()];
    if let Some(e) = &p.embedder {
        ids.push(e.model().id.clone());
    }
    ids
}

async fn models(State(p): State<Provider>) -> Json<ModelList> {
    models_list(&p.inner)
}

fn models_list(p: &Inner) -> Json<ModelList> {
    Json(ModelList {
        object: "list".to_owned(),
        data: served_ids(p).iter().map(|id| model_entry(p, id)).collect(),
    })
}

async fn model(
    State(p): State<Provider>,
    Path(id): Path<String>,
) -> Result<Json<Model>, ProviderError> {
    if served_ids(&p.inner).contains(&id) {
        Ok(Json(model_entry(&p.inner, &id)))
    } else {
        Err(ProviderError::UnknownModel(id))
    }
}

/// Read a body, answering the body limit as an OpenAI error.
fn read(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ProviderError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ProviderError::TooLarge
        } else {
            ProviderError::BadJson(rejection.body_text())
        }
    })
}

/// Parse a JSON body, answering bad JSON as an OpenAI error.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|e| ProviderError::BadJson(e.to_string()))
}

/// The body parsed once, as JSON and as the route's request type.
fn parse_both<T: DeserializeOwned>(body: &[u8]) -> Result<(T, serde_json::Value), ProviderError> {
    let value: serde_json::Value = parse(body)?;
    let typed = T::deserialize(&value).map_err(|e| ProviderError::BadJson(e.to_string()))?;
    Ok((typed, value))
}

/// Refuse a request that asks for something the engine would silently not do.
fn refuse_unhonoured(
    value: &serde_json::Value,
    route: crate::openai::Route,
) -> Result<(), ProviderError> {
    match crate::openai::unhonoured(value, route) {
        Some((field, why)) => Err(ProviderError::invalid(field, why)),
        None => Ok(()),
    }
}

/// A request parsed and checked exactly as its route serves it: what the engine will
/// run, and the work the private path charges for it.
pub(crate) struct Prepared {
    job: Job,
    work: Work,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("work", &self.work)
            .finish_non_exhaustive()
    }
}

/// What a prepared request runs.
enum Job {
    /// List the served models.
    Models,
    /// Generate text.
    Generate {
        format: Format,
        stream: bool,
        include_usage: bool,
        prompt: Prompt,
        sampling: Sampling,
        /// How many choices (`n`).
        choices: u32,
    },
    /// Embed texts.
    Embed {
        inputs: Vec<String>,
        base64: bool,
        model: String,
    },
}

impl Prepared {
    /// Its route.
    pub(crate) fn route(&self) -> &'static str {
        match &self.job {
            Job::Models => MODELS_PATH,
            Job::Generate {
                format: Format::Chat,
                ..
            } => CHAT_PATH,
            Job::Generate { .. } => COMPLETIONS_PATH,
            Job::Embed { .. } => EMBEDDINGS_PATH,
        }
    }

    /// The work it asks for, as the pricing rule counts it.
    pub(crate) fn work(&self) -> Work {
        self.work
    }
}

impl Provider {
    /// Parse and check a request for `path` exactly as its route would (the method,
    /// the body limit, the model, every field), without running it. A chat naming no
    /// output limit gets `chat_default` (capped by the model).
    pub(crate) fn prepare(
        &self,
        method: &[u8],
        path: &str,
        body: &[u8],
        chat_default: u32,
    ) -> Result<Prepared, ProviderError> {
        let route = path.split('?').next().unwrap_or_default();
        let expected: &[u8] = if route == MODELS_PATH {
            b"GET"
        } else {
            b"POST"
        };
        let known = [MODELS_PATH, CHAT_PATH, COMPLETIONS_PATH, EMBEDDINGS_PATH];
        if !known.contains(&route) {
            return Err(ProviderError::NotFound(route.chars().take(80).collect()));
        }
        if method != expected {
            return Err(ProviderError::Invalid {
                message: format!(
                    "{} is not allowed on {route}",
                    String::from_utf8_lossy(method)
                        .chars()
                        .take(16)
                        .collect::<String>()
                ),
                param: None,
            });
        }
        if body.len() > self.inner.config.max_body_bytes {
            return Err(ProviderError::TooLarge);
        }
        let inner = &self.inner;
        match route {
            MODELS_PATH => Ok(Prepared {
                job: Job::Models,
                work: Work {
                    free: true,
                    ..Work::default()
                },
            }),
            CHAT_PATH => inner.prepare_chat(body, chat_default),
            COMPLETIONS_PATH => inner.prepare_completion(body),
            _ => inner.prepare_embeddings(body),
        }
    }

    /// Take an engine slot before `deadline` (or answer 429 / 503 / 504).
    pub(crate) async fn enter(&self, deadline: Instant) -> Result<Ticket, ProviderError> {
        let timeout = self.inner.config.request_timeout;
        tokio::time::timeout_at(deadline, self.inner.gate.enter())
            .await
            .map_err(|_| ProviderError::Timeout(timeout))?
    }

    /// Run a prepared request holding `ticket` (none needed for the model list).
    pub(crate) async fn execute(
        &self,
        prepared: Prepared,
        ticket: Option<Ticket>,
        deadline: Instant,
    ) -> Response {
        let inner = &self.inner;
        let result = match (prepared.job, ticket) {
            (Job::Models, _) => Ok(models_list(inner).into_response()),
            (
                Job::Generate {
                    format,
                    stream,
                    include_usage,
                    prompt,
                    sampling,
                    choices,
                },
                Some(ticket),
            ) => {
                let frame = Frame::new(inner, format, include_usage, sampling.logprobs.is_some());
                let requests = choice_requests(&GenerationRequest { prompt, sampling }, choices);
                respond(self.clone(), frame, stream, requests, ticket, deadline).await
            }
            (
                Job::Embed {
                    inputs,
                    base64,
                    model,
                },
                Some(ticket),
            ) => embed(self, inputs, base64, model, ticket, deadline).await,
            (_, None) => Err(ProviderError::Engine(
                plexus_inference::EngineError::Internal(
                    "a request ran without an engine slot".to_owned(),
                ),
            )),
        };
        result.unwrap_or_else(IntoResponse::into_response)
    }

    /// The request deadline of a request arriving now.
    pub(crate) fn deadline(&self) -> Instant {
        Instant::now() + self.inner.config.request_timeout
    }

    /// Count a request answered on the private path (`route` "private <path>").
    pub(crate) fn count(&self, route: &str, status: StatusCode) {
        self.inner
            .metrics
            .requests
            .get_or_create(&RequestLabels {
                route: format!("private {route}"),
                status: status.as_u16(),
            })
            .inc();
    }

    /// The configuration it serves with.
    pub(crate) fn config(&self) -> &ProviderConfig {
        &self.inner.config
    }
}

/// Take a slot and run a prepared request: what every generating route does.
async fn serve(
    p: Provider,
    prepared: Prepared,
    deadline: Instant,
) -> Result<Response, ProviderError> {
    let ticket = p.enter(deadline).await?;
    Ok(p.execute(prepared, Some(ticket), deadline).await)
}

impl Inner {
    /// A value no other request of this process gets: answer ids and fresh seeds.
    fn fresh_tag(&self) -> blake3::Hash {
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        blake3::hash(&[nanos.to_le_bytes().as_slice(), &n.to_le_bytes()].concat())
    }

    fn next_id(&self, prefix: &str) -> String {
        format!("{prefix}-{}", &self.fresh_tag().to_hex()[..24])
    }

    fn check_model(&self, model: &str) -> Result<(), ProviderError> {
        if model == self.engine.model().id {
            Ok(())
        } else {
            Err(ProviderError::UnknownModel(model.to_owned()))
        }
    }

    /// Check the sampling settings of a request; `default_max_tokens` applies when it
    /// names none.
    fn sampling(
        &self,
        s: &OpenAiGeneration,
        default_max_tokens: u32,
        format: Format,
    ) -> Result<Sampling, ProviderError> {
        if s.n.is_some_and(|n| n == 0 || n > MAX_CHOICES) {
            return Err(ProviderError::invalid(
                "n",
                format!("n must be between 1 and {MAX_CHOICES}"),
            ));
        }
        let cap = self
            .config
            .max_tokens
            .min(self.engine.model().context_length);
        let max_tokens = s.max_tokens.unwrap_or(default_max_tokens.min(cap));
        if max_tokens == 0 || max_tokens > cap {
            return Err(ProviderError::invalid(
                "max_tokens",
                format!("max_tokens must be between 1 and {cap}"),
            ));
        }
        let temperature = s.temperature.unwrap_or(1.0);
        if !(0.0..=2.0).contains(&temperature) {
            return Err(ProviderError::invalid(
                "temperature",
                "temperature must be between 0 and 2",
            ));
        }
        let top_p = s.top_p.unwrap_or(1.0);
        if !(top_p > 0.0 && top_p <= 1.0) {
            return Err(ProviderError::invalid(
                "top_p",
                "top_p must be greater than 0 and at most 1",
            ));
        }
        let stop = s.stop.clone().map(OneOrMany::into_vec).unwrap_or_default();
        if stop.len() > MAX_STOP {
            return Err(ProviderError::invalid(
                "stop",
                format!("at most {MAX_STOP} stop strings"),
            ));
        }
        if stop
            .iter()
            .any(|s| s.is_empty() || s.len() > MAX_STOP_BYTES)
        {
            return Err(ProviderError::invalid(
                "stop",
                format!("stop strings must be 1 to {MAX_STOP_BYTES} bytes"),
            ));
        }
        let seed = match s.seed {
            Some(seed) => u64::from_le_bytes(seed.to_le_bytes()),
            // No seed asked: a fresh one per request, as OpenAI does.
            None => {
                let tag = self.fresh_tag();
                let mut seed = [0u8; 8];
                seed.copy_from_slice(&tag.as_bytes()[..8]);
                u64::from_le_bytes(seed)
            }
        };
        let logit_bias = s
            .logit_bias
            .iter()
            .flatten()
            .map(|(token, &bias)| {
                token.trim().parse::<u32>().map(|t| (t, bias)).map_err(|_| {
                    ProviderError::invalid(
                        "logit_bias",
                        format!("logit_bias keys are token ids; '{token}' is not one"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sampling = Sampling {
            max_tokens,
            temperature,
            top_p,
            seed,
            stop,
            top_k: s.top_k.unwrap_or(0),
            min_p: s.min_p.unwrap_or(0.0),
            presence_penalty: s.presence_penalty.unwrap_or(0.0),
            frequency_penalty: s.frequency_penalty.unwrap_or(0.0),
            repeat_penalty: s.repeat_penalty.unwrap_or(1.0),
            logit_bias,
            logprobs: logprobs(s, format)?,
        };
        sampling
            .check()
            .map_err(|e| ProviderError::invalid(e.field, e.message))?;
        Ok(sampling)
    }
}

/// How many alternatives per token a request asks logprobs for, if any: chat sends
/// `logprobs: true` and `top_logprobs: k`; the completions API sends `logprobs: k`.
fn logprobs(s: &OpenAiGeneration, format: Format) -> Result<Option<u8>, ProviderError> {
    use serde_json::Value;
    let top = |k: u64, field| {
        u8::try_from(k)
            .ok()
            .filter(|&k| k <= plexus_inference::MAX_TOP_LOGPROBS)
            .ok_or_else(|| {
                ProviderError::invalid(
                    field,
                    format!(
                        "{field} must be at most {}",
                        plexus_inference::MAX_TOP_LOGPROBS
                    ),
                )
            })
    };
    match format {
        Format::Chat => {
            let on = match &s.logprobs {
                None | Some(Value::Null) | Some(Value::Bool(false)) => false,
                Some(Value::Bool(true)) => true,
                Some(_) => {
                    return Err(ProviderError::invalid(
                        "logprobs",
                        "logprobs must be true or false",
                    ));
                }
            };
            match (on, s.top_logprobs) {
                (true, k) => Ok(Some(top(u64::from(k.unwrap_or(0)), "top_logprobs")?)),
                (false, None | Some(0)) => Ok(None),
                (false, Some(_)) => Err(ProviderError::invalid(
                    "top_logprobs",
                    "top_logprobs needs logprobs: true",
                )),
            }
        }
        Format::Text => match &s.logprobs {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(k)) => match k.as_u64() {
                Some(k) => Ok(Some(top(k, "logprobs")?)),
                None => Err(ProviderError::invalid(
                    "logprobs",
                    "logprobs is the number of alternatives per token",
                )),
            },
            Some(_) => Err(ProviderError::invalid(
                "logprobs",
                "logprobs is the number of alternatives per token",
            )),
        },
    }
}

fn message(m: RequestMessage, index: usize) -> Result<ChatMessage, ProviderError> {
    let role = match m.role.as_str() {
        "system" | "developer" => Role::System,
        "user" => Role::User,
        "assistant" => Role::Assistant,
        other => {
            return Err(ProviderError::invalid(
                "messages",
                format!(
                    "messages[{index}]: role '{other}' is not served (system, developer, user, assistant)"
                ),
            ));
        }
    };
    let content = match m.content {
        Some(Content::Text(text)) => text,
        Some(Content::Parts(parts)) => {
            let mut text = String::new();
            for part in parts {
                match (part.kind.as_str(), part.text) {
                    ("text", Some(t)) => text.push_str(&t),
                    (kind, _) => {
                        return Err(ProviderError::invalid(
                            "messages",
                            format!(
                                "messages[{index}]: content of type '{kind}' is not served; send text"
                            ),
                        ));
                    }
                }
            }
            text
        }
        None => {
            return Err(ProviderError::invalid(
                "messages",
                format!("messages[{index}] has no content"),
            ));
        }
    };
    Ok(ChatMessage { role, content })
}

/// How a stream's events look: chat chunks or text completion chunks.
#[derive(Clone, Copy)]
enum Format {
    Chat,
    Text,
}

/// One streamed choice: its index, whether it opens the role, new text, the finish,
/// and the `logprobs` field.
struct Piece {
    index: u32,
    role: bool,
    text: Option<String>,
    finish: Option<FinishReason>,
    logprobs: Option<serde_json::Value>,
}

/// One finished choice of a whole answer.
struct Answered {
    text: String,
    logprobs: Vec<TokenLogprob>,
    finish: FinishReason,
}

/// What every event of one answer shares.
struct Frame {
    format: Format,
    id: String,
    created: u64,
    model: String,
    fingerprint: String,
    include_usage: bool,
    /// Whether the request asked for token log-probabilities.
    logprobs: bool,
}

impl Frame {
    fn new(p: &Inner, format: Format, include_usage: bool, logprobs: bool) -> Self {
        let prefix = match format {
            Format::Chat => "chatcmpl",
            Format::Text => "cmpl",
        };
        Self {
            format,
            id: p.next_id(prefix),
            created: unix_secs(),
            model: p.engine.model().id.clone(),
            fingerprint: p.fingerprint.clone(),
            include_usage,
            logprobs,
        }
    }

    /// The `logprobs` field of a choice holding these tokens, whose text starts at
    /// character `offset` of the answer; `null` unless the request asked.
    fn logprobs_field(&self, tokens: &[TokenLogprob], offset: usize) -> Option<serde_json::Value> {
        self.logprobs.then(|| match self.format {
            Format::Chat => crate::openai::chat_logprobs(tokens),
            Format::Text => crate::openai::completion_logprobs(tokens, offset),
        })
    }

    fn usage_field(&self) -> Option<Option<Usage>> {
        self.include_usage.then_some(None)
    }

    /// One streamed chunk of one choice: new text (with its tokens'
    /// log-probabilities when asked), a role opening, or the finish.
    fn chunk(&self, piece: Piece) -> String {
        self.event(Some(piece), self.usage_field())
    }

    /// The last chunk with `include_usage`: no choices, the counts.
    fn usage_chunk(&self, usage: EngineUsage) -> String {
        self.event(None, Some(Some(Usage::from(usage))))
    }

    /// A streamed event with at most one choice (role opening, text, finish).
    fn event(&self, piece: Option<Piece>, usage: Option<Option<Usage>>) -> String {
        let json = match self.format {
            Format::Chat => serde_json::to_string(&ChatChunk {
                id: self.id.clone(),
                object: "chat.completion.chunk".to_owned(),
                created: self.created,
                model: self.model.clone(),
                system_fingerprint: self.fingerprint.clone(),
                choices: piece
                    .into_iter()
                    .map(|p| ChunkChoice {
                        index: p.index,
                        delta: Delta {
                            role: p.role.then(|| "assistant".to_owned()),
                            content: p.text,
                        },
                        finish_reason: p.finish.map(|f| finish_name(f).to_owned()),
                        logprobs: p.logprobs,
                    })
                    .collect(),
                usage,
            }),
            Format::Text => serde_json::to_string(&CompletionResponse {
                id: self.id.clone(),
                object: "text_completion".to_owned(),
                created: self.created,
                model: self.model.clone(),
                system_fingerprint: self.fingerprint.clone(),
                choices: piece
                    .into_iter()
                    .map(|p| CompletionChoice {
                        text: p.text.unwrap_or_default(),
                        index: p.index,
                        finish_reason: p.finish.map(|f| finish_name(f).to_owned()),
                        logprobs: p.logprobs,
                    })
                    .collect(),
                usage,
            }),
        };
        json.unwrap_or_default()
    }

    /// The whole answer of a non-streamed request: its choices in order.
    fn answer(&self, choices: Vec<Answered>, usage: EngineUsage) -> Response {
        match self.format {
            Format::Chat => Json(ChatResponse {
                id: self.id.clone(),
                object: "chat.completion".to_owned(),
                created: self.created,
                model: self.model.clone(),
                system_fingerprint: self.fingerprint.clone(),
                choices: (0u32..)
                    .zip(choices)
                    .map(|(index, c)| ChatChoice {
                        index,
                        logprobs: self.logprobs_field(&c.logprobs, 0),
                        message: AnswerMessage {
                            role: "assistant".to_owned(),
                            content: c.text,
                        },
                        finish_reason: finish_name(c.finish).to_owned(),
                    })
                    .collect(),
                usage: usage.into(),
            })
            .into_response(),
            Format::Text => Json(CompletionResponse {
                id: self.id.clone(),
                object: "text_completion".to_owned(),
                created: self.created,
                model: self.model.clone(),
                system_fingerprint: self.fingerprint.clone(),
                choices: (0u32..)
                    .zip(choices)
                    .map(|(index, c)| CompletionChoice {
                        index,
                        logprobs: self.logprobs_field(&c.logprobs, 0),
                        text: c.text,
                        finish_reason: Some(finish_name(c.finish).to_owned()),
                    })
                    .collect(),
                usage: Some(Some(usage.into())),
            })
            .into_response(),
        }
    }
}

/// Seconds since the Unix epoch (`created` of models and answers).
fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An engine stream that ended without its `Finished` item: an engine bug.
fn unfinished() -> ProviderError {
    ProviderError::Engine(plexus_inference::EngineError::Internal(
        "the generation ended without finishing".to_owned(),
    ))
}

fn finish_name(reason: FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
    }
}

async fn chat(
    State(p): State<Provider>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ProviderError> {
    let deadline = p.deadline();
    let body = read(body)?;
    let prepared = p
        .inner
        .prepare_chat(&body, p.inner.config.default_chat_max_tokens)?;
    serve(p, prepared, deadline).await
}

async fn completions(
    State(p): State<Provider>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ProviderError> {
    let deadline = p.deadline();
    let body = read(body)?;
    let prepared = p.inner.prepare_completion(&body)?;
    serve(p, prepared, deadline).await
}

async fn embeddings(
    State(p): State<Provider>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ProviderError> {
    let deadline = p.deadline();
    let body = read(body)?;
    let prepared = p.inner.prepare_embeddings(&body)?;
    serve(p, prepared, deadline).await
}

fn body_bytes(body: &[u8]) -> u64 {
    u64::try_from(body.len()).unwrap_or(u64::MAX)
}

impl Inner {
    fn prepare_chat(
        &self,
        body: &[u8],
        default_max_tokens: u32,
    ) -> Result<Prepared, ProviderError> {
        let (request, value): (ChatRequest, _) = parse_both(body)?;
        self.check_model(&request.model)?;
        refuse_unhonoured(&value, crate::openai::Route::Chat)?;
        if request.tools.as_ref().is_some_and(|t| !t.is_null()) {
            return Err(ProviderError::invalid("tools", "tools are not served"));
        }
        if request.messages.is_empty() || request.messages.len() > MAX_MESSAGES {
            return Err(ProviderError::invalid(
                "messages",
                format!("send 1 to {MAX_MESSAGES} messages"),
            ));
        }
        let mut generation = request.generation;
        generation.max_tokens = request.max_completion_tokens.or(generation.max_tokens);
        let sampling = self.sampling(&generation, default_max_tokens, Format::Chat)?;
        let messages = request
            .messages
            .into_iter()
            .enumerate()
            .map(|(i, m)| message(m, i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.generate(
            Format::Chat,
            &generation,
            Prompt::Chat(messages),
            sampling,
            body,
        ))
    }

    fn prepare_completion(&self, body: &[u8]) -> Result<Prepared, ProviderError> {
        let (request, value): (CompletionRequest, _) = parse_both(body)?;
        self.check_model(&request.model)?;
        refuse_unhonoured(&value, crate::openai::Route::Completions)?;
        if request.echo == Some(true) {
            return Err(ProviderError::invalid("echo", "echo is not served"));
        }
        // Token ids are the model's own (llama.cpp's server and vLLM read them so).
        let one = || ProviderError::invalid("prompt", "send one prompt per request");
        let prompt = match request.prompt {
            TextsOrTokens::One(text) => Prompt::Text(text),
            TextsOrTokens::Many(mut texts) if texts.len() == 1 => {
                Prompt::Text(texts.pop().unwrap_or_default())
            }
            TextsOrTokens::Tokens(ids) => Prompt::Tokens(ids),
            TextsOrTokens::TokenLists(mut lists) if lists.len() == 1 => {
                Prompt::Tokens(lists.pop().unwrap_or_default())
            }
            _ => return Err(one()),
        };
        if matches!(&prompt, Prompt::Tokens(ids) if ids.is_empty()) {
            return Err(ProviderError::invalid("prompt", "the prompt is empty"));
        }
        let sampling = self.sampling(
            &request.generation,
            DEFAULT_COMPLETION_MAX_TOKENS,
            Format::Text,
        )?;
        Ok(self.generate(Format::Text, &request.generation, prompt, sampling, body))
    }

    /// A generation job and what it costs: up to `sampling.max_tokens` out, the body in.
    fn generate(
        &self,
        format: Format,
        asked: &OpenAiGeneration,
        prompt: Prompt,
        sampling: Sampling,
        body: &[u8],
    ) -> Prepared {
        // Every choice is a whole answer: n choices cost n answers.
        let choices = asked.n.unwrap_or(1).max(1);
        let work = Work {
            output_tokens: u64::from(sampling.max_tokens) * u64::from(choices),
            body_bytes: body_bytes(body),
            ..Work::default()
        };
        let include_usage = asked
            .stream_options
            .as_ref()
            .is_some_and(|o| o.include_usage);
        Prepared {
            job: Job::Generate {
                format,
                stream: asked.stream,
                include_usage,
                prompt,
                sampling,
                choices,
            },
            work,
        }
    }

    fn prepare_embeddings(&self, body: &[u8]) -> Result<Prepared, ProviderError> {
        let request: EmbeddingRequest = parse(body)?;
        let embedder = self.embedder.as_ref().ok_or(ProviderError::NoEmbeddings)?;
        let model = embedder.model().id.clone();
        if request.model != model {
            return Err(ProviderError::UnknownModel(request.model));
        }
        if request.dimensions.is_some() {
            return Err(ProviderError::invalid(
                "dimensions",
                "truncated dimensions are not served",
            ));
        }
        let base64 = match request.encoding_format.as_deref() {
            None | Some("float") => false,
            Some("base64") => true,
            Some(other) => {
                return Err(ProviderError::invalid(
                    "encoding_format",
                    format!("encoding_format '{other}' is not served (float, base64)"),
                ));
            }
        };
        let inputs = request
            .input
            .into_texts()
            .map_err(|e| ProviderError::invalid("input", e.to_string()))?;
        if inputs.is_empty() || inputs.len() > MAX_EMBEDDING_INPUTS {
            return Err(ProviderError::invalid(
                "input",
                format!("send 1 to {MAX_EMBEDDING_INPUTS} inputs"),
            ));
        }
        if let Some(i) = inputs.iter().position(|s| s.is_empty()) {
            return Err(ProviderError::invalid(
                "input",
                format!("input[{i}] is empty"),
            ));
        }
        let work = Work {
            embedding_inputs: u64::try_from(inputs.len()).unwrap_or(u64::MAX),
            body_bytes: body_bytes(body),
            ..Work::default()
        };
        Ok(Prepared {
            job: Job::Embed {
                inputs,
                base64,
                model,
            },
            work,
        })
    }
}

/// The requests behind an answer's `choices`: the same prompt, each with its own
/// seed, so sampled choices differ (greedy ones repeat, as OpenAI's do).
fn choice_requests(request: &GenerationRequest, choices: u32) -> Vec<GenerationRequest> {
    (0..choices.max(1))
        .map(|i| {
            let mut request = request.clone();
            request.sampling.seed = request.sampling.seed.wrapping_add(u64::from(i));
            request
        })
        .collect()
}

/// Run the engine holding `ticket`, one choice after the other, and answer: streamed
/// as server-sent events, or collected into one JSON object. The usage counts the
/// prompt once and the tokens of every choice.
async fn respond(
    p: Provider,
    frame: Frame,
    stream: bool,
    requests: Vec<GenerationRequest>,
    ticket: Ticket,
    deadline: Instant,
) -> Result<Response, ProviderError> {
    if stream {
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        tokio::spawn(drive(p, frame, ticket, requests, deadline, tx));
        let events = ReceiverStream::new(rx).map(Ok::<_, Infallible>);
        return Ok(Sse::new(events).into_response());
    }
    let started = Instant::now();
    let mut answered = Vec::with_capacity(requests.len());
    let mut total = EngineUsage::default();
    for request in requests {
        let (answer, usage) = collect(&p, p.inner.engine.generate(request), deadline).await?;
        add_usage(&mut total, usage);
        answered.push(answer);
    }
    drop(ticket);
    record(&p.inner, total, started.elapsed());
    Ok(frame.answer(answered, total))
}

/// Count one more choice: the prompt once, the completions of all.
fn add_usage(total: &mut EngineUsage, usage: EngineUsage) {
    total.prompt_tokens = usage.prompt_tokens;
    total.completion_tokens = total
        .completion_tokens
        .saturating_add(usage.completion_tokens);
}

/// Record a finished generation's tokens and speed.
fn record(p: &Inner, usage: EngineUsage, took: Duration) {
    p.metrics
        .prompt_tokens
        .inc_by(u64::from(usage.prompt_tokens));
    p.metrics
        .completion_tokens
        .inc_by(u64::from(usage.completion_tokens));
    let secs = took.as_secs_f64();
    if usage.completion_tokens > 0 && secs > 0.0 {
        p.metrics
            .tokens_per_second
            .observe(f64::from(usage.completion_tokens) / secs);
    }
}

async fn collect(
    p: &Provider,
    mut generation: Generation,
    deadline: Instant,
) -> Result<(Answered, EngineUsage), ProviderError> {
    let mut text = String::new();
    let mut logprobs = Vec::new();
    loop {
        let next = tokio::time::timeout_at(deadline, generation.next())
            .await
            .map_err(|_| ProviderError::Timeout(p.inner.config.request_timeout))?;
        match next {
            Some(Ok(Output::Text {
                text: piece,
                logprobs: tokens,
                ..
            })) => {
                text.push_str(&piece);
                logprobs.extend(tokens);
            }
            Some(Ok(Output::Finished { reason, usage })) => {
                let answer = Answered {
                    text,
                    logprobs,
                    finish: reason,
                };
                return Ok((answer, usage));
            }
            Some(Err(e)) => return Err(e.into()),
            None => return Err(unfinished()),
        }
    }
}

/// Feed one streamed answer to its client, choice after choice. Returns when the
/// answer is complete, the deadline passes or the client goes away; dropping the
/// running generation then stops the engine, and dropping `ticket` frees the slot.
async fn drive(
    p: Provider,
    frame: Frame,
    ticket: Ticket,
    requests: Vec<GenerationRequest>,
    deadline: Instant,
    tx: mpsc::Sender<Event>,
) {
    let started = Instant::now();
    let send = |data: String| {
        let tx = tx.clone();
        async move { tx.send(Event::default().data(data)).await.is_ok() }
    };
    let mut total = EngineUsage::default();
    for (index, request) in (0u32..).zip(requests) {
        let opening = Piece {
            index,
            role: true,
            text: Some(String::new()),
            finish: None,
            logprobs: None,
        };
        if !send(frame.chunk(opening)).await {
            return;
        }
        let mut generation = p.inner.engine.generate(request);
        // Characters of this choice sent so far: the completions API's `text_offset`.
        let mut offset = 0;
        let error = loop {
            let next = tokio::select! {
                () = tx.closed() => return,
                next = tokio::time::timeout_at(deadline, generation.next()) => next,
            };
            match next {
                Ok(Some(Ok(Output::Text { text, logprobs, .. }))) => {
                    if text.is_empty() && logprobs.is_empty() {
                        continue;
                    }
                    let field = frame.logprobs_field(&logprobs, offset);
                    offset += logprobs
                        .iter()
                        .map(|t| String::from_utf8_lossy(&t.token.bytes).chars().count())
                        .sum::<usize>();
                    let piece = Piece {
                        index,
                        role: false,
                        text: Some(text),
                        finish: None,
                        logprobs: field,
                    };
                    if !send(frame.chunk(piece)).await {
                        return;
                    }
                }
                Ok(Some(Ok(Output::Finished { reason, usage }))) => {
                    add_usage(&mut total, usage);
                    let piece = Piece {
                        index,
                        role: false,
                        text: None,
                        finish: Some(reason),
                        logprobs: None,
                    };
                    if !send(frame.chunk(piece)).await {
                        return;
                    }
                    break None;
                }
                Ok(Some(Err(e))) => break Some(ProviderError::from(e)),
                Ok(None) => break Some(unfinished()),
                Err(_) => break Some(ProviderError::Timeout(p.inner.config.request_timeout)),
            }
        };
        if let Some(error) = error {
            // Headers are gone: the error travels as one last event, as OpenAI does.
            if error.status().is_server_error() {
                tracing::warn!(%error, "provider: a streamed answer failed");
            }
            let body = serde_json::to_string(&ErrorResponse {
                error: error.object(),
            })
            .unwrap_or_default();
            send(body).await;
            return;
        }
    }
    drop(ticket);
    record(&p.inner, total, started.elapsed());
    if !frame.include_usage || send(frame.usage_chunk(total)).await {
        send("[DONE]".to_owned()).await;
    }
}

/// Embed `inputs` holding `ticket`.
async fn embed(
    p: &Provider,
    inputs: Vec<String>,
    base64: bool,
    model: String,
    ticket: Ticket,
    deadline: Instant,
) -> Result<Response, ProviderError> {
    let embedder = p
        .inner
        .embedder
        .as_ref()
        .ok_or(ProviderError::NoEmbeddings)?;
    let timeout = p.inner.config.request_timeout;
    let out = tokio::time::timeout_at(deadline, embedder.embed(inputs))
        .await
        .map_err(|_| ProviderError::Timeout(timeout))??;
    drop(ticket);
    p.inner
        .metrics
        .prompt_tokens
        .inc_by(u64::from(out.prompt_tokens));
    let data = out
        .vectors
        .into_iter()
        .enumerate()
        .map(|(index, v)| Embedding {
            object: "embedding".to_owned(),
            index: u32::try_from(index).unwrap_or(u32::MAX),
            embedding: if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                Vector::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                Vector::Float(v)
            },
        })
        .collect();
    Ok(Json(EmbeddingResponse {
        object: "list".to_owned(),
        data,
        model,
        usage: EmbeddingUsage {
            prompt_tokens: out.prompt_tokens,
            total_tokens: out.prompt_tokens,
        },
    })
    .into_response())
}
