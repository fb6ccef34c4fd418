//! Data tasks: the list, and one task with its contributions.

use axum::{Json, extract::State};
use plexus_ledger::query;
use plexus_types::Netuid;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{read, snapshot, truncate};
use crate::{
    error::{ApiError, ApiPath, ApiQuery},
    state::ApiState,
    wire::{DataTaskAt, DataTasks, ErrorBody},
};

/// Most tasks one list answer carries.
const MAX_TASKS: usize = 1000;
/// Tasks one list answer carries by default.
const DEFAULT_TASKS: usize = 100;

/// `?netuid=&limit=`.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskQuery {
    /// Only the tasks of this subnet.
    netuid: Option<Netuid>,
    /// Tasks per answer, 1 to 1000 (default 100), newest first.
    limit: Option<usize>,
}

/// Data tasks, newest first, without their contributions.
#[utoipa::path(
    get,
    path = "/v1/data/tasks",
    tag = "data",
    params(TaskQuery),
    responses(
        (status = 200, description = "Tasks, newest first", body = DataTasks),
        (status = 400, description = "`limit` out of range (`invalid_parameter`) or unknown parameter", body = ErrorBody),
    )
)]
pub(crate) async fn tasks(
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<TaskQuery>,
) -> Result<Json<DataTasks>, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_TASKS);
    if !(1..=MAX_TASKS).contains(&limit) {
        return Err(ApiError::invalid(
            "invalid_parameter",
            format!("limit must be from 1 to {MAX_TASKS}, not {limit}"),
        ));
    }
    read(&state, move |store| {
        let (snap, height) = snapshot(store)?;
        let next = height.saturating_add(1);
        Ok(DataTasks {
            height,
            tasks: query::data_tasks(&snap, q.netuid, next, limit)?
                .into_iter()
                .map(Into::into)
                .collect(),
        })
    })
    .await
    .map(Json)
}

/// One data task with its commits and reveals.
#[utoipa::path(
    get,
    path = "/v1/data/tasks/{id}",
    tag = "data",
    params(("id" = u64, Path, description = "The task id")),
    responses(
        (status = 200, description = "The task", body = DataTaskAt),
        (status = 400, description = "Not a task id", body = ErrorBody),
        (status = 404, description = "No such task (`unknown_data_task`)", body = ErrorBody),
    )
)]
pub(crate) async fn task(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DataTaskAt>, ApiError> {
    let id: u64 = id.parse().map_err(|_| {
        ApiError::invalid(
            "invalid_task",
            format!(
                "{:?} is not a task id: expected a non-negative integer",
                truncate(&id)
            ),
        )
    })?;
    read(&state, move |store| {
        let (snap, height) = snapshot(store)?;
        let view = query::data_task(&snap, id, height.saturating_add(1))?.ok_or_else(|| {
            ApiError::not_found(
                "unknown_data_task",
                format!("data task {id} does not exist: list tasks at /v1/data/tasks"),
            )
        })?;
        Ok(DataTaskAt {
            height,
            task: view.into(),
        })
    })
    .await
    .map(Json)
}
