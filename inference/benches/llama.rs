//! Prompt and generation tokens/s of our llama.cpp engine next to llama-cpp-python
//! (the peer) on the same model, prompt and thread count, in one run.
//!
//! `cargo bench -p plexus-inference --bench llama`. Settings from the environment:
//! `PLEXUS_BENCH_THREADS` (default 1), `PLEXUS_BENCH_RUNS` (default 3),
//! `PLEXUS_PEER_PYTHON` (a Python with `llama_cpp`; default
//! `$PLEXUS_HOME/bench-venv/bin/python`). To install the peer:
//! `python3 -m venv ~/.plexus/bench-venv && ~/.plexus/bench-venv/bin/pip install
//! llama-cpp-python==0.3.36`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::Write,
    path::PathBuf,
    process::{Command, Stdio},
    time::Instant,
};

use futures::StreamExt;
use plexus_inference::{
    ChatMessage, Engine, GenerationRequest, LlamaConfig, LlamaEngine, Output, Prompt, Role,
    Sampling, models,
};
use serde_json::Value;

const MAX_TOKENS: u32 = 64;

struct Figures {
    prompt_tokens: u32,
    generated: u32,
    prompt_tps: f64,
    gen_tps: f64,
}

fn env_u32(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn prompt() -> Prompt {
    Prompt::Chat(vec![
        ChatMessage {
            role: Role::System,
            content: "You are a helpful assistant who answers in detail.".into(),
        },
        ChatMessage {
            role: Role::User,
            content: "Explain how a steam engine works, step by step, for a curious \
                      student who has never seen one."
                .into(),
        },
    ])
}

async fn ours(engine: &LlamaEngine) -> Figures {
    let request = GenerationRequest {
        prompt: prompt(),
        sampling: Sampling {
            max_tokens: MAX_TOKENS,
            ..Sampling::default()
        },
    };
    let start = Instant::now();
    let mut stream = engine.generate(request);
    let mut first: Option<Instant> = None;
    loop {
        match stream
            .next()
            .await
            .expect("stream ended")
            .expect("engine failed")
        {
            Output::Text { tokens, .. } => {
                if first.is_none() && !tokens.is_empty() {
                    first = Some(Instant::now());
                }
            }
            Output::Finished { usage, .. } => {
                let end = Instant::now();
                let first = first.expect("no tokens");
                // The first token comes straight from the prompt's logits.
                let prompt_s = (first - start).as_secs_f64();
                let gen_s = (end - first).as_secs_f64();
                return Figures {
                    prompt_tokens: usage.prompt_tokens,
                    generated: usage.completion_tokens,
                    prompt_tps: f64::from(usage.prompt_tokens) / prompt_s,
                    gen_tps: f64::from(usage.completion_tokens.saturating_sub(1)) / gen_s,
                };
            }
        }
    }
}

fn peer_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PLEXUS_PEER_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let p = models::data_dir().join("bench-venv/bin/python");
    p.is_file().then_some(p)
}

fn peer(python: &PathBuf, rendered: &str, threads: u32, runs: u32) -> Result<Figures, String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/peer_llama_cpp_python.py");
    let mut child = Command::new(python)
        .arg(script)
        .arg(models::default_chat_model())
        .arg(threads.to_string())
        .arg(MAX_TOKENS.to_string())
        .arg(runs.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(rendered.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let num = |k: &str| v[k].as_f64().unwrap_or(0.0);
    Ok(Figures {
        prompt_tokens: num("prompt_tokens") as u32,
        generated: num("generated") as u32,
        prompt_tps: num("prompt_tps"),
        gen_tps: num("gen_tps"),
    })
}

fn row(name: &str, f: &Figures) {
    println!(
        "| {name:<34} | {:>6} | {:>9} | {:>12.1} | {:>9.1} |",
        f.prompt_tokens, f.generated, f.prompt_tps, f.gen_tps
    );
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` must not run this.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let threads = env_u32("PLEXUS_BENCH_THREADS", 1);
    let runs = env_u32("PLEXUS_BENCH_RUNS", 3).max(1);
    let path = models::default_chat_model();
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup.sh",
        path.display()
    );
    let engine = LlamaEngine::load(
        &path,
        LlamaConfig {
            threads,
            context_length: Some(1024),
            ..LlamaConfig::default()
        },
    )
    .unwrap();
    let info = engine.model().engine.clone();
    println!(
        "model {} ({}), {} threads, {MAX_TOKENS} greedy tokens, best of {runs}; ours: {} {} kernel {}",
        path.display(),
        info.quantization,
        threads,
        info.name,
        info.version,
        info.kernel
    );
    ours(&engine).await; // warm-up
    let mut best: Option<Figures> = None;
    for _ in 0..runs {
        let f = ours(&engine).await;
        if best.as_ref().is_none_or(|b| f.gen_tps > b.gen_tps) {
            best = Some(f);
        }
    }
    let ours = best.unwrap();
    println!(
        "| engine                             | prompt | generated | prompt tok/s | gen tok/s |"
    );
    println!(
        "|------------------------------------|--------|-----------|--------------|-----------|"
    );
    row("plexus LlamaEngine (llama-cpp-2)", &ours);
    match peer_python() {
        None => println!(
            "peer: llama-cpp-python not found (set PLEXUS_PEER_PYTHON or create \
             $PLEXUS_HOME/bench-venv with llama-cpp-python==0.3.36)"
        ),
        Some(python) => {
            let rendered = engine.render(&prompt()).unwrap();
            match peer(&python, &rendered, threads, runs) {
                Ok(p) => {
                    row("llama-cpp-python (peer)", &p);
                    println!(
                        "ratio ours/peer: prompt {:.3}, generation {:.3}",
                        ours.prompt_tps / p.prompt_tps,
                        ours.gen_tps / p.gen_tps
                    );
                }
                Err(e) => println!("peer failed: {e}"),
            }
        }
    }
}
