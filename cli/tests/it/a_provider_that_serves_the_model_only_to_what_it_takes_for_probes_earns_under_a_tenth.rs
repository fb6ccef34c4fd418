//! A provider that tries to tell probes from users, on a real devnet. It declares the
//! default model's weights and serves through its own proxy (upstream mode), which
//! reads every request exactly as the provider receives it (messages, parameters,
//! arrival) and holds all the public text a cheater can get: the ShareGPT V3 data set
//! that default validator corpora are drawn from and every text file of this
//! repository. A request whose user turns share an 8-word run with that text is taken
//! for a probe and answered by the declared model (the devnet's own provider); every
//! other request gets a canned answer.
//!
//! An honest newcomer joins at the same moment through the same kind of proxy, which
//! forwards everything. The devnet's validator probes from an operator corpus
//! (`--validator-corpus`) that exists nowhere public: requests the default model wrote
//! for this run at temperature 1 from a seed drawn now. Over 10 epochs from the first
//! in which the newcomer is paid, the detector must earn at most a tenth of what the
//! newcomer earns. (Against the default corpus, drawn from ShareGPT itself, the same
//! rule takes nearly every probe for one: the README's red-team table; that residual
//! is open.)

use std::{
    collections::BTreeSet,
    hash::{BuildHasher, Hasher},
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use futures::StreamExt;
use plexus_inference::{Engine, GenerationRequest, LlamaConfig, LlamaEngine, Output, Prompt};
use plexus_validator::{
    corpus::{default_public_dataset, read_sharegpt},
    probe::Message,
};
use serde_json::{Value, json};

use crate::support::{Devnet, Recorded, Recorder, free_port, json, ok, port_of, wait_until};

const CANNED: &str = "Thanks for your message! Here is a short answer: it depends on your situation, so please share a few more details and I will help.";

/// Word 8-grams of `text`, lower-cased and hashed.
fn grams(text: &str) -> Vec<u64> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(8)
        .map(|w| {
            let mut h = std::hash::DefaultHasher::new();
            h.write(w.join(" ").as_bytes());
            h.finish()
        })
        .collect()
}

/// Every 8-gram of ShareGPT's user turns and of the repository's text files.
fn public_text() -> BTreeSet<u64> {
    let mut index = BTreeSet::new();
    let conversations =
        read_sharegpt(&default_public_dataset()).expect("the ShareGPT file (scripts/setup.sh)");
    for m in conversations.iter().flatten().filter(|m| m.role == "user") {
        index.extend(grams(&m.content));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.starts_with('.')
                    && !["target", "node_modules", "dist"].contains(&name.as_str())
                {
                    dirs.push(path);
                }
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                index.extend(grams(&text));
            }
        }
    }
    index
}

/// Whether any user turn of a chat request body shares an 8-gram with `public`.
fn looks_like_a_probe(public: &BTreeSet<u64>, body: &Value) -> bool {
    body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["role"] == "user")
        .filter_map(|m| m["content"].as_str())
        .any(|text| grams(text).iter().any(|g| public.contains(g)))
}

/// The chat request body of `r`; `None` for other requests.
fn chat_body(r: &Recorded) -> Option<Value> {
    if !r.path.ends_with("/chat/completions") {
        return None;
    }
    serde_json::from_slice(&r.body).ok()
}

/// A canned answer as an OpenAI chat completion stream.
fn canned_stream(model: &str) -> Vec<u8> {
    let chunk = |choices: Value, usage: Value| {
        let c = json!({
            "id": "chatcmpl-canned", "object": "chat.completion.chunk", "created": 0,
            "model": model, "choices": choices, "usage": usage,
        });
        format!("data: {c}\n\n")
    };
    let mut out = chunk(
        json!([{"index": 0, "delta": {"role": "assistant", "content": CANNED}, "finish_reason": null}]),
        Value::Null,
    );
    out += &chunk(
        json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        Value::Null,
    );
    out += &chunk(
        json!([]),
        json!({"prompt_tokens": 20, "completion_tokens": 30, "total_tokens": 50}),
    );
    out += "data: [DONE]\n\n";
    out.into_bytes()
}

/// Twelve requests nobody else has: the default model writes each at temperature 1
/// from a seed drawn now, asked for a message a user might send about a topic.
fn private_corpus() -> String {
    let topics = [
        "planning a trip",
        "a bug in their code",
        "writing a cover letter",
        "cooking dinner",
        "a maths problem",
        "learning a language",
        "a job interview",
        "a garden",
        "saving money",
        "a history essay",
        "training a dog",
        "a birthday party",
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let engine = LlamaEngine::load(
        plexus_testing::default_model(),
        LlamaConfig {
            threads: 1,
            context_length: Some(512),
            ..LlamaConfig::default()
        },
    )
    .unwrap();
    let mut seed = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    let mut lines = String::new();
    for (i, topic) in topics.iter().enumerate() {
        let ask = Message {
            role: "user".into(),
            content: format!(
                "Write a message that someone might send to an AI assistant asking for help with {topic}. \
                 Two or three sentences. Reply with the message only."
            ),
        };
        let text = (0..8)
            .map(|_| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                runtime.block_on(async {
                    let mut generation = engine.generate(GenerationRequest {
                        prompt: Prompt::from(std::slice::from_ref(&ask)),
                        sampling: plexus_inference::Sampling {
                            max_tokens: 80,
                            temperature: 1.0,
                            seed,
                            ..plexus_inference::Sampling::default()
                        },
                    });
                    let mut text = String::new();
                    while let Some(Ok(item)) = generation.next().await {
                        if let Output::Text { text: t, .. } = item {
                            text.push_str(&t);
                        }
                    }
                    text.trim().to_owned()
                })
            })
            .find(|t| t.split_whitespace().count() >= 10)
            .expect("the model writes a request of ten words or more");
        let user = json!({"role": "user", "content": text});
        let messages = if i % 3 == 1 {
            vec![
                json!({"role": "system", "content": "You are a helpful assistant."}),
                user,
            ]
        } else {
            vec![user]
        };
        let mut line = json!({"messages": messages, "max_tokens": 40 + 8 * (i % 4)});
        if i % 2 == 0 {
            line["temperature"] = 0.into();
        }
        if i % 4 == 1 {
            line["stream"] = true.into();
        }
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    lines
}

/// Stake of the neurons whose endpoints are on `ports`, and the subnet's epoch.
fn stakes(devnet: &Devnet, ports: &[u16]) -> (u64, Vec<u64>) {
    let show = json(&ok(devnet.cli().args(["--json", "subnet", "show", "1"])));
    let epoch = show["subnet"]["epoch_index"].as_u64().unwrap_or_default();
    let neurons = show["metagraph"]["neurons"].as_array().unwrap().clone();
    let stake = |port: u16| {
        neurons
            .iter()
            .find(|n| {
                n["endpoint"]["url"]
                    .as_str()
                    .is_some_and(|u| port_of(u) == port)
            })
            .and_then(|n| n["stake"].as_u64())
            .unwrap_or_default()
    };
    (epoch, ports.iter().map(|&p| stake(p)).collect())
}

#[test]
fn a_provider_that_serves_the_model_only_to_what_it_takes_for_probes_earns_under_a_tenth() {
    let started = Instant::now();
    let public = public_text();
    // The rule works on what it was built for: a probe drawn from ShareGPT.
    let sharegpt = read_sharegpt(&default_public_dataset()).unwrap();
    let drawn = sharegpt
        .iter()
        .flatten()
        .find(|m| m.role == "user" && m.content.split_whitespace().count() > 20)
        .unwrap();
    assert!(looks_like_a_probe(
        &public,
        &json!({"messages": [{"role": "user", "content": drawn.content}]})
    ));
    drop(sharegpt);
    let corpus_text = private_corpus();
    eprintln!(
        "public text and private corpus ready in {:.0} s:\n{corpus_text}",
        started.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus.jsonl");
    std::fs::write(&corpus, &corpus_text).unwrap();
    let devnet = Devnet::start_with(
        dir.path(),
        &["--validator-corpus", corpus.to_str().unwrap()],
    );
    let api_port = devnet.port("provider_api");
    let declared = devnet.declared_weights("1");

    // The detector's proxy: the declared model (the devnet's provider) for what it takes
    // for probes, a canned answer for the rest. The newcomer's forwards everything.
    let (taken, canned) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let rule = {
        let (taken, canned) = (taken.clone(), canned.clone());
        Arc::new(move |r: &mut Recorded| {
            let body = chat_body(r)?;
            if looks_like_a_probe(&public, &body) {
                taken.fetch_add(1, Ordering::Relaxed);
                None
            } else {
                canned.fetch_add(1, Ordering::Relaxed);
                let model = body["model"].as_str().unwrap_or_default().to_owned();
                Some(("text/event-stream".to_owned(), canned_stream(&model)))
            }
        })
    };
    let detector_proxy = Recorder::intercepting(api_port, rule);
    let honest_proxy = Recorder::start(api_port);
    let mut providers = Vec::new();
    let mut ports = Vec::new();
    for (hotkey, proxy) in [("newcomer", &honest_proxy), ("detector", &detector_proxy)] {
        ok(devnet
            .cli()
            .args(["wallet", "create", "--name", "devnet", "--hotkey", hotkey]));
        let port = free_port();
        providers.push(devnet.provider(
            hotkey,
            port,
            &[
                "--name",
                "devnet",
                "--hotkey",
                hotkey,
                "--netuid",
                "1",
                "--upstream",
                &proxy.url(),
                "--upstream-model",
                plexus_inference::models::DEFAULT_CHAT_MODEL,
                "--weights-hash",
                &declared,
            ],
        ));
        ports.push(port);
    }
    let logs = || {
        format!(
            "validator log:\n{}\nsubnet:\n{}",
            std::fs::read_to_string(dir.path().join("logs").join("validator.log"))
                .unwrap_or_default(),
            ok(devnet.cli().args(["subnet", "show", "1"]))
        )
    };
    // The window opens once the validator has scored the newcomer (a round of probes
    // can span several epochs on a debug devnet) and runs 10 epochs.
    let mut last = stakes(&devnet, &ports);
    wait_until(
        "the honest newcomer to earn",
        Duration::from_secs(1200),
        || {
            last = stakes(&devnet, &ports);
            last.1[0] > 0
        },
        &logs,
    );
    let (first, before) = last.clone();
    wait_until(
        "10 more epochs",
        Duration::from_secs(1200),
        || {
            last = stakes(&devnet, &ports);
            last.0 >= first + 10
        },
        &logs,
    );
    let (epoch, after) = last;
    let honest = after[0] - before[0];
    let detector = after[1] - before[1];
    eprintln!(
        "epochs {first}..{epoch} after {:.0} s: the honest newcomer earned {honest}, the \
         detector {detector}; the detector took {} requests for probes and canned {}\n{}",
        started.elapsed().as_secs_f64(),
        taken.load(Ordering::Relaxed),
        canned.load(Ordering::Relaxed),
        ok(devnet.cli().args(["subnet", "show", "1"]))
    );
    assert!(honest > 0, "the honest newcomer earned\n{}", logs());
    assert!(
        canned.load(Ordering::Relaxed) > 0,
        "the validator probed the detector"
    );
    assert!(
        detector * 10 <= honest,
        "the probe detector earned {detector} against the honest newcomer's {honest}\n{}",
        logs()
    );
}
