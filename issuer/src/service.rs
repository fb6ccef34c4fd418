//! A whole issuer process in one value: its keys kept on disk, its registration on
//! chain kept up to date, and its gateway served until asked to stop.
//!
//! [`IssuerService::start`] does everything that can fail at start-up: load (or
//! generate) the RSA keys of the chain's current and next key epoch (epoch `e` covers
//! blocks `[e·P, (e+1)·P)`, `P` the `issuer_key_period` chain parameter) and the OHTTP
//! key seed, bind the listener, send `RegisterIssuer` unless the chain already shows
//! this URL, these OHTTP keys and these keys, and open the store of used deposits.
//! [`IssuerService::run`] serves [`router`] with the shared hardened loop of
//! `plexus-serve` (header timeout, connection cap, body limit and deadline) until a
//! shutdown future resolves, and follows the key schedule meanwhile: at each epoch
//! boundary it registers the next epoch's key (a whole epoch before it goes on sale),
//! and it keeps issuing under older keys until their deposits close.

use std::{
    future::Future,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use plexus_client::{Client, ClientError};
use plexus_privacy::{
    oblivious::{Gateway, GatewayKey, OhttpError},
    token::{IssuerKey, TokenError},
};
use plexus_types::{AccountId, Hash, Keypair, Netuid, Payload, credits::IssuerKeySpec};
use plexus_wallet::WalletError;
use thiserror::Error;
use tokio::net::TcpListener;

use crate::{IssueError, Issuer, Service, router};

/// File in [`ServiceConfig::data_dir`] holding the seed of the issuer's OHTTP key.
pub const OHTTP_SEED_FILE: &str = "ohttp.seed";
/// The store of used deposits in [`ServiceConfig::data_dir`].
pub const ISSUED_FILE: &str = "issued.redb";
/// Credits one token is worth: the only denomination issued.
pub const DENOMINATION: u32 = 1;
/// How long the registration may take to be finalized.
pub const DEFAULT_TX_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the tip is read to follow the key schedule.
const SCHEDULE_POLL: Duration = Duration::from_millis(250);

/// The RSA key file of `key_epoch` in a data folder (kept for its epoch: generating
/// one takes a few seconds; the service generates each a whole epoch ahead).
pub fn key_file(data_dir: &Path, key_epoch: u32) -> PathBuf {
    data_dir.join(format!("token-key-{DENOMINATION}-{key_epoch}.der"))
}

/// How an issuer process serves.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The node to register with and read deposits from.
    pub node: Client,
    /// The validator hotkey that issues (it needs a validator permit on `netuid`).
    pub hotkey: Keypair,
    /// A subnet on which the hotkey holds a validator permit.
    pub netuid: Netuid,
    /// Where to serve the issuance gateway.
    pub listen: SocketAddr,
    /// The URL published on chain (default: `http://` and the bound address).
    pub public_url: Option<String>,
    /// State folder: the RSA key, [`OHTTP_SEED_FILE`] and [`ISSUED_FILE`].
    pub data_dir: PathBuf,
    /// How long the registration may take to be finalized.
    pub tx_timeout: Duration,
}

/// Why an issuer could not start or stopped with an error.
#[derive(Debug, Error)]
pub enum ServiceError {
    /// The key file of the epoch holds no issuer key.
    #[error("{} is not an issuer key", path.display())]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// Why it does not decode.
        #[source]
        source: TokenError,
    },
    /// A new issuer key could not be generated or encoded.
    #[error(transparent)]
    Key(#[from] TokenError),
    /// The key file or the OHTTP key seed could not be read or written.
    #[error(transparent)]
    File(#[from] WalletError),
    /// The OHTTP gateway could not be set up from its seed.
    #[error(transparent)]
    Ohttp(#[from] OhttpError),
    /// The node could not be asked for the chain.
    #[error(transparent)]
    Node(#[from] ClientError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
    /// `RegisterIssuer` was refused or not finalized in time.
    #[error(
        "cannot register as an issuer: the hotkey needs a validator permit on subnet {netuid} (stake to it and wait an epoch)"
    )]
    Register {
        /// The subnet.
        netuid: Netuid,
        /// Why.
        #[source]
        source: ClientError,
    },
    /// The store of used deposits could not be opened.
    #[error(transparent)]
    Store(#[from] IssueError),
    /// The HTTP server stopped with an error.
    #[error("the issuer's server failed")]
    Serve(#[source] std::io::Error),
}

/// A started issuer: registered on chain, bound, not serving yet.
pub struct IssuerService {
    listener: TcpListener,
    local: SocketAddr,
    url: String,
    hotkey: AccountId,
    key_epoch: u32,
    registered: Option<Hash>,
    service: Service,
    limits: plexus_serve::Limits,
    schedule: Schedule,
}

/// What following the key schedule needs.
struct Schedule {
    config: ServiceConfig,
    url: String,
    ohttp_keys: Vec<u8>,
    period: u64,
    settle_window: u64,
    /// The keys held, by key epoch.
    held: std::collections::BTreeMap<u32, Hash>,
}

impl std::fmt::Debug for IssuerService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerService")
            .field("local", &self.local)
            .field("url", &self.url)
            .field("hotkey", &self.hotkey)
            .field("key_epoch", &self.key_epoch)
            .finish_non_exhaustive()
    }
}

impl IssuerService {
    /// Load or create the keys in [`ServiceConfig::data_dir`], bind, register on chain
    /// if the registration there is out of date, and open the store of used deposits.
    pub async fn start(config: ServiceConfig) -> Result<Self, ServiceError> {
        let chain = config.node.chain().await?;
        let (period, settle_window) = (
            chain.params.issuer_key_period.max(1),
            chain.params.credit_settle_window,
        );
        let height = config.node.tip_height().await?;
        let current = epoch_at(height, period);
        let epochs = [current, current.saturating_add(1)];
        let mut keys = Vec::new();
        for e in epochs {
            keys.push(load_key(&config.data_dir, e).await?);
        }
        let seed = plexus_wallet::load_or_create_secret(&config.data_dir.join(OHTTP_SEED_FILE))?;
        let ohttp = Gateway::new(vec![GatewayKey::derive(1, &seed)?])?;
        let addr = config.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServiceError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| ServiceError::Bind { addr, source })?;
        let url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local}"));
        let specs = epochs.iter().zip(&keys).map(|(e, k)| spec(*e, k)).collect();
        let ohttp_keys = ohttp.key_list()?;
        let registered = register(&config, &url, ohttp_keys.clone(), specs)
            .await
            .map_err(|source| ServiceError::Register {
                netuid: config.netuid,
                source,
            })?;
        let hotkey = config.hotkey.account();
        let issued = config.data_dir.join(ISSUED_FILE);
        let held = epochs
            .iter()
            .zip(&keys)
            .map(|(e, k)| (*e, Hash(k.public().key_id())))
            .collect();
        let issuer = Issuer::open(hotkey, chain.chain_id, keys, &issued)?;
        Ok(Self {
            listener,
            local,
            url: url.clone(),
            hotkey,
            key_epoch: current,
            registered,
            service: Service::new(issuer, ohttp, config.node.clone()),
            limits: default_limits(),
            schedule: Schedule {
                config,
                url,
                ohttp_keys,
                period,
                settle_window,
                held,
            },
        })
    }

    /// Serve within `limits` (default [`default_limits`]).
    pub fn with_limits(mut self, limits: plexus_serve::Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The URL published on chain.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The gateway buyers reach through a relay: `/ohttp` under the published URL.
    pub fn gateway_url(&self) -> String {
        format!("{}/ohttp", self.url)
    }

    /// The issuer hotkey.
    pub fn hotkey(&self) -> AccountId {
        self.hotkey
    }

    /// The key epoch on sale when the service started (it follows the chain's key
    /// schedule from there).
    pub fn key_epoch(&self) -> u32 {
        self.key_epoch
    }

    /// The `RegisterIssuer` transaction, if this start sent one (the chain showed
    /// another URL, other OHTTP keys or no such key).
    pub fn registered(&self) -> Option<Hash> {
        self.registered
    }

    /// Serve until `shutdown` resolves, then let the requests in flight finish;
    /// follow the chain's key schedule meanwhile.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServiceError> {
        let rotation = tokio::spawn(follow_schedule(
            self.schedule,
            std::sync::Arc::clone(self.service.issuer()),
        ));
        let served =
            plexus_serve::serve(self.listener, router(self.service), self.limits, shutdown)
                .await
                .map_err(ServiceError::Serve);
        rotation.abort();
        // The task holds the issuer (and its store): let it go before returning.
        let _ = rotation.await;
        served
    }
}

/// The issuer's serve limits: the shared loop's header timeout, connection cap and
/// body deadline, with a body ceiling of one encapsulated issuance request.
pub fn default_limits() -> plexus_serve::Limits {
    plexus_serve::Limits {
        body_limit: plexus_privacy::oblivious::MAX_ENCAPSULATED_REQUEST_LEN,
        ..plexus_serve::Limits::default()
    }
}

/// The key epoch holding `height` under key period `period`.
fn epoch_at(height: u64, period: u64) -> u32 {
    u32::try_from(height / period.max(1)).unwrap_or(u32::MAX)
}

/// The `RegisterIssuer` entry of `key` for key epoch `epoch`.
fn spec(epoch: u32, key: &IssuerKey) -> IssuerKeySpec {
    IssuerKeySpec {
        denomination: DENOMINATION,
        key_epoch: epoch,
        spki: key.public().spki().to_vec(),
    }
}

/// The key of `epoch` in `dir`, generated there on a blocking thread if new.
async fn load_key(dir: &Path, epoch: u32) -> Result<IssuerKey, ServiceError> {
    let path = key_file(dir, epoch);
    tokio::task::spawn_blocking(move || load_or_generate_key(&path))
        .await
        .map_err(|e| ServiceError::Serve(std::io::Error::other(e)))?
}

/// Follow the key schedule until aborted: hold and register the keys of the current
/// and next epoch (the next one is on chain a whole epoch before it sells), and drop
/// a key once its deposits closed (its tokens no longer settle).
async fn follow_schedule(mut s: Schedule, issuer: std::sync::Arc<Issuer>) {
    let mut registered: Option<u32> = None;
    loop {
        tokio::time::sleep(SCHEDULE_POLL).await;
        let height = match s.config.node.tip_height().await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the tip; issuer keys not rotated");
                continue;
            }
        };
        let current = epoch_at(height, s.period);
        if registered.is_none() && s.held.contains_key(&current) {
            registered = Some(current);
        }
        if registered != Some(current) {
            let epochs = [current, current.saturating_add(1)];
            let mut specs = Vec::new();
            for e in epochs {
                let key = match load_key(&s.config.data_dir, e).await {
                    Ok(k) => k,
                    Err(err) => {
                        tracing::warn!(error = %err, epoch = e, "cannot load the issuer key");
                        break;
                    }
                };
                specs.push(spec(e, &key));
                if let std::collections::btree_map::Entry::Vacant(slot) = s.held.entry(e) {
                    slot.insert(Hash(key.public().key_id()));
                    issuer.add_key(key);
                }
            }
            if specs.len() == epochs.len() {
                match register(&s.config, &s.url, s.ohttp_keys.clone(), specs).await {
                    Ok(_) => {
                        tracing::info!(epoch = current, "issuer keys registered");
                        registered = Some(current);
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot register the issuer keys"),
                }
            }
        }
        // A key's deposits close `credit_settle_window` blocks after its epoch ends.
        let closed: Vec<u32> = s
            .held
            .keys()
            .copied()
            .filter(|e| {
                (u64::from(*e) + 1)
                    .saturating_mul(s.period)
                    .saturating_add(s.settle_window)
                    <= height
            })
            .collect();
        for e in closed {
            if let Some(id) = s.held.remove(&e) {
                issuer.remove_key(&id);
                tracing::info!(epoch = e, "issuer key closed; no longer issued under");
            }
        }
    }
}

/// The issuer key in `path`, or a new one written there (owner-only).
fn load_or_generate_key(path: &Path) -> Result<IssuerKey, ServiceError> {
    match std::fs::read(path) {
        Ok(der) => IssuerKey::from_der(&der).map_err(|source| ServiceError::KeyFile {
            path: path.to_path_buf(),
            source,
        }),
        Err(_) => {
            let key = IssuerKey::generate()?;
            plexus_wallet::write_private(path, &key.to_der()?)?;
            Ok(key)
        }
    }
}

/// Send `RegisterIssuer` unless the chain already shows the hotkey with `url`,
/// `ohttp_keys` and the keys of `specs`; the transaction's hash if one was sent.
async fn register(
    config: &ServiceConfig,
    url: &str,
    ohttp_keys: Vec<u8>,
    specs: Vec<IssuerKeySpec>,
) -> Result<Option<Hash>, ClientError> {
    let current = config.node.issuer(&config.hotkey.account()).await.ok();
    let up_to_date = current.as_ref().is_some_and(|c| {
        c.issuer.url == url
            && c.issuer.ohttp_keys == ohttp_keys
            && specs
                .iter()
                .all(|s| c.issuer.keys.iter().any(|k| k.spki == s.spki))
    });
    if up_to_date {
        return Ok(None);
    }
    let payload = Payload::RegisterIssuer {
        netuid: config.netuid,
        url: url.to_owned(),
        ohttp_keys,
        keys: specs,
    };
    let sent = config
        .node
        .send_tx(&config.hotkey, payload, None, config.tx_timeout)
        .await?;
    Ok(Some(sent.hash))
}
