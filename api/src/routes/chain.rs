//! Reads of the committed state: accounts, hotkeys, subnets, supply, chain config.

use axum::{Json, extract::State};
use plexus_ledger::query;

use serde::Deserialize;
use utoipa::IntoParams;

use super::{Latest, parse_account, parse_netuid, parse_uid, read, read_latest};
use crate::{
    error::{ApiError, ApiPath, ApiQuery},
    state::ApiState,
    wire::{
        Account, Chain, EpochNeuron, EpochResult, ErrorBody, Hotkey, Metagraph, OwnedHotkeys,
        PendingCommit, RowEntry, Stake, Stakes, SubnetAt, SubnetHistory, Subnets, Supply,
        Validator, Weights,
    },
};

/// Epochs per history page when `limit` is absent.
const DEFAULT_EPOCHS: usize = 16;
/// Most epochs per history page: each reads a metagraph from the versioned state.
const MAX_EPOCHS: usize = 64;

/// An account's balance and next nonce.
#[utoipa::path(
    get,
    path = "/v1/accounts/{address}",
    tag = "accounts",
    params(("address" = String, Path, description = "bech32m `plx1…` address or 64 hex characters")),
    responses(
        (status = 200, description = "The account; one that never held funds has balance 0 and nonce 0", body = Account),
        (status = 400, description = "Not an address", body = ErrorBody),
    )
)]
pub(crate) async fn account(
    State(state): State<ApiState>,
    ApiPath(address): ApiPath<String>,
) -> Result<Json<Account>, ApiError> {
    let id = parse_account(&address)?;
    read_latest(&state, move |Latest { snap, height, .. }| {
        Ok(Account::from_view(height, &query::account(&snap, &id)?))
    })
    .await
    .map(Json)
}

/// Every stake a coldkey holds.
#[utoipa::path(
    get,
    path = "/v1/accounts/{address}/stakes",
    tag = "accounts",
    params(("address" = String, Path, description = "The coldkey: bech32m or hex")),
    responses(
        (status = 200, description = "Stakes by hotkey", body = Stakes),
        (status = 400, description = "Not an address", body = ErrorBody),
    )
)]
pub(crate) async fn stakes(
    State(state): State<ApiState>,
    ApiPath(address): ApiPath<String>,
) -> Result<Json<Stakes>, ApiError> {
    let coldkey = parse_account(&address)?;
    read_latest(&state, move |Latest { snap, height, .. }| {
        let stakes: Vec<Stake> = query::stakes_of_coldkey(&snap, &coldkey)?
            .into_iter()
            .map(Stake::from)
            .collect();
        let total = stakes
            .iter()
            .try_fold(0u64, |sum, s| sum.checked_add(s.amount))
            .ok_or_else(|| ApiError::internal("stake total overflows u64"))?;
        Ok(Stakes {
            height,
            coldkey,
            total,
            stakes,
        })
    })
    .await
    .map(Json)
}

/// The hotkeys a coldkey owns.
#[utoipa::path(
    get,
    path = "/v1/accounts/{address}/hotkeys",
    tag = "accounts",
    params(("address" = String, Path, description = "The coldkey: bech32m or hex")),
    responses(
        (status = 200, description = "Owned hotkeys", body = OwnedHotkeys),
        (status = 400, description = "Not an address", body = ErrorBody),
    )
)]
pub(crate) async fn owned_hotkeys(
    State(state): State<ApiState>,
    ApiPath(address): ApiPath<String>,
) -> Result<Json<OwnedHotkeys>, ApiError> {
    let coldkey = parse_account(&address)?;
    read_latest(&state, move |Latest { snap, height, .. }| {
        Ok(OwnedHotkeys {
            height,
            coldkey,
            hotkeys: query::hotkeys_of_coldkey(&snap, &coldkey)?,
        })
    })
    .await
    .map(Json)
}

/// A hotkey: owner, take, stake and registrations.
#[utoipa::path(
    get,
    path = "/v1/hotkeys/{address}",
    tag = "accounts",
    params(("address" = String, Path, description = "The hotkey: bech32m or hex")),
    responses(
        (status = 200, description = "The hotkey", body = Hotkey),
        (status = 400, description = "Not an address", body = ErrorBody),
        (status = 404, description = "Never registered (`unknown_hotkey`)", body = ErrorBody),
    )
)]
pub(crate) async fn hotkey(
    State(state): State<ApiState>,
    ApiPath(address): ApiPath<String>,
) -> Result<Json<Hotkey>, ApiError> {
    let hotkey = parse_account(&address)?;
    read_latest(&state, move |Latest { snap, height, .. }| {
        let view = query::hotkey(&snap, &hotkey)?.ok_or_else(|| {
            ApiError::not_found(
                "unknown_hotkey",
                format!("hotkey {hotkey} has no owner: it was never registered on a subnet"),
            )
        })?;
        Ok(Hotkey::from_view(height, view))
    })
    .await
    .map(Json)
}

/// Every subnet.
#[utoipa::path(
    get,
    path = "/v1/subnets",
    tag = "subnets",
    responses((status = 200, description = "Subnets by netuid", body = Subnets))
)]
pub(crate) async fn subnets(State(state): State<ApiState>) -> Result<Json<Subnets>, ApiError> {
    read_latest(&state, move |Latest { snap, height, .. }| {
        let next = height.saturating_add(1);
        Ok(Subnets {
            height,
            subnets: query::subnets(&snap, next)?
                .into_iter()
                .map(Into::into)
                .collect(),
        })
    })
    .await
    .map(Json)
}

/// One subnet.
#[utoipa::path(
    get,
    path = "/v1/subnets/{netuid}",
    tag = "subnets",
    params(("netuid" = u16, Path, description = "The subnet id")),
    responses(
        (status = 200, description = "The subnet", body = SubnetAt),
        (status = 400, description = "Not a netuid", body = ErrorBody),
        (status = 404, description = "No such subnet (`unknown_subnet`)", body = ErrorBody),
    )
)]
pub(crate) async fn subnet(
    State(state): State<ApiState>,
    ApiPath(netuid): ApiPath<String>,
) -> Result<Json<SubnetAt>, ApiError> {
    let netuid = parse_netuid(&netuid)?;
    read_latest(&state, move |Latest { snap, height, .. }| {
        let view = query::subnet(&snap, netuid, height.saturating_add(1))?
            .ok_or(query::QueryError::UnknownSubnet(netuid))?;
        Ok(SubnetAt {
            height,
            subnet: view.into(),
        })
    })
    .await
    .map(Json)
}

/// A subnet's metagraph: every UID with its keys, stake and last-epoch scores.
#[utoipa::path(
    get,
    path = "/v1/subnets/{netuid}/metagraph",
    tag = "subnets",
    params(("netuid" = u16, Path, description = "The subnet id")),
    responses(
        (status = 200, description = "The metagraph", body = Metagraph),
        (status = 400, description = "Not a netuid", body = ErrorBody),
        (status = 404, description = "No such subnet (`unknown_subnet`)", body = ErrorBody),
    )
)]
pub(crate) async fn metagraph(
    State(state): State<ApiState>,
    ApiPath(netuid): ApiPath<String>,
) -> Result<Json<Metagraph>, ApiError> {
    let netuid = parse_netuid(&netuid)?;
    read_latest(&state, move |Latest { snap, height, .. }| {
        Ok(Metagraph::from_view(
            height,
            query::metagraph(&snap, netuid)?,
        ))
    })
    .await
    .map(Json)
}

/// `?before=&limit=`.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryQuery {
    /// Only epochs that ran below this height (the next page: the last epoch's
    /// `height`); the newest epochs when absent.
    before: Option<u64>,
    /// Epochs, 1 to 64 (16 when absent).
    limit: Option<usize>,
}

/// A subnet's past epochs, newest first: emission and every UID's incentive,
/// dividends, trust and emission, read from the state at each epoch's block (so a
/// node serves what it keeps: everything on an archive node).
#[utoipa::path(
    get,
    path = "/v1/subnets/{netuid}/history",
    tag = "subnets",
    params(("netuid" = u16, Path, description = "The subnet id"), HistoryQuery),
    responses(
        (status = 200, description = "Past epochs, newest first", body = SubnetHistory),
        (status = 400, description = "Not a netuid, or `limit` out of range", body = ErrorBody),
        (status = 404, description = "No such subnet (`unknown_subnet`)", body = ErrorBody),
    )
)]
pub(crate) async fn history(
    State(state): State<ApiState>,
    ApiPath(netuid): ApiPath<String>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<SubnetHistory>, ApiError> {
    let netuid = parse_netuid(&netuid)?;
    let limit = query.limit.unwrap_or(DEFAULT_EPOCHS);
    if !(1..=MAX_EPOCHS).contains(&limit) {
        return Err(ApiError::invalid(
            "invalid_limit",
            format!("limit must be between 1 and {MAX_EPOCHS}"),
        ));
    }
    read(&state, move |store| {
        let committed = store.committed_height().ok_or_else(ApiError::not_ready)?;
        let oldest = store.oldest_height()?;
        let start = match query.before {
            Some(before) => before.saturating_sub(1).min(committed),
            None => committed,
        };
        let mut epochs = Vec::new();
        // The subnet as of `start` names the block its last epoch ran in; the state
        // just below that block names the one before, and so on.
        let mut at = start;
        if at < oldest {
            // Everything asked for is pruned here.
            return Ok(SubnetHistory {
                netuid,
                oldest_height: oldest,
                epochs,
            });
        }
        let first = query::subnet(&store.at(at)?, netuid, at)?
            .ok_or(query::QueryError::UnknownSubnet(netuid))?;
        let (mut ran, mut index) = (first.last_epoch_block, first.epoch_index);
        while epochs.len() < limit && index > 0 && ran >= oldest && ran <= at {
            let state = store.at(ran)?;
            let Some(subnet) = query::subnet(&state, netuid, ran)? else {
                break;
            };
            let metagraph = query::metagraph(&state, netuid)?;
            epochs.push(EpochResult {
                epoch: subnet.epoch_index.saturating_sub(1),
                height: ran,
                emission: subnet.last_epoch_emission,
                neurons: metagraph.neurons.iter().map(EpochNeuron::from).collect(),
            });
            if ran == 0 || ran - 1 < oldest {
                break;
            }
            at = ran - 1;
            match query::subnet(&store.at(at)?, netuid, at)? {
                Some(before) => (ran, index) = (before.last_epoch_block, before.epoch_index),
                None => break,
            }
        }
        Ok(SubnetHistory {
            netuid,
            oldest_height: oldest,
            epochs,
        })
    })
    .await
    .map(Json)
}

/// A UID's stored weights and bonds rows, and its pending weights commit.
#[utoipa::path(
    get,
    path = "/v1/subnets/{netuid}/weights/{uid}",
    tag = "subnets",
    params(
        ("netuid" = u16, Path, description = "The subnet id"),
        ("uid" = u16, Path, description = "The UID whose rows to read"),
    ),
    responses(
        (status = 200, description = "Weights, bonds and pending commit", body = Weights),
        (status = 400, description = "Not a netuid or uid", body = ErrorBody),
        (status = 404, description = "No such subnet or uid (`unknown_subnet`, `unknown_uid`)", body = ErrorBody),
    )
)]
pub(crate) async fn weights(
    State(state): State<ApiState>,
    ApiPath((netuid, uid)): ApiPath<(String, String)>,
) -> Result<Json<Weights>, ApiError> {
    let netuid = parse_netuid(&netuid)?;
    let uid = parse_uid(&uid)?;
    read_latest(&state, move |Latest { snap, height, .. }| {
        let subnet = query::subnet(&snap, netuid, height)?
            .ok_or(query::QueryError::UnknownSubnet(netuid))?;
        if uid >= subnet.n {
            return Err(ApiError::not_found(
                "unknown_uid",
                format!(
                    "uid {uid} does not exist: subnet {netuid} has {} uids",
                    subnet.n
                ),
            ));
        }
        let row = |entries: Vec<(u16, u16)>| {
            entries
                .into_iter()
                .map(|(uid, value)| RowEntry { uid, value })
                .collect()
        };
        Ok(Weights {
            height,
            netuid,
            uid,
            weights: row(query::weights(&snap, netuid, uid)?),
            bonds: row(query::bonds(&snap, netuid, uid)?),
            pending_commit: query::pending_commit(&snap, netuid, uid)?.map(|c| PendingCommit {
                hash: c.hash,
                block: c.block,
                epoch: c.epoch,
            }),
        })
    })
    .await
    .map(Json)
}

/// Supply accounting.
#[utoipa::path(
    get,
    path = "/v1/supply",
    tag = "chain",
    responses((status = 200, description = "Genesis, emitted, burned, issuance and stake", body = Supply))
)]
pub(crate) async fn supply(State(state): State<ApiState>) -> Result<Json<Supply>, ApiError> {
    read_latest(&state, move |Latest { snap, height, .. }| {
        Ok(Supply::from_view(height, &query::supply(&snap)?))
    })
    .await
    .map(Json)
}

/// The chain id, parameters, genesis digest and validators.
#[utoipa::path(
    get,
    path = "/v1/chain",
    tag = "chain",
    responses((status = 200, description = "The chain configuration", body = Chain))
)]
pub(crate) async fn chain(State(state): State<ApiState>) -> Result<Json<Chain>, ApiError> {
    read_latest(&state, move |Latest { snap, store, .. }| {
        let genesis = store
            .header(0)?
            .ok_or_else(|| ApiError::internal("no genesis header below a committed tip"))?;
        let validators = query::validators(&snap)?
            .into_iter()
            .map(Validator::from)
            .collect();
        Ok(Chain::new(
            genesis.digest(),
            query::chain(&snap)?,
            validators,
        ))
    })
    .await
    .map(Json)
}
