//! `plexus issuer`'s settings (one key per field of a `--config` file; with the
//! `clap` feature, the same fields as flags), their defaults and the
//! [`ServiceConfig`] they start.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use plexus_types::{Keypair, Netuid};
use serde::{Deserialize, Serialize};

use crate::service::{DEFAULT_TX_TIMEOUT, ServiceConfig};

/// Everything an issuer process runs with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default, deny_unknown_fields)]
pub struct IssuerSettings {
    /// The node this service reads the chain from (`--node` and `PLEXUS_NODE` win).
    #[cfg_attr(feature = "clap", arg(skip))]
    pub node: Option<String>,
    /// Wallet holding the hotkey [default: default].
    #[cfg_attr(feature = "clap", arg(long))]
    pub name: String,
    /// The hotkey (it needs a validator permit on the subnet) [default: default].
    #[cfg_attr(feature = "clap", arg(long))]
    pub hotkey: String,
    /// The subnet (required, as a flag or in the file).
    #[cfg_attr(feature = "clap", arg(long))]
    pub netuid: Option<Netuid>,
    /// Where to serve the issuance gateway [default: 127.0.0.1:8100].
    #[cfg_attr(feature = "clap", arg(long))]
    pub listen: SocketAddr,
    /// The URL published on chain (default: http://LISTEN).
    #[cfg_attr(feature = "clap", arg(long))]
    pub public_url: Option<String>,
    /// State folder (keys, used deposits). Default: ~/.plexus/issuer/HOTKEY.
    #[cfg_attr(feature = "clap", arg(long))]
    pub data_dir: Option<PathBuf>,
    /// Seconds the registration transaction may take to be finalized.
    #[cfg_attr(feature = "clap", arg(skip))]
    pub tx_timeout_secs: u64,
}

impl Default for IssuerSettings {
    fn default() -> Self {
        Self {
            node: None,
            name: "default".into(),
            hotkey: "default".into(),
            netuid: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8100)),
            public_url: None,
            data_dir: None,
            tx_timeout_secs: DEFAULT_TX_TIMEOUT.as_secs(),
        }
    }
}

impl IssuerSettings {
    /// The service's configuration for `hotkey` on `netuid`, with its state in
    /// `data_dir`.
    pub fn service_config(
        &self,
        node: plexus_client::Client,
        hotkey: Keypair,
        netuid: Netuid,
        data_dir: PathBuf,
    ) -> ServiceConfig {
        ServiceConfig {
            node,
            hotkey,
            netuid,
            listen: self.listen,
            public_url: self.public_url.clone(),
            data_dir,
            tx_timeout: Duration::from_secs(self.tx_timeout_secs),
        }
    }
}
