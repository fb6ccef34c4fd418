//! `plexus node`: run a validator node and serve its HTTP API.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::Context as _;
use clap::Args;
use plexus_api::{ApiState, Backend};
use plexus_ledger::Genesis;
use plexus_node::{NodeConfig, NodeHandle};
use plexus_types::{Hash, SignedTransaction};
use serde_json::json;
use tokio::sync::broadcast;

use crate::{context::Context, output};

/// Where the node keeps its key, genesis, state and consensus journals by default.
const DEFAULT_DIR_IN_HOME: &str = ".plexus/node";

/// Flags of `plexus node`.
#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    /// Data folder (key, genesis, state, consensus journals). Default: ~/.plexus/node.
    #[arg(long, env = "PLEXUS_NODE_DIR")]
    dir: Option<PathBuf>,
    /// A genesis file (JSON). Without one, the genesis saved in the data folder is used,
    /// or a new one-validator development genesis on 127.0.0.1.
    #[arg(long)]
    genesis: Option<PathBuf>,
    /// Where to serve the HTTP API (loopback by default).
    #[arg(long, default_value = "127.0.0.1:7070")]
    api: SocketAddr,
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
    no_data_store: bool,
    /// Print this node's validator public key (creating the key if needed) and exit.
    #[arg(long)]
    show_key: bool,
}

pub(crate) fn run(ctx: &Context, args: NodeArgs) -> anyhow::Result<()> {
    let dir = match args.dir {
        Some(dir) => dir,
        None => std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(DEFAULT_DIR_IN_HOME))
            .context("no home folder: pass --dir")?,
    };
    let genesis = match &args.genesis {
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
    if let Some(p2p) = args.p2p {
        config.listen = p2p;
    }
    if args.show_key {
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
    let json_mode = ctx.json;
    let (failed_tx, mut failed_rx) = tokio::sync::oneshot::channel::<anyhow::Error>();
    plexus_node::run_blocking(config, move |handle| async move {
        let listener = match tokio::net::TcpListener::bind(api).await {
            Ok(listener) => listener,
            Err(error) => {
                let _ = failed_tx.send(anyhow::Error::new(error).context(format!(
                    "cannot serve the API on {api}: is another node running? pass --api 127.0.0.1:PORT"
                )));
                return;
            }
        };
        if json_mode {
            println!("{summary}");
        } else {
            println!(
                "Plexus node running: chain {} with {} validator(s)\n  API       http://{api}/v1  (OpenAPI at /openapi.json, metrics at /metrics)\n  p2p       {}\n  data      {}\n  datasets  {}\n{}Stop with Ctrl-C.",
                summary["chain_id"],
                summary["validators"],
                summary["p2p"].as_str().unwrap_or_default(),
                summary["dir"].as_str().unwrap_or_default(),
                summary["data_store"].as_str().unwrap_or("none served"),
                faucet.map_or(String::new(), |f| format!(
                    "  faucet    {f} (development only: `plexus wallet faucet`)\n"
                )),
            );
        }
        let mut state = ApiState::new(NodeBackend(handle));
        if let Some(store) = data_files {
            state = state.with_data_files(Arc::new(crate::data::StoreFiles(store)));
        }
        if let Err(error) = plexus_api::serve(listener, state, shutdown_signal()).await {
            let _ = failed_tx.send(anyhow::Error::new(error).context("the API server failed"));
        }
    })?;
    if let Ok(error) = failed_rx.try_recv() {
        return Err(error);
    }
    Ok(())
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

/// The node, as the API sees it.
struct NodeBackend(NodeHandle);

impl Backend for NodeBackend {
    fn store(&self) -> Arc<plexus_storage::Store> {
        self.0.store()
    }

    fn submit(&self, tx: SignedTransaction) -> Result<Hash, plexus_api::SubmitError> {
        self.0.submit(tx).map_err(submit_error)
    }

    fn subscribe(&self) -> broadcast::Receiver<plexus_api::FinalizedBlock> {
        self.0.subscribe()
    }

    fn status(&self) -> plexus_api::NodeStatus {
        let s = self.0.status();
        plexus_api::NodeStatus {
            finalized_height: s.finalized_height,
            view: s.view,
            tip_height: s.tip_height,
            peers: s.peers,
            validators: s.validators,
            mempool_size: s.mempool_size,
            halted: s.halted,
        }
    }

    fn metrics(&self) -> String {
        self.0.metrics()
    }

    fn finalization(
        &self,
        height: u64,
    ) -> futures::future::BoxFuture<'static, Option<plexus_types::finality::FinalityCertificate>>
    {
        let handle = self.0.clone();
        Box::pin(async move { handle.finalization(height).await })
    }
}

/// The API's view of a mempool refusal.
fn submit_error(error: plexus_node::MempoolError) -> plexus_api::SubmitError {
    use plexus_api::SubmitError as S;
    use plexus_node::MempoolError as M;
    match error {
        M::Rejected(e) => S::Rejected(e),
        M::State(reason) => S::Unavailable(reason),
        M::Duplicate(hash) => S::Duplicate(hash),
        M::Full(n) => S::PoolFull(n),
        M::SenderFull(n) => S::SenderFull(n),
        M::NonceTooLow { nonce, expected } => {
            S::Rejected(plexus_ledger::TxError::StaleNonce { nonce, expected })
        }
        M::NonceTooFarAhead {
            nonce,
            expected,
            max_gap,
        } => S::NonceTooFarAhead {
            nonce,
            expected,
            max_gap,
        },
        M::FeeTooLowToReplace { min_fee } => S::ReplacementUnderpriced { min_fee },
        M::TooLarge(n) => S::TooLarge(n),
    }
}
