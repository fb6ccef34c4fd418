//! Fixtures the unit tests share.

#![allow(clippy::unwrap_used)]

use plexus_synth::Schema;
use plexus_types::Hash;

use crate::{DataStore, csv_root};

/// SDV metadata of a two-column table.
pub(crate) const META: &str =
    r#"{"columns": {"kind": {"sdtype": "categorical"}, "size": {"sdtype": "numerical"}}}"#;

/// A memory store holding [`META`] and a dataset published under its root.
pub(crate) struct Published {
    pub(crate) store: DataStore,
    pub(crate) schema_hash: Hash,
    pub(crate) schema: Schema,
    pub(crate) rows: u64,
    pub(crate) root: Hash,
}

/// Store [`META`] and publish `csv` under its root.
pub(crate) async fn published(csv: &[u8]) -> Published {
    let store = DataStore::memory();
    let schema_hash = store.put(META.as_bytes().to_vec()).await.unwrap();
    let schema = store.schema(&schema_hash).await.unwrap();
    let (rows, root) = csv_root(&schema, csv).unwrap();
    store.put_dataset(&root, csv.to_vec()).await.unwrap();
    Published {
        store,
        schema_hash,
        schema,
        rows,
        root,
    }
}
