//! Store data submissions and published datasets as content-addressed blobs, score a data task's submissions and run a validator's data duty.
//!
//! [`DataStore`] keeps blobs under `blobs/<blake3 hex>` and published datasets under
//! `datasets/<merkle root hex>.csv` in any `object_store` backend: a local directory by
//! default, an S3-compatible bucket by URL (`s3://bucket/prefix`, credentials and
//! endpoint from the usual `AWS_*` environment variables). Everything read back is
//! checked against the hash it was asked for.
//!
//! [`reference`](mod@reference) holds a task's reference: public (split once when the
//! task is posted; contributors fetch the training half from the store, the chain
//! commits to a manifest of the split) or private (the chain commits to the CSV's hash;
//! validators split it after the reveal deadline).
//!
//! [`duty`] is a validator's work on a data task after the reveal deadline: fetch
//! each revealed submission, check it against its reveal, score it with
//! `plexus_synth::score_submission` against the reference split, turn the scores into
//! u16 weights, and assemble the accepted dataset whose [`dataset_root`] goes on
//! chain. [`credibility`] keeps each contributor's credibility between tasks.
//!
//! [`validate`] is that duty on chain ([`ValidatorDuty`]): read the task from a node,
//! check the validator's schema and reference against it, score, record credibility,
//! set weights, publish the dataset and store the signed score report.
//! [`task`] is a requester's preparation of a task ([`TaskFiles`]); [`submit`] is a
//! contributor's commit and reveal of a submission ([`Contributor`]).
//! [`score_text`], [`created_text`] and [`DutyOutcome::text`] are their results as
//! people read them. With the `serve` feature (on by default), [`StoreFiles`] serves a store through a
//! node's API.
//!
//! Owns data-task storage, scoring, publishing, the data duties of contributors and
//! validators, and the work behind the `plexus data` commands ([`generate`], the local
//! input files and their errors, downloads, the reports' text). May not depend on an
//! inference engine or on the node.

mod convert;
pub mod credibility;
mod download;
pub mod duty;
#[cfg(feature = "serve")]
mod files;
pub mod generate;
mod inputs;
mod published;
pub mod reference;
mod store;
pub mod submit;
pub mod task;
#[cfg(test)]
mod test_support;
mod text;
pub mod validate;

pub use convert::{ConvertError, csv_as_parquet};
pub use credibility::{BookError, BookFile, CredibilityBook};
pub use download::{DownloadError, write_dataset};
pub use duty::{DutyError, DutyReport, Submission, SubmissionReport, TaskInput, run_duty};
#[cfg(feature = "serve")]
pub use files::StoreFiles;
pub use inputs::{InputError, read_input, schema_input, table_input};
pub use published::{PublishedError, TaskReports};
pub use reference::{
    PublicReference, PublicSplit, ReferenceError, ReferenceKind, public_split, split_for,
};
pub use store::{DataStore, StoreError};
pub use submit::{
    Contributor, PendingSubmission, SubmissionFile, SubmitError, SubmitProgress, Submitted,
};
pub use task::{PreparedTask, TaskError, TaskFiles, TaskTerms};
pub use text::{created_text, score_text};
pub use validate::{
    DutyConfig, DutyMode, DutyOutcome, DutySent, ValidateError, ValidatorDuty, ValidatorFiles,
    schema_for,
};

use plexus_synth::{IngestError, Schema, Table};
use plexus_types::{Hash, block::merkle_root};

/// blake3 of `bytes`: a blob's address.
pub fn content_hash(bytes: &[u8]) -> Hash {
    Hash(*blake3::hash(bytes).as_bytes())
}

/// The RFC 6962 blake3 Merkle root over row keys, in order.
pub fn dataset_root(row_keys: &[[u8; 32]]) -> Hash {
    let leaves: Vec<Hash> = row_keys.iter().map(|k| Hash(*k)).collect();
    merkle_root(&leaves)
}

/// Parse a dataset CSV against its schema and return its row count and Merkle root
/// over the row keys. Publishers and downloaders both compute the root from the CSV
/// bytes, so they agree whatever the writer's number formatting.
pub fn csv_root(schema: &Schema, csv: &[u8]) -> Result<(u64, Hash), IngestError> {
    let table = Table::from_csv(schema, csv)?;
    let keys = table.row_keys(schema);
    Ok((keys.len() as u64, dataset_root(&keys)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dataset_root_is_the_rfc6962_tree_of_the_row_keys() {
        let keys = [[1u8; 32], [2u8; 32], [3u8; 32]];
        let leaves = [Hash([1; 32]), Hash([2; 32]), Hash([3; 32])];
        assert_eq!(dataset_root(&keys), merkle_root(&leaves));
        assert_ne!(dataset_root(&keys), dataset_root(&keys[..2]));
    }
}
