//! Apply transactions and epochs to the state, deterministically, without I/O.
//!
//! Owns the chain's rules: every transaction's checks and effects, block execution,
//! epochs and emission, and the layout of the state keys. May not depend on storage
//! engines, async runtimes or HTTP (no redb, tokio, hyper or reqwest, which
//! `scripts/check-deps.sh` checks): it reads through [`StateReader`] and returns a
//! [`WriteSet`], and whoever persists it is above it.
//!
//! The ledger is a synchronous state machine over point reads ([`StateReader`]) that
//! hands back a [`WriteSet`]. Components (accounts, staking, subnets, neurons,
//! weights, emission) each keep their state keys in one `keys.rs`, with a one-byte
//! component prefix, and values in the canonical `plexus_types` codec:
//!
//! | prefix | component | keys |
//! |---|---|---|
//! | `0x00` | params | chain id and parameters |
//! | `0x01` | accounts | balance and nonce per account; supply |
//! | `0x02` | staking | stake per (hotkey, coldkey); hotkey owner, take, total; lists |
//! | `0x03` | subnets | list, next netuid; info, hyperparameters, state per netuid |
//! | `0x04` | neurons | holder, registration, scores, endpoint per (netuid, uid) |
//! | `0x05` | weights | weights, bonds and commit rows per (netuid, uid) |
//! | `0x06` | data | data tasks, their contributions and the bounty escrow |
//! | `0x07` | credits | issuers and their keys, deposits, the credit escrow, settled nonces, buyers per key |
//! | `0x08` | fees | fee-free transactions used per sender in the current window |
//! | `0x09` | validators | bonds and keys per operator; the consensus set per epoch; releases per height |
//!
//! Entry points: [`check_transaction`] (mempool), [`apply_transaction`],
//! [`execute_block`] (verify a block), [`build_block`] (propose one),
//! [`genesis::writes`], and the typed reads in [`query`]. Which transactions may go
//! without a fee is decided in one place, [`fees::fee_free`], and how many in
//! [`fees`]. The credit issuer's bond, key schedule and refunds are in [`credits`].

pub mod accounts;
pub mod block;
mod context;
pub mod credits;
pub mod data;
pub mod emission;
pub mod error;
pub mod events;
pub mod fees;
pub mod genesis;
pub mod neurons;
pub mod params;
pub mod query;
mod sig;
pub mod staking;
pub mod state;
pub mod store;
pub mod subnets;
pub mod validators;
pub mod weights;
pub mod yuma;

pub use accounts::keys::account_key;
pub use block::{
    BlockEnv, BlockError, BlockOutput, BuiltBlock, apply_transaction, build_block,
    check_transaction, execute_block,
};
pub use error::TxError;
pub use events::{Event, FinalizedBlock};
pub use genesis::{Genesis, GenesisError};
pub use neurons::keys::{neuron_key, registration_key};
pub use params::{ChainConfig, ChainParams};
pub use staking::keys::stake_key;
pub use state::StateError;
pub use store::{MemStore, Overlay, StateReader, StoreError, WriteSet};
