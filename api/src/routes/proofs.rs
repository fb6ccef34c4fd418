//! State proofs (inclusion, or exclusion for absent keys) with the header they
//! verify against.

use axum::{Json, extract::State};
use plexus_ledger::{
    account_key,
    credits::keys::{issuer_key, issuer_key_record_key},
    neurons::keys::endpoint_key,
    registration_key, stake_key,
};

use super::{AtHeight, parse_account, parse_hash, parse_netuid, parse_uid, read};
use crate::{
    error::{ApiError, ApiPath, ApiQuery},
    state::ApiState,
    wire::{ErrorBody, Header, Proof, ProofResponse},
};

pub(crate) async fn prove(
    state: &ApiState,
    key: Vec<u8>,
    height: Option<u64>,
) -> Result<Json<ProofResponse>, ApiError> {
    read(state, move |store| {
        let proof = store.prove(&key, height)?;
        let header = store.header(proof.height)?.ok_or_else(|| {
            ApiError::internal(format!("no header at committed height {}", proof.height))
        })?;
        if header.state_root != proof.root {
            return Err(ApiError::internal(format!(
                "header root {} differs from the stored root {} at height {}",
                header.state_root, proof.root, proof.height
            )));
        }
        Ok(ProofResponse {
            proof: Proof::from(&proof),
            header: Header::from(&header),
        })
    })
    .await
    .map(Json)
}

/// Prove an account's balance and nonce (or that it holds nothing).
#[utoipa::path(
    get,
    path = "/v1/proofs/account/{address}",
    tag = "proofs",
    params(
        ("address" = String, Path, description = "The account: bech32m or hex"),
        AtHeight,
    ),
    responses(
        (status = 200, description = "Proof of the key `account_key(address)`: inclusion if the account is non-zero, exclusion otherwise", body = ProofResponse),
        (status = 400, description = "Not an address", body = ErrorBody),
        (status = 404, description = "Height not committed (`unknown_height`)", body = ErrorBody),
    )
)]
pub(crate) async fn account(
    State(state): State<ApiState>,
    ApiPath(address): ApiPath<String>,
    ApiQuery(at): ApiQuery<AtHeight>,
) -> Result<Json<ProofResponse>, ApiError> {
    let id = parse_account(&address)?;
    prove(&state, account_key(&id), at.height).await
}

/// Prove the stake of a coldkey on a hotkey (or that there is none).
#[utoipa::path(
    get,
    path = "/v1/proofs/stake/{hotkey}/{coldkey}",
    tag = "proofs",
    params(
        ("hotkey" = String, Path, description = "The hotkey: bech32m or hex"),
        ("coldkey" = String, Path, description = "The coldkey: bech32m or hex"),
        AtHeight,
    ),
    responses(
        (status = 200, description = "Proof of the key `stake_key(hotkey, coldkey)`", body = ProofResponse),
        (status = 400, description = "Not an address", body = ErrorBody),
        (status = 404, description = "Height not committed (`unknown_height`)", body = ErrorBody),
    )
)]
pub(crate) async fn stake(
    State(state): State<ApiState>,
    ApiPath((hotkey, coldkey)): ApiPath<(String, String)>,
    ApiQuery(at): ApiQuery<AtHeight>,
) -> Result<Json<ProofResponse>, ApiError> {
    let hotkey = parse_account(&hotkey)?;
    let coldkey = parse_account(&coldkey)?;
    prove(&state, stake_key(&hotkey, &coldkey), at.height).await
}

/// Prove a hotkey's UID on a subnet (or that it is not registered there).
#[utoipa::path(
    get,
    path = "/v1/proofs/registration/{netuid}/{hotkey}",
    tag = "proofs",
    params(
        ("netuid" = u16, Path, description = "The subnet id"),
        ("hotkey" = String, Path, description = "The hotkey: bech32m or hex"),
        AtHeight,
    ),
    responses(
        (status = 200, description = "Proof of the key `registration_key(netuid, hotkey)`", body = ProofResponse),
        (status = 400, description = "Not a netuid or address", body = ErrorBody),
        (status = 404, description = "Height not committed (`unknown_height`)", body = ErrorBody),
    )
)]
pub(crate) async fn registration(
    State(state): State<ApiState>,
    ApiPath((netuid, hotkey)): ApiPath<(String, String)>,
    ApiQuery(at): ApiQuery<AtHeight>,
) -> Result<Json<ProofResponse>, ApiError> {
    let netuid = parse_netuid(&netuid)?;
    let hotkey = parse_account(&hotkey)?;
    prove(&state, registration_key(netuid, &hotkey), at.height).await
}

/// Prove what a UID serves on a subnet: its URL, OHTTP keys, model and operator (or
/// that it serves nothing). Clients seal requests only to keys proven this way.
#[utoipa::path(
    get,
    path = "/v1/proofs/endpoint/{netuid}/{uid}",
    tag = "proofs",
    params(
        ("netuid" = u16, Path, description = "The subnet id"),
        ("uid" = u16, Path, description = "The UID on that subnet"),
        AtHeight,
    ),
    responses(
        (status = 200, description = "Proof of the key `endpoint_key(netuid, uid)`", body = ProofResponse),
        (status = 400, description = "Not a netuid or UID", body = ErrorBody),
        (status = 404, description = "Height not committed (`unknown_height`)", body = ErrorBody),
    )
)]
pub(crate) async fn endpoint(
    State(state): State<ApiState>,
    ApiPath((netuid, uid)): ApiPath<(String, String)>,
    ApiQuery(at): ApiQuery<AtHeight>,
) -> Result<Json<ProofResponse>, ApiError> {
    let netuid = parse_netuid(&netuid)?;
    let uid = parse_uid(&uid)?;
    prove(&state, endpoint_key(netuid, uid), at.height).await
}

/// Prove a credit issuer's record: its issuance gateway's URL and OHTTP keys, its key
/// ids and whether it was retired (or that it is no issuer). Clients seal issuance
/// requests only to OHTTP keys proven this way.
#[utoipa::path(
    get,
    path = "/v1/proofs/issuer/{hotkey}",
    tag = "proofs",
    params(
        ("hotkey" = String, Path, description = "The issuer hotkey: bech32m or hex"),
        AtHeight,
    ),
    responses(
        (status = 200, description = "Proof of the key `issuer_key(hotkey)` (`[0x07, 0x03] ‖ hotkey`)", body = ProofResponse),
        (status = 400, description = "Not an address", body = ErrorBody),
        (status = 404, description = "Height not committed (`unknown_height`)", body = ErrorBody),
    )
)]
pub(crate) async fn issuer(
    State(state): State<ApiState>,
    ApiPath(hotkey): ApiPath<String>,
    ApiQuery(at): ApiQuery<AtHeight>,
) -> Result<Json<ProofResponse>, ApiError> {
    let hotkey = parse_account(&hotkey)?;
    prove(&state, issuer_key(&hotkey), at.height).await
}

/// Prove one credit issuer key: its RSA SPKI, issuer, denomination, key epoch, escrow
/// and distinct buyers (or that no such key exists). Clients pay into and blind with
/// only keys proven this way.
#[utoipa::path(
    get,
    path = "/v1/proofs/issuer-key/{key_id}",
    tag = "proofs",
    params(
        ("key_id" = String, Path, description = "The key id: sha256 of the SPKI, hex"),
        AtHeight,
    ),
    responses(
        (status = 200, description = "Proof of the key `issuer_key_record_key(key_id)` (`[0x07, 0x04] ‖ key_id`)", body = ProofResponse),
        (status = 400, description = "Not a key id", body = ErrorBody),
        (status = 404, description = "Height not committed (`unknown_height`)", body = ErrorBody),
    )
)]
pub(crate) async fn issuer_key_record(
    State(state): State<ApiState>,
    ApiPath(key_id): ApiPath<String>,
    ApiQuery(at): ApiQuery<AtHeight>,
) -> Result<Json<ProofResponse>, ApiError> {
    let key_id = parse_hash(&key_id)?;
    prove(&state, issuer_key_record_key(&key_id), at.height).await
}

/// Prove the consensus validator set of an epoch under the state root of the block
/// that chose it: the last block of the epoch before (block 0 for epoch 0). That
/// block's finality certificate is signed by the previous epoch's set, so a light
/// client that trusts the genesis set walks the hand-overs epoch by epoch.
#[utoipa::path(
    get,
    path = "/v1/proofs/validator-set/{epoch}",
    tag = "proofs",
    params(("epoch" = u64, Path, description = "The consensus epoch")),
    responses(
        (status = 200, description = "Proof of the key `set_key(epoch)` (`[0x09, 0x03] ‖ epoch`) at the block that chose the set", body = ProofResponse),
        (status = 400, description = "Not an epoch", body = ErrorBody),
        (status = 404, description = "The set is not chosen yet, or this chain's set is fixed past epoch 0 (`unknown_epoch`), or its block was pruned", body = ErrorBody),
    )
)]
pub(crate) async fn validator_set(
    State(state): State<ApiState>,
    ApiPath(epoch): ApiPath<String>,
) -> Result<Json<ProofResponse>, ApiError> {
    let epoch: u64 = epoch.parse().map_err(|_| {
        ApiError::invalid("invalid_epoch", format!("{epoch:?} is not an epoch number"))
    })?;
    let height = read(&state, move |store| {
        let config = plexus_ledger::query::chain(store)?;
        let length = config.params.consensus.epoch_length;
        let unknown = || {
            ApiError::not_found(
                "unknown_epoch",
                format!("the validator set of epoch {epoch} is not chosen yet"),
            )
        };
        let height = match (epoch, length) {
            (0, _) => 0,
            (_, 0) => {
                return Err(ApiError::not_found(
                    "unknown_epoch",
                    "this chain keeps its genesis validators: only epoch 0 has a set",
                ));
            }
            (e, l) => e.checked_mul(l).map(|h| h - 1).ok_or_else(unknown)?,
        };
        match store.committed_height() {
            Some(committed) if committed >= height => Ok(height),
            _ => Err(unknown()),
        }
    })
    .await?;
    prove(
        &state,
        plexus_ledger::validators::keys::set_key(epoch),
        Some(height),
    )
    .await
}
