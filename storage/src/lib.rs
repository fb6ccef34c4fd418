//! Persist state with a Merkle commitment and archive finalized blocks.
//!
//! Owns the chain's state database and block archive, and the state proofs a light
//! client checks. May not depend on the node, consensus, async runtimes or HTTP; and
//! [`proof`], the part clients use, may not depend on the database: redb and the
//! store live behind the default feature `db`, so `plexus-client` (which takes this
//! crate with `default-features = false`) verifies proofs without linking redb.
//!
//! [`Store`] keeps everything in one redb file: a Jellyfish Merkle tree (sha256,
//! `jmt::Sha256Jmt`) versioned by block height, the latest value of every key for fast
//! reads, the finalized blocks with digest and transaction indexes, and the state root
//! of every height. [`Store::commit_block`] advances all of it in one durable write
//! transaction; [`Store::root_with`] computes the root of unfinalized blocks without
//! writing. [`proof`] holds what a light client needs to check a [`StateProof`], and
//! uses no database. [`Store::state_chunk`] and [`Store::restore`] serve and rebuild
//! the state at a height in proven chunks (state sync). [`Store::hold_finalized`] keeps a
//! finalized block until its state commits, which moves it into the archive: the node
//! gives consensus this one block store, so a block is stored once.

#[cfg(feature = "db")]
mod finalized;
pub mod proof;
#[cfg(feature = "db")]
mod prune;
#[cfg(feature = "db")]
mod store;
#[cfg(feature = "db")]
mod sync;
#[cfg(feature = "db")]
mod tables;
#[cfg(feature = "db")]
mod tree;

#[cfg(feature = "db")]
pub use finalized::FinalizedRanges;
pub use proof::{ProofError, StateProof, verify_proof};
#[cfg(feature = "db")]
pub use prune::Pruned;
#[cfg(feature = "db")]
pub use store::{
    Committed, IndexedTx, MAX_BLOCKS_PER_RANGE, Snapshot, StateAt, StorageError, Store,
};
#[cfg(feature = "db")]
pub use sync::{Entries, MAX_CHUNK_ENTRIES, Restore, StateChunk};
