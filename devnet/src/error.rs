//! What can go wrong while starting a devnet.

use std::{path::PathBuf, process::ExitStatus, time::Duration};

/// Why a devnet did not start or stopped running.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// The port base leaves no room for seven ports, or is privileged.
    #[error("--port-base must be between 1024 and {max}")]
    PortBase {
        /// The highest valid base.
        max: u16,
    },
    /// Too few or too many validators asked for.
    #[error("--validators must be between 1 and {max}")]
    Validators {
        /// The most allowed.
        max: usize,
    },
    /// A devnet's genesis lists another number of validators than asked for.
    #[error(
        "{} lists {listed} validator(s), not {asked}: start with --validators {listed}, or use another --dir",
        genesis.display()
    )]
    ValidatorCount {
        /// The genesis file.
        genesis: PathBuf,
        /// How many it lists.
        listed: usize,
        /// How many were asked for.
        asked: usize,
    },
    /// The `plexus` executable could not be run.
    #[error("cannot run {}", exe.display())]
    Run {
        /// The executable.
        exe: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A one-shot setup command failed.
    #[error("`plexus {args}` failed: {stderr}")]
    Command {
        /// Its arguments, after `--json`.
        args: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// A setup command's output lacked a field.
    #[error("{command} printed no {field}")]
    Output {
        /// The command.
        command: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// A child's log file could not be opened.
    #[error("cannot open the log {}", path.display())]
    Log {
        /// The log file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A child could not be started.
    #[error("cannot start the {name}")]
    Spawn {
        /// The component.
        name: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A component did not answer in time.
    #[error("{what} did not come up within {limit:?}: see the logs in {}", logs.display())]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long it was given.
        limit: Duration,
        /// The logs folder.
        logs: PathBuf,
    },
    /// A child exited on its own.
    #[error("the {name} exited ({status}): see {}", log.display())]
    Exited {
        /// The component.
        name: String,
        /// How it exited.
        status: ExitStatus,
        /// Its log file.
        log: PathBuf,
    },
    /// The subnet's first epoch granted the validator no permit.
    #[error("the devnet validator got no permit within 120 s")]
    NoPermit,
    /// `devnet.json` could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `devnet.json` is not a devnet record.
    #[error("{} is not a devnet record: remove the folder to start afresh", path.display())]
    Record {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// `devnet.json` could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: plexus_wallet::WalletError,
    },
}
