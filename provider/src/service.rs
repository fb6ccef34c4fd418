//! A whole provider process in one value: bind the listener, put the provider on
//! chain, serve the OpenAI API and the private path, and settle redeemed credits.
//!
//! [`ProviderService::start`] does everything that can fail at start-up (bind, open
//! the private path's state, register and `Serve` on chain) and reports where it
//! serves. On chain the published listener serves only `/ohttp` and `/health`: the
//! plain OpenAI API and `/metrics` are the operator's, on [`ApiAccess::listen`]
//! (loopback, or anywhere with an [`ApiAccess::key`]). Off chain the listener serves
//! the plain API, under the same rule. [`ProviderService::run`] serves until a shutdown future resolves, with the
//! background tasks of the private path: the accepted issuer keys follow the chain,
//! and redeemed tokens are settled on chain in rounds.

use std::{future::Future, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use axum::Router;
use plexus_client::Client;
use plexus_client::ClientError;
use plexus_inference::{Embedder, Engine, ModelInfo};
use plexus_privacy::{
    oblivious::OhttpError,
    rotation::{KeySchedule, Window},
};
use plexus_types::{Endpoint, Keypair, Netuid};
use plexus_wallet::WalletError;
use thiserror::Error;
use tokio::{net::TcpListener, task::JoinHandle};

use crate::{
    AnnounceError, Announced, Provider, ProviderConfig, announce,
    private::{GatewayLimits, PrivateGateway, keyring_from_chain, private_router, settle_once},
    router,
    server::keyed_router,
    spent::{SpentError, SpentStore},
};

/// File in [`OnChain::data_dir`] holding the seed the provider's OHTTP keys are
/// derived from (one per key epoch, see [`plexus_privacy::rotation`]), so the keys
/// published on chain survive restarts.
pub const OHTTP_SEED_FILE: &str = "ohttp.seed";
/// The spent-token store (and settlement queue) in [`OnChain::data_dir`].
pub const SPENT_FILE: &str = "spent.redb";
/// How long a registration, `Serve` or settlement may take to be finalized.
pub const DEFAULT_TX_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the accepted issuer keys are read from the chain: cheap (one small
/// read), and a new issuer's tokens work within a second.
const KEYRING_REFRESH: Duration = Duration::from_secs(1);
/// How often the tip is read to rotate the OHTTP keys (a boundary is acted on within
/// this, well inside the grace of [`plexus_privacy::rotation::grace_blocks`]).
const ROTATION_POLL: Duration = Duration::from_millis(250);

/// Who may use the plain (unpaid) OpenAI API and `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct ApiAccess {
    /// On chain, where to serve them (the published listener serves only `/ohttp` and
    /// `/health`); none: not served. Off chain they are served on
    /// [`ServiceConfig::listen`].
    pub listen: Option<SocketAddr>,
    /// A key every request must carry as `Authorization: Bearer KEY`; without one the
    /// plain API binds to loopback addresses only.
    pub key: Option<String>,
}

/// How a provider process serves.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Where to serve: on chain the private path (`/ohttp`, `/health`) and nothing
    /// else; off chain the plain OpenAI API and `/metrics`.
    pub listen: SocketAddr,
    /// The URL published on chain (default: `http://` and the bound address).
    pub public_url: Option<String>,
    /// How the OpenAI API serves (slots, queue, deadlines, operator).
    pub provider: ProviderConfig,
    /// The subnet to publish on and settle with; without it nothing is published and
    /// the private path is not served.
    pub on_chain: Option<OnChain>,
    /// Where the plain API is served, and its key.
    pub api: ApiAccess,
    /// How much unpaid work the private gateway takes on.
    pub gateway: GatewayLimits,
}

/// What a provider needs to be on chain.
#[derive(Debug, Clone)]
pub struct OnChain {
    /// The node to send transactions to and read the issuer keys from.
    pub node: Client,
    /// The subnet to register on and serve.
    pub netuid: Netuid,
    /// Pays the registration if the hotkey is not registered yet.
    pub coldkey: Keypair,
    /// The hotkey the provider serves as (tokens are bound to its address).
    pub hotkey: Keypair,
    /// State folder: [`OHTTP_SEED_FILE`] and [`SPENT_FILE`].
    pub data_dir: PathBuf,
    /// Mean time between two settlement rounds (at least a second); each interval is
    /// drawn between half and one and a half times it, and a round pays only a batch
    /// of at least [`SETTLE_MIN_BATCH`] tokens (or a queue that has waited
    /// [`SETTLE_MAX_WAIT_ROUNDS`] rounds).
    pub settle_every: Duration,
    /// How long each transaction may take to be finalized.
    pub tx_timeout: Duration,
}

/// Why a provider could not start or stopped with an error.
#[derive(Debug, Error)]
pub enum ServiceError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
    /// The OHTTP key seed could not be read or written.
    #[error(transparent)]
    Seed(#[from] WalletError),
    /// The OHTTP gateway could not be set up from its seed.
    #[error(transparent)]
    Ohttp(#[from] OhttpError),
    /// The chain's key schedule (its key period and tip) could not be read.
    #[error("cannot read the key schedule from the node")]
    Chain(#[source] ClientError),
    /// The spent-token store could not be opened.
    #[error(
        "cannot open the spent-token store in {} (is another provider using it?)",
        dir.display()
    )]
    Spent {
        /// The state folder.
        dir: PathBuf,
        /// Why it could not be opened.
        #[source]
        source: SpentError,
    },
    /// Registering on the subnet or publishing `Serve` failed.
    #[error("cannot register and serve on subnet {netuid}")]
    Announce {
        /// The subnet.
        netuid: Netuid,
        /// Why.
        #[source]
        source: AnnounceError,
    },
    /// The plain API would be open to the network: a non-loopback address without
    /// an API key.
    #[error(
        "the plain OpenAI API would be open to anyone on {addr}: bind it to 127.0.0.1 or set an API key"
    )]
    ExposedApi {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The HTTP server stopped with an error.
    #[error("the provider's server failed")]
    Serve(#[source] std::io::Error),
}

/// A started provider: bound, on chain if configured, not serving yet.
pub struct ProviderService {
    listener: TcpListener,
    local: SocketAddr,
    api: Option<(TcpListener, SocketAddr, Router)>,
    url: String,
    model: ModelInfo,
    provider: Provider,
    app: Router,
    announced: Option<(Netuid, Announced)>,
    settlement: Option<Settlement>,
}

impl std::fmt::Debug for ProviderService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderService")
            .field("local", &self.local)
            .field("url", &self.url)
            .field("model", &self.model.id)
            .field("announced", &self.announced)
            .finish_non_exhaustive()
    }
}

/// The private path's background work: what it needs to follow the chain and settle.
struct Settlement {
    node: Client,
    gateway: PrivateGateway,
    hotkey: Keypair,
    netuid: Netuid,
    every: Duration,
    tx_timeout: Duration,
    rotation: Option<Rotation>,
}

/// What the key rotation needs: the schedule, where it stands, and how to re-announce.
struct Rotation {
    schedule: KeySchedule,
    window: Window,
    endpoint: Endpoint,
    coldkey: Keypair,
}

impl ProviderService {
    /// Bind `config.listen`, and with [`ServiceConfig::on_chain`] open the private
    /// path's state, register the hotkey and publish `Serve` (the endpoint: the public
    /// URL, the OHTTP key list, the model's id and weights hash, the operator), sending
    /// nothing the chain already shows.
    pub async fn start(
        config: ServiceConfig,
        engine: Arc<dyn Engine>,
        embedder: Option<Arc<dyn Embedder>>,
    ) -> Result<Self, ServiceError> {
        let listener = bind(config.listen).await?;
        let local = listener.local_addr().map_err(|source| ServiceError::Bind {
            addr: config.listen,
            source,
        })?;
        let url = config
            .public_url
            .unwrap_or_else(|| format!("http://{local}"));
        let model = engine.model().clone();
        let operator = config.provider.operator.clone();
        let provider = Provider::new(engine, embedder, config.provider);
        let plain = match &config.api.key {
            Some(key) => keyed_router(provider.clone(), key),
            None => router(provider.clone()),
        };
        let exposed = |addr: SocketAddr| config.api.key.is_none() && !addr.ip().is_loopback();
        let Some(chain) = config.on_chain else {
            if exposed(local) {
                return Err(ServiceError::ExposedApi { addr: local });
            }
            return Ok(Self {
                listener,
                local,
                api: None,
                url,
                model,
                provider,
                app: plain,
                announced: None,
                settlement: None,
            });
        };
        let api = match config.api.listen {
            Some(addr) if exposed(addr) => return Err(ServiceError::ExposedApi { addr }),
            Some(addr) => {
                let l = bind(addr).await?;
                let at = l
                    .local_addr()
                    .map_err(|source| ServiceError::Bind { addr, source })?;
                Some((l, at, plain))
            }
            None => None,
        };
        let (schedule, spent) = open_private_state(&chain.data_dir, &chain.node).await?;
        let height = chain.node.tip_height().await.map_err(ServiceError::Chain)?;
        let window = schedule.window(height);
        let ohttp = schedule.gateway(window)?;
        let endpoint = Endpoint {
            url: url.clone(),
            ohttp_keys: schedule.published(window)?,
            model: model.id.clone(),
            weights_hash: model.weights_hash,
            operator,
        };
        let done = announce(
            &chain.node,
            &chain.coldkey,
            &chain.hotkey,
            chain.netuid,
            &endpoint,
            chain.tx_timeout,
        )
        .await
        .map_err(|source| ServiceError::Announce {
            netuid: chain.netuid,
            source,
        })?;
        let origin = chain.hotkey.account().to_address();
        let gateway = PrivateGateway::new(ohttp, origin, spent, provider.clone(), config.gateway);
        gateway.set_settled_nonces(Arc::new(chain.node.clone()));
        Ok(Self {
            listener,
            local,
            api,
            url,
            model,
            provider,
            app: private_router(gateway.clone()),
            announced: Some((chain.netuid, done)),
            settlement: Some(Settlement {
                node: chain.node,
                gateway,
                hotkey: chain.hotkey,
                netuid: chain.netuid,
                every: chain.settle_every,
                tx_timeout: chain.tx_timeout,
                rotation: Some(Rotation {
                    schedule,
                    window,
                    endpoint,
                    coldkey: chain.coldkey,
                }),
            }),
        })
    }

    /// Where the plain OpenAI API and `/metrics` answer: the listener off chain,
    /// [`ApiAccess::listen`] on chain (none when not set).
    pub fn api_addr(&self) -> Option<SocketAddr> {
        match (&self.announced, &self.api) {
            (None, _) => Some(self.local),
            (Some(_), api) => api.as_ref().map(|(_, at, _)| *at),
        }
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The URL published on chain (or that would be).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The chat model served.
    pub fn model(&self) -> &ModelInfo {
        &self.model
    }

    /// The subnet the provider is on and what [`announce`] found or did there.
    pub fn announced(&self) -> Option<(Netuid, &Announced)> {
        self.announced.as_ref().map(|(netuid, a)| (*netuid, a))
    }

    /// The private path's public URL (`/ohttp` under [`ProviderService::url`]), when
    /// on chain.
    pub fn gateway_url(&self) -> Option<String> {
        self.announced
            .as_ref()
            .map(|_| format!("{}/ohttp", self.url))
    }

    /// Serve until `shutdown` resolves, then refuse new work and let the requests in
    /// flight finish. On chain, the issuer keys follow the chain and redeemed tokens
    /// are settled every [`OnChain::settle_every`] meanwhile.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServiceError> {
        let tasks = self.settlement.map(Settlement::spawn).unwrap_or_default();
        let stopping = self.provider;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let trigger = tokio::spawn(async move {
            shutdown.await;
            stopping.shut_down();
            let _ = stop.send(true);
        });
        let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        // The shared hardened loop (header timeout, connection cap, body deadline) on
        // both listeners; the routes keep their own body limits.
        let limits = plexus_serve::Limits {
            body_limit: usize::MAX,
            ..plexus_serve::Limits::default()
        };
        let public = plexus_serve::serve(
            self.listener,
            self.app,
            limits,
            until_stopped(stopped.clone()),
        );
        let plain = async {
            match self.api {
                Some((listener, _, app)) => {
                    plexus_serve::serve(listener, app, limits, until_stopped(stopped.clone())).await
                }
                None => Ok(()),
            }
        };
        let (public, plain) = tokio::join!(public, plain);
        trigger.abort();
        for task in tasks {
            task.abort();
        }
        public.and(plain).map_err(ServiceError::Serve)
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServiceError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServiceError::Bind { addr, source })
}

/// The private path's state in `dir`: the OHTTP key schedule, from a seed kept
/// across restarts and the chain's key period, and the spent-token store.
async fn open_private_state(
    dir: &std::path::Path,
    node: &Client,
) -> Result<(KeySchedule, SpentStore), ServiceError> {
    let period = node
        .chain()
        .await
        .map_err(ServiceError::Chain)?
        .params
        .issuer_key_period;
    let seed = plexus_wallet::load_or_create_secret(&dir.join(OHTTP_SEED_FILE))?;
    let ohttp = KeySchedule::new(&seed, period)?;
    let spent = SpentStore::open(dir.join(SPENT_FILE)).map_err(|source| ServiceError::Spent {
        dir: dir.to_path_buf(),
        source,
    })?;
    Ok((ohttp, spent))
}

impl Settlement {
    /// Keep the accepted issuer keys in step with the chain, and settle redeemed
    /// tokens: two tasks, running until aborted.
    fn spawn(mut self) -> Vec<JoinHandle<()>> {
        let keyring = tokio::spawn(follow_issuer_keys(self.node.clone(), self.gateway.clone()));
        let mut tasks = vec![keyring];
        if let Some(rotation) = self.rotation.take() {
            tasks.push(tokio::spawn(rotate_keys(
                rotation,
                self.node.clone(),
                self.gateway.clone(),
                self.hotkey.clone(),
                self.netuid,
                self.tx_timeout,
            )));
        }
        tasks.push(tokio::spawn(self.settle_forever()));
        tasks
    }

    /// At randomised intervals around `every`, pay the queued tokens' credits to the
    /// hotkey on chain, in batches of at least [`SETTLE_MIN_BATCH`] tokens (a smaller
    /// queue waits, at most [`SETTLE_MAX_WAIT_ROUNDS`] rounds).
    async fn settle_forever(self) {
        let mut waited = 0u32;
        loop {
            tokio::time::sleep(settle_delay(self.every, rand::random())).await;
            let spent = Arc::clone(self.gateway.spent());
            let queued = blocking_len(&spent).await;
            if !settle_now(queued, waited) {
                waited = if queued == 0 { 0 } else { waited + 1 };
                continue;
            }
            waited = 0;
            match settle_once(
                &self.node,
                &self.hotkey,
                self.netuid,
                &spent,
                self.tx_timeout,
            )
            .await
            {
                Ok(r) if r.paid + r.dropped > 0 => {
                    tracing::info!(
                        paid = r.paid,
                        dropped = r.dropped,
                        queued = r.queued,
                        "settled credit tokens"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "settlement round failed; tokens stay queued"),
            }
        }
    }
}

/// Follow the key schedule: at each key epoch boundary accept the new epoch's keys
/// (the previous one for its grace, then no more) and publish `Serve` with the new
/// current and next keys, so the next key is always on chain before its epoch.
async fn rotate_keys(
    mut r: Rotation,
    node: Client,
    gateway: PrivateGateway,
    hotkey: Keypair,
    netuid: Netuid,
    tx_timeout: Duration,
) {
    let mut published = true;
    loop {
        tokio::time::sleep(ROTATION_POLL).await;
        let height = match node.tip_height().await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the tip; OHTTP keys not rotated");
                continue;
            }
        };
        let now = r.schedule.window(height);
        if now != r.window {
            match r.schedule.gateway(now) {
                Ok(g) => gateway.set_ohttp(g),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot derive the OHTTP keys");
                    continue;
                }
            }
            if now.epoch != r.window.epoch {
                published = false;
            }
            r.window = now;
            tracing::info!(epoch = now.epoch, grace = now.grace, "OHTTP keys rotated");
        }
        if !published {
            match r.schedule.published(now) {
                Ok(keys) => r.endpoint.ohttp_keys = keys,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot encode the OHTTP keys");
                    continue;
                }
            }
            match announce(&node, &r.coldkey, &hotkey, netuid, &r.endpoint, tx_timeout).await {
                Ok(_) => published = true,
                Err(e) => tracing::warn!(error = %e, "cannot publish the new OHTTP keys"),
            }
        }
    }
}

/// Fewest queued tokens a settlement round pays: a batch mixes the tokens of several
/// requests, so the chain does not show each request as it is served.
pub const SETTLE_MIN_BATCH: u64 = 8;
/// Rounds a smaller queue waits before it is settled anyway (issuer keys retire, and
/// an operator wants to be paid).
pub const SETTLE_MAX_WAIT_ROUNDS: u32 = 20;

/// Whether a round with `queued` tokens, after `waited` rounds of waiting, settles.
pub fn settle_now(queued: u64, waited: u32) -> bool {
    queued >= SETTLE_MIN_BATCH || (queued > 0 && waited >= SETTLE_MAX_WAIT_ROUNDS)
}

/// The time to the next settlement round: uniform between half and one and a half
/// times `every` (at least a second), from the random `draw`, so rounds do not tick
/// on a clock an observer can line up with the requests it saw.
pub fn settle_delay(every: Duration, draw: u32) -> Duration {
    let every = every.max(Duration::from_secs(1));
    let share = f64::from(draw) / f64::from(u32::MAX);
    (every / 2 + every.mul_f64(share)).max(Duration::from_secs(1))
}

async fn blocking_len(spent: &Arc<crate::spent::SpentStore>) -> u64 {
    let spent = Arc::clone(spent);
    tokio::task::spawn_blocking(move || spent.unsettled_len())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default()
}

/// Replace the gateway's accepted issuer keys with the chain's, every second; when a
/// key leaves, forget the spent ids filed under it.
async fn follow_issuer_keys(node: Client, gateway: PrivateGateway) {
    let mut live = std::collections::BTreeSet::new();
    loop {
        match keyring_from_chain(&node).await {
            Ok(keyring) => {
                let now = keyring.key_ids();
                let retired = live.iter().any(|k| !now.contains(k));
                gateway.set_keyring(keyring);
                if retired || live.is_empty() {
                    match gateway.prune_retired_keys().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(
                            dropped = n,
                            "forgot the spent ids of retired issuer keys"
                        ),
                        Err(e) => tracing::warn!(error = %e, "cannot prune the spent store"),
                    }
                }
                live = now;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot refresh issuer keys; keeping the last ones")
            }
        }
        tokio::time::sleep(KEYRING_REFRESH).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_observer_of_the_chain_cannot_see_single_requests_settled_on_a_clock() {
        // One request's token waits for others: a round settles only a batch...
        assert!(!settle_now(0, 0));
        assert!(!settle_now(1, 0));
        assert!(!settle_now(
            SETTLE_MIN_BATCH - 1,
            SETTLE_MAX_WAIT_ROUNDS - 1
        ));
        assert!(settle_now(SETTLE_MIN_BATCH, 0));
        // ...unless it has waited long enough, and an empty queue never settles.
        assert!(settle_now(1, SETTLE_MAX_WAIT_ROUNDS));
        assert!(!settle_now(0, SETTLE_MAX_WAIT_ROUNDS));
        // Rounds are spread between half and one and a half times the mean.
        let every = Duration::from_secs(10);
        assert_eq!(settle_delay(every, 0), Duration::from_secs(5));
        assert_eq!(settle_delay(every, u32::MAX), Duration::from_secs(15));
        let draws: std::collections::BTreeSet<Duration> = (0..64)
            .map(|_| settle_delay(every, rand::random()))
            .collect();
        assert!(draws.len() > 32, "the intervals are not random: {draws:?}");
        assert!(
            draws
                .iter()
                .all(|d| *d >= Duration::from_secs(5) && *d <= Duration::from_secs(15))
        );
        assert_eq!(
            settle_delay(Duration::ZERO, 0),
            Duration::from_secs(1),
            "at least a second"
        );
    }
}
