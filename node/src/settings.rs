//! `plexus node`'s settings (one key per field of a `--config` file; with the `clap`
//! feature, the same fields as flags), their defaults, and the [`NodeConfig`] and
//! [`ApiOptions`] they start.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use plexus_api::{ApiConfig, DataFiles};
use plexus_ledger::{Genesis, GenesisError};
use plexus_types::{AccountId, Hash};
use serde::{Deserialize, Serialize};

use crate::{
    ApiOptions, DEFAULT_MAX_BLOCK_TXS, MempoolConfig, NodeConfig, NodeError,
    p2p::{Bootstrapper, Endpoint, P2pConfig, Profile},
};

/// Where the node keeps its key, genesis, state and consensus journals by default,
/// under the home folder.
pub const DEFAULT_DIR_IN_HOME: &str = ".plexus/node";

/// Everything a node process runs with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default, deny_unknown_fields)]
pub struct NodeSettings {
    /// Data folder (key, genesis, state, consensus journals). Default: ~/.plexus/node.
    #[cfg_attr(feature = "clap", arg(long, env = "PLEXUS_NODE_DIR"))]
    pub dir: Option<PathBuf>,
    /// A genesis file (JSON). Without one, the genesis saved in the data folder is used,
    /// or a new one-validator development genesis on 127.0.0.1.
    #[cfg_attr(feature = "clap", arg(long))]
    pub genesis: Option<PathBuf>,
    /// Where to serve the HTTP API (loopback by default) [default: 127.0.0.1:7070].
    #[cfg_attr(feature = "clap", arg(long))]
    pub api: SocketAddr,
    /// Also serve `/metrics` (and `/healthz`) on this address, for a scraper on a
    /// private network [default: not served].
    #[cfg_attr(feature = "clap", arg(long, value_name = "ADDR"))]
    pub metrics_listen: Option<SocketAddr>,
    /// Where to listen for peers [default: 127.0.0.1:30300].
    #[cfg_attr(feature = "clap", arg(long))]
    pub p2p: SocketAddr,
    /// The address peers should dial, HOST:PORT with an IP or a hostname (behind NAT
    /// or a load balancer) [default: the --p2p address].
    #[cfg_attr(feature = "clap", arg(long, value_name = "HOST:PORT"))]
    pub external_address: Option<Endpoint>,
    /// A peer to dial first, as PUBLIC_KEY@HOST:PORT (repeat for more). A validator
    /// learns every other validator's address from the peers it reaches.
    #[cfg_attr(
        feature = "clap",
        arg(long = "bootstrapper", value_name = "KEY@HOST:PORT")
    )]
    pub bootstrappers: Vec<Bootstrapper>,
    /// Dial and accept private IP addresses (a LAN); the default refuses them.
    #[cfg_attr(feature = "clap", arg(long))]
    pub allow_private_ips: bool,
    /// Run commonware's local p2p profile (private and loopback addresses, quick
    /// redial): for devnets and tests on one machine, never a public network.
    #[cfg_attr(feature = "clap", arg(long))]
    pub local_p2p: bool,
    /// Run as a full node: follow the validators (dialed through --bootstrapper),
    /// check every finality certificate, execute every block and serve the API,
    /// without voting. Needs the chain's --genesis.
    #[cfg_attr(feature = "clap", arg(long))]
    pub full: bool,
    /// On the first start (no state in --dir yet), take the state at the tip of this
    /// node API, or from this snapshot file (`plexus node snapshot`), instead of
    /// replaying every block: the block's finality certificate and every chunk of the
    /// state are checked against the genesis validators and the certified root, so
    /// the source is trusted for availability only.
    #[cfg_attr(feature = "clap", arg(long, value_name = "URL|FILE"))]
    pub state_sync: Option<String>,
    /// Keep only the last N heights of state versions and blocks (at least 256),
    /// pruning older ones as the chain grows [default: keep everything (archive)].
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    pub prune: Option<u64>,
    /// A full node's key (plx1…) that may connect and fetch finalized blocks and
    /// certificates from this node (repeat for more).
    #[cfg_attr(feature = "clap", arg(long = "follower", value_name = "KEY"))]
    pub followers: Vec<AccountId>,
    /// Refuse to start unless the genesis hashes to this (`plexus genesis show`
    /// prints it; compare it with the other operators' before starting).
    #[cfg_attr(feature = "clap", arg(long, value_name = "HASH"))]
    pub genesis_hash: Option<Hash>,
    /// The dataset store whose published datasets, training halves and score reports
    /// the API serves (checked against the chain): a directory, file:///path or
    /// s3://bucket/prefix. Default: $PLEXUS_HOME/datasets, else ~/.plexus/datasets.
    #[cfg_attr(feature = "clap", arg(long, env = "PLEXUS_DATA_STORE"))]
    pub data_store: Option<String>,
    /// Serve no dataset store.
    #[cfg_attr(feature = "clap", arg(long, conflicts_with = "data_store"))]
    pub no_data_store: bool,
    /// Serve a development chain (its faucet key is published) on a non-loopback
    /// `--api` address anyway.
    #[cfg_attr(feature = "clap", arg(long))]
    pub dev: bool,
    /// Most transactions in a block this node proposes.
    #[cfg_attr(feature = "clap", arg(skip))]
    pub max_block_txs: usize,
    /// The mempool's bounds.
    #[cfg_attr(feature = "clap", arg(skip))]
    pub mempool: MempoolConfig,
    /// The HTTP API's limits.
    #[cfg_attr(feature = "clap", arg(skip))]
    pub api_limits: ApiLimits,
}

impl Default for NodeSettings {
    fn default() -> Self {
        Self {
            dir: None,
            genesis: None,
            api: SocketAddr::from(([127, 0, 0, 1], 7070)),
            metrics_listen: None,
            p2p: P2pConfig::default().listen,
            external_address: None,
            bootstrappers: Vec::new(),
            allow_private_ips: false,
            local_p2p: false,
            genesis_hash: None,
            full: false,
            state_sync: None,
            prune: None,
            followers: Vec::new(),
            data_store: None,
            no_data_store: false,
            dev: false,
            max_block_txs: DEFAULT_MAX_BLOCK_TXS,
            mempool: MempoolConfig::default(),
            api_limits: ApiLimits::default(),
        }
    }
}

/// `[api_limits]`: [`ApiConfig`]'s limits as configuration keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiLimits {
    /// Largest request body, in bytes.
    pub body_limit_bytes: usize,
    /// Seconds a request may take before it is answered `503 timeout`.
    pub request_timeout_secs: u64,
    /// Most concurrent event streams.
    pub max_streams: usize,
    /// Most open connections.
    pub max_connections: usize,
    /// Seconds a connection has to send a request's headers.
    pub header_timeout_secs: u64,
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

/// Why a node's settings cannot start it.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// No data folder given and no home folder to put it in.
    #[error("no home folder: pass --dir")]
    NoHome,
    /// The genesis file cannot be read.
    #[error("cannot read {}", path.display())]
    ReadGenesis {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The genesis file is not a genesis.
    #[error("{} is not a valid genesis", path.display())]
    BadGenesis {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: GenesisError,
    },
    /// `--prune` keeps too few heights.
    #[error("--prune {0} keeps too few heights: keep at least {min}", min = crate::MIN_PRUNE_KEEP)]
    PruneTooShort(u64),
    /// A full node was started with no genesis to follow.
    #[error("a full node follows an existing chain: pass its --genesis file")]
    FullNodeWithoutGenesis,
    /// The genesis is not the one the operators agreed on.
    #[error(
        "the genesis hashes to {actual}, not the --genesis-hash {expected}: compare genesis files with the other operators"
    )]
    GenesisHash {
        /// The hash given.
        expected: Hash,
        /// The genesis's hash.
        actual: Hash,
    },
    /// The node's folder or genesis is unusable.
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl NodeSettings {
    /// The data folder and the node's configuration: its key and genesis from the
    /// folder (or the genesis file), with these settings' p2p address and limits.
    pub fn node_config(&self) -> Result<(PathBuf, NodeConfig), SettingsError> {
        let dir = match &self.dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(DEFAULT_DIR_IN_HOME))
                .ok_or(SettingsError::NoHome)?,
        };
        let genesis = match &self.genesis {
            Some(path) => Some(read_genesis(path)?),
            None if self.full && !dir.join(crate::GENESIS_FILE).exists() => {
                return Err(SettingsError::FullNodeWithoutGenesis);
            }
            None => None,
        };
        let mut config = NodeConfig::load(&dir, genesis)?;
        let hash = config.genesis.hash();
        if let Some(expected) = self.genesis_hash
            && expected != hash
        {
            return Err(SettingsError::GenesisHash {
                expected,
                actual: hash,
            });
        }
        config.p2p = P2pConfig {
            listen: self.p2p,
            dialable: self.external_address.clone(),
            bootstrappers: self.bootstrappers.clone(),
            profile: match self.local_p2p {
                true => Profile::Local,
                false => Profile::Recommended,
            },
            allow_private_ips: self.allow_private_ips,
            followers: self.followers.clone(),
        };
        config.full = self.full;
        if let Some(keep) = self.prune
            && keep < crate::MIN_PRUNE_KEEP
        {
            return Err(SettingsError::PruneTooShort(keep));
        }
        config.prune = self.prune;
        config.p2p.check().map_err(NodeError::P2p)?;
        config.mempool = self.mempool;
        config.max_block_txs = self.max_block_txs;
        Ok((dir, config))
    }

    /// How the API serves, with the dataset store's files if one is served.
    pub fn api_options(&self, data_files: Option<Arc<dyn DataFiles>>) -> ApiOptions {
        let a = &self.api_limits;
        let limits = ApiConfig {
            body_limit: a.body_limit_bytes,
            request_timeout: Duration::from_secs(a.request_timeout_secs),
            max_streams: a.max_streams,
            max_connections: a.max_connections,
            header_timeout: Duration::from_secs(a.header_timeout_secs),
            ..ApiConfig::default()
        };
        ApiOptions {
            listen: self.api,
            data_files,
            limits,
            dev: self.dev,
            metrics: self.metrics_listen,
        }
    }
}

impl NodeSettings {
    /// What a node serving `config` from `dir` reports once listening: its chain, its
    /// addresses and folders and the dataset store it serves, as JSON and as text.
    pub fn summary(
        &self,
        dir: &Path,
        config: &NodeConfig,
        data_store: Option<&str>,
    ) -> (serde_json::Value, String) {
        let faucet = config.genesis.params.faucet;
        let genesis_hash = config.genesis.hash();
        let json = serde_json::json!({
            "chain_id": config.genesis.chain_id,
            "validator": config.key.account(),
            "role": if config.full { "full" } else { "validator" },
            "validators": config.genesis.validators.len(),
            "genesis_hash": genesis_hash,
            "p2p": config.p2p.listen,
            "external_address": config.p2p.dialable().to_string(),
            "bootstrappers": config.p2p.bootstrappers,
            "api": format!("http://{}", self.api),
            "dir": dir,
            "faucet": faucet,
            "data_store": data_store,
        });
        let faucet = faucet.map_or(String::new(), |f| {
            format!("  faucet    {f} (development only: `plexus wallet faucet`)\n")
        });
        let text = format!(
            "Plexus {} node running: chain {} with {} validator(s), genesis {}\n  API       http://{}/v1  (OpenAPI at /openapi.json, metrics at /metrics)\n  p2p       {} (dial {})\n  data      {}\n  datasets  {}\n{faucet}Stop with Ctrl-C.",
            if config.full { "full" } else { "validator" },
            config.genesis.chain_id,
            config.genesis.validators.len(),
            genesis_hash,
            self.api,
            config.p2p.listen,
            config.p2p.dialable(),
            dir.display(),
            data_store.unwrap_or("none served"),
        );
        (json, text)
    }
}

/// The genesis in the JSON file at `path`.
fn read_genesis(path: &Path) -> Result<Genesis, SettingsError> {
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::ReadGenesis {
        path: path.to_owned(),
        source,
    })?;
    Genesis::from_json(&text).map_err(|source| SettingsError::BadGenesis {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use plexus_types::Keypair;

    use super::*;

    /// Settings for a node in `dir` with the genesis in `file`.
    fn settings(dir: &Path, file: &Path) -> NodeSettings {
        NodeSettings {
            dir: Some(dir.to_path_buf()),
            genesis: Some(file.to_path_buf()),
            ..NodeSettings::default()
        }
    }

    #[test]
    fn a_node_refuses_a_genesis_that_does_not_hash_to_the_one_the_operators_agreed_on() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("genesis.json");
        let key = Keypair::from_label("operator");
        let agreed = Genesis::development(key.account());
        // The file one operator was handed has one more funded account.
        let mut tampered = agreed.clone();
        tampered
            .add_account(Keypair::from_label("attacker").account(), 1)
            .unwrap();
        std::fs::write(&file, tampered.to_json()).unwrap();
        let mut node = settings(&dir.path().join("node"), &file);
        node.genesis_hash = Some(agreed.hash());
        match node.node_config() {
            Err(SettingsError::GenesisHash { expected, actual }) => {
                assert_eq!((expected, actual), (agreed.hash(), tampered.hash()));
            }
            other => panic!("expected a hash mismatch, got {other:?}"),
        }
        std::fs::write(&file, agreed.to_json()).unwrap();
        assert!(node.node_config().is_ok());
    }

    #[test]
    fn a_loopback_bootstrapper_needs_the_local_profile_or_private_addresses_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("genesis.json");
        let peer = Keypair::from_label("peer").account();
        std::fs::write(&file, Genesis::development(peer).to_json()).unwrap();
        let mut node = settings(&dir.path().join("node"), &file);
        node.bootstrappers = vec![format!("{peer}@127.0.0.1:30301").parse().unwrap()];
        assert!(matches!(
            node.node_config(),
            Err(SettingsError::Node(NodeError::P2p(
                crate::AddressError::Private(_)
            )))
        ));
        node.local_p2p = true;
        assert!(node.node_config().is_ok());
    }

    #[test]
    fn a_full_node_without_a_genesis_is_refused_with_advice() {
        let dir = tempfile::tempdir().unwrap();
        let node = NodeSettings {
            dir: Some(dir.path().to_path_buf()),
            full: true,
            ..NodeSettings::default()
        };
        let error = node.node_config().unwrap_err();
        assert!(error.to_string().contains("--genesis"), "{error}");
    }
}
