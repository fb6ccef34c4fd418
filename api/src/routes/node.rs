//! The node itself: status, the finalized block stream, metrics, the OpenAPI
//! document, and the answers for unknown routes.

use std::{convert::Infallible, time::Duration};

use axum::{
    Json,
    extract::State,
    http::{Method, StatusCode, header},
    response::{
        IntoResponse, Response,
        sse::{Event as SseEvent, KeepAlive, Sse},
    },
};
use futures::{Stream, StreamExt as _};
use tokio_stream::wrappers::{BroadcastStream, errors::BroadcastStreamRecvError};
use utoipa::OpenApi as _;

use super::blocking;
use crate::{
    backend::FinalizedBlock,
    error::ApiError,
    state::{ApiState, RequestLabels},
    wire::{BlockEvent, ErrorBody, Header, LaggedEvent, Status, Tip},
};

/// How often an idle event stream sends a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The node's progress and the committed tip.
#[utoipa::path(
    get,
    path = "/v1/status",
    tag = "node",
    responses((status = 200, description = "Progress, peers, mempool and the committed tip", body = Status))
)]
pub(crate) async fn status(State(state): State<ApiState>) -> Result<Json<Status>, ApiError> {
    blocking(&state, |backend| {
        let tip = backend.store().committed().map(|c| Tip {
            height: c.height,
            digest: c.digest,
            state_root: c.root,
        });
        Status {
            node: backend.status(),
            tip,
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    })
    .await
    .map(Json)
}

/// Liveness: 200 whenever the API answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "node",
    responses((status = 200, description = "`{\"status\":\"ok\"}`: the process serves requests", content_type = "application/json"))
)]
pub(crate) async fn healthz() -> impl IntoResponse {
    plexus_serve::health::alive()
}

/// Readiness: 200 when the node is synced and finalizing, else 503 with the reason.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "node",
    responses(
        (status = 200, description = "`{\"status\":\"ready\"}`: synced and finalizing", content_type = "application/json"),
        (status = 503, description = "`{\"status\":\"not_ready\",\"reason\":…}`: halted, or no block finalized lately", content_type = "application/json"),
    )
)]
pub(crate) async fn readyz(State(state): State<ApiState>) -> Response {
    let readiness = blocking(&state, |backend| backend.readiness()).await;
    match readiness {
        Ok(readiness) => plexus_serve::health::ready(readiness).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Server-sent events: `event: block` per finalized block, `event: lagged` when this
/// subscriber fell behind and missed some (it continues with later blocks).
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "node",
    responses(
        (status = 200, description = "`text/event-stream`: `event: block` with a `BlockEvent`, `event: lagged` with a `LaggedEvent`; `id` is the block height", content_type = "text/event-stream", body = BlockEvent),
        (status = 503, description = "Too many streams are open (`too_many_streams`), or shutting down", body = ErrorBody),
    )
)]
pub(crate) async fn events(
    State(state): State<ApiState>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let guard = state.open_stream()?;
    let closed = state.closed();
    let stream = BroadcastStream::new(state.backend().subscribe())
        .map(move |item| {
            // The slot is held for as long as the stream lives.
            let _slot = &guard;
            Ok(to_sse(item))
        })
        .take_until(closed);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

fn to_sse(item: Result<FinalizedBlock, BroadcastStreamRecvError>) -> SseEvent {
    let event = match item {
        Ok(fb) => SseEvent::default()
            .event("block")
            .id(fb.height.to_string())
            .json_data(BlockEvent {
                height: fb.height,
                digest: fb.digest,
                header: Header::from(&fb.block.header),
                tx_hashes: fb.block.txs.iter().map(|tx| tx.hash()).collect(),
                events: fb.events.as_ref().clone(),
            }),
        Err(BroadcastStreamRecvError::Lagged(missed)) => SseEvent::default()
            .event("lagged")
            .json_data(LaggedEvent { missed }),
    };
    event.unwrap_or_else(|e| {
        tracing::error!(error = %e, "api: could not encode an event");
        SseEvent::default().comment("an event could not be encoded")
    })
}

/// The node's metrics followed by the API's, in the OpenMetrics text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "node",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String))
)]
pub(crate) async fn metrics(State(state): State<ApiState>) -> Response {
    let node = blocking(&state, |backend| backend.metrics())
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "api: could not read the node's metrics");
            String::new()
        });
    let text = join_metrics(&node, &state.metrics().encode());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Concatenate two OpenMetrics expositions, keeping one `# EOF` at the end.
pub(crate) fn join_metrics(node: &str, api: &str) -> String {
    let mut out = String::new();
    for part in [node, api] {
        let trimmed = part.trim_end();
        let body = trimmed.strip_suffix("# EOF").unwrap_or(trimmed).trim_end();
        if !body.is_empty() {
            out.push_str(body);
            out.push('\n');
        }
    }
    out.push_str("# EOF\n");
    out
}

/// This API's OpenAPI document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "node",
    responses((status = 200, description = "The OpenAPI document", body = Object))
)]
pub(crate) async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::ApiDoc::openapi())
}

/// Any path no route matches (counted under the route label `unmatched`).
pub(crate) async fn not_found(State(state): State<ApiState>, method: Method) -> ApiError {
    state
        .metrics()
        .requests
        .get_or_create(&RequestLabels {
            route: "unmatched".into(),
            method: method.as_str().to_string(),
            status: StatusCode::NOT_FOUND.as_u16(),
        })
        .inc();
    ApiError::not_found(
        "no_route",
        "no such endpoint: see /openapi.json for the routes this node serves",
    )
}

/// A known path with a method it does not accept.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The answer to a handler that panicked: a plain 500, details in the log.
#[allow(
    clippy::needless_pass_by_value,
    reason = "tower-http's panic handler signature"
)]
pub(crate) fn panicked(detail: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = detail
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| detail.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    ApiError::internal(format!("handler panicked: {detail}")).into_response()
}

/// The answer when a request takes longer than the configured timeout.
pub(crate) fn timed_out() -> Response {
    ApiError::Unavailable {
        code: "timeout",
        message: "the request took too long: retry shortly".into(),
    }
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_metrics_end_in_one_eof() {
        let joined = join_metrics("# TYPE a counter\na_total 1\n# EOF\n", "b 2\n# EOF\n");
        assert_eq!(joined, "# TYPE a counter\na_total 1\nb 2\n# EOF\n");
        assert_eq!(join_metrics("", "# EOF\n"), "# EOF\n");
        assert_eq!(join_metrics("x 1", ""), "x 1\n# EOF\n");
    }
}
