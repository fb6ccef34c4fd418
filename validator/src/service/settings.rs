//! `plexus validator`'s settings (one key per field of a `--config` file; with the
//! `clap` feature, the same fields as flags), their defaults, and the actor's
//! [`Config`] and [`PrivatePath`] they start.

use std::{path::PathBuf, time::Duration};

use plexus_session::{DEFAULT_RELAY_URL, Session};
use plexus_types::{Hash, Keypair, Netuid, credits::CREDIT_BUNDLES};
use serde::{Deserialize, Serialize};

use super::{Config, DEFAULT_BUNDLE, DEFAULT_PROBE_TIMEOUT, PrivatePath};

/// Everything a validator process runs with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default, deny_unknown_fields)]
pub struct ValidatorSettings {
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
    /// The OHTTP relay probes go through, like any user's requests [default:
    /// http://127.0.0.1:7080].
    #[cfg_attr(feature = "clap", arg(long, env = "PLEXUS_RELAY"))]
    pub relay: String,
    /// The model to re-execute answers with (a `.gguf` path, a folder or `ORG/NAME`):
    /// providers declaring other weights cannot be checked and earn nothing.
    #[cfg_attr(feature = "clap", arg(long))]
    pub model: Option<String>,
    /// CPU threads for re-execution [default: 1].
    #[cfg_attr(feature = "clap", arg(long))]
    pub threads: u32,
    /// State folder (seed, scoreboard, pending commit). Default:
    /// ~/.plexus/validator/HOTKEY.
    #[cfg_attr(feature = "clap", arg(long))]
    pub data_dir: Option<PathBuf>,
    /// Stop after this many epochs (default: run until interrupted).
    #[cfg_attr(feature = "clap", arg(long))]
    pub epochs: Option<u64>,
    /// Probe with your own corpus: JSONL, one OpenAI chat request body per line
    /// (default: a private one built from the data set scripts/setup.sh installs).
    #[cfg_attr(feature = "clap", arg(long))]
    pub corpus: Option<PathBuf>,
    /// Seconds a probe may take before it counts as failed.
    #[cfg_attr(feature = "clap", arg(skip))]
    pub probe_timeout_secs: u64,
    /// Credits bought at a time when the store runs low (10, 100 or 1000).
    #[cfg_attr(feature = "clap", arg(skip))]
    pub credit_bundle: u32,
}

impl Default for ValidatorSettings {
    fn default() -> Self {
        Self {
            node: None,
            name: "default".into(),
            hotkey: "default".into(),
            netuid: None,
            relay: DEFAULT_RELAY_URL.into(),
            model: None,
            threads: 1,
            data_dir: None,
            epochs: None,
            corpus: None,
            probe_timeout_secs: DEFAULT_PROBE_TIMEOUT.as_secs(),
            credit_bundle: DEFAULT_BUNDLE,
        }
    }
}

/// Why a validator's settings cannot start it.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `credit_bundle` is not a bundle on sale.
    #[error("credit_bundle must be one of 10, 100 or 1000")]
    Bundle,
    /// The seed file in the state folder cannot be read or created.
    #[error(transparent)]
    Seed(#[from] plexus_wallet::WalletError),
}

impl ValidatorSettings {
    /// The actor's configuration on `netuid` for `hotkey`, re-executing with the
    /// model of weights `declared`, its state (seed, scoreboard, commit) in `dir`.
    pub fn config(
        &self,
        netuid: Netuid,
        hotkey: Keypair,
        declared: Hash,
        dir: &std::path::Path,
    ) -> Result<Config, SettingsError> {
        if !CREDIT_BUNDLES.contains(&self.credit_bundle) {
            return Err(SettingsError::Bundle);
        }
        Ok(Config {
            netuid,
            hotkey,
            declared,
            seed: plexus_wallet::load_or_create_secret(&dir.join("seed"))?,
            state_path: dir.join("state.json"),
            commit_path: dir.join("commit.json"),
            epochs: self.epochs,
            corpus: self.corpus.clone(),
        })
    }

    /// The private path the probes take, paid by `coldkey`'s credits in `session`.
    pub fn transport(&self, session: Session, coldkey: Keypair) -> PrivatePath {
        PrivatePath::new(session, coldkey)
            .with_probe_timeout(Duration::from_secs(self.probe_timeout_secs))
            .with_bundle(self.credit_bundle)
    }
}
