//! Data tasks: the list, one task with its contributions, and (from the node's
//! dataset store) its files and validators' score reports.

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use plexus_ledger::{
    neurons,
    query::{self, DataTaskView},
};
use plexus_types::Netuid;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Latest, read_latest, truncate};
use crate::{
    backend::{DataFiles, DataFilesError, DatasetFormat, DatasetWanted},
    error::{ApiError, ApiPath, ApiQuery},
    state::ApiState,
    wire::{DataReport, DataReports, DataTaskAt, DataTasks, ErrorBody},
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
    read_latest(&state, move |Latest { snap, height, .. }| {
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
    let (view, height) = load_task(&state, &id).await?;
    Ok(Json(DataTaskAt {
        height,
        task: view.into(),
    }))
}

/// Parse a task id and read the task at the latest committed height.
async fn load_task(state: &ApiState, id: &str) -> Result<(DataTaskView, u64), ApiError> {
    let id: u64 = id.parse().map_err(|_| {
        ApiError::invalid(
            "invalid_task",
            format!(
                "{:?} is not a task id: expected a non-negative integer",
                truncate(id)
            ),
        )
    })?;
    read_latest(state, move |Latest { snap, height, .. }| {
        let view = query::data_task(&snap, id, height.saturating_add(1))?.ok_or_else(|| {
            ApiError::not_found(
                "unknown_data_task",
                format!("data task {id} does not exist: list tasks at /v1/data/tasks"),
            )
        })?;
        Ok((view, height))
    })
    .await
}

/// `?format=csv|parquet`.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct FormatQuery {
    /// `csv` (default) or `parquet`.
    format: Option<DatasetFormat>,
}

fn data_files(state: &ApiState) -> Result<Arc<dyn DataFiles>, ApiError> {
    state.data_files().cloned().ok_or_else(|| {
        ApiError::not_found(
            "no_dataset_store",
            "this node serves no dataset store: start it with --data-store, or fetch the file with `plexus data download`",
        )
    })
}

impl From<DataFilesError> for ApiError {
    fn from(e: DataFilesError) -> Self {
        match e {
            DataFilesError::NotFound(message) => ApiError::NotFound {
                code: "not_in_dataset_store",
                message,
            },
            DataFilesError::Corrupt(message) => ApiError::BadGateway {
                code: "dataset_corrupt",
                message,
            },
            DataFilesError::Unavailable(message) => ApiError::Unavailable {
                code: "dataset_store_unavailable",
                message,
            },
        }
    }
}

/// Send a dataset file as a download named after the task.
async fn send_file(
    state: &ApiState,
    task: u64,
    name: &str,
    wanted: DatasetWanted,
    format: DatasetFormat,
) -> Result<Response, ApiError> {
    let bytes = data_files(state)?.dataset(wanted, format).await?;
    let (content_type, ext) = match format {
        DatasetFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        DatasetFormat::Parquet => ("application/vnd.apache.parquet", "parquet"),
    };
    let disposition = format!("attachment; filename=\"plexus-task-{task}-{name}.{ext}\"");
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// The task's published dataset, checked against its Merkle root and row count on
/// chain before it is sent.
#[utoipa::path(
    get,
    path = "/v1/data/tasks/{id}/dataset",
    tag = "data",
    params(("id" = u64, Path, description = "The task id"), FormatQuery),
    responses(
        (status = 200, description = "The dataset (CSV or Parquet)", content_type = "text/csv"),
        (status = 404, description = "No such task, nothing published yet (`not_published`), no dataset store on this node (`no_dataset_store`), or not in it (`not_in_dataset_store`)", body = ErrorBody),
        (status = 502, description = "The store's copy does not match the chain (`dataset_corrupt`)", body = ErrorBody),
    )
)]
pub(crate) async fn dataset(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> Result<Response, ApiError> {
    let (view, _) = load_task(&state, &id).await?;
    let t = view.task;
    let published = t.published.ok_or_else(|| {
        ApiError::not_found(
            "not_published",
            format!(
                "task {} has no published dataset yet ({}): a validator publishes after block {}",
                t.id, view.phase, t.reveal_deadline
            ),
        )
    })?;
    let wanted = DatasetWanted::Published {
        schema_hash: t.schema_hash,
        merkle_root: published.merkle_root,
        rows: published.rows,
    };
    send_file(
        &state,
        t.id,
        "dataset",
        wanted,
        q.format.unwrap_or_default(),
    )
    .await
}

/// The training half of the task's public reference, checked against the manifest
/// the task commits to.
#[utoipa::path(
    get,
    path = "/v1/data/tasks/{id}/training",
    tag = "data",
    params(("id" = u64, Path, description = "The task id"), FormatQuery),
    responses(
        (status = 200, description = "The training half (CSV or Parquet)", content_type = "text/csv"),
        (status = 404, description = "No such task, a private reference or not in the store (`not_in_dataset_store`), or no dataset store (`no_dataset_store`)", body = ErrorBody),
        (status = 502, description = "The store's copy does not match the task (`dataset_corrupt`)", body = ErrorBody),
    )
)]
pub(crate) async fn training(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> Result<Response, ApiError> {
    let (view, _) = load_task(&state, &id).await?;
    let t = view.task;
    let wanted = DatasetWanted::TrainingHalf {
        schema_hash: t.schema_hash,
        reference_commitment: t.reference_commitment,
    };
    send_file(
        &state,
        t.id,
        "training",
        wanted,
        q.format.unwrap_or_default(),
    )
    .await
}

/// Validators' signed score reports for the task: each submission's gates, fidelity,
/// utility, privacy and score. Only reports whose signature verifies and whose
/// validator is registered on the task's subnet are listed.
#[utoipa::path(
    get,
    path = "/v1/data/tasks/{id}/reports",
    tag = "data",
    params(("id" = u64, Path, description = "The task id")),
    responses(
        (status = 200, description = "The reports", body = DataReports),
        (status = 404, description = "No such task (`unknown_data_task`) or no dataset store (`no_dataset_store`)", body = ErrorBody),
    )
)]
pub(crate) async fn reports(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DataReports>, ApiError> {
    let (view, _) = load_task(&state, &id).await?;
    let (task, netuid) = (view.task.id, view.task.netuid);
    let signed = data_files(&state)?.reports(task).await?;
    read_latest(&state, move |Latest { snap, height, .. }| {
        let mut reports = Vec::new();
        for r in signed {
            // The API does not take the store's word for it: it checks again.
            if r.task != task || r.verify().is_err() {
                continue;
            }
            let uid = neurons::uid_of(&snap, netuid, &r.validator).map_err(ApiError::internal)?;
            if let Some(uid) = uid {
                reports.push(DataReport {
                    validator: r.validator,
                    uid,
                    report: r.report,
                    signature: r.signature,
                });
            }
        }
        reports.sort_by_key(|r| r.validator.to_address());
        Ok(DataReports {
            height,
            task,
            reports,
        })
    })
    .await
    .map(Json)
}
