//! Finalized blocks: the latest, one by height or digest, and pages of summaries.

use axum::{Json, extract::State};
use plexus_types::Block;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{parse_hash, read, truncate};
use crate::{
    error::{ApiError, ApiPath, ApiQuery},
    state::ApiState,
    wire::{BlockPage, BlockSummary, BlockView, ErrorBody, FinalizationView, RawFinalization},
};

/// Blocks per page when `limit` is absent.
const DEFAULT_PAGE: u64 = 20;
/// Most blocks per page.
pub(crate) const MAX_PAGE: u64 = 100;

/// The latest finalized block.
#[utoipa::path(
    get,
    path = "/v1/blocks/latest",
    tag = "blocks",
    responses(
        (status = 200, description = "The block at the committed tip", body = BlockView),
        (status = 503, description = "No genesis yet (`not_ready`)", body = ErrorBody),
    )
)]
pub(crate) async fn latest(State(state): State<ApiState>) -> Result<Json<BlockView>, ApiError> {
    read(&state, |store| {
        let tip = store.committed().ok_or_else(ApiError::not_ready)?;
        let block = store
            .block(tip.height)?
            .ok_or_else(|| ApiError::internal(format!("no block at the tip {}", tip.height)))?;
        Ok(BlockView::from(&block))
    })
    .await
    .map(Json)
}

/// A finalized block by height or digest.
#[utoipa::path(
    get,
    path = "/v1/blocks/{id}",
    tag = "blocks",
    params(("id" = String, Path, description = "A height, or a block digest (64 hex characters)")),
    responses(
        (status = 200, description = "The block", body = BlockView),
        (status = 400, description = "Neither a height nor a digest", body = ErrorBody),
        (status = 404, description = "Not finalized (`unknown_block`)", body = ErrorBody),
    )
)]
pub(crate) async fn get(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<BlockView>, ApiError> {
    let block = find_block(&state, &id).await?;
    Ok(Json(BlockView::from(&block)))
}

/// A committed block by height or digest.
async fn find_block(state: &ApiState, id: &str) -> Result<Block, ApiError> {
    enum Id {
        Height(u64),
        Digest(plexus_types::Hash),
    }
    let parsed = if id.len() == 64 {
        Id::Digest(parse_hash(id)?)
    } else {
        Id::Height(id.parse().map_err(|_| {
            ApiError::invalid(
                "invalid_block_id",
                format!(
                    "{:?} is neither a height nor a block digest (64 hex characters)",
                    truncate(id)
                ),
            )
        })?)
    };
    read(state, move |store| {
        let (block, what) = match parsed {
            Id::Height(h) if h > 0 && h < store.oldest_height()? => {
                return Err(plexus_storage::StorageError::Pruned {
                    height: h,
                    oldest: store.oldest_height()?,
                }
                .into());
            }
            Id::Height(h) => (store.block(h)?, format!("at height {h}")),
            Id::Digest(d) => (store.block_by_digest(&d)?, format!("with digest {d}")),
        };
        block.ok_or_else(|| {
            ApiError::not_found("unknown_block", format!("no finalized block {what} (yet)"))
        })
    })
    .await
}

/// The certificate that finalized a block: a quorum of the genesis validators'
/// signatures over its header digest, for clients that trust only the validator set.
#[utoipa::path(
    get,
    path = "/v1/blocks/{id}/finalization",
    tag = "blocks",
    params(("id" = String, Path, description = "A height, or a block digest (64 hex characters)")),
    responses(
        (status = 200, description = "The block's digest and its finality certificate", body = FinalizationView),
        (status = 400, description = "Not a height or digest", body = ErrorBody),
        (status = 404, description = "No such block (`unknown_block`), or no certificate held for it (`no_certificate`: genesis, or a block this node backfilled)", body = ErrorBody),
    )
)]
pub(crate) async fn finalization(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<FinalizationView>, ApiError> {
    let block = find_block(&state, &id).await?;
    let height = block.header.height;
    let digest = block.header.digest();
    let certificate = state.backend().finalization(height).await.ok_or_else(|| {
        let message = if height == 0 {
            "the genesis block has no certificate: it is final by definition (compare its digest with the genesis file)".to_string()
        } else {
            format!("this node holds no finality certificate for block {height}: check a later block's and follow its parents")
        };
        ApiError::not_found("no_certificate", message)
    })?;
    Ok(Json(FinalizationView {
        height,
        digest,
        certificate,
    }))
}

/// `?from=&limit=`.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery {
    /// First height of the page; when absent, the page ends at the committed tip.
    from: Option<u64>,
    /// Blocks per page, 1 to 100 (default 20).
    limit: Option<u64>,
}

/// A page of finalized blocks, lowest height first.
#[utoipa::path(
    get,
    path = "/v1/blocks",
    tag = "blocks",
    params(PageQuery),
    responses(
        (status = 200, description = "Block summaries and where the next page starts", body = BlockPage),
        (status = 400, description = "`limit` out of range (`invalid_parameter`) or unknown parameter", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<ApiState>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<BlockPage>, ApiError> {
    let limit = page.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(
            "invalid_parameter",
            format!("limit must be from 1 to {MAX_PAGE}, not {limit}"),
        ));
    }
    read(&state, move |store| {
        let tip = store.committed().ok_or_else(ApiError::not_ready)?.height;
        let from = page.from.unwrap_or_else(|| tip.saturating_sub(limit - 1));
        let mut blocks = Vec::new();
        if from <= tip {
            let last = from.saturating_add(limit - 1).min(tip);
            // One block in memory at a time: a page of full blocks stays bounded.
            for height in from..=last {
                if let Some(block) = store.block(height)? {
                    blocks.push(BlockSummary::from(&block));
                }
            }
        }
        let next = blocks
            .last()
            .map(|b| b.height)
            .filter(|&h| h < tip)
            .map(|h| h + 1);
        Ok(BlockPage { blocks, next })
    })
    .await
    .map(Json)
}

/// The certificate that finalized a block, in commonware's encoding: what a node
/// syncing its state to this block starts its block follower from.
#[utoipa::path(
    get,
    path = "/v1/blocks/{id}/finalization/raw",
    tag = "blocks",
    params(("id" = String, Path, description = "A height, or a block digest (64 hex characters)")),
    responses(
        (status = 200, description = "The encoded finalization", body = RawFinalization),
        (status = 400, description = "Not a height or digest", body = ErrorBody),
        (status = 404, description = "No such block (`unknown_block`), or no certificate held for it (`no_certificate`)", body = ErrorBody),
    )
)]
pub(crate) async fn finalization_raw(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RawFinalization>, ApiError> {
    let block = find_block(&state, &id).await?;
    let height = block.header.height;
    let raw = state
        .backend()
        .finalization_raw(height)
        .await
        .ok_or_else(|| {
            ApiError::not_found(
                "no_certificate",
                format!("this node holds no finality certificate for block {height}"),
            )
        })?;
    Ok(Json(RawFinalization {
        height,
        digest: block.header.digest(),
        raw: hex::encode(raw),
    }))
}
