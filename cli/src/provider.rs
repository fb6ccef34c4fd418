//! `plexus provider`: load a model, put it on chain and serve it over the OpenAI API.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anyhow::{Context as _, bail};
use clap::Args;
use plexus_inference::{
    BertEmbedder, Embedder, Engine, LlamaConfig, LlamaEngine, UpstreamConfig, UpstreamEngine,
    models,
};
use plexus_provider::{
    OnChain, ProviderConfig, ProviderService, ServiceConfig, ServiceError,
    service::DEFAULT_TX_TIMEOUT,
};
use plexus_types::{Hash, Netuid};
use serde_json::json;

use crate::{
    context::Context,
    node::{cannot_listen, init_logging, shutdown_signal},
    output,
};

/// Flags of `plexus provider`.
#[derive(Debug, Args)]
pub(crate) struct ProviderArgs {
    /// The chat model: a .gguf file, a folder, a name under ~/.plexus/models, or an
    /// ORG/NAME in a Hugging Face cache. Default: the installed SmolLM2-135M-Instruct.
    #[arg(long)]
    model: Option<String>,
    /// The embedding model (sentence-transformers folder or name). Default: the
    /// installed all-MiniLM-L6-v2 if present.
    #[arg(long)]
    embeddings: Option<String>,
    /// Serve no embedding model.
    #[arg(long, conflicts_with = "embeddings")]
    no_embeddings: bool,
    /// Forward to an OpenAI-compatible server (vLLM, llama.cpp server, TGI, Ollama)
    /// instead of running the built-in engine.
    #[arg(long, requires_all = ["upstream_model", "weights_hash"])]
    upstream: Option<String>,
    /// The model name the upstream server serves.
    #[arg(long)]
    upstream_model: Option<String>,
    /// blake3 of the upstream model's weights file, as published on chain.
    #[arg(long)]
    weights_hash: Option<Hash>,
    /// Context length of the upstream model.
    #[arg(long, default_value_t = 4096)]
    upstream_context: u32,
    /// Where to serve the OpenAI API.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The URL published on chain (default: http://LISTEN).
    #[arg(long)]
    public_url: Option<String>,
    /// Subnet to register on and serve; without it nothing is published.
    #[arg(long)]
    netuid: Option<Netuid>,
    /// Wallet whose coldkey pays the registration.
    #[arg(long, default_value = "default")]
    name: String,
    /// Hotkey of that wallet the provider serves as.
    #[arg(long, default_value = "default")]
    hotkey: String,
    /// Operator name published with `Serve` (so clients can pick a relay run by
    /// someone else).
    #[arg(long, default_value = "plexus")]
    operator: String,
    /// CPU threads per generation.
    #[arg(long, default_value_t = 1)]
    threads: u32,
    /// Generations running at once.
    #[arg(long, default_value_t = 1)]
    slots: u32,
    /// Context length per slot (default: the model's, at most 4096).
    #[arg(long)]
    context: Option<u32>,
    /// Requests waiting for a slot before answering 429.
    #[arg(long, default_value_t = 64)]
    queue: usize,
    /// Deadline of one request, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// State folder (OHTTP key seed, spent tokens). Default: ~/.plexus/provider/HOTKEY.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Seconds between settlement rounds of redeemed credit tokens.
    #[arg(long, default_value_t = 10)]
    settle_secs: u64,
}

/// Default context per slot: SmolLM2 trains on 8192, but 4096 halves the KV cache.
const DEFAULT_CONTEXT: u32 = 4096;

pub(crate) async fn run(ctx: &Context, args: ProviderArgs) -> anyhow::Result<()> {
    init_logging();
    let keys = match args.netuid {
        Some(_) => {
            let (wallet, password, coldkey) = ctx.unlock(&args.name)?;
            let hotkey = wallet.unlock_hotkey(&args.hotkey, &password).with_context(|| {
                format!(
                    "wallet '{}' has no hotkey '{}': create one with `plexus wallet create --name {} --hotkey {}`",
                    args.name, args.hotkey, args.name, args.hotkey
                )
            })?;
            Some((coldkey, hotkey))
        }
        None => None,
    };
    serve(ctx, args, keys).await
}

fn spinner(message: String) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

async fn load_engine(args: &ProviderArgs) -> anyhow::Result<Arc<dyn Engine>> {
    if let Some(url) = &args.upstream {
        let (Some(model), Some(hash)) = (&args.upstream_model, args.weights_hash) else {
            bail!("--upstream needs --upstream-model and --weights-hash");
        };
        let config = UpstreamConfig::new(url.clone(), model.clone(), hash, args.upstream_context);
        let engine = UpstreamEngine::connect(config)
            .await
            .with_context(|| format!("cannot use the upstream server at {url}"))?;
        return Ok(Arc::new(engine));
    }
    let path = match &args.model {
        Some(spec) => models::locate_gguf(spec)?,
        None => models::default_chat_model(),
    };
    let config = LlamaConfig {
        threads: args.threads,
        slots: args.slots,
        context_length: Some(args.context.unwrap_or(DEFAULT_CONTEXT)),
        ..LlamaConfig::default()
    };
    let bar = spinner(format!("Loading {}", path.display()));
    let loaded = tokio::task::spawn_blocking(move || LlamaEngine::load(&path, config))
        .await
        .context("the model loader failed")?;
    bar.finish_and_clear();
    Ok(Arc::new(loaded.context(
        "cannot load the chat model (run scripts/setup.sh to install the default one, or pass --model PATH)",
    )?))
}

async fn load_embedder(args: &ProviderArgs) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
    if args.no_embeddings || args.upstream.is_some() {
        return Ok(None);
    }
    let dir: PathBuf = match &args.embeddings {
        Some(spec) => models::locate_model_dir(spec)?,
        None => {
            let dir = models::default_embedding_model();
            if !dir.join("model.safetensors").is_file() {
                return Ok(None);
            }
            dir
        }
    };
    let bar = spinner(format!("Loading {}", dir.display()));
    let loaded = tokio::task::spawn_blocking(move || BertEmbedder::load(&dir))
        .await
        .context("the model loader failed")?;
    bar.finish_and_clear();
    Ok(Some(Arc::new(
        loaded.context("cannot load the embedding model")?,
    )))
}

async fn serve(
    ctx: &Context,
    args: ProviderArgs,
    keys: Option<(plexus_types::Keypair, plexus_types::Keypair)>,
) -> anyhow::Result<()> {
    let engine = load_engine(&args).await?;
    let embedder = load_embedder(&args).await?;
    let config = service_config(ctx, &args, keys)?;
    let service = ProviderService::start(config, engine, embedder.clone())
        .await
        .map_err(explain)?;
    print_summary(ctx, &service, embedder.as_deref());
    service.run(shutdown_signal()).await.map_err(explain)
}

/// The service's configuration from the flags (and, with `--netuid`, the unlocked keys).
fn service_config(
    ctx: &Context,
    args: &ProviderArgs,
    keys: Option<(plexus_types::Keypair, plexus_types::Keypair)>,
) -> anyhow::Result<ServiceConfig> {
    let on_chain = match (args.netuid, keys) {
        (Some(netuid), Some((coldkey, hotkey))) => Some(OnChain {
            node: ctx.client()?,
            netuid,
            data_dir: ctx.state_dir(
                &format!("provider/{}", hotkey.account().to_address()),
                args.data_dir.as_ref(),
            )?,
            coldkey,
            hotkey,
            settle_every: Duration::from_secs(args.settle_secs),
            tx_timeout: DEFAULT_TX_TIMEOUT,
        }),
        _ => None,
    };
    Ok(ServiceConfig {
        listen: args.listen,
        public_url: args.public_url.clone(),
        provider: ProviderConfig {
            concurrency: usize::try_from(args.slots).unwrap_or(1).max(1),
            queue: args.queue,
            request_timeout: Duration::from_secs(args.timeout.max(1)),
            operator: args.operator.clone(),
            ..ProviderConfig::default()
        },
        on_chain,
    })
}

/// The service's errors, with what to do next where the flags can help.
fn explain(error: ServiceError) -> anyhow::Error {
    match error {
        ServiceError::Bind { addr, source } => cannot_listen(addr, source),
        ServiceError::Announce { netuid, source } => anyhow::Error::new(source).context(format!(
            "cannot register and serve on subnet {netuid}: fund the wallet's coldkey (`plexus wallet faucet`) and check `plexus subnet show {netuid}`"
        )),
        other => other.into(),
    }
}

/// Where the provider serves, what, and where it is on chain.
fn print_summary(ctx: &Context, service: &ProviderService, embedder: Option<&dyn Embedder>) {
    let local = service.local_addr();
    let model = service.model();
    let announced = service.announced();
    let summary = json!({
        "api": format!("http://{local}/v1"),
        "model": model.id,
        "weights_hash": model.weights_hash,
        "engine": model.engine,
        "embeddings": embedder.map(|e| e.model().id.clone()),
        "netuid": announced.map(|(n, _)| n),
        "uid": announced.map(|(_, a)| a.uid),
        "metrics": format!("http://{local}/metrics"),
        "gateway": service.gateway_url(),
    });
    output::print(ctx, &summary, || {
        format!(
            "Plexus provider serving {} ({} {}, {})\n  OpenAI API  http://{local}/v1\n  weights     blake3 {}\n{}{}  metrics     http://{local}/metrics\nStop with Ctrl-C.",
            model.id,
            model.engine.name,
            model.engine.quantization,
            model.engine.kernel,
            model.weights_hash,
            embedder.map_or(String::new(), |e| format!(
                "  embeddings  {}\n",
                e.model().id
            )),
            announced.map_or(
                "  on chain    not published (pass --netuid to register and serve)\n".to_owned(),
                |(netuid, a)| format!("  on chain    subnet {netuid}, UID {}\n", a.uid)
            ),
        )
    });
}
