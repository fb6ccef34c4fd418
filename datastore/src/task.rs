//! A requester's preparation of a data task: check the reference against the schema,
//! put the schema (and, for a public reference, the training half and the split's
//! manifest) into the store, and build the `CreateDataTask` payload.

use plexus_synth::{IngestError, Schema, Table};
use plexus_types::{Amount, Hash, Netuid, Payload};

use crate::{DataStore, PublicReference, StoreError, content_hash, public_split};

/// Fewest reference rows a task may have: validators split it into two halves.
pub const MIN_REFERENCE_ROWS: u64 = 4;

/// What can go wrong preparing a data task.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The reference does not parse against the schema.
    #[error(transparent)]
    Reference(#[from] IngestError),
    /// The reference has too few rows to split.
    #[error(
        "the reference has {0} rows: validators need at least 4 to split it into training and holdout halves"
    )]
    TooFewRows(u64),
    /// The store refused a blob.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A task's schema and reference, checked against each other, not stored yet.
#[derive(Debug)]
pub struct TaskFiles<'a> {
    schema: &'a Schema,
    metadata: Vec<u8>,
    reference: &'a [u8],
    /// Rows in the reference.
    pub rows: u64,
}

/// What the store holds for a task about to be posted.
#[derive(Debug, Clone)]
pub struct PreparedTask {
    /// blake3 of the schema (SDV metadata JSON bytes).
    pub schema_hash: Hash,
    /// What the chain commits to: the public split's manifest, or the private CSV.
    pub reference_commitment: Hash,
    /// The public split's manifest; `None` for a private reference.
    pub public: Option<PublicReference>,
    /// Rows in the reference.
    pub rows: u64,
}

/// A task's terms, as the requester asks for them (with the `clap` feature, the
/// flags of `plexus data task create`).
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct TaskTerms {
    /// The data subnet.
    #[cfg_attr(feature = "clap", arg(long))]
    pub netuid: Netuid,
    /// Bounty in PLX (held in base units).
    #[cfg_attr(feature = "clap", arg(long, value_parser = plexus_types::parse_plx_arg))]
    pub bounty: Amount,
    /// Blocks from now until the commit deadline.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 30))]
    pub commit_blocks: u64,
    /// Blocks after the commit deadline until the reveal deadline.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 30))]
    pub reveal_blocks: u64,
    /// Fewest rows per submission (default: a quarter of the reference).
    #[cfg_attr(feature = "clap", arg(long))]
    pub min_rows: Option<u64>,
    /// Most rows per submission (default: the reference's row count).
    #[cfg_attr(feature = "clap", arg(long))]
    pub max_rows: Option<u64>,
}

impl<'a> TaskFiles<'a> {
    /// Check `reference` (CSV) against `schema` (parsed from `metadata`).
    pub fn check(
        schema: &'a Schema,
        metadata: Vec<u8>,
        reference: &'a [u8],
    ) -> Result<Self, TaskError> {
        let rows = Table::from_csv(schema, reference)?.num_rows() as u64;
        if rows < MIN_REFERENCE_ROWS {
            return Err(TaskError::TooFewRows(rows));
        }
        Ok(Self {
            schema,
            metadata,
            reference,
            rows,
        })
    }

    /// Put the schema (and, unless `private`, the training half and the split's
    /// manifest) into `store`.
    pub async fn store(self, store: &DataStore, private: bool) -> Result<PreparedTask, TaskError> {
        let schema_hash = store.put(self.metadata).await?;
        let (reference_commitment, public) = if private {
            (content_hash(self.reference), None)
        } else {
            let split = public_split(self.schema, self.reference)?;
            (store.publish_reference(&split).await?, Some(split.manifest))
        };
        Ok(PreparedTask {
            schema_hash,
            reference_commitment,
            public,
            rows: self.rows,
        })
    }
}

impl PreparedTask {
    /// The `CreateDataTask` payload for `terms`, with deadlines counted from the tip
    /// at `height`.
    pub fn payload(&self, terms: &TaskTerms, height: u64) -> Payload {
        let commit_deadline = height.saturating_add(terms.commit_blocks.max(1));
        let reveal_deadline = commit_deadline.saturating_add(terms.reveal_blocks.max(1));
        Payload::CreateDataTask {
            netuid: terms.netuid,
            schema_hash: self.schema_hash,
            reference_commitment: self.reference_commitment,
            bounty: terms.bounty,
            commit_deadline,
            reveal_deadline,
            min_rows: terms.min_rows.unwrap_or((self.rows / 4).max(1)),
            max_rows: terms.max_rows.unwrap_or(self.rows.max(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::test_support::META;

    fn csv(rows: usize) -> Vec<u8> {
        let mut s = String::from("kind,size\n");
        for i in 0..rows {
            s.push_str(&format!("{},{}\n", ["a", "b"][i % 2], i));
        }
        s.into_bytes()
    }

    fn terms() -> TaskTerms {
        TaskTerms {
            netuid: 3,
            bounty: 1000,
            commit_blocks: 0,
            reveal_blocks: 5,
            min_rows: None,
            max_rows: None,
        }
    }

    #[test]
    fn a_reference_of_fewer_than_four_rows_is_refused() {
        let schema = Schema::from_metadata_json(META).unwrap();
        let reference = csv(3);
        let err = TaskFiles::check(&schema, META.into(), &reference).unwrap_err();
        assert!(matches!(err, TaskError::TooFewRows(3)));
    }

    #[tokio::test]
    async fn a_public_task_stores_the_training_half_and_commits_to_the_manifest() {
        let schema = Schema::from_metadata_json(META).unwrap();
        let reference = csv(40);
        let store = DataStore::memory();
        let files = TaskFiles::check(&schema, META.into(), &reference).unwrap();
        let task = files.store(&store, false).await.unwrap();
        let manifest = task.public.clone().unwrap();
        assert_eq!(task.rows, 40);
        assert_eq!(manifest.train_rows + manifest.holdout_rows, 40);
        assert!(store.get(&manifest.train).await.is_ok());
        assert!(store.get(&task.reference_commitment).await.is_ok());
        assert_eq!(task.schema_hash, content_hash(META.as_bytes()));
        let Payload::CreateDataTask {
            commit_deadline,
            reveal_deadline,
            min_rows,
            max_rows,
            ..
        } = task.payload(&terms(), 100)
        else {
            panic!("not a CreateDataTask");
        };
        assert_eq!((commit_deadline, reveal_deadline), (101, 106));
        assert_eq!((min_rows, max_rows), (10, 40));
    }

    #[tokio::test]
    async fn a_private_task_commits_to_the_whole_reference_and_stores_none_of_it() {
        let schema = Schema::from_metadata_json(META).unwrap();
        let reference = csv(8);
        let store = DataStore::memory();
        let files = TaskFiles::check(&schema, META.into(), &reference).unwrap();
        let task = files.store(&store, true).await.unwrap();
        assert!(task.public.is_none());
        assert_eq!(task.reference_commitment, content_hash(&reference));
        assert!(store.get(&task.reference_commitment).await.is_err());
    }
}
