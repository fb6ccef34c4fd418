//! `GET /healthz` (the process answers) and `GET /readyz` (it can do its job now),
//! the same on every service, for load balancers, orchestrators and scripts.

use std::sync::Arc;

use axum::{Json, Router, http::StatusCode, response::IntoResponse, routing::get};
use serde::{Deserialize, Serialize};

/// What `/healthz` and `/readyz` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok` (alive), `ready`, or `not_ready`.
    pub status: String,
    /// Why it is not ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Whether a service can do its job now, and if not, why.
pub type Readiness = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// `/healthz`: 200 `{"status":"ok"}` whenever the process serves requests.
pub fn alive() -> impl IntoResponse {
    Json(Health {
        status: "ok".into(),
        reason: None,
    })
}

/// `/readyz`: 200 `{"status":"ready"}`, or 503 `{"status":"not_ready","reason":…}`.
pub fn ready(readiness: Result<(), String>) -> impl IntoResponse {
    match readiness {
        Ok(()) => (
            StatusCode::OK,
            Json(Health {
                status: "ready".into(),
                reason: None,
            }),
        ),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "not_ready".into(),
                reason: Some(reason),
            }),
        ),
    }
}

/// A router serving `/healthz` and `/readyz` from `readiness`, to merge into a
/// service's own.
pub fn routes<S: Clone + Send + Sync + 'static>(readiness: Readiness) -> Router<S> {
    Router::new()
        .route("/healthz", get(|| async { alive() }))
        .route("/readyz", get(move || async move { ready(readiness()) }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::body::{Body, to_bytes};
    use tower::ServiceExt as _;

    use super::*;

    async fn get(router: Router, path: &str) -> (StatusCode, Health) {
        let request = axum::http::Request::get(path).body(Body::empty()).unwrap();
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let body = to_bytes(response.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn a_service_that_is_up_but_not_ready_says_why_with_a_503() {
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = flag.clone();
        let router: Router = routes(Arc::new(move || {
            match seen.load(std::sync::atomic::Ordering::Relaxed) {
                true => Ok(()),
                false => Err("no model loaded".into()),
            }
        }));
        let (status, body) = get(router.clone(), "/healthz").await;
        assert_eq!((status, body.status.as_str()), (StatusCode::OK, "ok"));
        let (status, body) = get(router.clone(), "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body.reason.as_deref(), Some("no model loaded"));
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
        let (status, body) = get(router, "/readyz").await;
        assert_eq!((status, body.status.as_str()), (StatusCode::OK, "ready"));
    }
}
