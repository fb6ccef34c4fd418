//! Probes at a temperature above 0 (as clients send) cannot be checked token for token:
//! the validator accepts a position whose token is within
//! [`SAMPLED_LOGPROB_MARGIN`] of the argmax. Calibration: the declared model's own
//! sampled answers pass at temperatures 0.7 and 1.0, a canned answer fails, and the
//! pass rate of the model cut to 15 layers is printed (what the looser check still
//! catches of a smaller model).

use futures::StreamExt;
use plexus_inference::{
    Engine, FinishReason, GenerationRequest, LlamaEngine, Output, Prompt, Sampling,
};
use plexus_validator::{
    service::{SAMPLED_LOGPROB_MARGIN, SAMPLED_MIN_PASS_PER_MILLE},
    verify::{VerifyPolicy, judge},
};

use crate::support::{chat, default_model, engine, lazy_model};

const QUESTIONS: [&str; 4] = [
    "Write a short email to my landlord asking to fix the heating.",
    "What are three good habits for learning a new language?",
    "Explain what a hash map is to a beginner programmer.",
    "Give me a recipe idea for dinner with rice and beans.",
];

async fn sampled(
    engine: &LlamaEngine,
    prompt: Prompt,
    temperature: f32,
    seed: u64,
) -> (String, bool) {
    let mut generation = engine.generate(GenerationRequest {
        prompt,
        sampling: Sampling {
            max_tokens: 48,
            temperature,
            seed,
            ..Sampling::default()
        },
    });
    let mut text = String::new();
    while let Some(item) = generation.next().await {
        match item.unwrap() {
            Output::Text { text: t, .. } => text.push_str(&t),
            Output::Finished { reason, .. } => return (text, reason == FinishReason::Stop),
        }
    }
    panic!("the generation ended without Finished");
}

async fn accepted(
    validator: &LlamaEngine,
    prompt: &Prompt,
    text: &str,
    stopped: bool,
    policy: &VerifyPolicy,
) -> bool {
    let mut tokens = validator.tokenize(text);
    if stopped {
        tokens.extend(validator.tokenize("<|im_end|>"));
    }
    let scores = validator
        .score_tokens(prompt.clone(), tokens)
        .await
        .unwrap();
    let v = judge(&scores, policy);
    eprintln!(
        "  {}/{} passed: {}",
        v.passed,
        v.judged,
        text.chars().take(50).collect::<String>()
    );
    v.accepted
}

#[tokio::test]
async fn a_sampled_answer_passes_the_looser_check_and_a_canned_one_fails() {
    let policy = VerifyPolicy {
        max_logprob_margin: SAMPLED_LOGPROB_MARGIN,
        min_pass_per_mille: SAMPLED_MIN_PASS_PER_MILLE,
        ..VerifyPolicy::default()
    };
    let honest = engine(&default_model());
    let lazy = engine(&lazy_model(15));
    let mut honest_rejected = Vec::new();
    let mut lazy_passed = 0;
    let mut runs = 0;
    for (i, q) in QUESTIONS.iter().enumerate() {
        let prompt = chat(q);
        for (temperature, seed) in [(0.7, 1), (1.0, 2)] {
            runs += 1;
            let (text, stopped) = sampled(&honest, prompt.clone(), temperature, seed).await;
            if !accepted(&honest, &prompt, &text, stopped, &policy).await {
                honest_rejected.push((i, temperature));
            }
            let (text, stopped) = sampled(&lazy, prompt.clone(), temperature, seed).await;
            lazy_passed += usize::from(accepted(&honest, &prompt, &text, stopped, &policy).await);
        }
        let canned = "Thank you for your message. Our team will get back to you shortly.";
        assert!(
            !accepted(&honest, &prompt, canned, true, &policy).await,
            "a canned answer passed for {q:?}"
        );
    }
    eprintln!("15-layer model's sampled answers accepted: {lazy_passed} of {runs}");
    assert!(
        honest_rejected.is_empty(),
        "honest sampled answers rejected: {honest_rejected:?}"
    );
}
