//! A whole issuer process in one value: its keys kept on disk, its registration on
//! chain kept up to date, and its gateway served until asked to stop.
//!
//! [`IssuerService::start`] does everything that can fail at start-up: load (or
//! generate) the RSA key of the key epoch and the OHTTP key seed, bind the listener,
//! send `RegisterIssuer` unless the chain already shows this URL, these OHTTP keys and
//! this key, and open the store of used deposits. [`IssuerService::run`] serves
//! [`router`] with the shared hardened loop of `plexus-serve` (header timeout,
//! connection cap, body limit and deadline) until a shutdown future resolves.

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

/// The RSA key file of `key_epoch` in a data folder (kept for its epoch: generating
/// one takes a few seconds).
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
    /// The key epoch to issue under (a new epoch means a new RSA key).
    pub key_epoch: u32,
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
        let key = load_or_generate_key(&key_file(&config.data_dir, config.key_epoch))?;
        let seed = plexus_wallet::load_or_create_secret(&config.data_dir.join(OHTTP_SEED_FILE))?;
        let ohttp = Gateway::new(vec![GatewayKey::derive(1, &seed)?])?;
        let chain = config.node.chain().await?;
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
        let spec = IssuerKeySpec {
            denomination: DENOMINATION,
            key_epoch: config.key_epoch,
            spki: key.public().spki().to_vec(),
        };
        let registered = register(&config, &url, ohttp.key_list()?, spec).await?;
        let hotkey = config.hotkey.account();
        let issued = config.data_dir.join(ISSUED_FILE);
        let issuer = Issuer::open(hotkey, chain.chain_id, vec![key], &issued)?;
        Ok(Self {
            listener,
            local,
            url,
            hotkey,
            key_epoch: config.key_epoch,
            registered,
            service: Service::new(issuer, ohttp, config.node),
            limits: default_limits(),
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

    /// The key epoch issued under.
    pub fn key_epoch(&self) -> u32 {
        self.key_epoch
    }

    /// The `RegisterIssuer` transaction, if this start sent one (the chain showed
    /// another URL, other OHTTP keys or no such key).
    pub fn registered(&self) -> Option<Hash> {
        self.registered
    }

    /// Serve until `shutdown` resolves, then let the requests in flight finish.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServiceError> {
        plexus_serve::serve(self.listener, router(self.service), self.limits, shutdown)
            .await
            .map_err(ServiceError::Serve)
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
/// `ohttp_keys` and the key of `spec`; the transaction's hash if one was sent.
async fn register(
    config: &ServiceConfig,
    url: &str,
    ohttp_keys: Vec<u8>,
    spec: IssuerKeySpec,
) -> Result<Option<Hash>, ServiceError> {
    let current = config.node.issuer(&config.hotkey.account()).await.ok();
    let up_to_date = current.as_ref().is_some_and(|c| {
        c.issuer.url == url
            && c.issuer.ohttp_keys == ohttp_keys
            && c.issuer.keys.iter().any(|k| k.spki == spec.spki)
    });
    if up_to_date {
        return Ok(None);
    }
    let payload = Payload::RegisterIssuer {
        netuid: config.netuid,
        url: url.to_owned(),
        ohttp_keys,
        keys: vec![spec],
    };
    let sent = config
        .node
        .send_tx(&config.hotkey, payload, None, config.tx_timeout)
        .await
        .map_err(|source| ServiceError::Register {
            netuid: config.netuid,
            source,
        })?;
    Ok(Some(sent.hash))
}
