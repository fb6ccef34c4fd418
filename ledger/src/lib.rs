//! Apply transactions and epochs to the state, deterministically, without I/O.

pub mod store;
pub mod yuma;

pub use store::{MemStore, Overlay, StateReader, StoreError, WriteSet};
