//! `POST /v1/transactions` and `GET /v1/transactions/{hash}`.
//!
//! Transactions arrive only in their canonical encoding, as hex. The signature and the
//! transaction id cover exactly those bytes, so accepting one encoding leaves no room
//! for a JSON form that re-encodes differently from what was signed.

use axum::{Json, extract::State, http::StatusCode};
use plexus_types::{Encode as _, SignedTransaction, tx::MAX_TX_BYTES};

use super::{blocking, parse_hash, read};
use crate::{
    error::{ApiError, ApiJson, ApiPath},
    state::{ApiState, SubmitLabels},
    wire::{ErrorBody, SubmitRequest, SubmitResponse, TransactionView, TxStatus, hex_decode},
};

/// Submit a signed transaction.
#[utoipa::path(
    post,
    path = "/v1/transactions",
    tag = "transactions",
    request_body = SubmitRequest,
    responses(
        (status = 202, description = "Accepted into the mempool", body = SubmitResponse),
        (status = 400, description = "Malformed, or breaks a ledger rule (`wrong_chain`, `bad_signature`, `fee_too_low`, `insufficient_balance`, ...)", body = ErrorBody),
        (status = 409, description = "Conflicts with the chain or the mempool (`stale_nonce`, `duplicate_transaction`, `replacement_underpriced`)", body = ErrorBody),
        (status = 413, description = "Body or transaction too large", body = ErrorBody),
        (status = 429, description = "The sender has too many transactions waiting", body = ErrorBody),
        (status = 503, description = "The mempool is full or the node cannot accept transactions now", body = ErrorBody),
    )
)]
pub(crate) async fn submit(
    State(state): State<ApiState>,
    ApiJson(request): ApiJson<SubmitRequest>,
) -> Result<(StatusCode, Json<SubmitResponse>), ApiError> {
    let result = submit_inner(&state, &request.tx).await;
    let label = match &result {
        Ok(_) => "accepted",
        Err(e) => e.code(),
    };
    state
        .metrics()
        .submissions
        .get_or_create(&SubmitLabels {
            result: label.to_string(),
        })
        .inc();
    result.map(|hash| (StatusCode::ACCEPTED, Json(SubmitResponse { hash })))
}

async fn submit_inner(state: &ApiState, tx_hex: &str) -> Result<plexus_types::Hash, ApiError> {
    // Hex doubles the size: refuse before decoding anything larger than a transaction.
    if tx_hex.len() > 2 * MAX_TX_BYTES {
        return Err(ApiError::invalid(
            "transaction_too_large",
            format!("a transaction is at most {MAX_TX_BYTES} bytes"),
        ));
    }
    let bytes = hex_decode(tx_hex.trim_start_matches("0x")).ok_or_else(|| {
        ApiError::invalid(
            "invalid_hex",
            "`tx` must be the hex of the transaction's canonical encoding",
        )
    })?;
    let tx = SignedTransaction::decode_bounded(&bytes).map_err(|e| {
        ApiError::invalid(
            "malformed_transaction",
            format!("`tx` does not decode as a signed transaction: {e}"),
        )
    })?;
    let expected = tx.hash();
    let hash = blocking(state, move |backend| backend.submit(tx)).await??;
    if hash != expected {
        tracing::warn!(%hash, %expected, "api: backend returned another transaction id");
    }
    state.remember_pending(hash);
    Ok(hash)
}

/// A transaction by id: finalized (with its block position), or pending.
#[utoipa::path(
    get,
    path = "/v1/transactions/{hash}",
    tag = "transactions",
    params(("hash" = String, Path, description = "Transaction id, 64 hex characters")),
    responses(
        (status = 200, description = "Finalized, or recently accepted and pending", body = TransactionView),
        (status = 400, description = "Not a hash", body = ErrorBody),
        (status = 404, description = "Neither finalized nor recently accepted by this node", body = ErrorBody),
    )
)]
pub(crate) async fn get(
    State(state): State<ApiState>,
    ApiPath(hash): ApiPath<String>,
) -> Result<Json<TransactionView>, ApiError> {
    let hash = parse_hash(&hash)?;
    let found = read(&state, move |store| Ok(store.tx(&hash)?)).await?;
    if let Some(indexed) = found {
        return Ok(Json(TransactionView {
            hash,
            status: TxStatus::Finalized,
            height: Some(indexed.height),
            index: Some(indexed.index),
            encoded: Some(crate::wire::hex(&indexed.tx.encode())),
            transaction: Some(indexed.tx),
        }));
    }
    if state.is_pending(&hash) {
        return Ok(Json(TransactionView {
            hash,
            status: TxStatus::Pending,
            height: None,
            index: None,
            transaction: None,
            encoded: None,
        }));
    }
    Err(ApiError::not_found(
        "unknown_transaction",
        format!(
            "transaction {hash} is not finalized and this node has not accepted it recently: submit it (again)"
        ),
    ))
}
