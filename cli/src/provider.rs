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
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    config::ConfigArgs,
    context::Context,
    node::{cannot_listen, init_logging, shutdown_signal},
    output,
};

/// Flags of `plexus provider` (each also a key of its `--config` file).
#[derive(Debug, Args, Serialize)]
pub(crate) struct ProviderArgs {
    #[command(flatten)]
    #[serde(skip)]
    config: ConfigArgs,
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
    #[serde(skip_serializing_if = "std::ops::Not::not")]
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
    /// Context length of the upstream model [default: 4096].
    #[arg(long)]
    upstream_context: Option<u32>,
    /// Where to serve the OpenAI API [default: 127.0.0.1:8080].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// The URL published on chain (default: http://LISTEN).
    #[arg(long)]
    public_url: Option<String>,
    /// On chain, where the operator's plain OpenAI API and /metrics listen (the
    /// published URL serves only /ohttp and /health) [default: not served].
    #[arg(long)]
    api_listen: Option<SocketAddr>,
    /// Key the plain API requires as `Authorization: Bearer KEY`; without one it binds
    /// to loopback only. Prefer the environment variable or the config file to the flag.
    #[arg(long, env = "PLEXUS_PROVIDER_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Subnet to register on and serve; without it nothing is published.
    #[arg(long)]
    netuid: Option<Netuid>,
    /// Wallet whose coldkey pays the registration [default: default].
    #[arg(long)]
    name: Option<String>,
    /// Hotkey of that wallet the provider serves as [default: default].
    #[arg(long)]
    hotkey: Option<String>,
    /// Operator name published with `Serve` (so clients can pick a relay run by
    /// someone else) [default: plexus].
    #[arg(long)]
    operator: Option<String>,
    /// CPU threads per generation [default: 1].
    #[arg(long)]
    threads: Option<u32>,
    /// Generations running at once [default: 1].
    #[arg(long)]
    slots: Option<u32>,
    /// Context length per slot (default: the model's, at most 4096).
    #[arg(long)]
    context: Option<u32>,
    /// Requests waiting for a slot before answering 429 [default: 64].
    #[arg(long)]
    queue: Option<usize>,
    /// Deadline of one request, in seconds [default: 300].
    #[arg(long)]
    timeout: Option<u64>,
    /// State folder (OHTTP key seed, spent tokens). Default: ~/.plexus/provider/HOTKEY.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Seconds between settlement rounds of redeemed credit tokens [default: 10].
    #[arg(long)]
    settle_secs: Option<u64>,
}

/// Everything `plexus provider` runs with: defaults < `--config` file < environment
/// < flags.
#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ProviderFileConfig {
    /// The node this service reads the chain from (`--node` and `PLEXUS_NODE` win).
    node: Option<String>,
    model: Option<String>,
    embeddings: Option<String>,
    no_embeddings: bool,
    upstream: Option<String>,
    upstream_model: Option<String>,
    weights_hash: Option<Hash>,
    upstream_context: u32,
    listen: SocketAddr,
    public_url: Option<String>,
    api_listen: Option<SocketAddr>,
    api_key: Option<String>,
    netuid: Option<Netuid>,
    name: String,
    hotkey: String,
    operator: String,
    threads: u32,
    slots: u32,
    context: Option<u32>,
    queue: usize,
    timeout: u64,
    data_dir: Option<PathBuf>,
    settle_secs: u64,
    /// Seconds a registration or settlement transaction may take to be finalized.
    tx_timeout_secs: u64,
    /// Largest request body accepted, in bytes.
    max_body_bytes: usize,
    /// Largest `max_tokens` accepted (also capped by the model's context).
    max_tokens: u32,
    /// `max_tokens` of a chat request that names none.
    default_chat_max_tokens: u32,
}

impl Default for ProviderFileConfig {
    fn default() -> Self {
        let provider = ProviderConfig::default();
        Self {
            node: None,
            model: None,
            embeddings: None,
            no_embeddings: false,
            upstream: None,
            upstream_model: None,
            weights_hash: None,
            upstream_context: 4096,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            api_listen: None,
            api_key: None,
            netuid: None,
            name: "default".into(),
            hotkey: "default".into(),
            operator: "plexus".into(),
            threads: 1,
            slots: 1,
            context: None,
            queue: 64,
            timeout: 300,
            data_dir: None,
            settle_secs: 10,
            tx_timeout_secs: DEFAULT_TX_TIMEOUT.as_secs(),
            max_body_bytes: provider.max_body_bytes,
            max_tokens: provider.max_tokens,
            default_chat_max_tokens: provider.default_chat_max_tokens,
        }
    }
}

/// Default context per slot: SmolLM2 trains on 8192, but 4096 halves the KV cache.
const DEFAULT_CONTEXT: u32 = 4096;

#[allow(clippy::needless_pass_by_value)] // clap hands the flags over by value
pub(crate) async fn run(ctx: &Context, flags: ProviderArgs) -> anyhow::Result<()> {
    let args: ProviderFileConfig = flags.config.resolve(&flags)?;
    if flags.config.printed(&args)? {
        return Ok(());
    }
    let ctx = &ctx.with_node(args.node.as_deref());
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

async fn load_engine(args: &ProviderFileConfig) -> anyhow::Result<Arc<dyn Engine>> {
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

async fn load_embedder(args: &ProviderFileConfig) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
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
    args: ProviderFileConfig,
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
    args: &ProviderFileConfig,
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
            tx_timeout: Duration::from_secs(args.tx_timeout_secs),
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
            max_body_bytes: args.max_body_bytes,
            max_tokens: args.max_tokens,
            default_chat_max_tokens: args.default_chat_max_tokens,
        },
        on_chain,
        api: plexus_provider::ApiAccess {
            listen: args.api_listen,
            key: args.api_key.clone(),
        },
        gateway: plexus_provider::private::GatewayLimits::default(),
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
    let local = service
        .api_addr()
        .map_or_else(|| "(not served)".to_owned(), |a| a.to_string());
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
