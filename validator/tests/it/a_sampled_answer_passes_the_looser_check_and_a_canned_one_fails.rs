//! Probes at a temperature above 0 (as clients send) cannot be checked token for token:
//! the validator accepts positions within a wide margin of the argmax, bounds the mean
//! margin by the temperature up to 0.8, and at every temperature bounds how much lower
//! the answer's tokens rank in the model's distribution at that temperature than the
//! model's own samples would ([`sampled_policy`], [`rank_z`]). Calibration: the declared model's own sampled
//! answers pass at temperatures 0.7 and 1.0; a canned reply and the model cut to 15
//! layers fail at both.

use futures::StreamExt;
use plexus_inference::{
    Engine, FinishReason, GenerationRequest, LlamaEngine, Output, Prompt, Sampling,
};
use plexus_validator::verify::{VerifyPolicy, judge, rank_z, sampled_policy};

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
    temperature: f32,
    policy: &VerifyPolicy,
) -> bool {
    let mut tokens = validator.tokenize(text);
    if stopped {
        tokens.extend(validator.tokenize("<|im_end|>"));
    }
    let scores = validator
        .score_tokens(prompt.clone(), tokens, temperature)
        .await
        .unwrap();
    let v = judge(&scores, policy);
    let head = &scores[..v.judged];
    let mean = head.iter().map(|s| s.logprob_margin).sum::<f32>() / head.len().max(1) as f32;
    let argmax = head.iter().filter(|s| s.is_argmax).count();
    eprintln!(
        "  {}/{} within the margin, {argmax} argmax, mean margin {mean:.2}, rank z {:.2}, {}: {}",
        v.passed,
        v.judged,
        rank_z(head),
        if v.accepted { "ACCEPT" } else { "reject" },
        text.chars().take(50).collect::<String>().replace('\n', " ")
    );
    v.accepted
}

#[tokio::test]
async fn a_sampled_answer_passes_the_looser_check_and_a_canned_one_fails() {
    let base = VerifyPolicy::default();
    let honest = engine(&default_model());
    let lazy = engine(&lazy_model(15));
    let mut honest_rejected = Vec::new();
    let mut cheats_accepted = Vec::new();
    let canned = "Thank you for your message. Our team will get back to you shortly.";
    for (i, q) in QUESTIONS.iter().enumerate() {
        let prompt = chat(q);
        for (temperature, seed) in [(0.7f32, 1), (1.0, 2)] {
            let policy = sampled_policy(&base, Some(f64::from(temperature)));
            let (text, stopped) = sampled(&honest, prompt.clone(), temperature, seed).await;
            eprintln!("honest T={temperature}");
            if !accepted(&honest, &prompt, &text, stopped, temperature, &policy).await {
                honest_rejected.push((i, temperature));
            }
            let (text, stopped) = sampled(&lazy, prompt.clone(), temperature, seed).await;
            eprintln!("15 layers T={temperature}");
            if accepted(&honest, &prompt, &text, stopped, temperature, &policy).await {
                cheats_accepted.push(("15 layers", i, temperature));
            }
            eprintln!("canned T={temperature}");
            if accepted(&honest, &prompt, canned, true, temperature, &policy).await {
                cheats_accepted.push(("canned", i, temperature));
            }
        }
    }
    assert!(
        honest_rejected.is_empty(),
        "honest sampled answers rejected: {honest_rejected:?}"
    );
    // 8 cheating answers at 0.7: none may pass. At 1.0 this small model's distribution
    // is so wide that cheap answers rank within its samples' spread (rank z 0.3–3.6
    // here against an honest −1.5 to 2.4), so they may.
    assert!(
        cheats_accepted.iter().all(|c| c.2 > 0.7),
        "cheating answers accepted: {cheats_accepted:?}"
    );
    eprintln!("cheating answers accepted at T = 1: {cheats_accepted:?}");
}
