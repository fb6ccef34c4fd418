//! Find model files on disk and compute their identity.
//!
//! Models load from a plain path, or from a Hugging Face-style cache directory
//! (`models--ORG--NAME/snapshots/REV/...`). The set-up script installs the default
//! models under [`models_dir`] (`$PLEXUS_MODELS`, else `$PLEXUS_HOME/models`,
//! `~/.plexus/models` by default).

use std::{
    fs,
    io::Read,
    path::{Path, PathBuf},
};

use plexus_types::Hash;

use crate::EngineError;

/// Directory name of the default chat model under [`models_dir`].
pub const DEFAULT_CHAT_MODEL: &str = "SmolLM2-135M-Instruct";
/// File name of the default chat model's weights.
pub const DEFAULT_CHAT_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// Directory name of the default embedding model under [`models_dir`].
pub const DEFAULT_EMBEDDING_MODEL: &str = "all-MiniLM-L6-v2";

/// The data directory: `$PLEXUS_HOME`, else `~/.plexus`.
pub fn data_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("PLEXUS_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(home);
    }
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".plexus")
}

/// Where installed models live: `$PLEXUS_MODELS`, else `data_dir()/models`.
pub fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PLEXUS_MODELS").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    data_dir().join("models")
}

/// The default chat model's GGUF file, as installed by `scripts/setup.sh`.
pub fn default_chat_model() -> PathBuf {
    models_dir()
        .join(DEFAULT_CHAT_MODEL)
        .join(DEFAULT_CHAT_FILE)
}

/// The default embedding model's directory, as installed by `scripts/setup.sh`.
pub fn default_embedding_model() -> PathBuf {
    models_dir().join(DEFAULT_EMBEDDING_MODEL)
}

fn load_error(path: &Path, reason: impl Into<String>) -> EngineError {
    EngineError::Load {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Resolve a GGUF weights file from `spec`: a `.gguf` file; a directory holding
/// exactly one `.gguf` (searched recursively, so a Hugging Face cache entry
/// `models--ORG--NAME` works, using its newest snapshot); or a bare name looked up
/// under [`models_dir`] (`SmolLM2-135M-Instruct`) or as `ORG/NAME` in a Hugging Face
/// cache (`$HF_HOME/hub`, `~/.cache/huggingface/hub`).
pub fn locate_gguf(spec: &str) -> Result<PathBuf, EngineError> {
    locate(spec, &|p| {
        p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
    })
    .and_then(|p| {
        if p.is_file() {
            Ok(p)
        } else {
            Err(load_error(&p, "no .gguf file found"))
        }
    })
}

/// Resolve a sentence-transformers model directory (holding `config.json`,
/// `tokenizer.json` and `model.safetensors`) from a path, a name under
/// [`models_dir`], or a Hugging Face cache entry.
pub fn locate_model_dir(spec: &str) -> Result<PathBuf, EngineError> {
    let dir = locate(spec, &|p| {
        p.file_name().is_some_and(|n| n == "model.safetensors")
    })?;
    let dir = if dir.is_file() {
        dir.parent().map(Path::to_path_buf).unwrap_or(dir)
    } else {
        dir
    };
    for needed in ["config.json", "tokenizer.json", "model.safetensors"] {
        if !dir.join(needed).is_file() {
            return Err(load_error(&dir, format!("{needed} is missing")));
        }
    }
    Ok(dir)
}

/// Candidates for `spec`, in order: the path itself, under the models dir, in the
/// Hugging Face caches.
fn locate(spec: &str, wanted: &dyn Fn(&Path) -> bool) -> Result<PathBuf, EngineError> {
    let mut candidates = vec![PathBuf::from(spec), models_dir().join(spec)];
    let hf_name = format!("models--{}", spec.replace('/', "--"));
    for cache in hf_caches() {
        candidates.push(cache.join(&hf_name));
    }
    for candidate in &candidates {
        if candidate.is_file() {
            return Ok(candidate.clone());
        }
        if candidate.is_dir() {
            return find_in_dir(candidate, wanted);
        }
    }
    Err(load_error(
        Path::new(spec),
        format!(
            "not found (looked in {}); run scripts/setup.sh to install the default models",
            candidates
                .iter()
                .map(|c| c.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

fn hf_caches() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(cache) = std::env::var_os("HF_HUB_CACHE") {
        out.push(PathBuf::from(cache));
    }
    if let Some(home) = std::env::var_os("HF_HOME") {
        out.push(PathBuf::from(home).join("hub"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        out.push(PathBuf::from(home).join(".cache/huggingface/hub"));
    }
    out
}

/// The one file in `dir` matching `wanted`. A Hugging Face cache entry
/// (`snapshots/REV/...`) is searched in its newest snapshot only.
fn find_in_dir(dir: &Path, wanted: &dyn Fn(&Path) -> bool) -> Result<PathBuf, EngineError> {
    let snapshots = dir.join("snapshots");
    let root = if snapshots.is_dir() {
        newest_child(&snapshots)?.ok_or_else(|| load_error(dir, "no snapshots"))?
    } else {
        dir.to_path_buf()
    };
    let mut found = Vec::new();
    collect(&root, wanted, 0, &mut found).map_err(|e| load_error(&root, e.to_string()))?;
    found.sort();
    match found.len() {
        0 => Err(load_error(dir, "no model file found")),
        1 => Ok(found.remove(0)),
        _ => Err(load_error(
            dir,
            format!(
                "several model files, name one: {}",
                found
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

fn newest_child(dir: &Path) -> Result<Option<PathBuf>, EngineError> {
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    let entries = fs::read_dir(dir).map_err(|e| load_error(dir, e.to_string()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let modified = entry
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        if best.as_ref().is_none_or(|(t, _)| modified > *t) {
            best = Some((modified, path));
        }
    }
    Ok(best.map(|(_, p)| p))
}

fn collect(
    dir: &Path,
    wanted: &dyn Fn(&Path) -> bool,
    depth: usize,
    out: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    if depth > 4 {
        return Ok(());
    }
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, wanted, depth + 1, out)?;
        } else if wanted(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// What kind of model an installed entry is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// A GGUF chat model for the built-in llama.cpp engine.
    Chat,
    /// A sentence-transformers embedding model (safetensors).
    Embedding,
}

/// One model installed under a models folder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InstalledModel {
    /// The id a provider serves it as (`plexus provider --model NAME`).
    pub name: String,
    /// Chat (GGUF) or embedding.
    pub kind: ModelKind,
    /// The quantization a GGUF file's name declares, e.g. `Q4_1`.
    pub quantization: Option<String>,
    /// The weights file (GGUF) or the model's folder (embedding).
    pub path: PathBuf,
    /// Size of the weights, in bytes.
    pub bytes: u64,
}

/// The first bytes of every GGUF file.
const GGUF_MAGIC: &[u8; 4] = b"GGUF";

/// The models installed in `dir`, by name then file: each GGUF file in a folder of
/// its own (several quantizations of one model are several entries), and each folder
/// holding a sentence-transformers model. A missing folder holds none.
pub fn list_installed(dir: &Path) -> Result<Vec<InstalledModel>, EngineError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(load_error(dir, e.to_string())),
    };
    let mut found = Vec::new();
    for entry in entries {
        let folder = entry.map_err(|e| load_error(dir, e.to_string()))?.path();
        if !folder.is_dir() {
            continue;
        }
        if folder.join("model.safetensors").is_file() && folder.join("config.json").is_file() {
            let bytes = fs::metadata(folder.join("model.safetensors")).map_or(0, |m| m.len());
            found.push(InstalledModel {
                name: folder
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                kind: ModelKind::Embedding,
                quantization: None,
                path: folder,
                bytes,
            });
            continue;
        }
        let mut ggufs = Vec::new();
        collect(
            &folder,
            &|p: &Path| {
                p.extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
            },
            0,
            &mut ggufs,
        )
        .map_err(|e| load_error(&folder, e.to_string()))?;
        for file in ggufs {
            let quantization = file
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.rsplit_once('.'))
                .and_then(|(_, q)| crate::llama::quant_from_name(q));
            found.push(InstalledModel {
                name: crate::llama::model_id_from_path(&file),
                kind: ModelKind::Chat,
                quantization,
                bytes: fs::metadata(&file).map_or(0, |m| m.len()),
                path: file,
            });
        }
    }
    found.sort_by(|a, b| (&a.name, &a.path).cmp(&(&b.name, &b.path)));
    Ok(found)
}

/// Install the GGUF file `source` into `dir` as `dir/NAME/FILE` (NAME is its model id,
/// the file name without the quantization), hard-linked when the two share a disk and
/// copied otherwise, and return the installed path. Refuses a file that is not GGUF,
/// and a different file already installed under that name; installing the same file
/// again does nothing.
pub fn install_gguf(source: &Path, dir: &Path) -> Result<PathBuf, EngineError> {
    let mut magic = [0u8; 4];
    fs::File::open(source)
        .and_then(|mut f| f.read_exact(&mut magic))
        .map_err(|e| load_error(source, e.to_string()))?;
    if &magic != GGUF_MAGIC {
        return Err(load_error(
            source,
            "not a GGUF file (it does not start with GGUF)",
        ));
    }
    let file_name = source
        .file_name()
        .ok_or_else(|| load_error(source, "no file name"))?;
    let folder = dir.join(crate::llama::model_id_from_path(source));
    let target = folder.join(file_name);
    if target.exists() {
        if weights_hash(&target)? == weights_hash(source)? {
            return Ok(target);
        }
        return Err(load_error(
            &target,
            "a different file is installed under this name; remove it first",
        ));
    }
    fs::create_dir_all(&folder).map_err(|e| load_error(&folder, e.to_string()))?;
    // Into a temporary name first, so a half-copied file is never found as a model.
    let partial = folder.join(format!(".{}.partial", file_name.to_string_lossy()));
    let _ = fs::remove_file(&partial);
    if fs::hard_link(source, &partial).is_err() {
        fs::copy(source, &partial).map_err(|e| load_error(&partial, e.to_string()))?;
    }
    fs::rename(&partial, &target).map_err(|e| load_error(&target, e.to_string()))?;
    Ok(target)
}

/// blake3 of the file at `path`, read in 1 MiB pieces: a model's identity on chain.
pub fn weights_hash(path: &Path) -> Result<Hash, EngineError> {
    let mut file = fs::File::open(path).map_err(|e| load_error(path, e.to_string()))?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| load_error(path, e.to_string()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(Hash(*hasher.finalize().as_bytes()))
}

/// The chat model `spec` names (default: the installed one), its weights hash, and
/// the model loaded with `threads` threads: what a validator re-executes answers with.
pub fn load_declared(
    spec: Option<&str>,
    threads: u32,
) -> Result<(PathBuf, Hash, crate::LlamaEngine), EngineError> {
    let path = match spec {
        Some(spec) => locate_gguf(spec)?,
        None => default_chat_model(),
    };
    let hash = weights_hash(&path)?;
    let config = crate::LlamaConfig {
        threads: threads.max(1),
        ..crate::LlamaConfig::default()
    };
    let engine = crate::LlamaEngine::load(&path, config)?;
    Ok((path, hash, engine))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hugging_face_cache_entry_resolves_to_its_newest_snapshot() {
        let root = tempfile::tempdir().unwrap();
        let entry = root.path().join("models--Org--Tiny");
        let old = entry.join("snapshots/aaa");
        fs::create_dir_all(&old).unwrap();
        fs::write(old.join("tiny.Q8_0.gguf"), b"old").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let new = entry.join("snapshots/bbb");
        fs::create_dir_all(&new).unwrap();
        fs::write(new.join("tiny.Q8_0.gguf"), b"new").unwrap();
        let found = locate_gguf(entry.to_str().unwrap()).unwrap();
        assert_eq!(found, new.join("tiny.Q8_0.gguf"));
    }

    #[test]
    fn a_directory_with_two_ggufs_asks_for_a_name() {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join("a.gguf"), b"a").unwrap();
        fs::write(root.path().join("b.gguf"), b"b").unwrap();
        let err = locate_gguf(root.path().to_str().unwrap()).unwrap_err();
        assert!(err.to_string().contains("several"), "{err}");
    }

    #[test]
    fn a_missing_model_points_at_the_setup_script() {
        let err = locate_gguf("/nonexistent/model.gguf").unwrap_err();
        assert!(err.to_string().contains("scripts/setup.sh"), "{err}");
    }

    #[test]
    fn the_weights_hash_is_blake3_of_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.bin");
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(&path, &bytes).unwrap();
        assert_eq!(
            weights_hash(&path).unwrap().0,
            *blake3::hash(&bytes).as_bytes()
        );
    }
}
