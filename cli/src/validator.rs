//! `plexus validator`: keep an inference subnet's providers honest.
//!
//! The epoch loop is [`plexus_validator::service`]'s actor: this file parses flags,
//! loads the declared model for re-execution, opens the wallet's credits, and prints
//! what the actor reports. The state folder keeps the seed, the scoreboard and the
//! pending weights commit, so a restart resumes.

use std::{path::PathBuf, time::Duration};

use anyhow::{Context as _, bail};
use clap::Args;
use plexus_inference::{
    LlamaConfig, LlamaEngine,
    models::{default_chat_model, weights_hash},
};
use plexus_types::{Netuid, credits::CREDIT_BUNDLES};
use plexus_validator::{
    score::Probe,
    service::{
        Config, DEFAULT_BUNDLE, DEFAULT_PROBE_TIMEOUT, Event, PrivatePath, ProviderReport,
        Validator,
    },
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    config::{ConfigArgs, HotkeyFlags, required_netuid},
    context::Context,
    credits::{DEFAULT_RELAY_URL, open_session},
};

/// Flags of `plexus validator` (each also a key of its `--config` file).
#[derive(Debug, Args, Serialize)]
pub(crate) struct ValidatorArgs {
    #[command(flatten)]
    #[serde(skip)]
    config: ConfigArgs,
    #[command(flatten)]
    #[serde(flatten)]
    key: HotkeyFlags,
    /// The OHTTP relay probes go through, like any user's requests [default:
    /// http://127.0.0.1:7080].
    #[arg(long, env = "PLEXUS_RELAY")]
    relay: Option<String>,
    /// The model to re-execute answers with (a `.gguf` path, a folder or `ORG/NAME`):
    /// providers declaring other weights cannot be checked and earn nothing.
    #[arg(long)]
    model: Option<String>,
    /// CPU threads for re-execution [default: 1].
    #[arg(long)]
    threads: Option<u32>,
    /// State folder (seed, scoreboard, pending commit). Default:
    /// ~/.plexus/validator/HOTKEY.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Stop after this many epochs (default: run until interrupted).
    #[arg(long)]
    epochs: Option<u64>,
    /// Probe with your own corpus: JSONL, one OpenAI chat request body per line
    /// (default: a private one built from the data set scripts/setup.sh installs).
    #[arg(long)]
    corpus: Option<PathBuf>,
}

/// Everything `plexus validator` runs with: defaults < `--config` file < environment
/// < flags.
#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ValidatorConfig {
    /// The node this service reads the chain from (`--node` and `PLEXUS_NODE` win).
    node: Option<String>,
    name: String,
    hotkey: String,
    netuid: Option<Netuid>,
    relay: String,
    model: Option<String>,
    threads: u32,
    data_dir: Option<PathBuf>,
    epochs: Option<u64>,
    corpus: Option<PathBuf>,
    /// Seconds a probe may take before it counts as failed.
    probe_timeout_secs: u64,
    /// Credits bought at a time when the store runs low (10, 100 or 1000).
    credit_bundle: u32,
}

impl Default for ValidatorConfig {
    fn default() -> Self {
        Self {
            node: None,
            name: "default".into(),
            hotkey: "default".into(),
            netuid: None,
            relay: DEFAULT_RELAY_URL.into(),
            model: None,
            threads: 1,
            data_dir: None,
            epochs: None,
            corpus: None,
            probe_timeout_secs: DEFAULT_PROBE_TIMEOUT.as_secs(),
            credit_bundle: DEFAULT_BUNDLE,
        }
    }
}

pub(crate) async fn run(ctx: &Context, flags: &ValidatorArgs) -> anyhow::Result<()> {
    let args: ValidatorConfig = flags.config.resolve(flags)?;
    if flags.config.printed(&args)? {
        return Ok(());
    }
    let ctx = &ctx.with_node(args.node.as_deref());
    let netuid = required_netuid(args.netuid)?;
    if !CREDIT_BUNDLES.contains(&args.credit_bundle) {
        bail!("credit_bundle must be one of 10, 100 or 1000");
    }
    let (wallet, password, coldkey) = ctx.unlock(&args.name)?;
    let hotkey = wallet
        .unlock_hotkey(&args.hotkey, &password)
        .with_context(|| format!("wallet '{}' has no hotkey '{}'", args.name, args.hotkey))?;
    let dir = ctx.state_dir(
        &format!("validator/{}", hotkey.account().to_address()),
        args.data_dir.as_ref(),
    )?;
    let model_path = match &args.model {
        Some(spec) => plexus_inference::models::locate_gguf(spec)?,
        None => default_chat_model(),
    };
    let declared = weights_hash(&model_path)
        .with_context(|| format!("cannot read the model {}", model_path.display()))?;
    let engine = LlamaEngine::load(
        &model_path,
        LlamaConfig {
            threads: args.threads.max(1),
            ..LlamaConfig::default()
        },
    )
    .with_context(|| format!("cannot load {}", model_path.display()))?;
    let session = open_session(ctx, &args.name, &coldkey, args.relay.clone()).await?;
    let client = ctx.client()?;
    let config = Config {
        netuid,
        hotkey,
        declared,
        seed: plexus_wallet::load_or_create_secret(&dir.join("seed"))?,
        state_path: dir.join("state.json"),
        commit_path: dir.join("commit.json"),
        epochs: args.epochs,
        corpus: args.corpus.clone(),
    };
    eprintln!(
        "Validating subnet {} with {} (weights {}), probes through {}; state in {}",
        netuid,
        model_path.display(),
        declared,
        args.relay,
        dir.display()
    );
    let transport = PrivatePath::new(session, coldkey)
        .with_probe_timeout(Duration::from_secs(args.probe_timeout_secs))
        .with_bundle(args.credit_bundle);
    let validator = Validator::new(config, client, transport, engine);
    let json = ctx.json;
    Ok(validator.run(|event| print_event(json, &event)).await?)
}

/// Print what the actor did: one line per provider per epoch, or JSON with `--json`.
fn print_event(json: bool, event: &Event) {
    match event {
        Event::Probed { epoch, providers } if json => {
            println!("{}", json!({"epoch": epoch, "providers": providers}));
        }
        Event::Probed { epoch, providers } => {
            for r in providers {
                eprintln!("{}", provider_line(*epoch, r));
            }
        }
        Event::Revealed { epoch, height } => {
            eprintln!("epoch {epoch}: revealed weights in block {height}");
        }
        Event::NoWeights { epoch } => {
            eprintln!("epoch {epoch}: no provider earned weight; nothing committed");
        }
        Event::Set { epoch, height } => eprintln!("epoch {epoch}: set weights in block {height}"),
        Event::Committed {
            epoch,
            weights,
            height,
        } => eprintln!(
            "epoch {epoch}: committed weights {} in block {height}",
            weights
                .iter()
                .map(|(u, w)| format!("{u}:{w}"))
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

fn provider_line(epoch: u64, r: &ProviderReport) -> String {
    let answered = r
        .probes
        .iter()
        .filter(|p| matches!(p, Probe::Answered { .. }))
        .count();
    let checks: Vec<String> = r
        .verdicts
        .iter()
        .map(|v| format!("{}/{}", v.passed, v.judged))
        .collect();
    format!(
        "epoch {epoch}: uid {} {} answered {answered}/{} checks [{}] score {:.3} ema {:.3}{}",
        r.uid,
        r.model,
        r.probes.len(),
        checks.join(" "),
        r.score,
        r.ema,
        r.note
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default()
    )
}
