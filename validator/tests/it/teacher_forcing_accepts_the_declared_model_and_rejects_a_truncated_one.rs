//! Calibration of [`VerifyPolicy::default`]: a lazy provider declares the default
//! model's weights but serves the same model cut to 15 or 24 of its 30 layers (same
//! tokenizer, so its answers are plausible text in the same vocabulary). The validator
//! sees only the answer text and finish reason, as over the OpenAI API: it tokenizes
//! the text with the declared model, appends the end-of-turn token when the answer
//! stopped on its own, and teacher-forces that through the declared model.

use std::time::Instant;

use plexus_inference::{Engine, FinishReason, LlamaEngine, Prompt};
use plexus_validator::{
    probe::challenge_set,
    verify::{TokenScore, Verdict, VerifyPolicy, judge},
};

use crate::support::{Answer, answer, chat, default_model, engine, lazy_model};

/// Tokens per answer: enough for the 64 judged positions' worth of signal at probe
/// cost (most answers here run the full length).
const MAX_TOKENS: u32 = 48;
/// Depths of the lazy models, of the default model's 30 layers.
const DEPTHS: [u32; 2] = [15, 24];
/// Margins whose pass rates are printed, to document the threshold choice.
const MARGINS: [f32; 5] = [0.5, 1.0, 2.0, 3.0, 5.0];

#[tokio::test]
async fn teacher_forcing_accepts_the_declared_model_and_rejects_a_truncated_one() {
    let started = Instant::now();
    let policy = VerifyPolicy::default();
    let honest = timed_load("honest 30 layers", &default_model());
    let lazy: Vec<(u32, LlamaEngine)> = DEPTHS
        .iter()
        .map(|&layers| {
            let path = lazy_model(layers);
            (layers, timed_load(&format!("lazy {layers} layers"), &path))
        })
        .collect();
    for (_, engine) in &lazy {
        assert_ne!(engine.model().weights_hash, honest.model().weights_hash);
    }
    let end_of_turn = match honest.tokenize("<|im_end|>")[..] {
        [id] => id,
        ref other => panic!("<|im_end|> is not one token: {other:?}"),
    };

    let prompts = challenge_set(&[7; 32], 1, 8);
    let mut generation = vec![Speed::default(); 1 + DEPTHS.len()];
    let mut honest_rejected = Vec::new();
    let mut lazy_accepted = vec![Vec::new(); DEPTHS.len()];
    let mut round_trip_misses = 0;
    for (i, question) in prompts.iter().enumerate() {
        let prompt = chat(question);
        eprintln!("prompt {i}: {question}");
        let servers = std::iter::once((30, &honest)).chain(lazy.iter().map(|(l, e)| (*l, e)));
        for (k, (layers, server)) in servers.enumerate() {
            let t = Instant::now();
            let reply = answer(server, prompt.clone(), MAX_TOKENS).await;
            generation[k].add(reply.tokens.len(), t.elapsed().as_secs_f64());
            assert!(
                !reply.tokens.is_empty(),
                "{layers} layers gave no answer: {reply:?}"
            );
            let (scores, round_trip) = validate(&honest, &prompt, &reply, end_of_turn).await;
            let verdict = judge(&scores, &policy);
            report(layers, &reply, &scores, &verdict, round_trip);
            if layers == 30 {
                round_trip_misses += usize::from(!round_trip);
                if !verdict.accepted {
                    honest_rejected.push(i);
                }
            } else if verdict.accepted {
                lazy_accepted[k - 1].push(i);
            }
        }
    }
    let names = std::iter::once(30).chain(DEPTHS);
    for (layers, speed) in names.zip(&generation) {
        eprintln!(
            "{layers} layers: {} tokens in {:.2} s, {:.0} tok/s",
            speed.tokens,
            speed.seconds,
            speed.tokens as f64 / speed.seconds
        );
    }
    eprintln!(
        "{} of {} honest answers retokenize to their own token ids; runtime {:.1} s",
        prompts.len() - round_trip_misses,
        prompts.len(),
        started.elapsed().as_secs_f64()
    );

    assert!(
        honest_rejected.is_empty(),
        "honest answers rejected: prompts {honest_rejected:?}"
    );
    for (layers, accepted) in DEPTHS.iter().zip(&lazy_accepted) {
        assert!(
            accepted.len() <= 1,
            "{} of {} answers of the {layers}-layer model accepted: prompts {accepted:?}",
            accepted.len(),
            prompts.len()
        );
    }
}

/// What the validator does with an answer it got as text: tokenize it with the
/// declared model, append the end-of-turn token if the answer ended by itself, and
/// teacher-force it. Also says whether the text retokenized to the server's ids.
async fn validate(
    validator: &LlamaEngine,
    prompt: &Prompt,
    reply: &Answer,
    end_of_turn: u32,
) -> (Vec<TokenScore>, bool) {
    let mut tokens = validator.tokenize(&reply.text);
    let round_trip = tokens == reply.tokens;
    if reply.reason == FinishReason::Stop {
        tokens.push(end_of_turn);
    }
    let scores = validator
        .score_tokens(prompt.clone(), tokens, 1.0)
        .await
        .unwrap();
    (scores, round_trip)
}

/// One line per answer: the verdict, margin statistics and the pass rate at other
/// margins.
fn report(layers: u32, reply: &Answer, scores: &[TokenScore], v: &Verdict, round_trip: bool) {
    let head = &scores[..v.judged];
    let argmax = head.iter().filter(|s| s.is_argmax).count();
    let mut margins: Vec<f32> = head.iter().map(|s| s.logprob_margin).collect();
    margins.sort_by(f32::total_cmp);
    let median = margins[margins.len() / 2];
    let max = margins[margins.len() - 1];
    let mean = margins.iter().sum::<f32>() / margins.len() as f32;
    let at: Vec<String> = MARGINS
        .iter()
        .map(|&m| {
            let n = head
                .iter()
                .filter(|s| s.is_argmax || s.logprob_margin <= m)
                .count();
            format!("{m}:{}", n * 1000 / head.len())
        })
        .collect();
    eprintln!(
        "  {layers:>2} layers: {} passed {}/{} argmax {argmax} first failure {:?} \
         margin mean {mean:.2} median {median:.2} max {max:.2} pass per mille at {} \
         ({:?}{}) {:?}",
        if v.accepted { "ACCEPT" } else { "reject" },
        v.passed,
        v.judged,
        v.first_failure,
        at.join(" "),
        reply.reason,
        if round_trip {
            ""
        } else {
            ", text retokenizes differently"
        },
        reply.text.chars().take(60).collect::<String>(),
    );
}

/// Tokens generated and seconds spent.
#[derive(Debug, Clone, Copy, Default)]
struct Speed {
    tokens: usize,
    seconds: f64,
}

impl Speed {
    fn add(&mut self, tokens: usize, seconds: f64) {
        self.tokens += tokens;
        self.seconds += seconds;
    }
}

fn timed_load(name: &str, path: &std::path::Path) -> LlamaEngine {
    let t = Instant::now();
    let engine = engine(path);
    let size = std::fs::metadata(path).unwrap().len();
    eprintln!(
        "{name}: {} loaded in {:.2} s ({:.1} MB)",
        path.display(),
        t.elapsed().as_secs_f64(),
        size as f64 / 1e6
    );
    engine
}
