//! Serve an HTTP router with a header timeout, a connection cap, idle-connection eviction and body limits.
//!
//! `axum::serve` has no header timeout and no connection cap: a slow-loris client
//! that opens connections and never finishes a request holds them (and their file
//! descriptors) for ever. [`serve`] is the one loop every Plexus listener uses (node
//! API, relay, issuer, provider):
//!
//! - each connection speaks HTTP/1.1 and must send a request's headers within
//!   [`Limits::header_timeout`], which also closes connections idle that long between
//!   requests;
//! - at most [`Limits::max_connections`] are open at once; when all are taken, the
//!   connection idle the longest (no request in progress, no response streaming) is
//!   closed to make room, so idle connections can never keep a real request out;
//!   only connections that are all busy make new ones wait;
//! - one peer (IPv4 address, IPv6 /64) holds at most
//!   [`Limits::max_connections_per_peer`] of them, so one host cannot take the slots
//!   of everyone else (loopback peers, such as a local reverse proxy, are exempt);
//! - request bodies are cut at [`Limits::body_limit`] bytes (413) and, when
//!   [`Limits::body_timeout`] is set, must arrive within it;
//! - every request carries the peer address as axum's `ConnectInfo<SocketAddr>`.
//!
//! On shutdown the loop stops accepting, runs the caller's hook (to end long-lived
//! streams), lets requests in flight finish and returns once every connection closed.
//!
//! The other plumbing every service shares lives here too: [`settings`] (one settings
//! struct per service, layered defaults < `--config` TOML file < environment < flags),
//! [`health`] (`/healthz` and `/readyz`) and [`shutdown_signal`].
//!
//! Owns the service plumbing. May not depend on the node, an engine or any service
//! crate: services depend on it.

mod body;
pub mod health;
pub mod settings;
mod table;

use std::{
    convert::Infallible,
    io,
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{Router, body::Body, extract::ConnectInfo};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt as _;

use crate::{body::Guarded, table::Table};

/// How much a listener gives each client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time a connection has to send a request's headers (and most time it may sit
    /// idle between requests).
    pub header_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
    /// Most connections one peer (an IPv4 address, an IPv6 /64) holds at once; more
    /// are closed as they arrive. 0: no limit. Loopback peers are never limited (a
    /// local reverse proxy is one peer for every client).
    pub max_connections_per_peer: usize,
    /// Largest request body, in bytes (routes may set tighter limits).
    pub body_limit: usize,
    /// Time a request's body has to arrive after its headers; none for routes that
    /// enforce their own.
    pub body_timeout: Option<Duration>,
}

/// Default [`Limits::header_timeout`].
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`Limits::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default [`Limits::max_connections_per_peer`].
pub const DEFAULT_MAX_CONNECTIONS_PER_PEER: usize = 64;
/// Default [`Limits::body_limit`].
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;
/// Default [`Limits::body_timeout`].
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_peer: DEFAULT_MAX_CONNECTIONS_PER_PEER,
            body_limit: DEFAULT_BODY_LIMIT,
            body_timeout: Some(DEFAULT_BODY_TIMEOUT),
        }
    }
}

/// Serve `app` on `listener` within `limits` until `shutdown` resolves; then stop
/// accepting, let in-flight requests finish, and return.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_with(listener, app, limits, shutdown, || {}).await
}

/// [`serve`], running `closing` once it stops accepting and before it waits for the
/// open connections (to end streams that would otherwise never finish).
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
    closing: impl FnOnce(),
) -> io::Result<()> {
    let app = app.layer(tower_http::limit::RequestBodyLimitLayer::new(
        limits.body_limit,
    ));
    let max = limits.max_connections.clamp(1, MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(max));
    let table = Arc::new(Table::default());
    let (stopping, stopped) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let peer_key = table::peer_key(peer.ip());
        let per_peer = limits.max_connections_per_peer;
        if !table.admit_peer(peer_key, per_peer) {
            // Over its share: closed at once, before it can take a slot.
            drop(stream);
            continue;
        }
        let slot = match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                // Full: close the connection idle the longest, if any, and take its slot.
                if table.evict_idlest() {
                    tracing::debug!("serve: all connection slots taken; closed the idlest");
                }
                tokio::select! {
                    slot = Arc::clone(&slots).acquire_owned() => slot.map_err(io::Error::other)?,
                    () = &mut shutdown => {
                        table.release_peer(peer_key, per_peer);
                        break;
                    }
                }
            }
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "serve: could not set TCP_NODELAY");
        }
        let (id, entry) = table.insert();
        let service = connection_service(app.clone(), peer, Arc::clone(&entry), limits);
        let mut stopped = stopped.clone();
        let table = Arc::clone(&table);
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = signalled(&mut stopped) => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
                // Idle (nothing in progress): dropped at once. A graceful shutdown
                // would wait for a half-sent request head until the header timeout.
                () = entry.evicted() => Ok(()),
            };
            table.remove(id);
            table.release_peer(peer_key, per_peer);
            if let Err(e) = result {
                tracing::debug!(error = %e, "serve: connection ended with an error");
            }
        });
    }
    closing();
    stopping.send_replace(true);
    // Every connection holds a slot until it ends: having them all back means done.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let _all = slots.acquire_many(all).await.map_err(io::Error::other)?;
    Ok(())
}

/// The service of one connection: `app` with the peer address, the body guards, and
/// the connection marked busy from a request's head to the end of its response.
fn connection_service(
    app: Router,
    peer: SocketAddr,
    entry: Arc<table::Entry>,
    limits: Limits,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future = impl Future<Output = Result<axum::response::Response, Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let busy = entry.begin();
        let app = app.clone();
        async move {
            let deadline = limits.body_timeout.map(|t| Instant::now() + t);
            let mut request = request.map(|b| Body::new(Guarded::request(Body::new(b), deadline)));
            request.extensions_mut().insert(ConnectInfo(peer));
            let response = app.oneshot(request).await?;
            Ok(response.map(|b| Body::new(Guarded::response(b, busy))))
        }
    })
}

/// Resolves once `stopped` turns true (or its sender is gone).
async fn signalled(stopped: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: drop it here, not across an await.
    let _ = stopped.wait_for(|s| *s).await.map(|_| ());
}

/// Most connection slots a semaphore can hold in one acquisition.
const MAX_PERMITS: usize = u32::MAX as usize;

/// Errors accepting one connection are the peer's problem; others (out of file
/// descriptors) get a pause so the loop does not spin.
async fn accept_failed(error: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(%error, "serve: accepting a connection failed; pausing for a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Resolves on SIGINT or SIGTERM: the shutdown signal of every service process.
pub async fn shutdown_signal() {
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
