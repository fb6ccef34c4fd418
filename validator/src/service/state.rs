//! What the validator keeps across restarts: its scoreboard and the last epoch it
//! probed (the pending weights commit has a file of its own).

use std::path::{Path, PathBuf};

use plexus_types::AccountId;
use serde::{Deserialize, Serialize};

use crate::score::{Policy, Scoreboard};

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// It exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It is not a validator state file.
    #[error("{path} is not a validator state file: move it away to start afresh")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What did not parse.
        #[source]
        source: serde_json::Error,
    },
    /// It cannot be written.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The validator's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// Every provider's standing.
    pub board: Scoreboard<AccountId>,
    /// The last epoch probed.
    pub last_epoch: Option<u64>,
}

impl State {
    /// The state saved at `path`, or a fresh one with the default policy.
    pub fn load(path: &Path) -> Result<Self, StateError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| StateError::Corrupt {
                path: path.to_path_buf(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                board: Scoreboard::new(Policy::default()),
                last_epoch: None,
            }),
            Err(source) => Err(StateError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Save atomically (a crash leaves the old file or the new one), owner-only.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let write_error = |reason: String| StateError::Write {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| write_error(e.to_string()))?;
        plexus_wallet::write_private(path, &bytes).map_err(|e| write_error(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_saved_state_loads_back_and_a_state_file_from_before_the_commit_file_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let fresh = State::load(&path).unwrap();
        assert_eq!(fresh.last_epoch, None);
        let mut state = fresh;
        state.last_epoch = Some(7);
        state.save(&path).unwrap();
        assert_eq!(State::load(&path).unwrap().last_epoch, Some(7));
        // Earlier versions kept the pending commit inside the state file.
        let mut old = serde_json::to_value(&state).unwrap();
        old["pending"] = serde_json::json!({"epoch": 6, "uids": [1], "weights": [2], "salt": "00"});
        std::fs::write(&path, serde_json::to_vec(&old).unwrap()).unwrap();
        assert_eq!(State::load(&path).unwrap().last_epoch, Some(7));
        std::fs::write(&path, b"{").unwrap();
        assert!(matches!(
            State::load(&path),
            Err(StateError::Corrupt { .. })
        ));
    }
}
