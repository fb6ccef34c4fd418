//! Share fixtures between the integration tests: Python environments from PyPI and cheaper stand-ins for the default model.
//!
//! Everything is built once under a folder the caller names (a test passes its
//! `CARGO_TARGET_TMPDIR`, which every package of the workspace shares), so tests
//! running at the same time never use a half-built fixture nor build one twice.
//! Failures panic with what to do: these are test fixtures, not library code.
//!
//! Owns shared test fixtures; a dev-dependency only. May not be a normal dependency of
//! any crate.

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

/// SDMetrics as the parity tests pin it, with the datasets its bridge scripts load.
pub const SDMETRICS: &[&str] = &["sdmetrics==0.32.0", "palmerpenguins", "scikit-learn"];

/// The one SDMetrics venv every parity test shares (installed once per target
/// directory): `$PLEXUS_SDMETRICS_VENV` when set, else `root/sdmetrics-0.32.0-venv`.
pub fn sdmetrics_python(root: &Path) -> PathBuf {
    match std::env::var_os("PLEXUS_SDMETRICS_VENV") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            let (parent, name) = (dir.parent().unwrap_or(root), dir.file_name());
            let name = name
                .and_then(|n| n.to_str())
                .unwrap_or("sdmetrics-0.32.0-venv");
            python_venv(parent, name, SDMETRICS)
        }
        None => python_venv(root, "sdmetrics-0.32.0-venv", SDMETRICS),
    }
}

/// A Python venv `root/name` with `packages` installed from PyPI, built on first use.
/// Returns its python.
///
/// One process builds it while holding `root/name.lock` (holding its pid); the others
/// wait for the venv's `ready` marker, so tests running at once install each venv
/// once. A lock whose process is gone is taken over.
pub fn python_venv(root: &Path, name: &str, packages: &[&str]) -> PathBuf {
    let dir = root.join(name);
    let python = dir.join("bin").join("python");
    let ready = dir.join("ready");
    let wanted = packages.join("\n");
    let lock = root.join(format!("{name}.lock"));
    std::fs::create_dir_all(root).unwrap();
    let start = std::time::Instant::now();
    while std::fs::read_to_string(&ready).ok().as_deref() != Some(wanted.as_str()) {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(mut file) => {
                let _ =
                    std::io::Write::write_all(&mut file, std::process::id().to_string().as_bytes());
                let built = std::panic::catch_unwind(|| build_venv(&dir, packages, &wanted));
                let _ = std::fs::remove_file(&lock);
                if let Err(panic) = built {
                    std::panic::resume_unwind(panic);
                }
            }
            Err(_) => {
                if lock_is_stale(&lock) {
                    let _ = std::fs::remove_file(&lock);
                    continue;
                }
                assert!(
                    start.elapsed().as_secs() < 40 * 60,
                    "timed out waiting for {} (another test is installing {packages:?})",
                    lock.display()
                );
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
        }
    }
    python
}

/// Whether the process that wrote `lock` is gone (or it is older than 30 minutes).
fn lock_is_stale(lock: &Path) -> bool {
    let pid = std::fs::read_to_string(lock)
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok());
    let gone = pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
    let old = std::fs::metadata(lock)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().is_ok_and(|e| e.as_secs() > 30 * 60));
    gone || old
}

fn build_venv(dir: &Path, packages: &[&str], marker: &str) {
    let _ = std::fs::remove_dir_all(dir);
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(dir)
        .status()
        .expect("python3 runs (scripts/setup.sh installs it)");
    assert!(status.success(), "python3 -m venv failed");
    let status = Command::new(dir.join("bin").join("python"))
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
    std::fs::write(dir.join("ready"), marker).unwrap();
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
