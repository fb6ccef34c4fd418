//! Content-addressed blobs in an `object_store` backend.

use std::{path::Path as FsPath, sync::Arc};

use object_store::{
    ObjectStore, ObjectStoreExt as _, PutPayload, aws::AmazonS3Builder, local::LocalFileSystem,
    memory::InMemory, path::Path, prefix::PrefixStore,
};
use plexus_types::Hash;
use thiserror::Error;

use crate::content_hash;

/// Why the dataset store failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The store URL is not one this build understands.
    #[error(
        "unsupported dataset store {0:?}: use a directory, file:///path, s3://bucket[/prefix] or memory://"
    )]
    UnsupportedUrl(String),
    /// The backend could not be opened or configured.
    #[error("cannot open the dataset store {url}: {source}")]
    Open {
        /// The URL or path.
        url: String,
        /// What the backend said.
        source: object_store::Error,
    },
    /// A local directory could not be created.
    #[error("cannot create the dataset directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// No object under this address.
    #[error(
        "{what} {hash} is not in the dataset store {store}: upload it first or point --store at the store that has it"
    )]
    NotFound {
        /// What was asked for (`blob`, `dataset`).
        what: &'static str,
        /// Its address.
        hash: Hash,
        /// The store.
        store: String,
    },
    /// The bytes read back do not hash to their address.
    #[error("blob {expected} in the dataset store is corrupt: its bytes hash to {actual}")]
    Corrupt {
        /// The address asked for.
        expected: Hash,
        /// What the bytes hash to.
        actual: Hash,
    },
    /// The backend failed.
    #[error("dataset store error: {0}")]
    Backend(#[from] object_store::Error),
}

/// Content-addressed blobs and published datasets in one `object_store` backend.
#[derive(Debug, Clone)]
pub struct DataStore {
    pub(crate) inner: Arc<dyn ObjectStore>,
    description: String,
}

impl DataStore {
    /// A store in a local directory (created if missing).
    pub fn local(dir: &FsPath) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(|source| StoreError::Open {
            url: dir.display().to_string(),
            source,
        })?;
        Ok(Self {
            inner: Arc::new(fs),
            description: dir.display().to_string(),
        })
    }

    /// An in-memory store (tests).
    pub fn memory() -> Self {
        Self {
            inner: Arc::new(InMemory::new()),
            description: "memory://".into(),
        }
    }

    /// Open a store by URL: a plain directory or `file:///path` (local disk),
    /// `s3://bucket[/prefix]` (S3 or an S3-compatible service; credentials, region and
    /// endpoint come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
    /// `AWS_ENDPOINT` and `AWS_ALLOW_HTTP`), or `memory://`.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        if let Some(path) = url.strip_prefix("file://") {
            return Self::local(FsPath::new(path));
        }
        if url == "memory://" {
            return Ok(Self::memory());
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StoreError::UnsupportedUrl(url.into()));
            }
            let s3 = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()
                .map_err(|source| StoreError::Open {
                    url: url.into(),
                    source,
                })?;
            let prefix = prefix.trim_matches('/');
            let inner: Arc<dyn ObjectStore> = if prefix.is_empty() {
                Arc::new(s3)
            } else {
                Arc::new(PrefixStore::new(s3, prefix))
            };
            return Ok(Self {
                inner,
                description: url.into(),
            });
        }
        if url.contains("://") {
            return Err(StoreError::UnsupportedUrl(url.into()));
        }
        Self::local(FsPath::new(url))
    }

    /// Where this store lives, for messages.
    pub fn describe(&self) -> &str {
        &self.description
    }

    fn blob_path(hash: &Hash) -> Path {
        Path::from(format!("blobs/{}", hash.to_hex()))
    }

    fn dataset_path(root: &Hash) -> Path {
        Path::from(format!("datasets/{}.csv", root.to_hex()))
    }

    /// Store `bytes` under their blake3 hash and return it (idempotent).
    pub async fn put(&self, bytes: Vec<u8>) -> Result<Hash, StoreError> {
        let hash = content_hash(&bytes);
        self.inner
            .put(&Self::blob_path(&hash), PutPayload::from(bytes))
            .await?;
        Ok(hash)
    }

    async fn read(
        &self,
        path: &Path,
        what: &'static str,
        hash: Hash,
    ) -> Result<Vec<u8>, StoreError> {
        match self.inner.get(path).await {
            Ok(got) => Ok(got.bytes().await?.to_vec()),
            Err(object_store::Error::NotFound { .. }) => Err(StoreError::NotFound {
                what,
                hash,
                store: self.description.clone(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The blob with this hash, checked against it.
    pub async fn get(&self, hash: &Hash) -> Result<Vec<u8>, StoreError> {
        let bytes = self.read(&Self::blob_path(hash), "blob", *hash).await?;
        let actual = content_hash(&bytes);
        if actual != *hash {
            return Err(StoreError::Corrupt {
                expected: *hash,
                actual,
            });
        }
        Ok(bytes)
    }

    /// Whether a blob with this hash is stored.
    pub async fn contains(&self, hash: &Hash) -> Result<bool, StoreError> {
        match self.inner.head(&Self::blob_path(hash)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Store a published dataset's CSV under its Merkle root.
    pub async fn put_dataset(&self, root: &Hash, csv: Vec<u8>) -> Result<(), StoreError> {
        self.inner
            .put(&Self::dataset_path(root), PutPayload::from(csv))
            .await?;
        Ok(())
    }

    /// A published dataset's CSV (the caller checks its root against the chain).
    pub async fn get_dataset(&self, root: &Hash) -> Result<Vec<u8>, StoreError> {
        self.read(&Self::dataset_path(root), "dataset", *root).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn a_blob_round_trips_by_its_hash_on_disk_and_a_corrupt_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = DataStore::open(dir.path().to_str().unwrap()).unwrap();
        let hash = store.put(b"a,b\n1,2\n".to_vec()).await.unwrap();
        assert_eq!(hash, content_hash(b"a,b\n1,2\n"));
        assert!(store.contains(&hash).await.unwrap());
        assert_eq!(store.get(&hash).await.unwrap(), b"a,b\n1,2\n");
        let missing = Hash([9; 32]);
        assert!(!store.contains(&missing).await.unwrap());
        assert!(matches!(
            store.get(&missing).await,
            Err(StoreError::NotFound { what: "blob", .. })
        ));
        // Tamper with the file on disk.
        std::fs::write(dir.path().join("blobs").join(hash.to_hex()), b"evil").unwrap();
        assert!(matches!(
            store.get(&hash).await,
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[tokio::test]
    async fn urls_pick_the_backend() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("file://{}", dir.path().display());
        let store = DataStore::open(&url).unwrap();
        store
            .put_dataset(&Hash([1; 32]), b"x".to_vec())
            .await
            .unwrap();
        assert_eq!(store.get_dataset(&Hash([1; 32])).await.unwrap(), b"x");
        assert!(matches!(
            DataStore::open("ftp://x"),
            Err(StoreError::UnsupportedUrl(_))
        ));
        assert!(DataStore::open("memory://").is_ok());
        // An S3 store builds from a URL without contacting anything.
        assert!(DataStore::open("s3://bucket/some/prefix").is_ok());
    }
}
