//! The OpenAI API's JSON shapes, as far as the provider speaks them: models, chat
//! completions, completions and embeddings, streamed and not, and error objects.
//!
//! Requests accept and ignore metadata the provider has no use for (`user`,
//! `metadata`, `store`); penalties, `logit_bias`, `top_k`/`min_p`/`repeat_penalty` and
//! `logprobs` go to the engine, `n` (up to 8) choices run one after the other; a field
//! that would change the answer and is not served (tools, `response_format`, …, see
//! [`unhonoured`]) is refused by the [`router`](crate::router) with a 400 naming it,
//! never silently dropped; its neutral value (`response_format: {"type": "text"}`,
//! `tool_choice: "none"`, …) is accepted.

use serde::{Deserialize, Serialize};

/// `GET /v1/models`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelList {
    /// Always `list`.
    pub object: String,
    /// The served models.
    pub data: Vec<Model>,
}

/// One model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    /// The id requests name.
    pub id: String,
    /// Always `model`.
    pub object: String,
    /// Unix seconds the provider started serving it.
    pub created: u64,
    /// The operator.
    pub owned_by: String,
}

/// A string or a list of strings (`stop`, `prompt`, `input`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One string.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The strings, in order.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// Message content: a string, or a list of typed parts of which only text is served.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Typed parts (`{"type":"text","text":...}`).
    Parts(Vec<ContentPart>),
}

/// One typed content part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContentPart {
    /// `text` is the only type served.
    #[serde(rename = "type")]
    pub kind: String,
    /// The text of a `text` part.
    #[serde(default)]
    pub text: Option<String>,
}

/// One message of a chat request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestMessage {
    /// `system`, `developer` (treated as system), `user` or `assistant`.
    pub role: String,
    /// What was said; `null` only for assistant tool calls, which are not served.
    #[serde(default)]
    pub content: Option<Content>,
}

/// `stream_options`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Send a last chunk with the usage (and `usage: null` on all others).
    #[serde(default)]
    pub include_usage: bool,
}

/// What chat and text completions share: how many tokens, how to sample, whether to stream.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Generation {
    /// Most tokens to generate (chat: legacy name of `max_completion_tokens`).
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature in [0, 2]; 0 is greedy.
    #[serde(default)]
    pub temperature: Option<f32>,
    /// Nucleus mass in (0, 1].
    #[serde(default)]
    pub top_p: Option<f32>,
    /// Sampler seed.
    #[serde(default)]
    pub seed: Option<i64>,
    /// Stop strings (at most 16).
    #[serde(default)]
    pub stop: Option<OneOrMany>,
    /// Stream server-sent events.
    #[serde(default)]
    pub stream: bool,
    /// Streaming options.
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    /// Number of choices, 1 to 8.
    #[serde(default)]
    pub n: Option<u32>,
    /// OpenAI's presence penalty, in [-2, 2].
    #[serde(default)]
    pub presence_penalty: Option<f32>,
    /// OpenAI's frequency penalty, in [-2, 2].
    #[serde(default)]
    pub frequency_penalty: Option<f32>,
    /// Token id (as a decimal string) to a bias in [-100, 100].
    #[serde(default)]
    pub logit_bias: Option<std::collections::BTreeMap<String, f32>>,
    /// llama.cpp and vLLM's extension: keep the k most likely tokens.
    #[serde(default)]
    pub top_k: Option<u32>,
    /// llama.cpp and vLLM's extension: drop tokens below this fraction of the best.
    #[serde(default)]
    pub min_p: Option<f32>,
    /// llama.cpp's extension: penalty on recently generated tokens (1: off).
    #[serde(default)]
    pub repeat_penalty: Option<f32>,
    /// Chat: `true` to report token log-probabilities. Completions: how many
    /// alternatives to report with each token.
    #[serde(default)]
    pub logprobs: Option<serde_json::Value>,
    /// Chat: how many alternatives to report with each token (needs `logprobs`).
    #[serde(default)]
    pub top_logprobs: Option<u32>,
}

/// `POST /v1/chat/completions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model id.
    pub model: String,
    /// The conversation.
    pub messages: Vec<RequestMessage>,
    /// Most tokens to generate.
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    /// Tools are not served; present means refused.
    #[serde(default)]
    pub tools: Option<serde_json::Value>,
    /// Sampling and streaming.
    #[serde(flatten)]
    pub generation: Generation,
}

/// `POST /v1/completions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompletionRequest {
    /// The model id.
    pub model: String,
    /// What to continue: one string or token-id array (in the model's own vocabulary),
    /// or a list of exactly one.
    pub prompt: TextsOrTokens,
    /// Echo the prompt back; not served.
    #[serde(default)]
    pub echo: Option<bool>,
    /// Sampling and streaming (`max_tokens` defaults to 16, as OpenAI's).
    #[serde(flatten)]
    pub generation: Generation,
}

/// `POST /v1/embeddings`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmbeddingRequest {
    /// The model id.
    pub model: String,
    /// Texts to embed, or token-id arrays in OpenAI's `cl100k_base` (what
    /// tiktoken-based clients send).
    pub input: TextsOrTokens,
    /// `float` (default) or `base64` (little-endian f32, what the `openai` package asks for).
    #[serde(default)]
    pub encoding_format: Option<String>,
    /// Truncating dimensions is not served.
    #[serde(default)]
    pub dimensions: Option<u32>,
}

/// Texts or token ids, as the embeddings API's `input` and the completions API's
/// `prompt` take them: one text, several, one token-id array or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TextsOrTokens {
    /// One text.
    One(String),
    /// Several texts.
    Many(Vec<String>),
    /// One input as token ids.
    Tokens(Vec<u32>),
    /// Several inputs as token ids.
    TokenLists(Vec<Vec<u32>>),
}

/// Why token ids cannot be read back as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("input[{input}] holds token {token}, which is not a cl100k_base token")]
pub struct NotATokenError {
    /// Which input.
    pub input: usize,
    /// The first id that is no token.
    pub token: u32,
}

impl TextsOrTokens {
    /// The texts, in order. Token ids are read as OpenAI's `cl100k_base`: OpenAI
    /// clients that send ids (LangChain's `OpenAIEmbeddings` splits long texts with
    /// tiktoken) tokenize for OpenAI's embedding models, whose vocabulary that is; the
    /// text they stand for is what this provider's own model then reads.
    pub fn into_texts(self) -> Result<Vec<String>, NotATokenError> {
        let lists = match self {
            Self::One(text) => return Ok(vec![text]),
            Self::Many(texts) => return Ok(texts),
            Self::Tokens(ids) => vec![ids],
            Self::TokenLists(lists) => lists,
        };
        let bpe = tiktoken_rs::cl100k_base_singleton();
        lists
            .into_iter()
            .enumerate()
            .map(|(input, ids)| {
                // Any id the encoding knows, special ones included; bytes that end
                // mid-character become U+FFFD rather than an error.
                let bytes = bpe.decode_bytes(&ids).map_err(|e| NotATokenError {
                    input,
                    token: e.token,
                })?;
                Ok(String::from_utf8_lossy(&bytes).into_owned())
            })
            .collect()
    }
}

/// Token counts, as OpenAI reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens read.
    pub prompt_tokens: u32,
    /// Tokens generated.
    pub completion_tokens: u32,
    /// Their sum.
    pub total_tokens: u32,
}

impl From<plexus_inference::Usage> for Usage {
    fn from(u: plexus_inference::Usage) -> Self {
        Self {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            total_tokens: u.prompt_tokens.saturating_add(u.completion_tokens),
        }
    }
}

/// An assistant message in an answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnswerMessage {
    /// Always `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

/// One choice of a chat answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatChoice {
    /// Which choice (0 to `n` − 1).
    pub index: u32,
    /// The answer.
    pub message: AnswerMessage,
    /// `stop` or `length`.
    pub finish_reason: String,
    /// With `logprobs`: each token's log-probability; else `null`.
    pub logprobs: Option<serde_json::Value>,
}

/// A non-streamed chat answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatResponse {
    /// `chatcmpl-…`.
    pub id: String,
    /// Always `chat.completion`.
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The model id.
    pub model: String,
    /// Engine, version, quantization, kernel level and weights hash.
    pub system_fingerprint: String,
    /// The choices, in index order.
    pub choices: Vec<ChatChoice>,
    /// Token counts.
    pub usage: Usage,
}

/// The new part of a streamed chat message.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Delta {
    /// `assistant` in the first chunk only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// New text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// One choice of a streamed chat chunk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChunkChoice {
    /// Which choice (0 to `n` − 1).
    pub index: u32,
    /// What is new.
    pub delta: Delta,
    /// Set in the last content chunk.
    pub finish_reason: Option<String>,
    /// With `logprobs`: the log-probabilities of this chunk's tokens; else `null`.
    pub logprobs: Option<serde_json::Value>,
}

/// One streamed chat chunk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatChunk {
    /// The same id in every chunk of a stream.
    pub id: String,
    /// Always `chat.completion.chunk`.
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The model id.
    pub model: String,
    /// As in [`ChatResponse`].
    pub system_fingerprint: String,
    /// One choice, or none in the usage chunk.
    pub choices: Vec<ChunkChoice>,
    /// With `include_usage`: `null`, then the counts in the last chunk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Option<Usage>>,
}

/// One choice of a text completion (streamed or not).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompletionChoice {
    /// The text (new text, when streamed).
    pub text: String,
    /// Which choice (0 to `n` − 1).
    pub index: u32,
    /// `stop` or `length`; `null` in streamed chunks before the last.
    pub finish_reason: Option<String>,
    /// With `logprobs`: the log-probabilities of its tokens; else `null`.
    pub logprobs: Option<serde_json::Value>,
}

/// A text completion answer or streamed chunk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompletionResponse {
    /// `cmpl-…`.
    pub id: String,
    /// Always `text_completion`.
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The model id.
    pub model: String,
    /// As in [`ChatResponse`].
    pub system_fingerprint: String,
    /// One choice, or none in the usage chunk.
    pub choices: Vec<CompletionChoice>,
    /// Token counts (streamed: `null` until the usage chunk, with `include_usage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Option<Usage>>,
}

/// One embedding vector, as floats or base64.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Vector {
    /// `encoding_format: float`.
    Float(Vec<f32>),
    /// `encoding_format: base64`: little-endian f32 bytes.
    Base64(String),
}

/// One embedding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Embedding {
    /// Always `embedding`.
    pub object: String,
    /// Position in the input.
    pub index: u32,
    /// The vector.
    pub embedding: Vector,
}

/// Token counts of an embedding request.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct EmbeddingUsage {
    /// Tokens read.
    pub prompt_tokens: u32,
    /// The same.
    pub total_tokens: u32,
}

/// `POST /v1/embeddings` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmbeddingResponse {
    /// Always `list`.
    pub object: String,
    /// One per input.
    pub data: Vec<Embedding>,
    /// The model id.
    pub model: String,
    /// Token counts.
    pub usage: EmbeddingUsage,
}

/// An error answer: `{"error": {...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// What went wrong.
    pub error: ErrorObject,
}

/// OpenAI's error object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorObject {
    /// For people.
    pub message: String,
    /// `invalid_request_error`, `rate_limit_error`, `server_error`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The offending field, if one.
    pub param: Option<String>,
    /// A stable machine code, e.g. `model_not_found`.
    pub code: Option<String>,
}

/// A token's text for the API: its bytes, lossily as UTF-8 (a token may hold part of
/// a character; `bytes` has the exact ones).
fn token_text(token: &plexus_inference::TopLogprob) -> String {
    String::from_utf8_lossy(&token.bytes).into_owned()
}

/// Chat's `logprobs` object for these tokens: `{"content": [{token, logprob, bytes,
/// top_logprobs}]}`.
pub fn chat_logprobs(tokens: &[plexus_inference::TokenLogprob]) -> serde_json::Value {
    let entry = |t: &plexus_inference::TopLogprob| serde_json::json!({ "token": token_text(t), "logprob": t.logprob, "bytes": t.bytes });
    let content: Vec<_> = tokens
        .iter()
        .map(|t| {
            let mut e = entry(&t.token);
            e["top_logprobs"] = t.top.iter().map(entry).collect();
            e
        })
        .collect();
    serde_json::json!({ "content": content })
}

/// The completions API's `logprobs` object for these tokens, whose text starts at
/// character `offset` of the answer: parallel `tokens`, `token_logprobs`,
/// `top_logprobs` (token → logprob) and `text_offset`.
pub fn completion_logprobs(
    tokens: &[plexus_inference::TokenLogprob],
    mut offset: usize,
) -> serde_json::Value {
    let mut texts = Vec::with_capacity(tokens.len());
    let mut offsets = Vec::with_capacity(tokens.len());
    for t in tokens {
        let text = token_text(&t.token);
        offsets.push(offset);
        offset += text.chars().count();
        texts.push(text);
    }
    let top: Vec<serde_json::Map<String, serde_json::Value>> = tokens
        .iter()
        .map(|t| {
            t.top
                .iter()
                .map(|a| (token_text(a), serde_json::json!(a.logprob)))
                .collect()
        })
        .collect();
    serde_json::json!({
        "tokens": texts,
        "token_logprobs": tokens.iter().map(|t| t.token.logprob).collect::<Vec<_>>(),
        "top_logprobs": top,
        "text_offset": offsets,
    })
}

/// Which route a body was sent to, for [`unhonoured`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /v1/chat/completions`.
    Chat,
    /// `POST /v1/completions`.
    Completions,
}

/// The first field of `body` this provider cannot honour with a value that would
/// change the answer, and why: clients get a 400 naming it rather than an answer
/// that silently ignored what they asked for. Neutral values (`logprobs: false`,
/// `presence_penalty: 0`, `response_format: {"type": "text"}`, …) and metadata
/// (`user`, `metadata`, `store`) are accepted.
pub fn unhonoured(body: &serde_json::Value, route: Route) -> Option<(&'static str, &'static str)> {
    use serde_json::Value;
    /// A field, whether a value of it is neutral, and why another is refused.
    type Check<'a> = (&'static str, &'a dyn Fn(&Value) -> bool, &'static str);
    let checks: &[Check<'_>] = &[
        (
            "response_format",
            &|v: &Value| v.is_null() || v.get("type").and_then(Value::as_str) == Some("text"),
            "structured output (json_object, json_schema) is not served yet",
        ),
        (
            "tool_choice",
            &|v: &Value| v.is_null() || matches!(v.as_str(), Some("none" | "auto")),
            "tools are not served",
        ),
        (
            "functions",
            &Value::is_null,
            "functions (tools) are not served",
        ),
        (
            "function_call",
            &|v: &Value| v.is_null() || matches!(v.as_str(), Some("none" | "auto")),
            "functions (tools) are not served",
        ),
        (
            "best_of",
            &|v: &Value| v.is_null() || v.as_u64() == Some(1),
            "only best_of = 1 is served",
        ),
        (
            "suffix",
            &|v: &Value| v.is_null() || v.as_str() == Some(""),
            "suffix (insertion) is not served",
        ),
        (
            "prediction",
            &Value::is_null,
            "predicted outputs are not served",
        ),
        ("audio", &Value::is_null, "audio is not served"),
        (
            "modalities",
            &|v: &Value| {
                v.is_null()
                    || v.as_array()
                        .is_some_and(|m| m.iter().all(|m| m.as_str() == Some("text")))
            },
            "only text is served",
        ),
    ];
    let only_completions = ["best_of", "suffix"];
    let only_chat = [
        "response_format",
        "tool_choice",
        "functions",
        "function_call",
        "prediction",
        "audio",
        "modalities",
    ];
    checks.iter().find_map(|(field, neutral, why)| {
        let applies = match route {
            Route::Chat => !only_completions.contains(field),
            Route::Completions => !only_chat.contains(field),
        };
        let value = body.get(*field)?;
        (applies && !neutral(value)).then_some((*field, *why))
    })
}

#[cfg(test)]
mod unhonoured_tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_field_that_would_change_the_answer_is_named_and_neutral_values_pass() {
        for (body, field) in [
            (
                json!({"response_format": {"type": "json_object"}}),
                "response_format",
            ),
            (json!({"tool_choice": "required"}), "tool_choice"),
            (json!({"functions": []}), "functions"),
        ] {
            assert_eq!(
                unhonoured(&body, Route::Chat).map(|(f, _)| f),
                Some(field),
                "{body}"
            );
        }
        let neutral = json!({
            "response_format": {"type": "text"}, "logprobs": false, "presence_penalty": 0,
            "frequency_penalty": 0.0, "logit_bias": {}, "tool_choice": "none",
            "parallel_tool_calls": true, "user": "u-1", "metadata": {"k": "v"}, "store": false,
            "modalities": ["text"], "top_k": null,
        });
        assert_eq!(unhonoured(&neutral, Route::Chat), None);
        assert_eq!(
            unhonoured(&json!({"best_of": 3}), Route::Completions).map(|(f, _)| f),
            Some("best_of")
        );
        // Served now: penalties, bias, truncation and logprobs pass to the engine.
        let served = json!({
            "logprobs": true, "top_logprobs": 5, "presence_penalty": 0.5,
            "logit_bias": {"50256": -100}, "top_k": 40, "min_p": 0.1, "repeat_penalty": 1.1,
        });
        assert_eq!(unhonoured(&served, Route::Chat), None);
        assert_eq!(
            unhonoured(&json!({"logprobs": 2}), Route::Completions),
            None
        );
        assert_eq!(unhonoured(&json!({"best_of": 3}), Route::Chat), None);
    }
}
