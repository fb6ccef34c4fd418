//! `plexus models`: list the installed models, install a GGUF file, and print the
//! weights hash a provider publishes for a model.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use plexus_inference::models::{self, InstalledModel, ModelKind};
use serde_json::json;

use crate::{context::Context, output};

/// `plexus models …`, on the models folder (`$PLEXUS_MODELS`, else
/// `$PLEXUS_HOME/models`, `~/.plexus/models` by default).
#[derive(Debug, Subcommand)]
pub(crate) enum ModelsCommand {
    /// The installed models: name, kind, quantization, size and path.
    List,
    /// Install a GGUF file (hard-linked when possible, else copied) as
    /// `MODELS/NAME/FILE` and print its name and weights hash.
    Add {
        /// The `.gguf` file.
        path: PathBuf,
    },
    /// The blake3 weights hash of a model: a `.gguf` path, a folder holding one, or an
    /// installed name (what `plexus provider --model` takes).
    Hash {
        /// The model.
        model: String,
    },
}

pub(crate) fn run(ctx: &Context, command: ModelsCommand) -> anyhow::Result<()> {
    let dir = models::models_dir();
    match command {
        ModelsCommand::List => {
            let installed = models::list_installed(&dir)?;
            output::print(ctx, &json!({ "dir": dir, "models": installed }), || {
                human_list(&dir, &installed)
            });
        }
        ModelsCommand::Add { path } => {
            let installed = models::install_gguf(&path, &dir)
                .with_context(|| format!("cannot install {}", path.display()))?;
            let hash = models::weights_hash(&installed)?;
            let name = installed
                .parent()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            output::print(
                ctx,
                &json!({ "name": name, "path": installed, "weights_hash": hash }),
                || {
                    format!(
                        "installed {name} at {}\nweights hash {hash} (serve it with `plexus provider --model {name}`)",
                        installed.display()
                    )
                },
            );
        }
        ModelsCommand::Hash { model } => {
            let path = models::locate_gguf(&model)?;
            let hash = models::weights_hash(&path)?;
            output::print(ctx, &json!({ "path": path, "weights_hash": hash }), || {
                hash.to_string()
            });
        }
    }
    Ok(())
}

fn human_list(dir: &std::path::Path, installed: &[InstalledModel]) -> String {
    if installed.is_empty() {
        return format!(
            "no models in {} (scripts/setup.sh installs the defaults; `plexus models add FILE.gguf` adds one)",
            dir.display()
        );
    }
    let mut out = format!("models in {}\n", dir.display());
    for m in installed {
        let kind = match m.kind {
            ModelKind::Chat => "chat",
            ModelKind::Embedding => "embedding",
        };
        out.push_str(&format!(
            "  {:<28} {:<9} {:<8} {:>8.1} MB  {}\n",
            m.name,
            kind,
            m.quantization.as_deref().unwrap_or("-"),
            m.bytes as f64 / 1e6,
            m.path.display()
        ));
    }
    out
}
