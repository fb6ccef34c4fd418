//! Apply transactions and epochs to the state, deterministically, without I/O.

pub mod yuma;
