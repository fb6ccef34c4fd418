//! Detection curves: how often the validator's re-execution check catches each way of
//! cheating, and how often it wrongly zeroes an honest provider.
//!
//! Requests are drawn by the validator's own code ([`corpus::probes`]) from a
//! private corpus built from the installed ShareGPT V3 file, with their client
//! parameters (greedy or sampled, at the drawn temperature). Each provider answers
//! every request with at most 64 tokens (the check judges only the first
//! `judged_positions` = 64), and the validator's engine judges the answer exactly as
//! the service does: teacher forcing over the answer's text tokens, the greedy policy
//! for greedy requests and [`sampled_policy`] otherwise, and for an answer the provider
//! says ended by itself, whether the model would end it there ([`judge_ended`]).
//!
//! Providers:
//! - honest, one thread (the validator's own configuration), and honest on two threads
//!   (another reduction order in llama.cpp's kernels: the false-positive check; the
//!   AVX2 and AVX-512 builds of the issue need two machines and are not measured here);
//! - the declared model cut to 24 and to 15 of its 30 layers;
//! - the declared model with a system prompt the user did not send (a provider that
//!   cuts answers short by prompting);
//! - truncated answers: the honest answer cut to its first half;
//! - a canned reply;
//! - the probe detector: the declared model for requests whose last user turn shares an
//!   8-word run with the public data set, the canned reply for the rest.
//!
//! For each, the per-answer detection rate `p` and, with the service's Poisson rate of
//! `λ` probes per epoch (the default policy's) and a share `f` of answers re-executed,
//! the chance to be caught within 3 epochs, `1 − exp(−λ · 3 · f · p)`. For honest
//! providers, the evidence behind the false-positive bound: how far their greedy
//! tokens sit below the validator's argmax, and how their sampled answers' rank
//! scores ([`rank_z`]) spread against the limit.
//!
//! Run: `cargo bench -p plexus-validator --bench detection_curve`
//! (`PLEXUS_BENCH_PROBES`, default 24; `PLEXUS_BENCH_DUMP=FILE` writes every judged
//! answer's per-position scores as JSON lines; needs `scripts/setup.sh`'s model and
//! data set).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use futures::StreamExt;
use plexus_inference::{
    Engine, FinishReason, GenerationRequest, LlamaConfig, LlamaEngine, Output, Prompt, Sampling,
};
use plexus_validator::{
    corpus::{
        build_private, default_public_dataset, probes_that_fit, read_sharegpt, request_digest,
    },
    probe::Message,
    score::Policy,
    service::Ending,
    verify::{SAMPLED_MAX_RANK_Z, judge, judge_ended, rank_z, sampled_policy},
};

/// The answer head the check judges; longer answers change no verdict.
const HEAD: u32 = 64;
/// Prompts longer than this (in tokens) are skipped: the bench's context is 1,024.
const MAX_PROMPT_TOKENS: usize = 512;
const CANNED: &str = "Thank you for your message! That is a great question. Here is a short answer: it depends on your situation, so please share more details and I will help.";
const SYSTEM: &str = "Answer in one short sentence.";

fn load(path: &Path, threads: u32) -> LlamaEngine {
    LlamaEngine::load(
        path,
        LlamaConfig {
            threads,
            context_length: Some(1024),
            ..LlamaConfig::default()
        },
    )
    .unwrap()
}

async fn generate(
    engine: &LlamaEngine,
    messages: &[Message],
    temperature: f64,
    seed: u64,
) -> (String, bool) {
    let mut generation = engine.generate(GenerationRequest {
        prompt: Prompt::from(messages),
        sampling: Sampling {
            max_tokens: HEAD,
            temperature: temperature as f32,
            seed,
            ..Sampling::default()
        },
    });
    let mut text = String::new();
    while let Some(item) = generation.next().await {
        match item {
            Ok(Output::Text { text: t, .. }) => text.push_str(&t),
            Ok(Output::Finished { reason, .. }) => return (text, reason == FinishReason::Stop),
            Err(_) => break,
        }
    }
    (text, false)
}

/// Word 8-grams of `text`, lower-cased.
fn grams(text: &str) -> Vec<String> {
    let words: Vec<String> = text.split_whitespace().map(|w| w.to_lowercase()).collect();
    words.windows(8).map(|w| w.join(" ")).collect()
}

/// An answer from another build: the request's digest, the text, whether it stopped.
type ExternalAnswer = (String, String, bool);

/// What an honest provider's answers scored: the evidence for the false-positive bound.
#[derive(Default)]
struct HonestStats {
    greedy_positions: usize,
    greedy_beyond: usize,
    greedy_largest_within: f32,
    rank_z: Vec<f64>,
}

struct Row {
    name: String,
    judged: usize,
    caught: usize,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("PLEXUS_BENCH_PROBES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let public = std::env::var_os("PLEXUS_SHAREGPT")
        .map(PathBuf::from)
        .unwrap_or_else(default_public_dataset);
    let conversations = read_sharegpt(&public).expect("the ShareGPT file (scripts/setup.sh)");
    // The public data set's 8-grams, as the probe detector holds them.
    let mut public_grams = BTreeSet::new();
    for c in &conversations {
        for m in c.iter().filter(|m| m.role == "user") {
            public_grams.extend(grams(&m.content));
        }
    }
    let seed = [7u8; 32];
    let corpus = build_private(&conversations, &seed, 2_000);

    let dir = tempfile::tempdir().unwrap();
    let declared = plexus_testing::default_model();
    let validator = load(&declared, 1);
    let honest2 = load(&declared, 2);
    let cut24 = load(&plexus_testing::truncated_model(dir.path(), 24), 1);
    let cut15 = load(&plexus_testing::truncated_model(dir.path(), 15), 1);

    let base = Policy::default().verify;
    // PLEXUS_BENCH_ANSWERS=FILE: an honest provider's answers from another build of
    // llama.cpp (`plexus-inference`'s `answer_probes` example), by probe index.
    let external: Option<(String, BTreeMap<u64, ExternalAnswer>)> =
        std::env::var_os("PLEXUS_BENCH_ANSWERS").map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let mut kernel = String::new();
            let answers = text
                .lines()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    kernel = v["kernel"].as_str().unwrap().to_owned();
                    (
                        v["index"].as_u64().unwrap(),
                        (
                            v["digest"].as_str().unwrap().to_owned(),
                            v["text"].as_str().unwrap().to_owned(),
                            v["stopped"].as_bool().unwrap(),
                        ),
                    )
                })
                .collect();
            (format!("honest, {kernel} build"), answers)
        });
    let mut names = vec![
        "honest, 1 thread".to_owned(),
        "honest, 2 threads".to_owned(),
    ];
    names.extend(external.as_ref().map(|(name, _)| name.clone()));
    let honest_rows = names.len();
    names.extend(
        [
            "24 of 30 layers",
            "15 of 30 layers",
            "added system prompt",
            "truncated answers",
            "canned reply",
            "probe detector",
        ]
        .map(str::to_owned),
    );
    let mut rows: Vec<Row> = names
        .into_iter()
        .map(|name| Row {
            name,
            judged: 0,
            caught: 0,
        })
        .collect();
    let mut honest_stats: Vec<HonestStats> =
        (0..honest_rows).map(|_| HonestStats::default()).collect();
    let (mut used, mut detector_honest) = (0usize, 0usize);
    // PLEXUS_BENCH_DUMP=FILE: every judged answer's per-position scores, one JSON line
    // each, for calibrating the policy offline.
    let mut dump = std::env::var_os("PLEXUS_BENCH_DUMP")
        .map(|p| std::io::BufWriter::new(std::fs::File::create(p).unwrap()));
    let started = std::time::Instant::now();
    let drawn = probes_that_fit(&corpus, &seed, n, MAX_PROMPT_TOKENS, |text| {
        validator.tokenize(text).len()
    });
    for (index, request) in drawn {
        used += 1;
        let temperature = request.params.temperature.unwrap_or(1.0);
        let policy = if request.params.greedy() {
            base
        } else {
            sampled_policy(&base, request.params.temperature)
        };
        let messages = &request.messages;
        let mut with_system = vec![Message {
            role: "system".into(),
            content: SYSTEM.into(),
        }];
        with_system.extend(messages.iter().filter(|m| m.role != "system").cloned());
        let honest = generate(&validator, messages, temperature, index).await;
        let half: (String, bool) = {
            let tokens = validator.tokenize(&honest.0);
            let keep = tokens.len() / 2;
            // Re-detokenising is not exposed: cut the text at the same share of chars.
            let chars: Vec<char> = honest.0.chars().collect();
            let cut = chars[..chars.len() * keep / tokens.len().max(1)]
                .iter()
                .collect();
            // Passed off as a finished answer.
            (cut, true)
        };
        let last_user = messages
            .iter()
            .rev()
            .find(|m| m.role == "user")
            .map_or("", |m| m.content.as_str());
        let looks_like_probe = grams(last_user).iter().any(|g| public_grams.contains(g));
        detector_honest += usize::from(looks_like_probe);
        let mut answers = vec![
            honest.clone(),
            generate(&honest2, messages, temperature, index).await,
        ];
        if let Some((_, external)) = &external {
            let (digest, text, stopped) = external
                .get(&index)
                .unwrap_or_else(|| panic!("no external answer for probe {index}"));
            assert_eq!(
                digest,
                &request_digest(&request),
                "the external answers replay other draws"
            );
            answers.push((text.clone(), *stopped));
        }
        answers.extend([
            generate(&cut24, messages, temperature, index).await,
            generate(&cut15, messages, temperature, index).await,
            generate(&validator, &with_system, temperature, index).await,
            half,
            (CANNED.to_owned(), true),
            if looks_like_probe {
                honest
            } else {
                (CANNED.to_owned(), true)
            },
        ]);
        let ends = validator.end_tokens();
        for (i, (row, (answer, stopped))) in rows.iter_mut().zip(answers).enumerate() {
            // As the service judges: with the end token when the provider says the
            // answer ended by itself.
            let finish = if stopped { "stop" } else { "length" };
            let ended = Ending::of(&request.params, Some(finish)) == Ending::Itself;
            let mut tokens = validator.tokenize(&answer);
            if ended {
                tokens.push(ends[0]);
            }
            let scores = validator
                .score_tokens(
                    Prompt::from(messages.as_slice()),
                    tokens,
                    request.params.scoring_temperature(),
                )
                .await
                .unwrap();
            if let Some(dump) = dump.as_mut() {
                use std::io::Write;
                let line = serde_json::json!({
                    "provider": row.name,
                    "request": used,
                    "greedy": request.params.greedy(),
                    "temperature": request.params.temperature,
                    "ended": ended,
                    "margins": scores.iter().map(|s| s.logprob_margin).collect::<Vec<_>>(),
                    "argmax": scores.iter().map(|s| s.is_argmax).collect::<Vec<_>>(),
                    "ranks": scores.iter().map(|s| s.rank).collect::<Vec<_>>(),
                    "rank_variances": scores.iter().map(|s| s.rank_variance).collect::<Vec<_>>(),
                });
                writeln!(dump, "{line}").unwrap();
            }
            let verdict = if ended {
                judge_ended(&scores, &ends, &policy)
            } else {
                judge(&scores, &policy)
            };
            row.judged += 1;
            row.caught += usize::from(!verdict.accepted);
            if let Some(stats) = honest_stats.get_mut(i) {
                let head = &scores[..scores.len().min(base.judged_positions + usize::from(ended))];
                let head = if ended { &head[..head.len() - 1] } else { head };
                if request.params.greedy() {
                    stats.greedy_positions += head.len();
                    for s in head {
                        if s.logprob_margin > base.max_logprob_margin {
                            stats.greedy_beyond += 1;
                        } else {
                            stats.greedy_largest_within =
                                stats.greedy_largest_within.max(s.logprob_margin);
                        }
                    }
                } else {
                    stats.rank_z.push(rank_z(head));
                }
            }
            if !verdict.accepted && row.name.starts_with("honest") {
                let head = &scores[..verdict.judged.min(scores.len())];
                let mean = head
                    .iter()
                    .map(|s| f64::from(s.logprob_margin))
                    .sum::<f64>()
                    / head.len().max(1) as f64;
                eprintln!(
                    "  {} rejected: T {temperature} {} {}/{} ends there {:?}, mean margin {mean:.2}, first failure {:?}: {:?}",
                    row.name,
                    finish,
                    verdict.passed,
                    verdict.judged,
                    verdict.ends_there,
                    verdict.first_failure,
                    answer.chars().take(60).collect::<String>()
                );
            }
        }
        eprintln!(
            "request {used}/{n} ({:.0} s): caught {:?}",
            started.elapsed().as_secs_f64(),
            rows.iter().map(|r| r.caught).collect::<Vec<_>>()
        );
    }

    let default_f = f64::from(Policy::default().sample_per_mille) / 1000.0;
    let lambda = f64::from(Policy::default().probes_per_provider);
    println!(
        "{used} requests from the private corpus (greedy and sampled as drawn), {:.0} s; \
         the probe detector took {detector_honest} for probes",
        started.elapsed().as_secs_f64()
    );
    println!(
        "{:<22} {:>8} {:>9} | caught within 3 epochs at {lambda} probes an epoch and \
         re-executed share f (default {default_f})",
        "provider", "answers", "detected"
    );
    println!(
        "{:<22} {:>8} {:>9} | {:>6} {:>6} {:>6} {:>6}",
        "", "", "per ans.", "0.10", "0.25", "0.50", "1.00"
    );
    for row in &rows {
        let p = row.caught as f64 / row.judged.max(1) as f64;
        let within = |f: f64| 1.0 - (-lambda * 3.0 * f * p).exp();
        println!(
            "{:<22} {:>8} {:>9.3} | {:>6.3} {:>6.3} {:>6.3} {:>6.3}",
            row.name,
            row.judged,
            p,
            within(0.10),
            within(0.25),
            within(0.50),
            within(1.00)
        );
    }
    for (row, stats) in rows.iter().zip(&honest_stats) {
        let z = &stats.rank_z;
        let n = z.len().max(1) as f64;
        let mean = z.iter().sum::<f64>() / n;
        let sd = (z.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        println!(
            "{}: {} of {} answers rejected; greedy heads: {} positions, {} beyond the {} margin \
             (one per answer is tolerated), the largest within it {:.3}; sampled: rank z over {} \
             answers mean {mean:.2}, sd {sd:.2}, largest {max:.2} (limit {}: {:.1} sd)",
            row.name,
            row.caught,
            row.judged,
            stats.greedy_positions,
            stats.greedy_beyond,
            base.max_logprob_margin,
            stats.greedy_largest_within,
            z.len(),
            SAMPLED_MAX_RANK_Z,
            (f64::from(SAMPLED_MAX_RANK_Z) - mean) / sd.max(1e-9),
        );
    }
}
