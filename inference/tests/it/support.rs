//! Shared helpers: the installed models and stream collection.

use std::path::PathBuf;

use futures::StreamExt;
use plexus_inference::{
    ChatMessage, Engine, FinishReason, Generation, GenerationRequest, LlamaConfig, LlamaEngine,
    Output, Prompt, Role, Sampling, Usage, models,
};

/// The default chat model, or a panic telling how to install it.
pub(crate) fn chat_model() -> PathBuf {
    let path = models::default_chat_model();
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup.sh to install the default models",
        path.display()
    );
    path
}

/// The default embedding model directory, or a panic telling how to install it.
pub(crate) fn embedding_model() -> PathBuf {
    let dir = models::default_embedding_model();
    assert!(
        dir.join("model.safetensors").is_file(),
        "{} is missing: run scripts/setup.sh to install the default models",
        dir.display()
    );
    dir
}

/// The default chat model on one thread (the test machine has two shared cores).
pub(crate) fn engine(context_length: u32) -> LlamaEngine {
    LlamaEngine::load(
        chat_model(),
        LlamaConfig {
            threads: 1,
            context_length: Some(context_length),
            slots: 1,
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

/// A greedy request for at most `max_tokens`.
pub(crate) fn greedy(prompt: Prompt, max_tokens: u32) -> GenerationRequest {
    GenerationRequest {
        prompt,
        sampling: Sampling {
            max_tokens,
            ..Sampling::default()
        },
    }
}

/// What a finished generation produced.
#[derive(Debug)]
pub(crate) struct Collected {
    pub(crate) text: String,
    pub(crate) tokens: Vec<u32>,
    pub(crate) logprobs: Vec<plexus_inference::TokenLogprob>,
    pub(crate) reason: FinishReason,
    pub(crate) usage: Usage,
}

/// Read a generation to its end; panics on an error or a missing `Finished`.
pub(crate) async fn collect(mut generation: Generation) -> Collected {
    let mut text = String::new();
    let mut tokens = Vec::new();
    let mut logprobs = Vec::new();
    while let Some(item) = generation.next().await {
        match item.unwrap() {
            Output::Text {
                text: t,
                tokens: ts,
                logprobs: lp,
            } => {
                text.push_str(&t);
                tokens.extend(ts);
                logprobs.extend(lp);
            }
            Output::Finished { reason, usage } => {
                assert!(generation.next().await.is_none(), "items after Finished");
                return Collected {
                    text,
                    tokens,
                    logprobs,
                    reason,
                    usage,
                };
            }
        }
    }
    panic!("the generation ended without Finished");
}

/// Run a request to its end.
pub(crate) async fn run(engine: &LlamaEngine, request: GenerationRequest) -> Collected {
    collect(engine.generate(request)).await
}
