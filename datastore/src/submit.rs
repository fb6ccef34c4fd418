//! A contributor's submission to a data task: commit to the content with a salt saved
//! on disk before the commit goes out (so a crash never loses it), wait for the commit
//! deadline, reveal, and forget the salt. The same shape as the weights commit–reveal
//! in `plexus_client::weights`: [`SubmissionFile`] is its `CommitFile`.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use plexus_client::{Client, ClientError, Sent, wire::DataTask};
use plexus_types::{Hash, Keypair, Payload, tx::data_commit_hash};
use serde::{Deserialize, Serialize};

/// How long a submission transaction may take to be finalized.
pub const SUBMIT_TX_TIMEOUT: Duration = Duration::from_secs(60);

/// How often the chain is read while waiting for the reveal window.
const POLL: Duration = Duration::from_millis(500);

/// What can go wrong submitting to a data task.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The node refused a transaction or could not be reached to send it.
    #[error(transparent)]
    Send(ClientError),
    /// The node could not be read while waiting for the reveal window.
    #[error("cannot reach the node while waiting for the reveal window")]
    Wait(#[source] ClientError),
    /// The saved salt file could not be written or removed.
    #[error("cannot {action} {path}: {reason}")]
    File {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        reason: String,
    },
    /// The saved salt is not hex.
    #[error("the saved salt is not hex")]
    Salt,
    /// The submission's row count is outside the task's limits.
    #[error("{rows} rows; task {task} accepts {min}..={max}")]
    Rows {
        /// The submission's rows.
        rows: u64,
        /// The task.
        task: u64,
        /// The task's least rows.
        min: u64,
        /// The task's most rows.
        max: u64,
    },
}

/// A submission's salt, saved before the commit so it can always be revealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSubmission {
    /// The task.
    pub task: u64,
    /// The submitted content's hash.
    pub content_hash: Hash,
    /// The salt, hex.
    pub salt: String,
    /// The submission's rows.
    pub rows: u64,
}

/// Where one hotkey's pending submission to one task is kept.
#[derive(Debug, Clone)]
pub struct SubmissionFile(PathBuf);

impl SubmissionFile {
    /// The file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(path.into())
    }

    /// The conventional file for `hotkey` (a name) and `task` in a wallet's folder:
    /// `<wallet>/data/<hotkey>-task<task>.json`.
    pub fn in_wallet(wallet: &Path, hotkey: &str, task: u64) -> Self {
        Self(
            wallet
                .join("data")
                .join(format!("{hotkey}-task{task}.json")),
        )
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The salt saved for `content`, if this file holds one (a file for other content,
    /// or one that cannot be read, holds none).
    pub fn salt_for(&self, content: Hash) -> Result<Option<[u8; 32]>, SubmitError> {
        let pending = std::fs::read(&self.0)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<PendingSubmission>(&bytes).ok())
            .filter(|p| p.content_hash == content);
        let Some(pending) = pending else {
            return Ok(None);
        };
        let mut salt = [0u8; 32];
        hex::decode_to_slice(&pending.salt, &mut salt).map_err(|_| SubmitError::Salt)?;
        Ok(Some(salt))
    }

    /// Save `pending`, readable only by this user.
    pub fn save(&self, pending: &PendingSubmission) -> Result<(), SubmitError> {
        let file_error = |reason: String| SubmitError::File {
            action: "write",
            path: self.0.clone(),
            reason,
        };
        let bytes = serde_json::to_vec_pretty(pending).map_err(|e| file_error(e.to_string()))?;
        plexus_wallet::write_private(&self.0, &bytes).map_err(|e| file_error(e.to_string()))
    }

    /// Forget the pending submission (nothing to do if there is none).
    pub fn remove(&self) {
        std::fs::remove_file(&self.0).ok();
    }
}

/// A step of a submission, for a progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitProgress {
    /// The commit landed in block `height`; the reveal goes out after `reveal_after`.
    Committed {
        /// Its block.
        height: u64,
        /// The task's commit deadline.
        reveal_after: u64,
    },
}

/// What a submission sent.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The commitment.
    pub commitment: Hash,
    /// The commit (none when an earlier run had committed already).
    pub commit: Option<Sent>,
    /// The reveal.
    pub reveal: Sent,
}

/// A contributor to data tasks: a node and the hotkey that signs.
#[derive(Debug)]
pub struct Contributor<'a> {
    client: &'a Client,
    hotkey: &'a Keypair,
}

impl<'a> Contributor<'a> {
    /// Submit through `client`, signed by `hotkey`.
    pub fn new(client: &'a Client, hotkey: &'a Keypair) -> Self {
        Self { client, hotkey }
    }

    /// Check that `rows` fits `task`'s limits.
    pub fn check_rows(task: &DataTask, rows: u64) -> Result<(), SubmitError> {
        if rows < task.min_rows || rows > task.max_rows {
            return Err(SubmitError::Rows {
                rows,
                task: task.id,
                min: task.min_rows,
                max: task.max_rows,
            });
        }
        Ok(())
    }

    /// Submit `content` (already in the store, `rows` rows) to `task`: commit with a
    /// salt saved to `file` first (or resume the commit `file` already holds for this
    /// content), wait for the commit deadline, reveal, and forget `file`.
    pub async fn submit(
        &self,
        task: &DataTask,
        content: Hash,
        rows: u64,
        file: &SubmissionFile,
        mut progress: impl FnMut(SubmitProgress),
    ) -> Result<Submitted, SubmitError> {
        let saved = file.salt_for(content)?;
        let salt = saved.unwrap_or_else(|| {
            let mut salt = [0u8; 32];
            rand::fill(&mut salt);
            salt
        });
        let commitment = data_commit_hash(task.id, &self.hotkey.account(), &salt, &content);
        let mut commit = None;
        if saved.is_none() {
            file.save(&PendingSubmission {
                task: task.id,
                content_hash: content,
                salt: hex::encode(salt),
                rows,
            })?;
            let payload = Payload::CommitData {
                task: task.id,
                commitment,
            };
            let sent = self.send(payload).await?;
            progress(SubmitProgress::Committed {
                height: sent.height,
                reveal_after: task.commit_deadline,
            });
            commit = Some(sent);
        }
        self.wait_for_height(task.commit_deadline).await?;
        let payload = Payload::RevealData {
            task: task.id,
            content_hash: content,
            salt,
            rows,
        };
        let reveal = self.send(payload).await?;
        file.remove();
        Ok(Submitted {
            commitment,
            commit,
            reveal,
        })
    }

    async fn send(&self, payload: Payload) -> Result<Sent, SubmitError> {
        self.client
            .send_tx(self.hotkey, payload, None, SUBMIT_TX_TIMEOUT)
            .await
            .map_err(SubmitError::Send)
    }

    /// Wait until the node's tip reaches `target`.
    async fn wait_for_height(&self, target: u64) -> Result<(), SubmitError> {
        loop {
            if self.client.tip_height().await.map_err(SubmitError::Wait)? >= target {
                return Ok(());
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(content: Hash) -> PendingSubmission {
        PendingSubmission {
            task: 7,
            content_hash: content,
            salt: hex::encode([9u8; 32]),
            rows: 120,
        }
    }

    #[test]
    fn the_submission_file_keeps_its_wallet_path_and_json_shape() {
        let file = SubmissionFile::in_wallet(Path::new("/w/alice"), "miner", 7);
        assert_eq!(file.path(), Path::new("/w/alice/data/miner-task7.json"));
        let json = serde_json::to_value(pending(Hash::default())).unwrap();
        let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["content_hash", "rows", "salt", "task"]);
    }

    #[test]
    fn a_saved_salt_is_reused_only_for_the_same_content_and_forgotten_on_remove() {
        let dir = tempfile::tempdir().unwrap();
        let file = SubmissionFile::in_wallet(dir.path(), "miner", 7);
        let content = Hash::default();
        assert_eq!(file.salt_for(content).unwrap(), None);
        file.save(&pending(content)).unwrap();
        assert_eq!(file.salt_for(content).unwrap(), Some([9u8; 32]));
        let other = Hash([1u8; 32]);
        assert_eq!(file.salt_for(other).unwrap(), None);
        file.remove();
        assert_eq!(file.salt_for(content).unwrap(), None);
    }

    #[test]
    fn a_saved_salt_that_is_not_hex_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = SubmissionFile::in_wallet(dir.path(), "miner", 7);
        let mut bad = pending(Hash::default());
        bad.salt = "zz".into();
        file.save(&bad).unwrap();
        assert!(matches!(
            file.salt_for(Hash::default()),
            Err(SubmitError::Salt)
        ));
    }
}
