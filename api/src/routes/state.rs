//! State sync: the state tree at a committed height, in chunks with range proofs.

use axum::{Json, extract::State};
use serde::Deserialize;
use utoipa::IntoParams;

use super::read;
use crate::{
    error::{ApiError, ApiQuery},
    state::ApiState,
    wire::{ErrorBody, StateChunk},
};

/// Entries per chunk when `limit` is absent.
const DEFAULT_CHUNK: usize = 1_024;

/// `?height=&after=&limit=`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChunkQuery {
    /// A committed height; the latest one when absent.
    height: Option<u64>,
    /// The key hash (64 hex characters) of the previous chunk's last entry; from the
    /// first leaf when absent.
    after: Option<String>,
    /// Entries, 1 to 4096 (1024 when absent).
    limit: Option<usize>,
}

/// The next leaves of the state tree at a height with their range proof.
#[utoipa::path(
    get,
    path = "/v1/state/chunks",
    tag = "state",
    params(ChunkQuery),
    responses(
        (status = 200, description = "A chunk of the state at the height", body = StateChunk),
        (status = 400, description = "`after` is not 64 hex characters, or `limit` is out of range", body = ErrorBody),
        (status = 404, description = "Height not committed (`unknown_height`)", body = ErrorBody),
    )
)]
pub(crate) async fn chunks(
    State(state): State<ApiState>,
    ApiQuery(query): ApiQuery<ChunkQuery>,
) -> Result<Json<StateChunk>, ApiError> {
    let after = match &query.after {
        None => None,
        Some(text) => {
            let mut hash = [0u8; 32];
            hex::decode_to_slice(text, &mut hash).map_err(|_| {
                ApiError::invalid(
                    "invalid_key_hash",
                    "`after` must be a key hash: 64 hex characters",
                )
            })?;
            Some(hash)
        }
    };
    let limit = query.limit.unwrap_or(DEFAULT_CHUNK);
    if !(1..=plexus_storage::MAX_CHUNK_ENTRIES).contains(&limit) {
        return Err(ApiError::invalid(
            "invalid_limit",
            format!(
                "limit must be between 1 and {}",
                plexus_storage::MAX_CHUNK_ENTRIES
            ),
        ));
    }
    read(&state, move |store| {
        let height = match query.height {
            Some(height) => height,
            None => store.committed_height().ok_or_else(ApiError::not_ready)?,
        };
        let chunk = store.state_chunk(height, after, limit)?;
        Ok(StateChunk {
            height: chunk.height,
            root: chunk.root,
            entries: chunk
                .entries
                .iter()
                .map(|(k, v)| [hex::encode(k), hex::encode(v)])
                .collect(),
            proof: hex::encode(&chunk.proof),
            done: chunk.done,
        })
    })
    .await
    .map(Json)
}
