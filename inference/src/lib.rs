//! Run language models behind one engine trait and speak the OpenAI API.
//!
//! Owns the engines (llama.cpp, sentence-transformers embeddings, an OpenAI-compatible
//! upstream) and the engine trait. May not depend on the chain's services (storage,
//! node, api, client) or the private path's (provider, relay, issuer): its only
//! Plexus dependencies are `plexus-types` and the engine-neutral score type it
//! reports to validators (`plexus_validator::verify::TokenScore`).
//!
//! An [`Engine`] turns a [`GenerationRequest`] into a stream of [`Output`]s; an
//! [`Embedder`] turns texts into vectors. Two kinds of engine exist: the built-in one
//! (llama.cpp on GGUF weights, with sentence-transformers embeddings) and an upstream
//! one that forwards to any OpenAI-compatible server (vLLM, llama.cpp server, TGI,
//! Ollama). The provider serves whichever it is given; validators re-execute greedy
//! requests on the built-in engine.
//!
//! Dropping a [`Generation`] cancels it: engines stop producing tokens as soon as
//! they notice nobody is listening.

use std::pin::Pin;

pub mod embed;
pub mod llama;
pub mod models;
mod text;
pub mod upstream;

pub use embed::BertEmbedder;
pub use llama::{LlamaConfig, LlamaEngine, TokenScore};
pub use upstream::{UpstreamConfig, UpstreamEngine};

use futures::{Stream, future::BoxFuture};
use plexus_types::Hash;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What serves a model, reported with every response so a validator knows whether
/// exact token comparison is valid (VALIDATION.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineInfo {
    /// Engine name, e.g. `llama.cpp` or `upstream`.
    pub name: String,
    /// Engine version or build id.
    pub version: String,
    /// Weight quantization, e.g. `Q4_1`.
    pub quantization: String,
    /// CPU or GPU kernel level, e.g. `avx2`.
    pub kernel: String,
}

/// A loaded model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The id clients ask for, e.g. `SmolLM2-135M-Instruct`.
    pub id: String,
    /// blake3 of the weights file: the model's identity on chain.
    pub weights_hash: Hash,
    /// Most tokens of prompt plus completion one request may use.
    pub context_length: u32,
    /// What runs it.
    pub engine: EngineInfo,
}

/// Who said a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The person asking.
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// The role's name in chat templates and the OpenAI API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

/// What to continue: a chat (rendered with the model's own template) or raw text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Prompt {
    /// A conversation; the engine appends the assistant turn's opening.
    Chat(Vec<ChatMessage>),
    /// Plain text completion.
    Text(String),
}

/// How to pick tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// Most tokens to generate.
    pub max_tokens: u32,
    /// 0 means greedy: the same request gives the same tokens bit for bit.
    pub temperature: f32,
    /// Nucleus sampling mass, in (0, 1].
    pub top_p: f32,
    /// Seed of the sampler when `temperature > 0`.
    pub seed: u64,
    /// Strings that end the completion (not included in the output).
    pub stop: Vec<String>,
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            max_tokens: 256,
            temperature: 0.0,
            top_p: 1.0,
            seed: 0,
            stop: Vec::new(),
        }
    }
}

impl Sampling {
    /// Whether this request is deterministic (greedy).
    pub fn is_greedy(&self) -> bool {
        self.temperature <= 0.0
    }
}

/// One generation request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationRequest {
    /// What to continue.
    pub prompt: Prompt,
    /// How to pick tokens.
    pub sampling: Sampling,
}

/// Why a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model ended its turn, or a stop string matched.
    Stop,
    /// `max_tokens` or the context length was reached.
    Length,
}

/// Token counts of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the rendered prompt.
    pub prompt_tokens: u32,
    /// Tokens generated.
    pub completion_tokens: u32,
}

/// One item of a generation stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Output {
    /// Newly generated text. `tokens` are the engine's token ids behind it (empty for
    /// an upstream engine, which does not report them).
    Text {
        /// UTF-8 text (never splits a character).
        text: String,
        /// Token ids that produced it.
        tokens: Vec<u32>,
    },
    /// The last item of every successful generation.
    Finished {
        /// Why it ended.
        reason: FinishReason,
        /// Token counts.
        usage: Usage,
    },
}

/// A running generation. Dropping it cancels the work.
pub type Generation = Pin<Box<dyn Stream<Item = Result<Output, EngineError>> + Send>>;

/// Vectors for a batch of inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embeddings {
    /// One unit-length vector per input, in input order.
    pub vectors: Vec<Vec<f32>>,
    /// Tokens read, over all inputs.
    pub prompt_tokens: u32,
}

/// Why an engine could not serve a request.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The request cannot be served as asked (the caller's fault): too long for the
    /// context, bad sampling values, an empty input.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The model file is missing, unreadable or not a model this engine can run.
    #[error("cannot load model {path}: {reason}")]
    Load {
        /// The file or directory.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// An upstream server failed or answered something that is not the OpenAI API.
    #[error("upstream server failed: {0}")]
    Upstream(String),
    /// The engine failed while running (a decode error, a worker that died).
    #[error("engine failed: {0}")]
    Internal(String),
}

/// A text generation engine.
pub trait Engine: Send + Sync {
    /// The model this engine serves.
    fn model(&self) -> &ModelInfo;

    /// Start generating. The stream yields [`Output::Text`] pieces, then exactly one
    /// [`Output::Finished`]; or an error, after which it ends.
    fn generate(&self, request: GenerationRequest) -> Generation;
}

/// A text embedding model.
pub trait Embedder: Send + Sync {
    /// The model this embedder serves.
    fn model(&self) -> &ModelInfo;

    /// Embed `inputs` (at least one, each non-empty).
    fn embed(&self, inputs: Vec<String>) -> BoxFuture<'static, Result<Embeddings, EngineError>>;
}
