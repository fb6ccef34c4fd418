//! Handlers, one module per resource, and the parsing and reading they share.

pub(crate) mod blocks;
pub(crate) mod chain;
pub(crate) mod credits;
pub(crate) mod data;
pub(crate) mod node;
pub(crate) mod proofs;
pub(crate) mod state;
pub(crate) mod transactions;

use std::sync::Arc;

use plexus_storage::{Snapshot, Store};
use plexus_types::{AccountId, Hash, Netuid, Uid};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{backend::Backend, error::ApiError, state::ApiState};

/// Call the backend on the blocking pool: its methods may block (the store reads
/// disk, admission checks state).
pub(crate) async fn blocking<T, F>(state: &ApiState, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&dyn Backend) -> T + Send + 'static,
    T: Send + 'static,
{
    let backend = Arc::clone(state.backend());
    tokio::task::spawn_blocking(move || f(backend.as_ref()))
        .await
        .map_err(|e| ApiError::internal(format!("backend task failed: {e}")))
}

/// Run a store read on the blocking pool.
pub(crate) async fn read<T, F>(state: &ApiState, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    blocking(state, move |backend| f(&backend.store())).await?
}

/// The latest committed state, read consistently, as [`read_latest`] hands it over.
pub(crate) struct Latest<'a> {
    /// A consistent view of the state.
    pub(crate) snap: Snapshot,
    /// The committed height it shows.
    pub(crate) height: u64,
    /// The store, for what is not state (headers, blocks).
    pub(crate) store: &'a Store,
}

/// Read the latest committed state on the blocking pool: `f` gets one snapshot and
/// the height it shows (`not_ready` before genesis is committed).
pub(crate) async fn read_latest<T, F>(state: &ApiState, f: F) -> Result<T, ApiError>
where
    F: FnOnce(Latest<'_>) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    read(state, move |store| {
        let snap = store.snapshot()?;
        let height = snap.height().ok_or_else(ApiError::not_ready)?;
        f(Latest {
            snap,
            height,
            store,
        })
    })
    .await
}

/// Parse an account: bech32m `plx1…` or 64 hex characters.
pub(crate) fn parse_account(text: &str) -> Result<AccountId, ApiError> {
    AccountId::parse(text).map_err(|_| {
        ApiError::invalid(
            "invalid_address",
            format!(
                "{:?} is not an account: expected a bech32m address starting with `plx1` or 64 hex characters",
                truncate(text)
            ),
        )
    })
}

/// Parse a 64-hex-character hash.
pub(crate) fn parse_hash(text: &str) -> Result<Hash, ApiError> {
    if text.len() != 64 {
        return Err(bad_hash(text));
    }
    Hash::from_hex(text).map_err(|_| bad_hash(text))
}

fn bad_hash(text: &str) -> ApiError {
    ApiError::invalid(
        "invalid_hash",
        format!(
            "{:?} is not a hash: expected 64 hex characters",
            truncate(text)
        ),
    )
}

/// Parse a netuid (0..=65535).
pub(crate) fn parse_netuid(text: &str) -> Result<Netuid, ApiError> {
    text.parse().map_err(|_| {
        ApiError::invalid(
            "invalid_netuid",
            format!(
                "{:?} is not a netuid: expected an integer from 0 to 65535",
                truncate(text)
            ),
        )
    })
}

/// Parse a UID (0..=65535).
pub(crate) fn parse_uid(text: &str) -> Result<Uid, ApiError> {
    text.parse().map_err(|_| {
        ApiError::invalid(
            "invalid_uid",
            format!(
                "{:?} is not a uid: expected an integer from 0 to 65535",
                truncate(text)
            ),
        )
    })
}

/// At most 80 characters of untrusted input, for error messages.
pub(crate) fn truncate(text: &str) -> String {
    text.chars().take(80).collect()
}

/// `?height=`: read at a committed height instead of the latest one.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AtHeight {
    /// A committed height; the latest one when absent.
    pub(crate) height: Option<u64>,
}
