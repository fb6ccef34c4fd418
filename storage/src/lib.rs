//! Persist state with a Merkle commitment and archive finalized blocks.
//!
//! [`Store`] keeps everything in one redb file: a Jellyfish Merkle tree (sha256,
//! `jmt::Sha256Jmt`) versioned by block height, the latest value of every key for fast
//! reads, the finalized blocks with digest and transaction indexes, and the state root
//! of every height. [`Store::commit_block`] advances all of it in one durable write
//! transaction; [`Store::root_with`] computes the root of unfinalized blocks without
//! writing. [`proof`] holds what a light client needs to check a [`StateProof`], and
//! uses no database.

pub mod proof;
mod store;
mod tables;
mod tree;

pub use proof::{ProofError, StateProof, verify_proof};
pub use store::{Committed, IndexedTx, MAX_BLOCKS_PER_RANGE, Snapshot, StorageError, Store};
