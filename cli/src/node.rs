//! `plexus node`: run a validator node and serve its HTTP API.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context as _;
use clap::Args;
use plexus_api::ApiConfig;
use plexus_ledger::Genesis;
use plexus_node::{ApiOptions, MempoolConfig, NodeConfig, ServeError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{config::ConfigArgs, context::Context, output};

/// Where the node keeps its key, genesis, state and consensus journals by default.
const DEFAULT_DIR_IN_HOME: &str = ".plexus/node";

/// Flags of `plexus node` (each also a key of its `--config` file).
#[derive(Debug, Args, Serialize)]
pub(crate) struct NodeArgs {
    #[command(flatten)]
    #[serde(skip)]
    config: ConfigArgs,
    /// Data folder (key, genesis, state, consensus journals). Default: ~/.plexus/node.
    #[arg(long, env = "PLEXUS_NODE_DIR")]
    dir: Option<PathBuf>,
    /// A genesis file (JSON). Without one, the genesis saved in the data folder is used,
    /// or a new one-validator development genesis on 127.0.0.1.
    #[arg(long)]
    genesis: Option<PathBuf>,
    /// Where to serve the HTTP API (loopback by default) [default: 127.0.0.1:7070].
    #[arg(long)]
    api: Option<SocketAddr>,
    /// The p2p listen address (default: this validator's address in the genesis).
    #[arg(long)]
    p2p: Option<SocketAddr>,
    /// The dataset store whose published datasets, training halves and score reports
    /// the API serves (checked against the chain): a directory, file:///path or
    /// s3://bucket/prefix. Default: $PLEXUS_HOME/datasets, else ~/.plexus/datasets.
    #[arg(long, env = "PLEXUS_DATA_STORE")]
    data_store: Option<String>,
    /// Serve no dataset store.
    #[arg(long, conflicts_with = "data_store")]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    no_data_store: bool,
    /// Serve a development chain (its faucet key is published) on a non-loopback
    /// `--api` address anyway.
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dev: bool,
    /// Print this node's validator public key (creating the key if needed) and exit.
    #[arg(long)]
    #[serde(skip)]
    show_key: bool,
}

/// Everything `plexus node` runs with: defaults < `--config` file < environment <
/// flags.
#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct NodeFileConfig {
    dir: Option<PathBuf>,
    genesis: Option<PathBuf>,
    api: SocketAddr,
    p2p: Option<SocketAddr>,
    data_store: Option<String>,
    no_data_store: bool,
    /// Serve a development chain on a non-loopback API address anyway.
    dev: bool,
    /// Most transactions in a block this node proposes.
    max_block_txs: usize,
    /// The mempool's bounds.
    mempool: MempoolConfig,
    /// The HTTP API's limits.
    api_limits: ApiLimits,
}

impl Default for NodeFileConfig {
    fn default() -> Self {
        Self {
            dir: None,
            genesis: None,
            api: SocketAddr::from(([127, 0, 0, 1], 7070)),
            p2p: None,
            data_store: None,
            no_data_store: false,
            dev: false,
            max_block_txs: plexus_node::DEFAULT_MAX_BLOCK_TXS,
            mempool: MempoolConfig::default(),
            api_limits: ApiLimits::default(),
        }
    }
}

/// `[api_limits]`: [`ApiConfig`]'s limits as configuration keys.
#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ApiLimits {
    body_limit_bytes: usize,
    request_timeout_secs: u64,
    max_streams: usize,
    max_connections: usize,
    header_timeout_secs: u64,
}

impl Default for ApiLimits {
    fn default() -> Self {
        let a = ApiConfig::default();
        Self {
            body_limit_bytes: a.body_limit,
            request_timeout_secs: a.request_timeout.as_secs(),
            max_streams: a.max_streams,
            max_connections: a.max_connections,
            header_timeout_secs: a.header_timeout.as_secs(),
        }
    }
}

impl NodeFileConfig {
    fn api_limits(&self) -> ApiConfig {
        let a = &self.api_limits;
        ApiConfig {
            body_limit: a.body_limit_bytes,
            request_timeout: Duration::from_secs(a.request_timeout_secs),
            max_streams: a.max_streams,
            max_connections: a.max_connections,
            header_timeout: Duration::from_secs(a.header_timeout_secs),
            ..ApiConfig::default()
        }
    }
}

#[allow(clippy::needless_pass_by_value)] // clap hands the flags over by value
pub(crate) fn run(ctx: &Context, flags: NodeArgs) -> anyhow::Result<()> {
    let args: NodeFileConfig = flags.config.resolve(&flags)?;
    if flags.config.printed(&args)? {
        return Ok(());
    }
    let (dir, mut config) = load_config(args.dir.clone(), args.genesis.as_deref(), args.p2p)?;
    config.mempool = args.mempool;
    config.max_block_txs = args.max_block_txs;
    if flags.show_key {
        output::print(
            ctx,
            &json!({ "public_key": config.key.account(), "p2p": config.listen }),
            || format!("{}\np2p {}", config.key.account(), config.listen),
        );
        return Ok(());
    }
    let data_files = if args.no_data_store {
        None
    } else {
        Some(crate::data::open_store(ctx, args.data_store.as_deref())?)
    };
    init_logging();
    let api = args.api;
    let faucet = config.genesis.params.faucet;
    let summary = json!({
        "chain_id": config.genesis.chain_id,
        "validator": config.key.account(),
        "validators": config.genesis.validators.len(),
        "p2p": config.listen,
        "api": format!("http://{api}"),
        "dir": dir,
        "faucet": faucet,
        "data_store": data_files.as_ref().map(|s| s.describe().to_string()),
    });
    let options = ApiOptions {
        listen: api,
        data_files: data_files.map(|store| -> Arc<dyn plexus_api::DataFiles> {
            Arc::new(crate::data::StoreFiles(store))
        }),
        limits: args.api_limits(),
        dev: args.dev,
    };
    let json_mode = ctx.json;
    let on_listening = move |_| print_running(json_mode, &summary);
    plexus_node::serve_api(config, options, on_listening, shutdown_signal()).map_err(|error| {
        match error {
            ServeError::Bind { addr, source } => anyhow::Error::new(source).context(format!(
                "cannot serve the API on {addr}: is another node running? pass --api 127.0.0.1:PORT"
            )),
            other => other.into(),
        }
    })
}

/// The data folder and the node's configuration, as `--dir`, `--genesis` and `--p2p`
/// say.
fn load_config(
    dir: Option<PathBuf>,
    genesis: Option<&std::path::Path>,
    p2p: Option<SocketAddr>,
) -> anyhow::Result<(PathBuf, NodeConfig)> {
    let dir = match dir {
        Some(dir) => dir,
        None => std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(DEFAULT_DIR_IN_HOME))
            .context("no home folder: pass --dir")?,
    };
    let genesis = match genesis {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(
                Genesis::from_json(&text)
                    .with_context(|| format!("{} is not a valid genesis", path.display()))?,
            )
        }
        None => None,
    };
    let mut config = NodeConfig::load(&dir, genesis)?;
    if let Some(p2p) = p2p {
        config.listen = p2p;
    }
    Ok((dir, config))
}

/// What a node that serves prints: `summary` as JSON, or as text.
fn print_running(json_mode: bool, summary: &serde_json::Value) {
    if json_mode {
        println!("{summary}");
        return;
    }
    println!(
        "Plexus node running: chain {} with {} validator(s)\n  API       {}/v1  (OpenAPI at /openapi.json, metrics at /metrics)\n  p2p       {}\n  data      {}\n  datasets  {}\n{}Stop with Ctrl-C.",
        summary["chain_id"],
        summary["validators"],
        summary["api"].as_str().unwrap_or_default(),
        summary["p2p"].as_str().unwrap_or_default(),
        summary["dir"].as_str().unwrap_or_default(),
        summary["data_store"].as_str().unwrap_or("none served"),
        summary["faucet"]
            .as_str()
            .map_or(String::new(), |f| format!(
                "  faucet    {f} (development only: `plexus wallet faucet`)\n"
            )),
    );
}

/// A service's listen address could not be bound: say which flag picks another.
pub(crate) fn cannot_listen(addr: SocketAddr, source: std::io::Error) -> anyhow::Error {
    anyhow::Error::new(source).context(format!(
        "cannot listen on {addr}: pass --listen 127.0.0.1:PORT"
    ))
}

/// Resolves on SIGINT or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PLEXUS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,plexus=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
