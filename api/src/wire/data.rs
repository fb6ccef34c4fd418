//! `/v1/data`: data tasks, their contributions and validators' score reports.

use plexus_ledger::query::{ContributionView, DataTaskView};
use plexus_types::{AccountId, Amount, Hash, Netuid, Signature, Uid};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One contribution to a data task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DataContribution {
    /// The contributor's hotkey.
    #[schema(value_type = String)]
    pub hotkey: AccountId,
    /// Its UID on the task's subnet, if it is still registered.
    pub uid: Option<Uid>,
    /// The commitment, hex.
    #[schema(value_type = String)]
    pub commitment: Hash,
    /// Block of the commit.
    pub committed_at: u64,
    /// The revealed content hash: the submission's address in the dataset store.
    #[schema(value_type = Option<String>)]
    pub content_hash: Option<Hash>,
    /// The revealed salt, hex.
    #[schema(value_type = Option<String>)]
    pub salt: Option<Hash>,
    /// Rows revealed.
    pub rows: Option<u64>,
    /// Block of the reveal.
    pub revealed_at: Option<u64>,
}

impl From<ContributionView> for DataContribution {
    fn from(c: ContributionView) -> Self {
        Self {
            hotkey: c.hotkey,
            uid: c.uid,
            commitment: c.commitment,
            committed_at: c.committed_at,
            content_hash: c.content_hash,
            salt: c.salt,
            rows: c.rows,
            revealed_at: c.revealed_at,
        }
    }
}

/// A published dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DataPublication {
    /// RFC 6962 blake3 Merkle root over the accepted rows' keys, hex.
    #[schema(value_type = String)]
    pub merkle_root: Hash,
    /// Rows in the dataset.
    pub rows: u64,
    /// The validator hotkey that published it.
    #[schema(value_type = String)]
    pub validator: AccountId,
    /// Block of publication.
    pub block: u64,
}

/// A data task: schema, reference commitment, bounty, deadlines, and (in
/// `GET /v1/data/tasks/{id}`) its contributions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DataTask {
    /// Its id.
    pub id: u64,
    /// The data subnet.
    pub netuid: Netuid,
    /// The coldkey that posted it.
    #[schema(value_type = String)]
    pub creator: AccountId,
    /// blake3 of the schema (SDV metadata JSON bytes), hex.
    #[schema(value_type = String)]
    pub schema_hash: Hash,
    /// blake3 of the reference data, hex.
    #[schema(value_type = String)]
    pub reference_commitment: Hash,
    /// The bounty posted, in base units.
    pub bounty: Amount,
    /// Still in escrow.
    pub escrow: Amount,
    /// Last block for commits.
    pub commit_deadline: u64,
    /// Last block for reveals.
    pub reveal_deadline: u64,
    /// Fewest rows per submission.
    pub min_rows: u64,
    /// Most rows per submission.
    pub max_rows: u64,
    /// Block of creation.
    pub created_at: u64,
    /// Contributors that committed.
    pub commits: u32,
    /// Contributors that revealed.
    pub reveals: u32,
    /// Σ rows revealed.
    pub revealed_rows: u64,
    /// `commit`, `reveal`, `scoring` or `published`, for a block after the answer's height.
    pub phase: String,
    /// The published dataset, once there is one.
    pub published: Option<DataPublication>,
    /// Contributions in commit order (empty in lists).
    #[serde(default)]
    pub contributions: Vec<DataContribution>,
}

impl From<DataTaskView> for DataTask {
    fn from(v: DataTaskView) -> Self {
        let t = v.task;
        Self {
            id: t.id,
            netuid: t.netuid,
            creator: t.creator,
            schema_hash: t.schema_hash,
            reference_commitment: t.reference_commitment,
            bounty: t.bounty,
            escrow: t.escrow,
            commit_deadline: t.commit_deadline,
            reveal_deadline: t.reveal_deadline,
            min_rows: t.min_rows,
            max_rows: t.max_rows,
            created_at: t.created_at,
            commits: t.commits,
            reveals: t.reveals,
            revealed_rows: t.revealed_rows,
            phase: v.phase,
            published: t.published.map(|p| DataPublication {
                merkle_root: p.merkle_root,
                rows: p.rows,
                validator: p.validator,
                block: p.block,
            }),
            contributions: v.contributions.into_iter().map(Into::into).collect(),
        }
    }
}

/// `GET /v1/data/tasks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DataTasks {
    /// The committed height this answer reflects.
    pub height: u64,
    /// Tasks, newest first.
    pub tasks: Vec<DataTask>,
}

/// `GET /v1/data/tasks/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DataTaskAt {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The task with its contributions.
    pub task: DataTask,
}

/// One validator's signed score report for a data task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DataReport {
    /// The validator hotkey that scored the task and signed the report.
    #[schema(value_type = String)]
    pub validator: AccountId,
    /// Its UID on the task's subnet.
    pub uid: Uid,
    /// The report (JSON text, exactly as signed): every submission's gates, fidelity,
    /// utility, privacy and score, the weights set and the dataset published.
    pub report: String,
    /// ed25519 by `validator` over `plexus/data-report/v1` ‖ task id (u64 big-endian)
    /// ‖ `report`, hex.
    #[schema(value_type = String)]
    pub signature: Signature,
}

/// `GET /v1/data/tasks/{id}/reports`: the reports of validators registered on the
/// task's subnet whose signatures verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DataReports {
    /// The committed height the registrations were read at.
    pub height: u64,
    /// The task.
    pub task: u64,
    /// Reports, by validator address.
    pub reports: Vec<DataReport>,
}
