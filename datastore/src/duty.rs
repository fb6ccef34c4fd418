//! A validator's duty on a data task: fetch, verify, score, weigh, assemble.

use std::collections::BTreeSet;

use plexus_synth::{
    Canaries, GateParams, IngestError, Schema, SubmissionScore, Table, WeightInput,
    score_submission_with_canaries, seed_from, update_credibility, weights,
};
use plexus_types::{AccountId, Hash, Uid};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{DataStore, ReferenceKind, StoreError, csv_root, split_for};

/// Why the duty could not run at all (a single bad submission only scores 0).
#[derive(Debug, Error)]
pub enum DutyError {
    /// The reference does not parse against the schema.
    #[error("the reference does not parse against the task schema: {0}")]
    Reference(IngestError),
    /// The reference is too small to split.
    #[error("the reference has {0} rows: at least 4 are needed to split it into train and holdout")]
    ReferenceTooSmall(usize),
    /// The accepted dataset did not parse back (a bug, not a contributor's fault).
    #[error("the accepted dataset does not parse back: {0}")]
    Dataset(IngestError),
    /// The store failed (other than a missing or corrupt submission).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One revealed submission, as the chain lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    /// The contributor's hotkey.
    pub hotkey: AccountId,
    /// Its UID on the task's subnet (weights go to UIDs; `None` if it left).
    pub uid: Option<Uid>,
    /// The revealed content hash.
    pub content_hash: Hash,
    /// The rows it declared.
    pub rows: u64,
    /// Block of its commit (earlier commits are what later ones may not copy).
    pub committed_at: u64,
}

/// What the duty needs to know about the task.
#[derive(Debug, Clone)]
pub struct TaskInput<'a> {
    /// The task id.
    pub task: u64,
    /// The reveal deadline: with the task id, it seeds every random step (and the
    /// split of a private reference).
    pub reveal_deadline: u64,
    /// The task schema.
    pub schema: &'a Schema,
    /// The reference, whole (the duty splits it).
    pub reference: &'a Table,
    /// How the task holds it ([`DataStore::resolve_reference`]): a public reference is
    /// split as its manifest says, a private one with the task's seed.
    pub kind: ReferenceKind,
    /// Revealed submissions, in commit order.
    pub submissions: Vec<Submission>,
    /// Gate parameters.
    pub params: GateParams,
    /// The credibility each contributor had before this task (0 for newcomers).
    pub credibility: Vec<(AccountId, f64)>,
    /// Canary rows this validator planted in the training half contributors were given
    /// (the reference itself holds none): a submission that reproduces one scores 0, and
    /// each report carries the check.
    pub canaries: Option<&'a Canaries>,
}

/// One submission's outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmissionReport {
    /// The contributor's hotkey.
    pub hotkey: AccountId,
    /// Its UID.
    pub uid: Option<Uid>,
    /// The revealed content hash.
    pub content_hash: Hash,
    /// Why it could not be scored (missing blob, wrong hash, row count, parse error).
    pub error: Option<String>,
    /// The full score breakdown, when it could be scored.
    pub score: Option<SubmissionScore>,
    /// Its credibility after this task.
    pub credibility: f64,
    /// Its share of the weights (sums to 1 over earning submissions).
    pub weight: f64,
}

/// The duty's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DutyReport {
    /// The task.
    pub task: u64,
    /// The public seed (hex) every random step derived from.
    pub seed: Hash,
    /// Whether the reference was public (contributors saw the training half).
    pub public_reference: bool,
    /// Every submission, in commit order.
    pub submissions: Vec<SubmissionReport>,
    /// Weights for `SetWeights` / commit-reveal: `(uid, u16)` max-upscaled to 65535,
    /// sorted by uid; empty when nothing earns.
    pub weights: Vec<(Uid, u16)>,
    /// The accepted dataset's Merkle root.
    pub merkle_root: Hash,
    /// Rows in the accepted dataset.
    pub rows: u64,
    /// The accepted dataset as CSV (stored under its root).
    #[serde(skip)]
    pub dataset_csv: Vec<u8>,
}

/// Turn weight shares into u16 weights max-upscaled to 65535 (zeros dropped).
pub fn to_u16_weights(shares: &[(Uid, f64)]) -> Vec<(Uid, u16)> {
    let max = shares.iter().map(|s| s.1).fold(0.0f64, f64::max);
    if max <= 0.0 || !max.is_finite() {
        return Vec::new();
    }
    let mut out: Vec<(Uid, u16)> = shares
        .iter()
        .filter(|s| s.1 > 0.0)
        // In [0, 65535] by construction; the cast saturates anyway.
        .map(|(uid, w)| (*uid, (w / max * 65535.0).round() as u16))
        .filter(|s| s.1 > 0)
        .collect();
    out.sort_unstable();
    out
}

async fn fetch(store: &DataStore, schema: &Schema, s: &Submission) -> Result<Table, String> {
    let bytes = match store.get(&s.content_hash).await {
        Ok(b) => b,
        Err(e @ (StoreError::NotFound { .. } | StoreError::Corrupt { .. })) => {
            return Err(e.to_string());
        }
        Err(e) => return Err(format!("store error: {e}")),
    };
    let table = Table::from_csv(schema, &bytes).map_err(|e| format!("does not parse: {e}"))?;
    if table.num_rows() as u64 != s.rows {
        return Err(format!(
            "revealed {} rows but the blob has {}",
            s.rows,
            table.num_rows()
        ));
    }
    Ok(table)
}

/// Run the duty once: fetch and verify every revealed submission from `store`, score
/// each against the split reference (T and H as [`split_for`] draws them; earlier
/// commits are what it may not copy), weigh them, and assemble the accepted dataset
/// (the passing submissions' rows in commit order, canonicalized, each row key once).
/// The dataset CSV is written to `store`.
pub async fn run_duty(store: &DataStore, input: TaskInput<'_>) -> Result<DutyReport, DutyError> {
    let schema = input.schema;
    let n = input.reference.num_rows();
    if n < 4 {
        return Err(DutyError::ReferenceTooSmall(n));
    }
    let seed = seed_from(&input.task.to_le_bytes(), input.reveal_deadline);
    let (train, holdout) = split_for(&input.kind, input.reference, seed);

    let mut order: Vec<usize> = (0..input.submissions.len()).collect();
    order.sort_by_key(|i| input.submissions[*i].committed_at);

    let mut reports: Vec<Option<SubmissionReport>> = vec![None; input.submissions.len()];
    let mut earlier: Vec<Table> = Vec::new();
    let mut accepted: Vec<Table> = Vec::new();
    for i in order {
        let s = &input.submissions[i];
        let previous = input
            .credibility
            .iter()
            .find(|c| c.0 == s.hotkey)
            .map_or(0.0, |c| c.1);
        let (error, score) = match fetch(store, schema, s).await {
            Err(e) => (Some(e), None),
            Ok(table) => {
                let score = score_submission_with_canaries(
                    schema,
                    &train,
                    &holdout,
                    &table,
                    &earlier,
                    &input.params,
                    seed,
                    input.canaries,
                );
                if score.passed {
                    accepted.push(table.canonicalize(input.reference));
                }
                earlier.push(table);
                (None, Some(score))
            }
        };
        let passed = score.as_ref().is_some_and(|s| s.passed);
        reports[i] = Some(SubmissionReport {
            hotkey: s.hotkey,
            uid: s.uid,
            content_hash: s.content_hash,
            error,
            score,
            credibility: update_credibility(previous, passed),
            weight: 0.0,
        });
    }
    let mut reports: Vec<SubmissionReport> = reports.into_iter().flatten().collect();

    let inputs: Vec<WeightInput> = reports
        .iter()
        .map(|r| WeightInput {
            score: r.score.as_ref().map_or(0.0, |s| s.score),
            accepted_rows: r.score.as_ref().map_or(0, |s| s.accepted_rows),
            credibility: r.credibility,
        })
        .collect();
    let row_cap = (input.params.row_cap_factor * train.num_rows() as f64).max(1.0) as usize;
    let shares = weights(&inputs, row_cap);
    let mut by_uid: Vec<(Uid, f64)> = Vec::new();
    for (r, w) in reports.iter_mut().zip(shares) {
        r.weight = w;
        if let Some(uid) = r.uid {
            match by_uid.iter_mut().find(|e| e.0 == uid) {
                Some(e) => e.1 += w,
                None => by_uid.push((uid, w)),
            }
        }
    }

    let dataset = assemble(schema, &accepted);
    let dataset_csv = dataset.map_or_else(Vec::new, |t| t.to_csv(schema));
    let (rows, merkle_root) = if dataset_csv.is_empty() {
        (0, crate::dataset_root(&[]))
    } else {
        csv_root(schema, &dataset_csv).map_err(DutyError::Dataset)?
    };
    if rows > 0 {
        store.put_dataset(&merkle_root, dataset_csv.clone()).await?;
    }
    Ok(DutyReport {
        task: input.task,
        seed: Hash(seed),
        public_reference: matches!(input.kind, ReferenceKind::Public(_)),
        submissions: reports,
        weights: to_u16_weights(&by_uid),
        merkle_root,
        rows,
        dataset_csv,
    })
}

/// The passing submissions' rows in order, each row key once.
fn assemble(schema: &Schema, accepted: &[Table]) -> Option<Table> {
    let mut seen = BTreeSet::new();
    let mut out: Option<Table> = None;
    for t in accepted {
        let keep: Vec<usize> = t
            .row_keys(schema)
            .into_iter()
            .enumerate()
            .filter(|(_, k)| seen.insert(*k))
            .map(|(i, _)| i)
            .collect();
        let part = t.select(&keep);
        out = Some(match out {
            None => part,
            Some(prev) => prev.concat(&part),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_max_upscaled_and_zeros_dropped() {
        assert_eq!(
            to_u16_weights(&[(3, 0.25), (1, 0.75), (2, 0.0)]),
            vec![(1, 65535), (3, 21845)]
        );
        assert!(to_u16_weights(&[(1, 0.0)]).is_empty());
        assert!(to_u16_weights(&[]).is_empty());
    }
}
