//! A contributor's synthetic rows (`plexus data generate`): a Gaussian copula fit on
//! real rows, its own or a public task's training half, and sampled.

use std::path::{Path, PathBuf};

use plexus_client::wire::DataTask;
use plexus_synth::{CopulaError, GaussianCopula, IngestError, Schema, Table, seed_from};
use plexus_types::Hash;

use crate::{DataStore, DownloadError, content_hash};

/// Why no rows were generated.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The metadata is not the task's.
    #[error(
        "{} is not the schema of task {task} (it hashes to {actual}, the task's is {expected})",
        path.display()
    )]
    NotTheSchema {
        /// The metadata file.
        path: PathBuf,
        /// The task.
        task: u64,
        /// What the file hashes to.
        actual: Hash,
        /// The task's schema hash.
        expected: Hash,
    },
    /// The task's training half cannot be had.
    #[error(transparent)]
    Download(#[from] DownloadError),
    /// The task's training half does not parse against its schema.
    #[error("the task's training half does not parse against its schema")]
    TrainingHalf(#[source] IngestError),
    /// The copula cannot be fit to the rows.
    #[error("cannot fit the Gaussian copula to the real data")]
    Fit(#[source] CopulaError),
}

/// With a task: check that `metadata` (the file at `path`) is its schema, and, unless
/// the caller has real rows of its own (`own_rows`), fetch its public training half
/// from `store` to fit on.
pub async fn task_training(
    task: &DataTask,
    metadata: &[u8],
    path: &Path,
    schema: &Schema,
    store: Option<&DataStore>,
) -> Result<Option<Table>, GenerateError> {
    let actual = content_hash(metadata);
    if actual != task.schema_hash {
        return Err(GenerateError::NotTheSchema {
            path: path.to_owned(),
            task: task.id,
            actual,
            expected: task.schema_hash,
        });
    }
    let Some(store) = store else {
        return Ok(None);
    };
    let (_, csv) = store.task_training_half(task).await?;
    let half = Table::from_csv(schema, &csv).map_err(GenerateError::TrainingHalf)?;
    Ok(Some(half))
}

/// `rows` synthetic rows as CSV: a Gaussian copula (one per value of the `stratify`
/// column, if given) fit on `real` and sampled, both seeded from `seed`.
pub fn synthesize(
    schema: &Schema,
    real: &Table,
    rows: usize,
    seed: u64,
    stratify: Option<&str>,
) -> Result<Vec<u8>, GenerateError> {
    let seed = seed_from(b"plexus data generate", seed);
    let model = match stratify {
        Some(column) => GaussianCopula::fit_stratified(schema, real, column, seed),
        None => GaussianCopula::fit(schema, real, seed),
    }
    .map_err(GenerateError::Fit)?;
    Ok(model.sample(rows, seed).to_csv(schema))
}
