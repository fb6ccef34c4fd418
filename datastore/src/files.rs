//! A dataset store as a node's API serves it ([`DataFiles`]): every file is checked
//! against what the chain commits to before it leaves.

use futures::future::BoxFuture;
use plexus_api::{DataFiles, DataFilesError, DatasetFormat, DatasetWanted};
use plexus_types::{data::SignedReport, error_chain};

use crate::{DataStore, PublishedError, ReferenceError, StoreError, csv_as_parquet};

/// A dataset store served by the node's API: files are checked against the chain
/// before they leave (see [`DataFiles`]).
#[derive(Debug, Clone)]
pub struct StoreFiles(pub DataStore);

impl DataFiles for StoreFiles {
    fn dataset(
        &self,
        wanted: DatasetWanted,
        format: DatasetFormat,
    ) -> BoxFuture<'static, Result<Vec<u8>, DataFilesError>> {
        let store = self.0.clone();
        Box::pin(async move {
            let (DatasetWanted::Published { schema_hash, .. }
            | DatasetWanted::TrainingHalf { schema_hash, .. }) = wanted;
            let schema = store.schema(&schema_hash).await.map_err(published_error)?;
            let csv = match wanted {
                DatasetWanted::Published {
                    merkle_root, rows, ..
                } => store
                    .published_dataset(&schema, &merkle_root, rows)
                    .await
                    .map_err(published_error)?,
                DatasetWanted::TrainingHalf {
                    reference_commitment,
                    ..
                } => training_half(&store, &reference_commitment).await?,
            };
            match format {
                DatasetFormat::Csv => Ok(csv),
                DatasetFormat::Parquet => {
                    tokio::task::spawn_blocking(move || csv_as_parquet(&schema, &csv))
                        .await
                        .map_err(|e| DataFilesError::Unavailable(e.to_string()))?
                        .map_err(|e| {
                            DataFilesError::Corrupt(format!(
                                "the dataset cannot be written as Parquet: {}",
                                error_chain(&e)
                            ))
                        })
                }
            }
        })
    }

    fn reports(&self, task: u64) -> BoxFuture<'static, Result<Vec<SignedReport>, DataFilesError>> {
        let store = self.0.clone();
        Box::pin(async move {
            let reports = store.reports(task).await.map_err(store_error)?;
            if reports.rejected > 0 {
                tracing::warn!(
                    task,
                    rejected = reports.rejected,
                    "data: the dataset store holds reports that are not validly signed for this task"
                );
            }
            Ok(reports.valid)
        })
    }
}

/// The training half a public reference's manifest names.
async fn training_half(
    store: &DataStore,
    reference_commitment: &plexus_types::Hash,
) -> Result<Vec<u8>, DataFilesError> {
    let manifest = match store.public_reference(reference_commitment).await {
        Ok(Some(manifest)) => manifest,
        Ok(None) => {
            return Err(DataFilesError::NotFound(format!(
                "the task's reference {reference_commitment} is private or not in this node's dataset store"
            )));
        }
        Err(ReferenceError::Store(e)) => return Err(store_error(e)),
        Err(e) => return Err(DataFilesError::Corrupt(e.to_string())),
    };
    store.training_half(&manifest).await.map_err(store_error)
}

/// A store failure as API clients see it: what is missing or wrong, never the store's
/// location or the backend's error text (those go to the node's log).
fn store_error(e: StoreError) -> DataFilesError {
    match e {
        StoreError::NotFound { what, hash, .. } => {
            DataFilesError::NotFound(format!("this node's dataset store has no {what} {hash}"))
        }
        StoreError::Corrupt { .. } => DataFilesError::Corrupt(e.to_string()),
        other => {
            tracing::warn!(error = %other, "data: the dataset store failed");
            DataFilesError::Unavailable(
                "this node's dataset store cannot be read right now: retry later".into(),
            )
        }
    }
}

fn published_error(e: PublishedError) -> DataFilesError {
    match e {
        PublishedError::Store(e) => store_error(e),
        other => DataFilesError::Corrupt(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use plexus_types::Hash;

    use super::*;
    use crate::{
        public_split,
        test_support::{Published, published},
    };

    const CSV: &[u8] = b"kind,size\na,1.5\nb,2\na,3\nb,4\na,5\nb,6\n";

    #[tokio::test]
    async fn the_node_serves_checked_files_and_says_what_is_missing_without_the_store() {
        let Published {
            store,
            schema_hash,
            schema,
            rows,
            root: merkle_root,
        } = published(CSV).await;
        let files = StoreFiles(store.clone());
        let published = DatasetWanted::Published {
            schema_hash,
            merkle_root,
            rows,
        };
        let csv = files.dataset(published, DatasetFormat::Csv).await.unwrap();
        assert_eq!(csv, CSV);
        let parquet = files.dataset(published, DatasetFormat::Parquet).await;
        assert!(parquet.unwrap().starts_with(b"PAR1"));

        // A public reference's training half is served; a private one is not found.
        let split = public_split(&schema, CSV).unwrap();
        let reference_commitment = store.publish_reference(&split).await.unwrap();
        let half = DatasetWanted::TrainingHalf {
            schema_hash,
            reference_commitment,
        };
        let served = files.dataset(half, DatasetFormat::Csv).await.unwrap();
        assert_eq!(served, split.train_csv);
        let private = DatasetWanted::TrainingHalf {
            schema_hash,
            reference_commitment: Hash([5; 32]),
        };
        let missing = files.dataset(private, DatasetFormat::Csv).await;
        assert!(
            matches!(&missing, Err(DataFilesError::NotFound(m)) if m.contains("is private")),
            "{missing:?}"
        );
        let error = files
            .dataset(
                DatasetWanted::Published {
                    schema_hash: Hash([6; 32]),
                    merkle_root,
                    rows,
                },
                DatasetFormat::Csv,
            )
            .await;
        assert_eq!(
            error,
            Err(DataFilesError::NotFound(format!(
                "this node's dataset store has no blob {}",
                Hash([6; 32])
            )))
        );
        assert_eq!(files.reports(1).await.unwrap(), Vec::new());
    }
}
