//! A task's files as a contributor or a downloader gets them: its public training
//! half (checked against the manifest the chain commits to) and verified datasets
//! written to local files.

use std::path::{Path, PathBuf};

use plexus_client::wire::DataTask;
use plexus_synth::Schema;

use crate::{ConvertError, DataStore, PublicReference, ReferenceError, StoreError, csv_as_parquet};

/// Why a task's file could not be had.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The store holds no manifest under the task's reference commitment.
    #[error(
        "task {task} has no public training half in the store {store}: its reference is private, or the store is not the task's (pass --store)"
    )]
    NoPublicHalf {
        /// The task.
        task: u64,
        /// The store, described.
        store: String,
    },
    /// The manifest is unusable.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// The store failed, or a blob does not match its hash.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The CSV does not convert to Parquet.
    #[error(transparent)]
    Convert(#[from] ConvertError),
    /// The output file cannot be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl DataStore {
    /// A public task's manifest and training half (CSV), each checked against the
    /// hash that names it.
    pub async fn task_training_half(
        &self,
        task: &DataTask,
    ) -> Result<(PublicReference, Vec<u8>), DownloadError> {
        let manifest = self.public_reference(&task.reference_commitment).await?;
        let manifest = manifest.ok_or_else(|| DownloadError::NoPublicHalf {
            task: task.id,
            store: self.describe().to_owned(),
        })?;
        let csv = self.training_half(&manifest).await?;
        Ok((manifest, csv))
    }
}

/// Write a verified CSV to `out`, converted to Parquet when `out` ends in `.parquet`.
pub fn write_dataset(schema: &Schema, csv: &[u8], out: &Path) -> Result<(), DownloadError> {
    let parquet = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let bytes = match parquet {
        true => csv_as_parquet(schema, csv)?,
        false => csv.to_vec(),
    };
    std::fs::write(out, bytes).map_err(|source| DownloadError::Write {
        path: out.to_owned(),
        source,
    })
}
