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

/// What to continue: a chat (rendered with the model's own template), raw text, or
/// token ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Prompt {
    /// A conversation; the engine appends the assistant turn's opening.
    Chat(Vec<ChatMessage>),
    /// Plain text completion.
    Text(String),
    /// Token ids in the model's own vocabulary, continued as they are (the completions
    /// API's token-array prompt, as llama.cpp's server and vLLM read it).
    Tokens(Vec<u32>),
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
    /// Keep only the `top_k` most likely tokens before sampling (0: all).
    #[serde(default)]
    pub top_k: u32,
    /// Drop tokens less likely than `min_p` times the most likely one (0: none).
    #[serde(default)]
    pub min_p: f32,
    /// OpenAI's presence penalty in [-2, 2]: subtracted once from the logit of every
    /// token already generated (0: off).
    #[serde(default)]
    pub presence_penalty: f32,
    /// OpenAI's frequency penalty in [-2, 2]: subtracted from a token's logit once per
    /// time it was generated (0: off).
    #[serde(default)]
    pub frequency_penalty: f32,
    /// llama.cpp's repeat penalty over the last [`REPEAT_PENALTY_LAST_N`] generated
    /// tokens, in (0, 10] (1: off).
    #[serde(default = "no_repeat_penalty")]
    pub repeat_penalty: f32,
    /// Added to these tokens' logits before sampling, each in [-100, 100]: -100 bans
    /// a token, 100 all but forces it (OpenAI's `logit_bias`).
    #[serde(default)]
    pub logit_bias: Vec<(u32, f32)>,
    /// Report the log-probability of every generated token and of this many most
    /// likely alternatives at its place (at most [`MAX_TOP_LOGPROBS`]); `None`: off.
    #[serde(default)]
    pub logprobs: Option<u8>,
}

/// Generated tokens the repeat penalty looks back over (llama.cpp's default).
pub const REPEAT_PENALTY_LAST_N: u32 = 64;
/// Most alternatives [`Sampling::logprobs`] may ask for per token (OpenAI's limit).
pub const MAX_TOP_LOGPROBS: u8 = 20;
/// Most tokens one [`Sampling::logit_bias`] may name.
pub const MAX_LOGIT_BIAS: usize = 1_024;

fn no_repeat_penalty() -> f32 {
    1.0
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            max_tokens: 256,
            temperature: 0.0,
            top_p: 1.0,
            seed: 0,
            stop: Vec::new(),
            top_k: 0,
            min_p: 0.0,
            presence_penalty: 0.0,
            frequency_penalty: 0.0,
            repeat_penalty: 1.0,
            logit_bias: Vec::new(),
            logprobs: None,
        }
    }
}

impl Sampling {
    /// Whether this request is deterministic (greedy).
    pub fn is_greedy(&self) -> bool {
        self.temperature <= 0.0
    }

    /// Whether any penalty or bias changes the model's own distribution: such an
    /// answer is not the model's plain greedy or sampled one.
    pub fn reshapes_distribution(&self) -> bool {
        self.presence_penalty != 0.0
            || self.frequency_penalty != 0.0
            || self.repeat_penalty != 1.0
            || !self.logit_bias.is_empty()
    }

    /// Check the penalty, bias, truncation and logprobs values, naming the field at
    /// fault.
    pub fn check(&self) -> Result<(), SamplingError> {
        let bad = |field, message: String| Err(SamplingError { field, message });
        if !(self.min_p.is_finite() && (0.0..=1.0).contains(&self.min_p)) {
            return bad("min_p", "min_p must be in [0, 1]".into());
        }
        for (field, value) in [
            ("presence_penalty", self.presence_penalty),
            ("frequency_penalty", self.frequency_penalty),
        ] {
            if !(value.is_finite() && (-2.0..=2.0).contains(&value)) {
                return bad(field, format!("{field} must be in [-2, 2]"));
            }
        }
        if !(self.repeat_penalty.is_finite()
            && self.repeat_penalty > 0.0
            && self.repeat_penalty <= 10.0)
        {
            return bad("repeat_penalty", "repeat_penalty must be in (0, 10]".into());
        }
        if self.logit_bias.len() > MAX_LOGIT_BIAS {
            return bad(
                "logit_bias",
                format!(
                    "logit_bias names {} tokens; at most {MAX_LOGIT_BIAS} are served",
                    self.logit_bias.len()
                ),
            );
        }
        if let Some(&(token, bias)) = self
            .logit_bias
            .iter()
            .find(|(_, bias)| !(bias.is_finite() && (-100.0..=100.0).contains(bias)))
        {
            return bad(
                "logit_bias",
                format!("logit_bias of token {token} is {bias}; it must be in [-100, 100]"),
            );
        }
        if self.logprobs.is_some_and(|k| k > MAX_TOP_LOGPROBS) {
            return bad(
                "top_logprobs",
                format!("top_logprobs must be at most {MAX_TOP_LOGPROBS}"),
            );
        }
        Ok(())
    }
}

/// A sampling value out of its range: the field, and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct SamplingError {
    /// The field at fault, by its OpenAI name.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl From<SamplingError> for EngineError {
    fn from(error: SamplingError) -> Self {
        EngineError::InvalidRequest(error.message)
    }
}

/// The log-probability of one generated token under the model (its raw logits, before
/// penalties, bias, temperature or truncation), with the most likely alternatives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprob {
    /// The token.
    pub token: TopLogprob,
    /// The most likely tokens at its place, most likely first.
    pub top: Vec<TopLogprob>,
}

/// A token and its log-probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopLogprob {
    /// Token id (`None` from an upstream server, which reports tokens as text).
    pub id: Option<u32>,
    /// The bytes the token stands for (not always whole UTF-8 characters).
    pub bytes: Vec<u8>,
    /// Natural log of its probability.
    pub logprob: f32,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Output {
    /// Newly generated text. `tokens` are the engine's token ids behind it (empty for
    /// an upstream engine, which does not report them).
    Text {
        /// UTF-8 text (never splits a character).
        text: String,
        /// Token ids that produced it.
        tokens: Vec<u32>,
        /// One entry per token when [`Sampling::logprobs`] asked for them, else empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        logprobs: Vec<TokenLogprob>,
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
