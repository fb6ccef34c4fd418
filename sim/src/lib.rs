//! Simulate an inference subnet's incentives offline over many epochs.
//!
//! [`network`] runs the validator's real scoreboard, policy and sampling against
//! simulated providers (honest, lazy, offline) and validators (honest, weight
//! copiers), with the ledger's Yuma consensus paying each epoch, and reports each
//! strategy's share of emission ([`report_text`] as people read it). [`Overrides`]
//! are the command line's changes to a scenario. The ledger's own Yuma scenarios are
//! `plexus_ledger::yuma::scenario`'s.
//!
//! Owns the offline simulations. May not depend on an inference engine, the node or
//! any service: it is free of I/O but for [`read_scenario`].

pub mod network;
mod text;

use std::{io::Read as _, path::Path};

pub use network::{Report, Scenario, SimError, run, scenario_from_json};
pub use text::report_text;

/// Largest scenario file read, in bytes.
pub const MAX_SCENARIO_BYTES: u64 = 64 * 1024 * 1024;

/// A scenario's fields changed on the command line (`plexus sim network`): each one
/// given replaces the scenario file's, which replaces the default.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct Overrides {
    /// Epochs to run [default: 100].
    #[cfg_attr(feature = "clap", arg(long))]
    pub epochs: Option<u64>,
    /// Seed of every random draw [default: 0].
    #[cfg_attr(feature = "clap", arg(long))]
    pub seed: Option<u64>,
    /// Honest providers [default: 4].
    #[cfg_attr(feature = "clap", arg(long))]
    pub honest: Option<u64>,
    /// Lazy providers, serving a cheaper model than declared [default: 2].
    #[cfg_attr(feature = "clap", arg(long))]
    pub lazy: Option<u64>,
    /// Providers that stop answering [default: 1].
    #[cfg_attr(feature = "clap", arg(long))]
    pub offline: Option<u64>,
    /// First epoch in which offline providers answer nothing [default: half the run].
    #[cfg_attr(feature = "clap", arg(long))]
    pub offline_from: Option<u64>,
    /// Honest validators [default: 3].
    #[cfg_attr(feature = "clap", arg(long))]
    pub validators: Option<u64>,
    /// Weight-copying validators [default: 1].
    #[cfg_attr(feature = "clap", arg(long))]
    pub copiers: Option<u64>,
    /// Set weights directly instead of through commit-reveal.
    #[cfg_attr(feature = "clap", arg(long))]
    pub no_commit_reveal: bool,
}

impl Overrides {
    /// `scenario` with these changes.
    pub fn apply(&self, mut scenario: Scenario) -> Scenario {
        let fields = [
            (&mut scenario.epochs, self.epochs),
            (&mut scenario.seed, self.seed),
            (&mut scenario.honest, self.honest),
            (&mut scenario.lazy, self.lazy),
            (&mut scenario.offline, self.offline),
            (&mut scenario.validators, self.validators),
            (&mut scenario.copiers, self.copiers),
        ];
        for (field, given) in fields {
            if let Some(value) = given {
                *field = value;
            }
        }
        if self.offline_from.is_some() {
            scenario.offline_from = self.offline_from;
        }
        if self.no_commit_reveal {
            scenario.subnet.commit_reveal = Some(false);
        }
        scenario
    }
}

/// Why a scenario file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file cannot be opened.
    #[error("cannot open {path}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not UTF-8 text, or reading it failed.
    #[error("cannot read {path} as UTF-8 text")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_SCENARIO_BYTES`].
    #[error("{path} is larger than {} MiB", MAX_SCENARIO_BYTES >> 20)]
    TooLarge {
        /// The file.
        path: String,
    },
}

/// The scenario text at `path` (`-`: standard input), at most [`MAX_SCENARIO_BYTES`].
pub fn read_scenario(path: &Path) -> Result<String, ReadError> {
    let name = path.display().to_string();
    let mut text = String::new();
    let limit = MAX_SCENARIO_BYTES + 1;
    let read = if path.as_os_str() == "-" {
        std::io::stdin().take(limit).read_to_string(&mut text)
    } else {
        let file = std::fs::File::open(path).map_err(|source| ReadError::Open {
            path: name.clone(),
            source,
        })?;
        file.take(limit).read_to_string(&mut text)
    };
    read.map_err(|source| ReadError::Read {
        path: name.clone(),
        source,
    })?;
    if text.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(ReadError::TooLarge { path: name });
    }
    Ok(text)
}
