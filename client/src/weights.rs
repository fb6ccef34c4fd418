//! Set a validator's weights: directly, or by commit and reveal with the pending
//! commit kept on disk so a restart between the two does not lose the epoch.
//!
//! One helper for every caller (`plexus weights`, the inference validator and the
//! data validator): [`Client::commit_weights`] saves the salt before the commit goes
//! out, [`Client::wait_for_reveal`] waits for the epoch after the one the commit
//! landed in, [`Client::reveal_weights`] reveals and forgets the commit, and
//! [`Client::set_weights`] does whichever the subnet asks for.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use plexus_types::{AccountId, Hash, Keypair, Netuid, Payload, tx::weights_commit_hash};
use serde::{Deserialize, Serialize};

use crate::{Client, ClientError, Sent};

/// How long a weights transaction may take to be finalized.
pub const WEIGHTS_TX_TIMEOUT: Duration = Duration::from_secs(60);

/// How often the chain is read while waiting for the reveal window.
const POLL: Duration = Duration::from_millis(500);

/// What can go wrong setting weights.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// The node refused or could not be reached.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The pending-commit file could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    File {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The pending-commit file is not one this helper wrote.
    #[error("{path} is not a saved weights commit: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// There is no pending commit to reveal.
    #[error("no saved commit at {0}: commit weights first")]
    NothingToReveal(PathBuf),
    /// The commit's reveal epoch passed before the reveal was sent.
    #[error(
        "the reveal window (epoch {window}) passed before the reveal was sent (the subnet is at epoch {epoch}); commit again"
    )]
    WindowPassed {
        /// The epoch the reveal belonged in.
        window: u64,
        /// The subnet's epoch now.
        epoch: u64,
    },
    /// Weights and UIDs differ in length, or none were given.
    #[error("{0}")]
    Invalid(&'static str),
}

/// Weights for some UIDs of a subnet, as the chain takes them (u16 each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weights {
    /// The UIDs, one per weight.
    pub uids: Vec<u16>,
    /// The weights, 0..=65535.
    pub weights: Vec<u16>,
}

impl Weights {
    /// From `(uid, weight)` pairs.
    pub fn from_pairs(pairs: &[(u16, u16)]) -> Self {
        Self {
            uids: pairs.iter().map(|p| p.0).collect(),
            weights: pairs.iter().map(|p| p.1).collect(),
        }
    }

    /// Parse `uid:weight` pairs separated by commas, each weight either a u16
    /// (0..=65535) or a fraction with a decimal point (`0.5`), e.g. `1:1.0,2:0.5`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut pairs = Vec::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (uid, weight) = pair
                .split_once(':')
                .ok_or_else(|| format!("`{pair}` is not uid:weight"))?;
            let uid: u16 = uid
                .trim()
                .parse()
                .map_err(|_| format!("`{uid}` is not a UID"))?;
            pairs.push((uid, parse_weight(weight.trim())?));
        }
        if pairs.is_empty() {
            return Err("no weights given; write e.g. 1:1.0,2:0.5".into());
        }
        Ok(Self::from_pairs(&pairs))
    }

    fn check(&self) -> Result<(), WeightsError> {
        if self.uids.len() != self.weights.len() {
            return Err(WeightsError::Invalid("one weight per UID is needed"));
        }
        if self.uids.is_empty() {
            return Err(WeightsError::Invalid("no weights given"));
        }
        Ok(())
    }
}

/// One weight: a u16, or a fraction within 0 and 1 written with a decimal point.
fn parse_weight(weight: &str) -> Result<u16, String> {
    if !weight.contains('.') {
        return weight
            .parse()
            .map_err(|_| format!("`{weight}` is not a u16 weight"));
    }
    let x: f64 = weight
        .parse()
        .map_err(|_| format!("`{weight}` is not a number"))?;
    if !(0.0..=1.0).contains(&x) {
        return Err(format!("fraction `{weight}` must be within 0 and 1"));
    }
    // Client-side convenience only: the chain sees the u16.
    Ok((x * 65535.0).floor() as u16)
}

impl std::str::FromStr for Weights {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// A commit waiting for its reveal, as saved on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCommit {
    /// The subnet.
    pub netuid: Netuid,
    /// The hotkey that committed.
    pub hotkey: AccountId,
    /// The committed weights.
    pub weights: Weights,
    /// The salt, hex.
    pub salt: String,
    /// The weights version key.
    pub version: u64,
    /// The commitment sent on chain.
    pub commit: Hash,
    /// The subnet epoch the commit landed in, once it did: the reveal belongs in the
    /// next one. `None` while the commit is in flight (saved before sending).
    #[serde(default)]
    pub epoch: Option<u64>,
    /// The block that included the commit, once it did.
    #[serde(default)]
    pub height: Option<u64>,
}

impl PendingCommit {
    fn salt(&self, path: &Path) -> Result<[u8; 32], WeightsError> {
        let mut salt = [0u8; 32];
        hex::decode_to_slice(&self.salt, &mut salt).map_err(|_| WeightsError::Corrupt {
            path: path.to_path_buf(),
            reason: "the salt is not 32 bytes of hex".into(),
        })?;
        Ok(salt)
    }
}

/// Where one hotkey's pending commit on one subnet is kept.
#[derive(Debug, Clone)]
pub struct CommitFile(PathBuf);

impl CommitFile {
    /// The file at `path` (its folder is created owner-only on first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(path.into())
    }

    /// The conventional file for `hotkey` (an address or a name) on `netuid` in
    /// `folder`.
    pub fn in_folder(folder: &Path, hotkey: &str, netuid: Netuid) -> Self {
        Self(folder.join(format!("{hotkey}-{netuid}.json")))
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The pending commit, if one is saved.
    pub fn load(&self) -> Result<Option<PendingCommit>, WeightsError> {
        let bytes = match std::fs::read(&self.0) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(WeightsError::File {
                    action: "read",
                    path: self.0.clone(),
                    source,
                });
            }
        };
        let pending: PendingCommit =
            serde_json::from_slice(&bytes).map_err(|e| WeightsError::Corrupt {
                path: self.0.clone(),
                reason: e.to_string(),
            })?;
        pending.salt(&self.0)?;
        Ok(Some(pending))
    }

    /// Save `pending` atomically, readable only by this user.
    pub fn save(&self, pending: &PendingCommit) -> Result<(), WeightsError> {
        let bytes = serde_json::to_vec_pretty(pending).map_err(|e| WeightsError::Corrupt {
            path: self.0.clone(),
            reason: e.to_string(),
        })?;
        plexus_wallet::write_private(&self.0, &bytes).map_err(|e| WeightsError::File {
            action: "write",
            path: self.0.clone(),
            source: std::io::Error::other(e.to_string()),
        })
    }

    /// Forget the pending commit.
    pub fn remove(&self) -> Result<(), WeightsError> {
        match std::fs::remove_file(&self.0) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(WeightsError::File {
                action: "remove",
                path: self.0.clone(),
                source,
            }),
        }
    }
}

/// How [`Client::set_weights`] set them.
#[derive(Debug, Clone)]
pub enum WeightsSet {
    /// Set directly (the subnet has no commit-reveal).
    Direct(Sent),
    /// Committed, then revealed in the next epoch.
    Revealed {
        /// The commit.
        commit: Sent,
        /// The reveal.
        reveal: Sent,
    },
}

/// A step of a commit-and-reveal, for a progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevealProgress {
    /// The commit landed in block `height`, in epoch `epoch`.
    Committed {
        /// Its block.
        height: u64,
        /// Its epoch.
        epoch: u64,
        /// The first block of the reveal epoch.
        reveal_from: u64,
    },
    /// Waiting: the chain is at block `height`; the reveal window opens at `reveal_from`.
    Waiting {
        /// The chain's height.
        height: u64,
        /// The first block of the reveal epoch.
        reveal_from: u64,
    },
}

/// The progress line of a step: the commit's, or the chain's height while waiting.
impl std::fmt::Display for RevealProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Committed {
                height,
                epoch,
                reveal_from,
            } => write!(
                f,
                "Committed weights in block {height} (epoch {epoch}); they are revealed once block {reveal_from} is finalized."
            ),
            Self::Waiting {
                height,
                reveal_from,
            } => write!(
                f,
                "  waiting for the reveal window: block {height} of {reveal_from}  "
            ),
        }
    }
}

impl Client {
    /// The epoch of `netuid` that block `height` belongs to, read now (the subnet's
    /// current epoch, or the one before if `height` precedes the last epoch boundary).
    async fn epoch_of(&self, netuid: Netuid, height: u64) -> Result<(u64, u64), ClientError> {
        let subnet = self.subnet(netuid).await?.subnet;
        let epoch = if subnet.last_epoch_block >= height {
            subnet.epoch_index.saturating_sub(1)
        } else {
            subnet.epoch_index
        };
        let reveal_from = if epoch < subnet.epoch_index {
            subnet.last_epoch_block
        } else {
            subnet.next_epoch_block
        };
        Ok((epoch, reveal_from))
    }

    /// Commit to `weights` on `netuid` with a fresh salt. The commit is saved to
    /// `file` before it is sent (without its salt it could never be revealed) and
    /// again with its epoch once it lands.
    pub async fn commit_weights(
        &self,
        hotkey: &Keypair,
        netuid: Netuid,
        weights: Weights,
        version: u64,
        file: &CommitFile,
    ) -> Result<(Sent, PendingCommit), WeightsError> {
        weights.check()?;
        let mut salt = [0u8; 32];
        rand::fill(&mut salt);
        let commit = weights_commit_hash(
            &hotkey.account(),
            netuid,
            &weights.uids,
            &weights.weights,
            &salt,
            version,
        );
        let mut pending = PendingCommit {
            netuid,
            hotkey: hotkey.account(),
            weights,
            salt: hex::encode(salt),
            version,
            commit,
            epoch: None,
            height: None,
        };
        file.save(&pending)?;
        let sent = self
            .send_tx(
                hotkey,
                Payload::CommitWeights { netuid, commit },
                None,
                WEIGHTS_TX_TIMEOUT,
            )
            .await?;
        let (epoch, _) = self.epoch_of(netuid, sent.height).await?;
        pending.epoch = Some(epoch);
        pending.height = Some(sent.height);
        file.save(&pending)?;
        Ok((sent, pending))
    }

    /// Wait until `pending`'s reveal epoch (the one after its commit's) begins,
    /// telling `progress` where the chain is; an error if that epoch already passed.
    pub async fn wait_for_reveal(
        &self,
        pending: &PendingCommit,
        mut progress: impl FnMut(RevealProgress),
    ) -> Result<u64, WeightsError> {
        let committed = match pending.epoch {
            Some(epoch) => epoch,
            None => {
                self.epoch_of(pending.netuid, pending.height.unwrap_or(0))
                    .await?
                    .0
            }
        };
        let mut announced = false;
        loop {
            let subnet = self.subnet(pending.netuid).await?.subnet;
            let epoch = subnet.epoch_index;
            if epoch == committed + 1 {
                return Ok(epoch);
            }
            if epoch > committed + 1 {
                return Err(WeightsError::WindowPassed {
                    window: committed + 1,
                    epoch,
                });
            }
            if !announced {
                announced = true;
                progress(RevealProgress::Committed {
                    height: pending.height.unwrap_or(subnet.last_epoch_block),
                    epoch: committed,
                    reveal_from: subnet.next_epoch_block,
                });
            }
            let height = self.tip_height().await?;
            progress(RevealProgress::Waiting {
                height,
                reveal_from: subnet.next_epoch_block,
            });
            tokio::time::sleep(POLL).await;
        }
    }

    /// Reveal the commit saved in `file`, then forget it.
    pub async fn reveal_weights(
        &self,
        hotkey: &Keypair,
        file: &CommitFile,
    ) -> Result<Sent, WeightsError> {
        let pending = file
            .load()?
            .ok_or_else(|| WeightsError::NothingToReveal(file.path().to_path_buf()))?;
        let salt = pending.salt(file.path())?;
        let sent = self
            .send_tx(
                hotkey,
                Payload::RevealWeights {
                    netuid: pending.netuid,
                    uids: pending.weights.uids.clone(),
                    weights: pending.weights.weights.clone(),
                    salt,
                    version: pending.version,
                },
                None,
                WEIGHTS_TX_TIMEOUT,
            )
            .await?;
        file.remove()?;
        Ok(sent)
    }

    /// Commit `weights`, wait for the next epoch and reveal them.
    pub async fn commit_then_reveal(
        &self,
        hotkey: &Keypair,
        netuid: Netuid,
        weights: Weights,
        version: u64,
        file: &CommitFile,
        progress: impl FnMut(RevealProgress),
    ) -> Result<(Sent, Sent), WeightsError> {
        let (commit, pending) = self
            .commit_weights(hotkey, netuid, weights, version, file)
            .await?;
        self.wait_for_reveal(&pending, progress).await?;
        let reveal = self.reveal_weights(hotkey, file).await?;
        Ok((commit, reveal))
    }

    /// Set `weights` on `netuid` at once, as a subnet without commit-reveal takes them.
    pub async fn set_weights_now(
        &self,
        hotkey: &Keypair,
        netuid: Netuid,
        weights: Weights,
        version: u64,
    ) -> Result<Sent, WeightsError> {
        weights.check()?;
        let payload = Payload::SetWeights {
            netuid,
            uids: weights.uids,
            weights: weights.weights,
            version,
        };
        Ok(self
            .send_tx(hotkey, payload, None, WEIGHTS_TX_TIMEOUT)
            .await?)
    }

    /// Set `weights` on `netuid` the way the subnet asks: directly, or (with
    /// commit-reveal) commit, wait for the next epoch and reveal.
    pub async fn set_weights(
        &self,
        hotkey: &Keypair,
        netuid: Netuid,
        weights: Weights,
        version: u64,
        file: &CommitFile,
        progress: impl FnMut(RevealProgress),
    ) -> Result<WeightsSet, WeightsError> {
        weights.check()?;
        let subnet = self.subnet(netuid).await?.subnet;
        if !subnet.hyperparams.commit_reveal {
            let sent = self
                .set_weights_now(hotkey, netuid, weights, version)
                .await?;
            return Ok(WeightsSet::Direct(sent));
        }
        let (commit, reveal) = self
            .commit_then_reveal(hotkey, netuid, weights, version, file, progress)
            .await?;
        Ok(WeightsSet::Revealed { commit, reveal })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn pending() -> PendingCommit {
        PendingCommit {
            netuid: 1,
            hotkey: Keypair::from_seed([3; 32]).account(),
            weights: Weights::from_pairs(&[(0, 10), (2, 65535)]),
            salt: hex::encode([9u8; 32]),
            version: 0,
            commit: Hash([1; 32]),
            epoch: Some(4),
            height: Some(41),
        }
    }

    #[test]
    fn a_saved_commit_loads_back_and_is_forgotten_after_removal() {
        let dir = tempfile::tempdir().unwrap();
        let file = CommitFile::in_folder(dir.path(), "hotkey", 1);
        assert_eq!(file.load().unwrap(), None);
        file.save(&pending()).unwrap();
        assert_eq!(file.load().unwrap(), Some(pending()));
        file.remove().unwrap();
        assert_eq!(file.load().unwrap(), None);
        file.remove().unwrap();
    }

    #[test]
    fn a_garbled_commit_file_is_a_typed_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = CommitFile::new(dir.path().join("c.json"));
        std::fs::write(file.path(), b"{not json").unwrap();
        let error = file.load().unwrap_err();
        assert!(matches!(error, WeightsError::Corrupt { .. }));
        assert!(error.to_string().contains("c.json"));
        let mut bad_salt = pending();
        bad_salt.salt = "zz".into();
        std::fs::write(file.path(), serde_json::to_vec(&bad_salt).unwrap()).unwrap();
        assert!(matches!(
            file.load().unwrap_err(),
            WeightsError::Corrupt { .. }
        ));
    }

    #[test]
    fn a_commit_saved_before_this_helper_existed_still_loads() {
        // `plexus weights commit` wrote these fields before the epoch was recorded.
        let dir = tempfile::tempdir().unwrap();
        let file = CommitFile::new(dir.path().join("old.json"));
        let mut old = serde_json::to_value(pending()).unwrap();
        old.as_object_mut().unwrap().remove("epoch");
        old.as_object_mut().unwrap().remove("height");
        std::fs::write(file.path(), serde_json::to_vec(&old).unwrap()).unwrap();
        let loaded = file.load().unwrap().unwrap();
        assert_eq!(loaded.epoch, None);
        assert_eq!(loaded.weights, pending().weights);
    }

    #[test]
    fn mismatched_or_empty_weights_are_refused_before_anything_is_sent() {
        let uneven = Weights {
            uids: vec![1, 2],
            weights: vec![1],
        };
        assert!(matches!(uneven.check(), Err(WeightsError::Invalid(_))));
        assert!(matches!(
            Weights::from_pairs(&[]).check(),
            Err(WeightsError::Invalid(_))
        ));
    }
}
