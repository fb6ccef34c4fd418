//! A validator's data duty on chain: read a task and its revealed submissions, check
//! the validator's schema and reference against it, score them ([`run_duty`]), keep
//! the contributors' credibility ([`BookFile`]), set weights, publish the accepted
//! dataset and store the signed score report.

use std::{path::PathBuf, time::Duration};

use plexus_client::{
    Client, ClientError, Sent,
    weights::{CommitFile, RevealProgress, Weights, WeightsError, WeightsSet},
    wire::DataTask,
};
use plexus_synth::{GateParams, IngestError, Schema, SchemaError, Table};
use plexus_types::{Hash, Keypair, Netuid, Payload, data::SignedReport};
use thiserror::Error;

use crate::{
    BookError, BookFile, CredibilityBook, DataStore, DutyError, DutyReport, ReferenceError,
    StoreError, Submission, TaskInput, content_hash, run_duty,
};

/// How long the publication may take to be finalized.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the duty stopped.
#[derive(Debug, Error)]
pub enum ValidateError {
    /// The node could not tell the task.
    #[error("cannot read data task {task}: list tasks with `plexus data task list`")]
    Task {
        /// The task asked for.
        task: u64,
        /// What the client said.
        #[source]
        source: ClientError,
    },
    /// The task still takes commits or reveals (only a dry run scores it now).
    #[error(
        "task {task} is still in its {phase} window (until block {reveal_deadline}): validate after the reveal deadline"
    )]
    Early {
        /// The task.
        task: u64,
        /// Its phase.
        phase: String,
        /// Its reveal deadline.
        reveal_deadline: u64,
    },
    /// The metadata is not the task's schema.
    #[error(
        "the metadata hashes to {actual}, but task {task} was posted with schema {expected}: use the task's metadata file"
    )]
    SchemaMismatch {
        /// The task.
        task: u64,
        /// The task's schema hash.
        expected: Hash,
        /// What the metadata hashes to.
        actual: Hash,
    },
    /// The metadata is the task's but not SDV metadata JSON for one table.
    #[error("the metadata is not SDV metadata JSON for one table")]
    BadMetadata(#[source] SchemaError),
    /// The metadata is the task's but not UTF-8.
    #[error("the metadata is not UTF-8")]
    MetadataNotUtf8,
    /// The reference does not parse against the task's schema.
    #[error("the reference does not parse against the task schema")]
    ReferenceUnparsable(#[source] IngestError),
    /// The reference is not the one the task committed to.
    #[error("the reference is not task {task}'s reference")]
    NotTheReference {
        /// The task.
        task: u64,
        /// Why it does not match.
        #[source]
        source: ReferenceError,
    },
    /// Scoring failed.
    #[error(transparent)]
    Score(#[from] DutyError),
    /// The credibility book could not be read or written.
    #[error(transparent)]
    Book(#[from] BookError),
    /// Setting the weights failed.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// The publication was refused or not finalized.
    #[error("cannot publish the accepted dataset")]
    Publish(#[source] ClientError),
    /// The report could not be encoded.
    #[error("cannot encode the score report")]
    Encode(#[source] serde_json::Error),
    /// The signed report could not be stored.
    #[error(transparent)]
    Report(StoreError),
}

/// What the validator brings to a task.
#[derive(Debug, Clone)]
pub struct DutyConfig {
    /// The task.
    pub task: u64,
    /// The task's SDV metadata JSON (it must hash to the task's schema hash).
    pub metadata: Vec<u8>,
    /// The whole reference CSV (it must match the task's reference commitment).
    pub reference: Vec<u8>,
    /// Gate parameters.
    pub params: GateParams,
}

/// Where a validator keeps its files between runs, one of each per data subnet: the
/// credibility book under `folder/data/` and the pending weights commit under
/// `folder/commits/` (by convention `folder` is the wallet's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorFiles {
    /// The folder.
    pub folder: PathBuf,
    /// The hotkey's name (or address), which names the files.
    pub hotkey: String,
}

impl ValidatorFiles {
    /// The credibility book for `netuid`.
    pub fn book(&self, netuid: Netuid) -> BookFile {
        BookFile::in_folder(&self.folder.join("data"), &self.hotkey, netuid)
    }

    /// The pending weights commit for `netuid`.
    pub fn commits(&self, netuid: Netuid) -> CommitFile {
        CommitFile::in_folder(&self.folder.join("commits"), &self.hotkey, netuid)
    }
}

/// How far the duty goes.
#[derive(Debug, Clone)]
pub enum DutyMode {
    /// Score and report only, at any time: set no weights, publish nothing, record no
    /// credibility. Contributors bring the credibility `files`' book holds (none:
    /// everyone is a newcomer).
    DryRun {
        /// The validator's files, when it has any.
        files: Option<ValidatorFiles>,
    },
    /// After the reveal deadline: score, record credibility, set weights, publish the
    /// dataset (unless it is already) and store the report, all with `hotkey`.
    Send {
        /// The validator's hotkey.
        hotkey: Box<Keypair>,
        /// The validator's files.
        files: ValidatorFiles,
    },
}

impl DutyMode {
    fn files(&self) -> Option<&ValidatorFiles> {
        match self {
            Self::DryRun { files } => files.as_ref(),
            Self::Send { files, .. } => Some(files),
        }
    }
}

/// What the duty sent.
#[derive(Debug, Clone)]
pub struct DutySent {
    /// How the weights were set; `None` when no submission earns.
    pub weights: Option<WeightsSet>,
    /// The publication; `None` when the dataset was published already.
    pub published: Option<Sent>,
}

/// What the duty did.
#[derive(Debug, Clone)]
pub struct DutyOutcome {
    /// The task, as read before scoring.
    pub task: DataTask,
    /// The scores, weights and accepted dataset.
    pub report: DutyReport,
    /// What was sent; `None` on a dry run. The signed report is stored whenever this is.
    pub sent: Option<DutySent>,
}

/// A validator's duty on data tasks, against one node and one dataset store.
#[derive(Debug, Clone)]
pub struct ValidatorDuty {
    client: Client,
    store: DataStore,
}

impl ValidatorDuty {
    /// The duty over `client`'s node and `store`.
    pub fn new(client: Client, store: DataStore) -> Self {
        Self { client, store }
    }

    /// The dataset store it reads and writes.
    pub fn store(&self) -> &DataStore {
        &self.store
    }

    /// Run the duty once for `config`'s task, as far as `mode` says; `progress` hears
    /// how a commit-reveal of the weights is going.
    pub async fn run(
        &self,
        config: &DutyConfig,
        mode: &DutyMode,
        progress: impl FnMut(RevealProgress),
    ) -> Result<DutyOutcome, ValidateError> {
        let dry_run = matches!(mode, DutyMode::DryRun { .. });
        let task = self.task(config.task, dry_run).await?;
        let schema = schema_for(&task, &config.metadata)?;
        let reference = Table::from_csv(&schema, &config.reference)
            .map_err(ValidateError::ReferenceUnparsable)?;
        let kind = self
            .store
            .resolve_reference(
                &schema,
                &task.reference_commitment,
                &config.reference,
                &reference,
            )
            .await
            .map_err(|source| ValidateError::NotTheReference {
                task: task.id,
                source,
            })?;
        let book_file = mode.files().map(|files| files.book(task.netuid));
        let mut book = match &book_file {
            Some(file) => file.load()?,
            None => CredibilityBook::default(),
        };
        let submissions = revealed(&task);
        let hotkeys: Vec<_> = submissions.iter().map(|s| s.hotkey).collect();
        let input = TaskInput {
            task: task.id,
            reveal_deadline: task.reveal_deadline,
            schema: &schema,
            reference: &reference,
            kind,
            submissions,
            params: config.params,
            credibility: book.before(task.id, &hotkeys),
            canaries: None,
        };
        let report = run_duty(&self.store, input).await?;
        let sent = match (mode, &book_file) {
            (DutyMode::Send { hotkey, files }, Some(book_file)) => {
                book.record(&report);
                book_file.save(&book)?;
                Some(self.send(&task, &report, hotkey, files, progress).await?)
            }
            _ => None,
        };
        Ok(DutyOutcome { task, report, sent })
    }

    /// The task, refused before its reveal deadline unless this is a dry run.
    async fn task(&self, id: u64, dry_run: bool) -> Result<DataTask, ValidateError> {
        let at = self
            .client
            .data_task(id)
            .await
            .map_err(|source| ValidateError::Task { task: id, source })?;
        let task = at.task;
        if at.height <= task.reveal_deadline && !dry_run {
            return Err(ValidateError::Early {
                task: task.id,
                phase: task.phase,
                reveal_deadline: task.reveal_deadline,
            });
        }
        Ok(task)
    }

    /// Set the weights, publish the dataset and store the signed report.
    async fn send(
        &self,
        task: &DataTask,
        report: &DutyReport,
        hotkey: &Keypair,
        files: &ValidatorFiles,
        progress: impl FnMut(RevealProgress),
    ) -> Result<DutySent, ValidateError> {
        let weights = if report.weights.is_empty() {
            None
        } else {
            let weights = Weights::from_pairs(&report.weights);
            let file = files.commits(task.netuid);
            let set = self
                .client
                .set_weights(hotkey, task.netuid, weights, 0, &file, progress)
                .await?;
            Some(set)
        };
        let published = match task.published {
            Some(_) => None,
            None => {
                let payload = Payload::PublishDataset {
                    task: task.id,
                    merkle_root: report.merkle_root,
                    rows: report.rows,
                };
                let sent = self.client.send_tx(hotkey, payload, None, PUBLISH_TIMEOUT);
                Some(sent.await.map_err(ValidateError::Publish)?)
            }
        };
        // The breakdown behind the weights, for anyone to check (the web app's data
        // market shows it): signed, so a store cannot make it up.
        let text = serde_json::to_string(report).map_err(ValidateError::Encode)?;
        let signed = SignedReport::sign(hotkey, task.id, text);
        self.store
            .put_report(&signed)
            .await
            .map_err(ValidateError::Report)?;
        Ok(DutySent { weights, published })
    }
}

/// The task's schema from metadata the caller holds, checked against the task's
/// schema hash.
pub fn schema_for(task: &DataTask, metadata: &[u8]) -> Result<Schema, ValidateError> {
    let actual = content_hash(metadata);
    if actual != task.schema_hash {
        return Err(ValidateError::SchemaMismatch {
            task: task.id,
            expected: task.schema_hash,
            actual,
        });
    }
    let text = std::str::from_utf8(metadata).map_err(|_| ValidateError::MetadataNotUtf8)?;
    Schema::from_metadata_json(text).map_err(ValidateError::BadMetadata)
}

/// The task's revealed submissions, in the chain's order.
fn revealed(task: &DataTask) -> Vec<Submission> {
    task.contributions
        .iter()
        .filter_map(|c| {
            Some(Submission {
                hotkey: c.hotkey,
                uid: c.uid,
                content_hash: c.content_hash?,
                rows: c.rows?,
                committed_at: c.committed_at,
            })
        })
        .collect()
}
