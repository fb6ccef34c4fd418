//! Marshal's finality-certificate store: an immutable archive on nodes that keep every
//! height, a prunable one on nodes that prune, so `--prune` bounds the certificates as
//! it bounds blocks and state.
//!
//! A certificate carries a signature of every signer (about 64 bytes each), so on a
//! large validator set the certificates of a long chain outweigh its blocks. An
//! immutable archive never prunes; a prunable archive drops whole sections below the
//! floor the finalizer hands marshal.

use commonware_consensus::{marshal::store::Certificates, types::Height};
use commonware_runtime::{Clock, Handle, Metrics, Storage};
use commonware_storage::{
    archive::{Error, Identifier, immutable, prunable},
    translator::EightCap,
};

use super::{Finalization, Scheme, block::Digest};

/// The certificates of a node that keeps every height, or of one that prunes.
pub(crate) enum Finalizations<E: Storage + Metrics + Clock> {
    /// Every certificate, forever.
    Archive(immutable::Archive<E, Digest, Finalization>),
    /// The certificates from the pruning floor up.
    Pruned(prunable::Archive<EightCap, E, Digest, Finalization>),
}

impl<E: Storage + Metrics + Clock> Certificates for Finalizations<E> {
    type BlockDigest = Digest;
    type Commitment = Digest;
    type Scheme = Scheme;
    type Error = Error;

    async fn put(
        self,
        height: Height,
        digest: Digest,
        finalization: &Finalization,
    ) -> Result<Self, Error> {
        Ok(match self {
            Self::Archive(a) => {
                Self::Archive(Certificates::put(a, height, digest, finalization).await?)
            }
            Self::Pruned(a) => {
                Self::Pruned(Certificates::put(a, height, digest, finalization).await?)
            }
        })
    }

    async fn sync(self) -> Result<Self, Error> {
        Ok(match self {
            Self::Archive(a) => Self::Archive(Certificates::sync(a).await?),
            Self::Pruned(a) => Self::Pruned(Certificates::sync(a).await?),
        })
    }

    async fn start_sync(self) -> Result<(Self, Handle<()>), Error> {
        Ok(match self {
            Self::Archive(a) => {
                let (a, handle) = Certificates::start_sync(a).await?;
                (Self::Archive(a), handle)
            }
            Self::Pruned(a) => {
                let (a, handle) = Certificates::start_sync(a).await?;
                (Self::Pruned(a), handle)
            }
        })
    }

    async fn get(&self, id: Identifier<'_, Digest>) -> Result<Option<Finalization>, Error> {
        match self {
            Self::Archive(a) => Certificates::get(a, id).await,
            Self::Pruned(a) => Certificates::get(a, id).await,
        }
    }

    async fn has(&self, height: Height) -> Result<bool, Error> {
        match self {
            Self::Archive(a) => Certificates::has(a, height).await,
            Self::Pruned(a) => Certificates::has(a, height).await,
        }
    }

    async fn prune(self, min: Height) -> Result<Self, Error> {
        Ok(match self {
            Self::Archive(a) => Self::Archive(a),
            Self::Pruned(a) => Self::Pruned(Certificates::prune(a, min).await?),
        })
    }

    fn last_index(&self) -> Option<Height> {
        match self {
            Self::Archive(a) => Certificates::last_index(a),
            Self::Pruned(a) => Certificates::last_index(a),
        }
    }

    fn ranges_from(&self, from: Height) -> impl Iterator<Item = (Height, Height)> {
        let ranges: Vec<_> = match self {
            Self::Archive(a) => Certificates::ranges_from(a, from).collect(),
            Self::Pruned(a) => Certificates::ranges_from(a, from).collect(),
        };
        ranges.into_iter()
    }
}
