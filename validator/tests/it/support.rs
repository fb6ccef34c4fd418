//! Helpers: the installed chat model, cheaper stand-ins for it, and greedy answers.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use plexus_inference::{
    ChatMessage, Engine, FinishReason, GenerationRequest, LlamaConfig, LlamaEngine, Output, Prompt,
    Role, Sampling,
};

pub(crate) use plexus_testing::default_model;

/// A lazy provider's model: the default chat model cut to its first `layers` blocks.
pub(crate) fn lazy_model(layers: u32) -> PathBuf {
    plexus_testing::truncated_model(Path::new(env!("CARGO_TARGET_TMPDIR")), layers)
}

/// Load a GGUF on one thread (the test machine has two shared cores).
pub(crate) fn engine(path: &Path) -> LlamaEngine {
    LlamaEngine::load(
        path,
        LlamaConfig {
            threads: 1,
            context_length: Some(1024),
            ..LlamaConfig::default()
        },
    )
    .unwrap()
}

/// A one-message chat.
pub(crate) fn chat(question: &str) -> Prompt {
    Prompt::Chat(vec![ChatMessage {
        role: Role::User,
        content: question.to_string(),
    }])
}

/// A greedy answer as a validator receives it over the OpenAI API, plus the token
/// ids the engine used (which the validator does not get).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) text: String,
    pub(crate) tokens: Vec<u32>,
    pub(crate) reason: FinishReason,
}

/// Generate a greedy answer of at most `max_tokens`.
pub(crate) async fn answer(engine: &LlamaEngine, prompt: Prompt, max_tokens: u32) -> Answer {
    let mut generation = engine.generate(GenerationRequest {
        prompt,
        sampling: Sampling {
            max_tokens,
            ..Sampling::default()
        },
    });
    let (mut text, mut tokens) = (String::new(), Vec::new());
    while let Some(item) = generation.next().await {
        match item.unwrap() {
            Output::Text {
                text: t,
                tokens: ts,
                ..
            } => {
                text.push_str(&t);
                tokens.extend(ts);
            }
            Output::Finished { reason, .. } => {
                return Answer {
                    text,
                    tokens,
                    reason,
                };
            }
        }
    }
    panic!("the generation ended without Finished");
}
