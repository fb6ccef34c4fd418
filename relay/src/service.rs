//! A whole relay process in one value: bind, list the gateways registered on chain
//! (providers and issuers), serve, and keep the list fresh.
//!
//! [`RelayService::start`] binds and does the first refresh (a node that cannot be
//! reached yet is reported, not fatal); [`RelayService::run`] serves until a shutdown
//! future resolves and refreshes the directory every period meanwhile.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use plexus_client::Client;
use thiserror::Error;
use tokio::net::TcpListener;

use crate::{
    ChainTargets, IssuerTargets, RefreshReport, Refresher, Relay, RelayConfig, StartError,
    serve_within,
};

/// How a relay process serves.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Where to serve the relay.
    pub listen: SocketAddr,
    /// How the relay forwards (rate limit, private targets, timeouts).
    pub relay: RelayConfig,
    /// The node the registered gateways are read from.
    pub node: Client,
    /// Time between two reads of the registered gateways (at least a second).
    pub refresh_every: Duration,
    /// Browser origins allowed to call the relay ([`crate::cors`]).
    pub allow_origins: Vec<String>,
}

/// Why a relay could not start or stopped with an error.
#[derive(Debug, Error)]
pub enum ServiceError {
    /// The relay's configuration is unusable.
    #[error("cannot set up the relay")]
    Setup(#[source] StartError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server stopped with an error.
    #[error("the relay's server failed")]
    Serve(#[source] std::io::Error),
}

/// A started relay: bound, its directory filled once, not serving yet.
#[derive(Debug)]
pub struct RelayService {
    listener: TcpListener,
    local: SocketAddr,
    relay: Relay,
    refresher: Refresher,
    first: RefreshReport,
    every: Duration,
    origins: Vec<String>,
    limits: plexus_serve::Limits,
}

impl RelayService {
    /// Set the relay up, bind `config.listen` and read the registered gateways once.
    pub async fn start(config: ServiceConfig) -> Result<Self, ServiceError> {
        let relay = Relay::new(config.relay).map_err(ServiceError::Setup)?;
        let addr = config.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServiceError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| ServiceError::Bind { addr, source })?;
        let chain = Arc::new(ChainTargets::new(config.node.clone()));
        let issuers = Arc::new(IssuerTargets::new(config.node));
        let mut refresher = Refresher::new(&relay, chain).with_source(issuers);
        let first = refresher.refresh(&relay).await;
        Ok(Self {
            listener,
            local,
            relay,
            refresher,
            first,
            every: config.refresh_every.max(Duration::from_secs(1)),
            origins: config.allow_origins,
            limits: crate::default_limits(),
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Serve within `limits` (default [`crate::default_limits`]).
    pub fn with_limits(mut self, limits: plexus_serve::Limits) -> Self {
        self.limits = limits;
        self
    }

    /// What the first refresh found.
    pub fn first_refresh(&self) -> &RefreshReport {
        &self.first
    }

    /// Serve until `shutdown` resolves (open responses finish first), refreshing the
    /// directory every period, the first one period after [`RelayService::start`]'s.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServiceError> {
        let (every, refresher, relay) = (self.every, self.refresher, self.relay.clone());
        let refreshing = tokio::spawn(async move {
            tokio::time::sleep(every).await;
            refresher.run(relay, every).await;
        });
        let served = serve_within(
            self.listener,
            self.relay,
            &self.origins,
            self.limits,
            shutdown,
        )
        .await;
        refreshing.abort();
        served.map_err(ServiceError::Serve)
    }
}
