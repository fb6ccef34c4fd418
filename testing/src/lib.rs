//! Share fixtures between the integration tests: Python environments from PyPI and cheaper stand-ins for the default model.
//!
//! Everything is built once under a folder the caller names (a test passes its
//! `CARGO_TARGET_TMPDIR`), into a temporary name first and renamed when complete, so
//! tests running at the same time never use a half-built fixture. Failures panic with
//! what to do: these are test fixtures, not library code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use plexus_inference::models;

/// The `gguf` package (ggml-org's) that `py/truncate_gguf.py` runs on.
pub const GGUF: &str = "gguf==0.19.0";

/// The default chat model as `scripts/setup.sh` installs it, or a panic saying so.
pub fn default_model() -> PathBuf {
    let path = models::default_chat_model();
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup.sh to install the default models",
        path.display()
    );
    path
}

/// A Python venv `root/name` with `packages` installed from PyPI, built on first use.
/// Returns its python.
pub fn python_venv(root: &Path, name: &str, packages: &[&str]) -> PathBuf {
    let dir = root.join(name);
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

/// A lazy provider's model: the default chat model cut down to its first `layers`
/// transformer blocks (same tokenizer and chat template, fewer layers, so cheaper
/// and different answers), built by `py/truncate_gguf.py` under `root/lazy-models`
/// and reused.
pub fn truncated_model(root: &Path, layers: u32) -> PathBuf {
    let source = default_model();
    let dir = root.join("lazy-models");
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
    let python = python_venv(root, "gguf-0.19.0-venv", &[GGUF]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("py/truncate_gguf.py");
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
