//! Credit issuers and their keys, deposits, and whether a token nonce was settled.

use axum::{Json, extract::State};
use plexus_ledger::{credits::keys::settled_nonce_key, query};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{AtHeight, Latest, parse_account, parse_hash, read_latest, truncate};
use crate::{
    error::{ApiError, ApiPath, ApiQuery},
    routes::proofs::prove,
    state::ApiState,
    wire::{
        Deposit, DepositAt, Deposits, ErrorBody, IssuerAt, IssuerInfo, Issuers, NonceStatus,
        ProofResponse, Settlement,
    },
};

/// Every credit issuer with its keys and their escrow accounting.
#[utoipa::path(
    get,
    path = "/v1/credits/issuers",
    tag = "credits",
    responses((status = 200, description = "Issuers, in hotkey order", body = Issuers))
)]
pub(crate) async fn issuers(State(state): State<ApiState>) -> Result<Json<Issuers>, ApiError> {
    read_latest(&state, move |Latest { snap, height, .. }| {
        let params = query::chain(&snap)?.params;
        let mut issuers = Vec::new();
        for view in query::issuers(&snap)? {
            let bond = query::credits_bond(&snap, &view.issuer.hotkey, height + 1)?;
            issuers.push(IssuerInfo::at(view, &params, height + 1, bond));
        }
        Ok(Issuers {
            height,
            credit_price: params.credit_price,
            issuers,
        })
    })
    .await
    .map(Json)
}

/// One credit issuer.
#[utoipa::path(
    get,
    path = "/v1/credits/issuers/{hotkey}",
    tag = "credits",
    params(("hotkey" = String, Path, description = "The issuer hotkey: bech32m or hex")),
    responses(
        (status = 200, description = "The issuer", body = IssuerAt),
        (status = 400, description = "Not an address", body = ErrorBody),
        (status = 404, description = "Not an issuer (`unknown_issuer`)", body = ErrorBody),
    )
)]
pub(crate) async fn issuer(
    State(state): State<ApiState>,
    ApiPath(hotkey): ApiPath<String>,
) -> Result<Json<IssuerAt>, ApiError> {
    let id = parse_account(&hotkey)?;
    read_latest(&state, move |Latest { snap, height, .. }| {
        let view = query::issuer(&snap, &id)?.ok_or_else(|| {
            ApiError::not_found(
                "unknown_issuer",
                format!("{id} has not registered as a credit issuer: list issuers at /v1/credits/issuers"),
            )
        })?;
        let params = query::chain(&snap)?.params;
        let bond = query::credits_bond(&snap, &id, height + 1)?;
        Ok(IssuerAt {
            height,
            issuer: IssuerInfo::at(view, &params, height + 1, bond),
        })
    })
    .await
    .map(Json)
}

/// How many of the newest deposits a list looks through.
const DEPOSIT_SCAN: u64 = 10_000;

/// `?buyer=&limit=`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct DepositQuery {
    /// Only the deposits of this buyer coldkey (bech32m or hex).
    buyer: Option<String>,
    /// Deposits per answer, 1 to 1000 (default 100), newest first.
    limit: Option<usize>,
}

/// Recent deposits, newest first (among the newest 10,000).
#[utoipa::path(
    get,
    path = "/v1/credits/deposits",
    tag = "credits",
    params(DepositQuery),
    responses(
        (status = 200, description = "Deposits, newest first", body = Deposits),
        (status = 400, description = "Bad buyer or limit", body = ErrorBody),
    )
)]
pub(crate) async fn deposits(
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<DepositQuery>,
) -> Result<Json<Deposits>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid(
            "invalid_parameter",
            format!("limit must be from 1 to 1000, not {limit}"),
        ));
    }
    let buyer = q.buyer.as_deref().map(parse_account).transpose()?;
    read_latest(&state, move |Latest { snap, height, .. }| {
        let mut deposits = Vec::new();
        for d in query::deposits(&snap, buyer.as_ref(), limit, DEPOSIT_SCAN)? {
            let refunded = query::deposit_refund(&snap, d.id)?;
            deposits.push(Deposit::from(d).with_refund(refunded));
        }
        Ok(Deposits { height, deposits })
    })
    .await
    .map(Json)
}

/// One credit deposit: what an issuer signs tokens for.
#[utoipa::path(
    get,
    path = "/v1/credits/deposits/{id}",
    tag = "credits",
    params(("id" = u64, Path, description = "The deposit id")),
    responses(
        (status = 200, description = "The deposit", body = DepositAt),
        (status = 400, description = "Not a deposit id", body = ErrorBody),
        (status = 404, description = "No such deposit (`unknown_deposit`)", body = ErrorBody),
    )
)]
pub(crate) async fn deposit(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DepositAt>, ApiError> {
    let id: u64 = id.parse().map_err(|_| {
        ApiError::invalid(
            "invalid_deposit",
            format!(
                "{:?} is not a deposit id: expected a non-negative integer",
                truncate(&id)
            ),
        )
    })?;
    read_latest(&state, move |Latest { snap, height, .. }| {
        let deposit = query::deposit(&snap, id)?.ok_or_else(|| {
            ApiError::not_found("unknown_deposit", format!("deposit {id} does not exist"))
        })?;
        let refunded = query::deposit_refund(&snap, id)?;
        Ok(DepositAt {
            height,
            deposit: Deposit::from(deposit).with_refund(refunded),
        })
    })
    .await
    .map(Json)
}

/// Whether a token nonce was settled, and by whom.
#[utoipa::path(
    get,
    path = "/v1/credits/nonces/{nonce}",
    tag = "credits",
    params(("nonce" = String, Path, description = "The token nonce: 64 hex characters")),
    responses(
        (status = 200, description = "The nonce's settlement, or null", body = NonceStatus),
        (status = 400, description = "Not 64 hex characters", body = ErrorBody),
    )
)]
pub(crate) async fn nonce(
    State(state): State<ApiState>,
    ApiPath(nonce): ApiPath<String>,
) -> Result<Json<NonceStatus>, ApiError> {
    let nonce = parse_hash(&nonce)?;
    read_latest(&state, move |Latest { snap, height, .. }| {
        let settled = query::settled_nonce(&snap, &nonce.0)?.map(|s| Settlement {
            provider: s.provider,
            key_id: s.key_id,
            block: s.block,
        });
        Ok(NonceStatus {
            height,
            nonce,
            settled,
        })
    })
    .await
    .map(Json)
}

/// Prove that a token nonce was settled (or that it was not).
#[utoipa::path(
    get,
    path = "/v1/proofs/settled/{nonce}",
    tag = "proofs",
    params(
        ("nonce" = String, Path, description = "The token nonce: 64 hex characters"),
        AtHeight,
    ),
    responses(
        (status = 200, description = "Proof of the key `settled_nonce_key(nonce)`: inclusion if settled, exclusion otherwise", body = ProofResponse),
        (status = 400, description = "Not 64 hex characters", body = ErrorBody),
        (status = 404, description = "Height not committed (`unknown_height`)", body = ErrorBody),
    )
)]
pub(crate) async fn settled_proof(
    State(state): State<ApiState>,
    ApiPath(nonce): ApiPath<String>,
    ApiQuery(at): ApiQuery<AtHeight>,
) -> Result<Json<ProofResponse>, ApiError> {
    let nonce = parse_hash(&nonce)?;
    prove(&state, settled_nonce_key(&nonce.0), at.height).await
}
