//! Answer the detection-curve bench's probes with this build of llama.cpp, so that the
//! bench (`plexus-validator`'s `benches/detection_curve.rs`) can judge an honest
//! provider on another CPU kernel level than the validator's: build this example with
//! `-C target-cpu=native` on an AVX-512 machine (llama.cpp then compiles its AVX-512
//! kernels) and the bench with the default flags (AVX2).
//!
//! It replays the bench's draws: the same private corpus (built from the installed
//! ShareGPT file with the bench's seed), the same probes, the same prompt-length
//! filter, and the declared model's answers of at most 64 tokens at each probe's
//! temperature and seed. Each line it writes carries the request's digest, which the
//! bench checks.
//!
//! ```text
//! RUSTFLAGS="-C target-cpu=native" CARGO_TARGET_DIR=/tmp/native \
//!   cargo run --release -p plexus-inference --example answer_probes -- answers.jsonl 40
//! PLEXUS_BENCH_ANSWERS=answers.jsonl cargo bench -p plexus-validator --bench detection_curve
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;

use futures::StreamExt;
use plexus_inference::{
    Engine, FinishReason, GenerationRequest, LlamaConfig, LlamaEngine, Output, Prompt, Sampling,
    models::default_chat_model,
};
use plexus_validator::corpus::{
    build_private, default_public_dataset, probes_that_fit, read_sharegpt, request_digest,
};

/// The bench's seed, corpus size, answer head and prompt limit.
const SEED: [u8; 32] = [7; 32];
const CORPUS: usize = 2_000;
const HEAD: u32 = 64;
const MAX_PROMPT_TOKENS: usize = 512;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("usage: answer_probes OUT.jsonl [N]");
    let n: usize = args
        .next()
        .map_or(24, |v| v.parse().expect("N is a number"));
    let conversations = read_sharegpt(&default_public_dataset()).expect("the ShareGPT file");
    let corpus = build_private(&conversations, &SEED, CORPUS);
    let engine = LlamaEngine::load(
        default_chat_model(),
        LlamaConfig {
            threads: 1,
            context_length: Some(1024),
            ..LlamaConfig::default()
        },
    )
    .unwrap();
    let kernel = engine.model().engine.kernel.clone();
    eprintln!("answering {n} probes on kernel level {kernel}");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out).unwrap());
    let requests = probes_that_fit(&corpus, &SEED, n, MAX_PROMPT_TOKENS, |text| {
        engine.tokenize(text).len()
    });
    for (index, request) in requests {
        let mut generation = engine.generate(GenerationRequest {
            prompt: Prompt::from(request.messages.as_slice()),
            sampling: Sampling {
                max_tokens: HEAD,
                temperature: request.params.temperature.unwrap_or(1.0) as f32,
                seed: index,
                ..Sampling::default()
            },
        });
        let (mut text, mut stopped) = (String::new(), false);
        while let Some(item) = generation.next().await {
            match item {
                Ok(Output::Text { text: t, .. }) => text.push_str(&t),
                Ok(Output::Finished { reason, .. }) => {
                    stopped = reason == FinishReason::Stop;
                    break;
                }
                Err(e) => panic!("generation failed: {e}"),
            }
        }
        let line = serde_json::json!({
            "index": index,
            "digest": request_digest(&request),
            "kernel": kernel,
            "text": text,
            "stopped": stopped,
        });
        writeln!(file, "{line}").unwrap();
        eprintln!("probe {index}: {} chars", text.len());
    }
}
