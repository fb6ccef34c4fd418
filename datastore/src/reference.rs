//! A task's reference data: public (contributors fit on the training half) or private.
//!
//! A **public** reference is split 50/50 once, when the task is posted, with a seed
//! derived from the reference's own hash. The training half T goes into the store for
//! contributors; the holdout H stays with the requester and the validators. What goes
//! on chain as the task's reference commitment is the blake3 of a small text manifest
//! ([`PublicReference`], one `key value` line each) naming the whole reference's hash, the split seed and T's blob,
//! so the chain binds all three and anyone can fetch and check T. Contributors who
//! generate from T never saw H, which is what the near-copy and overfitting gates
//! measure against.
//!
//! A **private** reference commits to the reference CSV's own blake3; contributors see
//! none of it, and validators split it after the reveal deadline with the task's
//! public seed.

use plexus_synth::{IngestError, Schema, Table, derive_seed, split_reference};
use plexus_types::Hash;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{DataStore, StoreError, content_hash};

/// The manifest's format tag.
pub const PUBLIC_REFERENCE_FORMAT: &str = "plexus-public-reference-v1";

/// Largest manifest read back from a store (a real one is about 400 bytes).
const MAX_MANIFEST_BYTES: usize = 4096;

/// Why a task's reference could not be resolved.
#[derive(Debug, Error)]
pub enum ReferenceError {
    /// The reference file matches neither the commitment nor the public manifest.
    #[error(
        "this reference hashes to {actual}, but the task committed to {commitment}, which is neither that hash nor a public manifest naming it in the store {store}: use the task's reference (and the task's store)"
    )]
    Mismatch {
        /// The task's on-chain commitment.
        commitment: Hash,
        /// What the given reference hashes to.
        actual: Hash,
        /// The store searched for a manifest.
        store: String,
    },
    /// The blob under the commitment is not a public-reference manifest.
    #[error("blob {0} is not a public reference manifest: {1}")]
    BadManifest(Hash, String),
    /// The training half recomputed from the reference is not the one the manifest names.
    #[error(
        "the training half split from this reference hashes to {actual}, but the task's manifest names {expected}: the reference or this build's CSV writer differs from the requester's"
    )]
    TrainMismatch {
        /// The manifest's training-half hash.
        expected: Hash,
        /// The recomputed one.
        actual: Hash,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a public task's reference commitment hashes: the manifest of its split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicReference {
    /// Always [`PUBLIC_REFERENCE_FORMAT`].
    pub format: String,
    /// blake3 of the whole reference CSV, as the requester and validators hold it.
    pub reference: Hash,
    /// The seed of the 50/50 split (derived from `reference`).
    pub split_seed: Hash,
    /// blake3 of the training half's CSV, a blob in the store.
    pub train: Hash,
    /// Rows in the training half.
    pub train_rows: u64,
    /// Rows in the holdout half (kept private).
    pub holdout_rows: u64,
}

impl PublicReference {
    /// The manifest's bytes: the format tag, then one `key value` line per field.
    pub fn to_bytes(&self) -> Vec<u8> {
        format!(
            "{}\nreference {}\nsplit_seed {}\ntrain {}\ntrain_rows {}\nholdout_rows {}\n",
            self.format,
            self.reference,
            self.split_seed,
            self.train,
            self.train_rows,
            self.holdout_rows
        )
        .into_bytes()
    }

    /// Parse a manifest, requiring exactly the bytes [`Self::to_bytes`] writes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_string())?;
        let mut lines = text.lines();
        if lines.next() != Some(PUBLIC_REFERENCE_FORMAT) {
            return Err(format!("it does not start with {PUBLIC_REFERENCE_FORMAT}"));
        }
        let mut field = |key: &str| -> Result<String, String> {
            lines
                .next()
                .and_then(|l| l.strip_prefix(key))
                .and_then(|l| l.strip_prefix(' '))
                .map(str::to_owned)
                .ok_or_else(|| format!("no `{key}` line where it belongs"))
        };
        let hash = |v: String| Hash::from_hex(&v).map_err(|e| e.to_string());
        let rows = |v: String| v.parse::<u64>().map_err(|e| e.to_string());
        let manifest = Self {
            format: PUBLIC_REFERENCE_FORMAT.into(),
            reference: hash(field("reference")?)?,
            split_seed: hash(field("split_seed")?)?,
            train: hash(field("train")?)?,
            train_rows: rows(field("train_rows")?)?,
            holdout_rows: rows(field("holdout_rows")?)?,
        };
        if manifest.to_bytes() != bytes {
            return Err("it is not in canonical form".into());
        }
        Ok(manifest)
    }
}

/// A public reference, split: the halves, the manifest and the blobs to store.
#[derive(Debug, Clone)]
pub struct PublicSplit {
    /// The manifest.
    pub manifest: PublicReference,
    /// Its bytes; their blake3 is the task's reference commitment.
    pub manifest_bytes: Vec<u8>,
    /// The training half's CSV (public).
    pub train_csv: Vec<u8>,
    /// The training half T.
    pub train: Table,
    /// The holdout half H.
    pub holdout: Table,
}

impl PublicSplit {
    /// The reference commitment to post on chain.
    pub fn commitment(&self) -> Hash {
        content_hash(&self.manifest_bytes)
    }
}

/// The split seed of a public reference: public, fixed by the reference's bytes.
pub fn public_split_seed(reference_hash: &Hash) -> [u8; 32] {
    derive_seed(&reference_hash.0, "public reference split")
}

/// Split a reference CSV for a public task (deterministic: the same bytes give the same
/// halves and manifest on every machine).
pub fn public_split(schema: &Schema, reference_csv: &[u8]) -> Result<PublicSplit, IngestError> {
    let reference = Table::from_csv(schema, reference_csv)?;
    Ok(public_split_of(
        schema,
        &reference,
        content_hash(reference_csv),
    ))
}

fn public_split_of(schema: &Schema, reference: &Table, reference_hash: Hash) -> PublicSplit {
    let seed = public_split_seed(&reference_hash);
    let (train, holdout) = split_reference(reference, seed);
    let train_csv = train.to_csv(schema);
    let manifest = PublicReference {
        format: PUBLIC_REFERENCE_FORMAT.into(),
        reference: reference_hash,
        split_seed: Hash(seed),
        train: content_hash(&train_csv),
        train_rows: train.num_rows() as u64,
        holdout_rows: holdout.num_rows() as u64,
    };
    PublicSplit {
        manifest_bytes: manifest.to_bytes(),
        manifest,
        train_csv,
        train,
        holdout,
    }
}

/// How a task holds its reference, as resolved from its on-chain commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceKind {
    /// Contributors see nothing; validators split after the reveal deadline.
    Private,
    /// Contributors see the training half named by this manifest.
    Public(PublicReference),
}

impl DataStore {
    /// Store a public reference's training half and manifest; returns the commitment.
    pub async fn publish_reference(&self, split: &PublicSplit) -> Result<Hash, StoreError> {
        self.put(split.train_csv.clone()).await?;
        self.put(split.manifest_bytes.clone()).await
    }

    /// The public manifest under a task's reference commitment, or `None` when the store
    /// has no blob there (a private reference, or another store).
    pub async fn public_reference(
        &self,
        commitment: &Hash,
    ) -> Result<Option<PublicReference>, ReferenceError> {
        let bytes = match self.get(commitment).await {
            Ok(bytes) => bytes,
            Err(StoreError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(ReferenceError::BadManifest(
                *commitment,
                format!("{} bytes, more than {MAX_MANIFEST_BYTES}", bytes.len()),
            ));
        }
        PublicReference::from_bytes(&bytes)
            .map(Some)
            .map_err(|why| ReferenceError::BadManifest(*commitment, why))
    }

    /// A public reference's training half as CSV (checked against the manifest's hash).
    pub async fn training_half(&self, manifest: &PublicReference) -> Result<Vec<u8>, StoreError> {
        self.get(&manifest.train).await
    }

    /// Resolve a task's reference commitment for a validator holding the whole
    /// reference CSV (and `reference`, that CSV parsed with `schema`): private when the
    /// CSV hashes to the commitment, public when the commitment is a manifest naming
    /// the CSV (and the recomputed training half is the one it names).
    pub async fn resolve_reference(
        &self,
        schema: &Schema,
        commitment: &Hash,
        reference_csv: &[u8],
        reference: &Table,
    ) -> Result<ReferenceKind, ReferenceError> {
        let actual = content_hash(reference_csv);
        if actual == *commitment {
            return Ok(ReferenceKind::Private);
        }
        let mismatch = ReferenceError::Mismatch {
            commitment: *commitment,
            actual,
            store: self.describe().to_string(),
        };
        let Some(manifest) = self.public_reference(commitment).await? else {
            return Err(mismatch);
        };
        if manifest.reference != actual {
            return Err(mismatch);
        }
        let split = public_split_of(schema, reference, actual);
        if split.manifest != manifest {
            return Err(ReferenceError::TrainMismatch {
                expected: manifest.train,
                actual: split.manifest.train,
            });
        }
        Ok(ReferenceKind::Public(manifest))
    }
}

/// Split `reference` into (T, H) for scoring: with the manifest's seed for a public
/// reference, with `task_seed` (task id and reveal deadline) for a private one.
pub fn split_for(kind: &ReferenceKind, reference: &Table, task_seed: [u8; 32]) -> (Table, Table) {
    match kind {
        ReferenceKind::Private => split_reference(reference, task_seed),
        ReferenceKind::Public(m) => split_reference(reference, m.split_seed.0),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn schema() -> Schema {
        Schema::from_metadata_json(
            r#"{"columns": {"x": {"sdtype": "numerical"}, "c": {"sdtype": "categorical"}}}"#,
        )
        .unwrap()
    }

    fn csv(rows: usize) -> Vec<u8> {
        let mut out = String::from("x,c\n");
        for i in 0..rows {
            out.push_str(&format!("{}.5,{}\n", i * 7 % 23, ["a", "b", "c"][i % 3]));
        }
        out.into_bytes()
    }

    #[tokio::test]
    async fn a_public_reference_resolves_from_its_manifest_and_a_private_one_from_its_hash() {
        let (schema, store) = (schema(), DataStore::memory());
        let reference = csv(40);
        let split = public_split(&schema, &reference).unwrap();
        assert_eq!(split.manifest.train_rows + split.manifest.holdout_rows, 40);
        let commitment = store.publish_reference(&split).await.unwrap();
        assert_eq!(commitment, split.commitment());
        // Deterministic: the same bytes give the same manifest.
        assert_eq!(
            public_split(&schema, &reference).unwrap().manifest_bytes,
            split.manifest_bytes
        );

        // Contributors read the manifest and the training half.
        let manifest = store.public_reference(&commitment).await.unwrap().unwrap();
        let train = store.training_half(&manifest).await.unwrap();
        assert_eq!(train, split.train_csv);
        // The validator with the whole reference resolves it and splits the same way.
        let table = Table::from_csv(&schema, &reference).unwrap();
        let kind = store
            .resolve_reference(&schema, &commitment, &reference, &table)
            .await
            .unwrap();
        assert_eq!(kind, ReferenceKind::Public(manifest));
        let (t, h) = split_for(&kind, &table, [9; 32]);
        assert_eq!(t.to_csv(&schema), split.train_csv);
        assert_eq!(h.to_csv(&schema), split.holdout.to_csv(&schema));

        // Another reference does not match the manifest.
        let other = csv(41);
        let other_table = Table::from_csv(&schema, &other).unwrap();
        assert!(matches!(
            store
                .resolve_reference(&schema, &commitment, &other, &other_table)
                .await,
            Err(ReferenceError::Mismatch { .. })
        ));
        // A private reference: the commitment is the CSV's own hash.
        let private = content_hash(&other);
        assert_eq!(
            store
                .resolve_reference(&schema, &private, &other, &other_table)
                .await
                .unwrap(),
            ReferenceKind::Private
        );
        assert!(store.public_reference(&private).await.unwrap().is_none());
        // A blob that is not a manifest is refused with a reason.
        let junk = store.put(b"not a manifest".to_vec()).await.unwrap();
        assert!(matches!(
            store.public_reference(&junk).await,
            Err(ReferenceError::BadManifest(..))
        ));
    }
}
