//! The local files a data command reads (metadata, CSV tables, a task's schema),
//! with errors that name them.

use std::path::{Path, PathBuf};

use plexus_client::wire::DataTask;
use plexus_synth::{IngestError, Schema, SchemaError, Table};
use plexus_types::Hash;

use crate::{DataStore, PublishedError, ReferenceError, TaskError, ValidateError, schema_for};

/// A local input that cannot be used, by its path.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file cannot be read.
    #[error("cannot read {what} {}", path.display())]
    Read {
        /// What the file holds.
        what: String,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The metadata file is not UTF-8.
    #[error("{} is not UTF-8", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// The metadata file is not SDV metadata JSON for one table.
    #[error("{} is not SDV metadata JSON for one table", path.display())]
    BadMetadata {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<SchemaError>,
    },
    /// A CSV file does not parse against the schema.
    #[error("{what} {} does not parse against the schema: fix the file or the metadata", path.display())]
    BadTable {
        /// What the file holds.
        what: String,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<IngestError>,
    },
    /// No metadata file was given and the store cannot serve the task's schema.
    #[error("the task's schema {hash} is not usable from the store {store}: pass --metadata")]
    StoreSchema {
        /// The task's schema hash.
        hash: Hash,
        /// The store, described.
        store: String,
        /// Why.
        #[source]
        source: Box<PublishedError>,
    },
    /// The metadata file is not the task's.
    #[error(
        "{} hashes to {actual}, but task {task} was posted with schema {expected}: use the task's metadata file",
        path.display()
    )]
    SchemaMismatch {
        /// The file.
        path: PathBuf,
        /// The task.
        task: u64,
        /// The task's schema hash.
        expected: Hash,
        /// What the file hashes to.
        actual: Hash,
    },
    /// The reference file is not the task's.
    #[error("{} is not task {task}'s reference", path.display())]
    NotTheReference {
        /// The file.
        path: PathBuf,
        /// The task.
        task: u64,
        /// Why it does not match.
        #[source]
        source: Box<ReferenceError>,
    },
    /// The reference file has too few rows to split.
    #[error(
        "reference {} has {rows} rows: validators need at least 4 to split it into training and holdout halves",
        path.display()
    )]
    TooFewRows {
        /// The file.
        path: PathBuf,
        /// Its rows.
        rows: u64,
    },
    /// The reference file does not parse against the schema.
    #[error("reference {} does not parse against the schema", path.display())]
    BadReference {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<TaskError>,
    },
    /// Anything else the duty refused.
    #[error(transparent)]
    Validate(Box<ValidateError>),
}

impl InputError {
    /// `error`, naming the files the user gave: `metadata` and `reference`.
    pub fn naming(error: ValidateError, metadata: &Path, reference: Option<&Path>) -> Self {
        let path = metadata.to_owned();
        match (error, reference) {
            (
                ValidateError::SchemaMismatch {
                    task,
                    expected,
                    actual,
                },
                _,
            ) => Self::SchemaMismatch {
                path,
                task,
                expected,
                actual,
            },
            (ValidateError::BadMetadata(e), _) => Self::BadMetadata {
                path,
                source: Box::new(e),
            },
            (ValidateError::MetadataNotUtf8, _) => Self::NotUtf8 { path },
            (ValidateError::NotTheReference { task, source }, Some(reference)) => {
                let path = reference.to_owned();
                let source = Box::new(source);
                Self::NotTheReference { path, task, source }
            }
            (other, _) => Self::Validate(Box::new(other)),
        }
    }
}

impl InputError {
    /// A task's reference file at `path` that [`crate::TaskFiles::check`] refused.
    pub fn reference(error: TaskError, path: &Path) -> Self {
        let path = path.to_owned();
        match error {
            TaskError::TooFewRows(rows) => Self::TooFewRows { path, rows },
            e => Self::BadReference {
                path,
                source: Box::new(e),
            },
        }
    }
}

/// The bytes of `path`, which holds `what`.
pub fn read_input(path: &Path, what: &str) -> Result<Vec<u8>, InputError> {
    std::fs::read(path).map_err(|source| InputError::Read {
        what: what.to_owned(),
        path: path.to_owned(),
        source,
    })
}

/// The schema in the metadata file at `path` (its `bytes`).
pub fn schema_input(bytes: &[u8], path: &Path) -> Result<Schema, InputError> {
    let text = std::str::from_utf8(bytes).map_err(|_| InputError::NotUtf8 {
        path: path.to_owned(),
    })?;
    Schema::from_metadata_json(text).map_err(|e| InputError::BadMetadata {
        path: path.to_owned(),
        source: Box::new(e),
    })
}

/// The CSV file at `path`, which holds `what`, parsed against `schema`.
pub fn table_input(schema: &Schema, path: &Path, what: &str) -> Result<Table, InputError> {
    Table::from_csv(schema, &read_input(path, what)?).map_err(|e| InputError::BadTable {
        what: what.to_owned(),
        path: path.to_owned(),
        source: Box::new(e),
    })
}

impl DataStore {
    /// `task`'s schema: from the `metadata` file (checked against the chain), else
    /// from this store (checked against its hash).
    pub async fn task_schema(
        &self,
        task: &DataTask,
        metadata: Option<&Path>,
    ) -> Result<Schema, InputError> {
        let Some(path) = metadata else {
            let hash = task.schema_hash;
            return (self.schema(&hash).await).map_err(|source| InputError::StoreSchema {
                hash,
                store: self.describe().to_owned(),
                source: Box::new(source),
            });
        };
        schema_for(task, &read_input(path, "metadata")?)
            .map_err(|e| InputError::naming(e, path, None))
    }
}
