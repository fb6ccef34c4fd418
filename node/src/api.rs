//! The node behind its HTTP API: [`NodeHandle`] is the API's [`Backend`], and
//! [`serve_api`] runs a node and serves its API until asked to stop.

use std::{future::Future, net::SocketAddr, sync::Arc};

use futures::future::BoxFuture;
use plexus_api::{ApiConfig, ApiState, Backend, DataFiles, SubmitError};
use plexus_storage::Store;
use plexus_types::{Hash, SignedTransaction, finality::FinalityCertificate};
use thiserror::Error;
use tokio::sync::{broadcast, oneshot};

use crate::{FinalizedBlock, MempoolError, NodeConfig, NodeError, NodeHandle, NodeStatus};

impl From<MempoolError> for SubmitError {
    /// The API's view of a mempool refusal.
    fn from(error: MempoolError) -> Self {
        use MempoolError as M;
        match error {
            M::Rejected(e) => SubmitError::Rejected(e),
            M::State(reason) => SubmitError::Unavailable(reason),
            M::Duplicate(hash) => SubmitError::Duplicate(hash),
            M::Full(n) => SubmitError::PoolFull(n),
            M::SenderFull(n) => SubmitError::SenderFull(n),
            M::NonceTooLow { nonce, expected } => {
                SubmitError::Rejected(plexus_ledger::TxError::StaleNonce { nonce, expected })
            }
            M::NonceTooFarAhead {
                nonce,
                expected,
                max_gap,
            } => SubmitError::NonceTooFarAhead {
                nonce,
                expected,
                max_gap,
            },
            M::FeeTooLowToReplace { min_fee } => SubmitError::ReplacementUnderpriced { min_fee },
            M::TooLarge(n) => SubmitError::TooLarge(n),
        }
    }
}

/// The node, as the API sees it.
impl Backend for NodeHandle {
    fn store(&self) -> Arc<Store> {
        NodeHandle::store(self)
    }

    fn submit(&self, tx: SignedTransaction) -> Result<Hash, SubmitError> {
        NodeHandle::submit(self, tx).map_err(SubmitError::from)
    }

    fn subscribe(&self) -> broadcast::Receiver<FinalizedBlock> {
        NodeHandle::subscribe(self)
    }

    fn status(&self) -> NodeStatus {
        NodeHandle::status(self)
    }

    fn metrics(&self) -> String {
        NodeHandle::metrics(self)
    }

    fn readiness(&self) -> Result<(), String> {
        NodeHandle::readiness(self)
    }

    fn finalization(&self, height: u64) -> BoxFuture<'static, Option<FinalityCertificate>> {
        let handle = self.clone();
        Box::pin(async move { handle.finalization(height).await })
    }

    fn finalization_raw(&self, height: u64) -> BoxFuture<'static, Option<Vec<u8>>> {
        let handle = self.clone();
        Box::pin(async move { handle.finalization_raw(height).await })
    }
}

/// What [`serve_api`] serves besides the chain.
#[derive(Clone)]
pub struct ApiOptions {
    /// Where to serve the HTTP API.
    pub listen: SocketAddr,
    /// The dataset store whose files the API serves, if any.
    pub data_files: Option<Arc<dyn DataFiles>>,
    /// The API's limits (body size, timeouts, streams, connections, CORS).
    pub limits: ApiConfig,
    /// Serve a chain whose faucet is the published development key on a non-loopback
    /// address anyway (`plexus node --dev`): anyone who reaches it can drain the faucet.
    pub dev: bool,
    /// A second listener serving only `/metrics` and `/healthz`, for a scraper on a
    /// private network.
    pub metrics: Option<SocketAddr>,
}

impl std::fmt::Debug for ApiOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiOptions")
            .field("listen", &self.listen)
            .field("data_files", &self.data_files.is_some())
            .field("dev", &self.dev)
            .finish()
    }
}

/// Why [`serve_api`] failed.
#[derive(Debug, Error)]
pub enum ServeError {
    /// The node could not start, or its runtime failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// The API's address could not be bound.
    #[error("cannot serve the API on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
    /// The API server stopped with an error.
    #[error("the API server failed")]
    Serve(#[source] std::io::Error),
    /// The node halted (a finalized block could not be committed); the process
    /// stops so a supervisor sees it, with the reason.
    #[error("the node halted: {0}")]
    Halted(String),
    /// The chain's faucet is the published development key and the API would be
    /// reachable beyond this machine.
    #[error(
        "refusing to serve a development chain on {0}: its faucet key is published, so anyone who reaches the API can drain it; bind the API to loopback, start from a real genesis (--genesis), or pass --dev to accept this"
    )]
    PublishedFaucetExposed(SocketAddr),
}

/// Refuse to serve a chain whose faucet is the published development key
/// ([`plexus_ledger::genesis::dev_faucet`]) beyond loopback, unless `dev` says so.
fn check_exposure(config: &NodeConfig, options: &ApiOptions) -> Result<(), ServeError> {
    let published = plexus_ledger::genesis::dev_faucet().account();
    let faucet_published = config.genesis.params.faucet == Some(published);
    if faucet_published && !options.listen.ip().is_loopback() && !options.dev {
        return Err(ServeError::PublishedFaucetExposed(options.listen));
    }
    Ok(())
}

/// Run a node from `config` on commonware's tokio runtime (blocking the calling
/// thread) and serve its HTTP API as `options` say, until `shutdown` resolves; then
/// stop the node. `on_listening` is called with the API's bound address once it is
/// bound, before the first request is served (to tell the operator where it is).
pub fn serve_api<L, S>(
    config: NodeConfig,
    options: ApiOptions,
    on_listening: L,
    shutdown: S,
) -> Result<(), ServeError>
where
    L: FnOnce(SocketAddr) + Send + 'static,
    S: Future<Output = ()> + Send + 'static,
{
    check_exposure(&config, &options)?;
    let (failed_tx, mut failed_rx) = oneshot::channel::<ServeError>();
    crate::run_blocking(config, move |handle| async move {
        if let Err(error) = serve(handle, options, on_listening, shutdown).await {
            let _ = failed_tx.send(error);
        }
    })?;
    match failed_rx.try_recv() {
        Ok(error) => Err(error),
        Err(_) => Ok(()),
    }
}

/// Bind the API's listener and serve `handle` on it until `shutdown` resolves.
async fn serve<L, S>(
    handle: NodeHandle,
    options: ApiOptions,
    on_listening: L,
    shutdown: S,
) -> Result<(), ServeError>
where
    L: FnOnce(SocketAddr),
    S: Future<Output = ()> + Send + 'static,
{
    let addr = options.listen;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    let metrics = match options.metrics {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| ServeError::Bind { addr, source })?,
        ),
        None => None,
    };
    on_listening(local);
    if let Some(listener) = metrics {
        let handle = handle.clone();
        let router = axum::Router::new()
            .route(
                "/metrics",
                axum::routing::get(move || {
                    let handle = handle.clone();
                    async move { handle.metrics() }
                }),
            )
            .merge(plexus_serve::health::routes(Arc::new(|| Ok(()))));
        let limits = plexus_serve::Limits {
            header_timeout: options.limits.header_timeout,
            max_connections: 64,
            max_connections_per_peer: plexus_serve::DEFAULT_MAX_CONNECTIONS_PER_PEER,
            body_limit: 1024,
            body_timeout: None,
        };
        tokio::spawn(plexus_serve::serve(
            listener,
            router,
            limits,
            std::future::pending(),
        ));
    }
    let halted = Arc::new(std::sync::Mutex::new(None));
    let stop = {
        let (handle, halted) = (handle.clone(), halted.clone());
        async move {
            tokio::select! {
                () = shutdown => {}
                reason = until_halted(&handle) => {
                    *halted.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reason);
                }
            }
        }
    };
    let mut state = ApiState::with_config(Arc::new(handle), options.limits);
    if let Some(files) = options.data_files {
        state = state.with_data_files(files);
    }
    plexus_api::serve(listener, state, stop)
        .await
        .map_err(ServeError::Serve)?;
    let reason = halted
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    match reason {
        Some(reason) => Err(ServeError::Halted(reason)),
        None => Ok(()),
    }
}

/// How often the API checks whether the node halted.
const HALT_POLL: std::time::Duration = std::time::Duration::from_millis(250);

/// Resolve with the reason once the node halts.
async fn until_halted(handle: &NodeHandle) -> String {
    loop {
        if let Some(reason) = handle.status().halted {
            return reason;
        }
        tokio::time::sleep(HALT_POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use std::{
        io::{Read as _, Write as _},
        net::TcpStream,
        sync::mpsc,
        time::Duration,
    };

    use super::*;

    /// A development node in `dir` with its p2p on a free loopback port.
    fn config(dir: &std::path::Path) -> NodeConfig {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut config = NodeConfig::load(dir, None).expect("config loads");
        config.p2p.listen = ([127, 0, 0, 1], port).into();
        config
    }

    /// `GET path` over a plain socket; the body of the answer.
    fn get(addr: SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
        )
        .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        answer
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default()
    }

    /// 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this machine, so
    /// nothing is served beyond loopback even where the refusal is missing.
    #[test]
    fn a_published_faucet_key_is_never_served_beyond_loopback_without_dev() {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = ApiOptions {
            listen: "192.0.2.1:7070".parse().expect("address"),
            data_files: None,
            limits: ApiConfig::default(),
            dev: false,
            metrics: None,
        };
        let refused = serve_api(config(dir.path()), options.clone(), |_| {}, async {});
        assert!(
            matches!(refused, Err(ServeError::PublishedFaucetExposed(_))),
            "{refused:?}"
        );
        let loopback = ApiOptions {
            listen: "127.0.0.1:7070".parse().expect("address"),
            ..options.clone()
        };
        assert!(check_exposure(&config(dir.path()), &loopback).is_ok());
        let dev = ApiOptions {
            dev: true,
            ..options
        };
        assert!(check_exposure(&config(dir.path()), &dev).is_ok());
        let mut real = config(dir.path());
        real.genesis.params.faucet =
            Some(plexus_types::Keypair::from_label("a real faucet").account());
        assert!(check_exposure(&real, &dev).is_ok());
    }

    #[test]
    fn serve_api_serves_the_nodes_status_until_shut_down() {
        let dir = tempfile::tempdir().expect("temp dir");
        let metrics = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port");
        let options = ApiOptions {
            listen: "127.0.0.1:0".parse().expect("address"),
            data_files: None,
            limits: ApiConfig::default(),
            dev: false,
            metrics: Some(metrics),
        };
        let (listening, bound) = mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let node = std::thread::spawn(move || {
            serve_api(
                config(dir.path()),
                options,
                move |addr| listening.send(addr).expect("test waits"),
                async {
                    let _ = stopped.await;
                },
            )
        });
        let addr = bound.recv_timeout(Duration::from_secs(30)).expect("bound");
        let status: plexus_api::wire::Status =
            serde_json::from_str(&get(addr, "/v1/status")).expect("a status");
        assert_eq!(status.node.validators, 1);
        assert_eq!(status.node.halted, None);
        let scraped = get(metrics, "/metrics");
        assert!(scraped.contains("plexus_finalized_height"), "{scraped}");
        assert!(get(metrics, "/healthz").contains("ok"));
        stop.send(()).expect("node runs");
        node.join().expect("no panic").expect("a clean stop");
    }

    #[test]
    fn a_node_that_halts_stops_serving_and_reports_why() {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = ApiOptions {
            listen: "127.0.0.1:0".parse().expect("address"),
            data_files: None,
            limits: ApiConfig::default(),
            dev: false,
            metrics: None,
        };
        let (failed_tx, failed_rx) = mpsc::channel();
        crate::run_blocking(config(dir.path()), move |handle| async move {
            let halting = handle.clone();
            let on_listening = move |_| {
                halting
                    .inner
                    .status
                    .set_halted("block 7 does not commit: state root differs".into());
            };
            let result = serve(handle, options, on_listening, std::future::pending()).await;
            failed_tx.send(result).expect("test waits");
        })
        .expect("the node runs");
        let result = failed_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("stopped");
        assert!(
            matches!(&result, Err(ServeError::Halted(reason)) if reason.contains("state root differs")),
            "{result:?}"
        );
    }

    #[test]
    fn an_api_address_in_use_is_a_bind_error_and_the_node_stops() {
        let dir = tempfile::tempdir().expect("temp dir");
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let in_use = taken.local_addr().expect("address");
        let options = ApiOptions {
            listen: in_use,
            data_files: None,
            limits: ApiConfig::default(),
            dev: false,
            metrics: None,
        };
        let result = serve_api(
            config(dir.path()),
            options,
            |_| panic!("never bound"),
            std::future::pending(),
        );
        assert!(
            matches!(result, Err(ServeError::Bind { addr, .. }) if addr == in_use),
            "{result:?}"
        );
    }
}
