//! What a dataset store publishes for everyone: a task's schema, its accepted dataset
//! checked against the root on chain, and validators' signed score reports.

use futures::TryStreamExt as _;
use object_store::{ObjectStoreExt as _, PutPayload, path::Path};
use plexus_synth::{IngestError, Schema};
use plexus_types::{
    Hash,
    data::{MAX_REPORT_BYTES, SignedReport},
};
use thiserror::Error;

use crate::{DataStore, StoreError, csv_root};

/// Largest schema (SDV metadata JSON) read from a store.
const MAX_SCHEMA_BYTES: usize = 1 << 20;
/// Most reports read for one task.
const MAX_REPORTS: usize = 256;

/// Why a published object could not be served.
#[derive(Debug, Error)]
pub enum PublishedError {
    /// The store failed or lacks the object.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored schema is not SDV metadata for one table.
    #[error(
        "the task's schema {hash} in the dataset store is not SDV metadata JSON for one table: {reason}"
    )]
    BadSchema {
        /// The schema's hash.
        hash: Hash,
        /// What is wrong with it.
        reason: String,
    },
    /// The stored dataset does not parse against the task's schema.
    #[error("the stored dataset {root} does not parse against the task's schema: {source}")]
    Unparsable {
        /// The root asked for.
        root: Hash,
        /// The parser's complaint.
        #[source]
        source: IngestError,
    },
    /// The stored dataset is not the one the chain names.
    #[error(
        "the stored dataset has root {actual} ({actual_rows} rows) but the chain says {expected} ({expected_rows} rows): the store is corrupt or stale"
    )]
    RootMismatch {
        /// The root on chain.
        expected: Hash,
        /// Rows on chain.
        expected_rows: u64,
        /// The root of the stored rows.
        actual: Hash,
        /// Rows stored.
        actual_rows: u64,
    },
}

/// The score reports stored for one task.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskReports {
    /// Reports whose signature verifies, for this task, sorted by validator.
    pub valid: Vec<SignedReport>,
    /// Objects under the task's report folder that are not a valid signed report for
    /// it (oversized, not JSON, another task, a forged signature, a misnamed file).
    pub rejected: usize,
}

impl DataStore {
    fn report_path(task: u64, validator: &plexus_types::AccountId) -> Path {
        Path::from(format!("reports/{task}/{}.json", validator.to_address()))
    }

    /// A task's schema, checked against its hash and parsed.
    pub async fn schema(&self, hash: &Hash) -> Result<Schema, PublishedError> {
        let bytes = self.get(hash).await?;
        let bad = |reason: String| PublishedError::BadSchema {
            hash: *hash,
            reason,
        };
        if bytes.len() > MAX_SCHEMA_BYTES {
            return Err(bad(format!(
                "{} bytes, more than {MAX_SCHEMA_BYTES}",
                bytes.len()
            )));
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| bad("not UTF-8".into()))?;
        Schema::from_metadata_json(text).map_err(|e| bad(e.to_string()))
    }

    /// The published dataset under `root`, checked: it parses against `schema` and its
    /// rows have exactly the Merkle root and row count the chain holds.
    pub async fn published_dataset(
        &self,
        schema: &Schema,
        root: &Hash,
        rows: u64,
    ) -> Result<Vec<u8>, PublishedError> {
        let csv = self.get_dataset(root).await?;
        let (actual_rows, actual) =
            csv_root(schema, &csv).map_err(|source| PublishedError::Unparsable {
                root: *root,
                source,
            })?;
        if actual != *root || actual_rows != rows {
            return Err(PublishedError::RootMismatch {
                expected: *root,
                expected_rows: rows,
                actual,
                actual_rows,
            });
        }
        Ok(csv)
    }

    /// Store a validator's signed report for its task (replacing its earlier one).
    pub async fn put_report(&self, report: &SignedReport) -> Result<(), StoreError> {
        // A struct of strings and integers always serializes.
        let bytes = serde_json::to_vec(report).unwrap_or_default();
        self.inner
            .put(
                &Self::report_path(report.task, &report.validator),
                PutPayload::from(bytes),
            )
            .await?;
        Ok(())
    }

    /// Every valid signed report stored for `task`, and how many objects were refused.
    pub async fn reports(&self, task: u64) -> Result<TaskReports, StoreError> {
        let prefix = Path::from(format!("reports/{task}"));
        let mut listed: Vec<_> = self.inner.list(Some(&prefix)).try_collect().await?;
        listed.sort_by(|a, b| a.location.cmp(&b.location));
        let mut out = TaskReports::default();
        for meta in listed {
            if out.valid.len() >= MAX_REPORTS || meta.size > MAX_REPORT_BYTES as u64 {
                out.rejected += 1;
                continue;
            }
            let bytes = match self.inner.get(&meta.location).await {
                Ok(got) => got.bytes().await?,
                // Removed between list and read.
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            let valid = serde_json::from_slice::<SignedReport>(&bytes)
                .ok()
                .filter(|r| {
                    r.task == task
                        && meta.location == Self::report_path(task, &r.validator)
                        && r.report.len() <= MAX_REPORT_BYTES
                        && r.verify().is_ok()
                });
            match valid {
                Some(report) => out.valid.push(report),
                None => out.rejected += 1,
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use plexus_types::Keypair;

    use super::*;
    use crate::test_support::{Published, published};

    const CSV: &[u8] = b"kind,size\na,1.5\nb,2\na,3\n";

    #[tokio::test]
    async fn a_published_dataset_is_served_only_when_its_rows_have_the_root_on_chain() {
        let Published {
            store,
            schema,
            rows,
            root,
            ..
        } = published(CSV).await;
        assert_eq!(
            store.published_dataset(&schema, &root, rows).await.unwrap(),
            CSV
        );
        // The chain names another row count, or another root's file holds these rows.
        assert!(matches!(
            store.published_dataset(&schema, &root, rows + 1).await,
            Err(PublishedError::RootMismatch { .. })
        ));
        let stale = Hash([7; 32]);
        store.put_dataset(&stale, CSV.to_vec()).await.unwrap();
        assert!(matches!(
            store.published_dataset(&schema, &stale, rows).await,
            Err(PublishedError::RootMismatch { actual, .. }) if actual == root
        ));
        store
            .put_dataset(&stale, b"\xff\xfe".to_vec())
            .await
            .unwrap();
        assert!(matches!(
            store.published_dataset(&schema, &stale, rows).await,
            Err(PublishedError::Unparsable { .. })
        ));
        // A schema blob that is not metadata is refused with its hash.
        let junk = store.put(b"[1,2]".to_vec()).await.unwrap();
        assert!(
            matches!(store.schema(&junk).await, Err(PublishedError::BadSchema { hash, .. }) if hash == junk)
        );
    }

    #[tokio::test]
    async fn only_reports_signed_by_their_validator_for_their_task_are_served() {
        let store = DataStore::memory();
        let (alice, bob) = (Keypair::from_label("alice"), Keypair::from_label("bob"));
        let a = SignedReport::sign(&alice, 3, r#"{"task":3}"#.into());
        let b = SignedReport::sign(&bob, 3, r#"{"task":3,"b":1}"#.into());
        store.put_report(&a).await.unwrap();
        store.put_report(&b).await.unwrap();
        // Another task's report, a forged one, a misnamed one and garbage.
        store
            .put_report(&SignedReport::sign(&alice, 4, "{}".into()))
            .await
            .unwrap();
        let mut forged = SignedReport::sign(&bob, 3, "{}".into());
        forged.validator = Keypair::from_label("carol").account();
        store.put_report(&forged).await.unwrap();
        let misnamed = serde_json::to_vec(&a).unwrap();
        let put = |path: String, bytes: Vec<u8>| {
            let store = store.clone();
            async move {
                store
                    .inner
                    .put(&Path::from(path), PutPayload::from(bytes))
                    .await
                    .unwrap();
            }
        };
        put(
            format!("reports/3/{}.json", bob.account()),
            misnamed.clone(),
        )
        .await;
        put("reports/3/junk.json".into(), b"not json".to_vec()).await;
        put(
            "reports/3/huge.json".into(),
            vec![b' '; MAX_REPORT_BYTES + 1],
        )
        .await;

        let got = store.reports(3).await.unwrap();
        // Bob's file now holds Alice's report: refused, and Bob's own was overwritten.
        assert_eq!(got.valid, vec![a.clone()]);
        assert_eq!(got.rejected, 4);
        assert_eq!(store.reports(4).await.unwrap().valid.len(), 1);
        assert_eq!(store.reports(5).await.unwrap(), TaskReports::default());
        // A validator's newer report replaces its older one.
        let newer = SignedReport::sign(&alice, 3, r#"{"task":3,"v":2}"#.into());
        store.put_report(&newer).await.unwrap();
        assert_eq!(store.reports(3).await.unwrap().valid, vec![newer]);
    }
}
