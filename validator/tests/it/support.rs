//! Helpers: the installed chat model, cheaper stand-ins for it, and greedy answers.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use futures::StreamExt;
use plexus_inference::{
    ChatMessage, Engine, FinishReason, GenerationRequest, LlamaConfig, LlamaEngine, Output, Prompt,
    Role, Sampling, models,
};

/// The `gguf` package (ggml-org's) that `py/truncate_gguf.py` runs on.
pub(crate) const GGUF: &str = "gguf==0.19.0";

/// The default chat model as `scripts/setup.sh` installs it, or a panic saying so.
pub(crate) fn default_model() -> PathBuf {
    let path = models::default_chat_model();
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup.sh to install the default models",
        path.display()
    );
    path
}

/// A lazy provider's model: the default chat model cut down to its first `layers`
/// transformer blocks (same tokenizer and chat template, fewer layers, so cheaper
/// and different answers). Built once under the target directory by
/// `py/truncate_gguf.py` and reused.
pub(crate) fn lazy_model(layers: u32) -> PathBuf {
    let source = default_model();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lazy-models");
    std::fs::create_dir_all(&dir).unwrap();
    let name = models::DEFAULT_CHAT_FILE.replacen(
        models::DEFAULT_CHAT_MODEL,
        &format!("{}-{layers}-layers", models::DEFAULT_CHAT_MODEL),
        1,
    );
    let path = dir.join(name);
    if path.is_file() {
        return path;
    }
    let python = python_venv("gguf-0.19.0-venv", &[GGUF]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/truncate_gguf.py");
    let building = path.with_extension(format!("building-{}", std::process::id()));
    let out = Command::new(python)
        .arg(script)
        .arg(&source)
        .arg(&building)
        .arg(layers.to_string())
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "truncate_gguf.py failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&building, &path).unwrap();
    path
}

/// A Python venv under the target directory with `packages` installed from PyPI,
/// built on first use (into a temporary folder, then renamed, so a half-built venv
/// is never used). Returns its python. (The same helper as the CLI tests'.)
pub(crate) fn python_venv(name: &str, packages: &[&str]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let python = dir.join("bin").join("python");
    if python.is_file() {
        return python;
    }
    let building = dir.with_extension(format!("building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&building)
        .status()
        .expect("python3 runs (scripts/setup.sh installs it)");
    assert!(status.success(), "python3 -m venv failed");
    let status = Command::new(building.join("bin").join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(packages)
        .status()
        .expect("pip runs");
    assert!(status.success(), "pip install {packages:?} failed");
    // Another test may have won the race; either venv is complete.
    if std::fs::rename(&building, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&building);
    }
    python
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
