//! Cross-origin access for browser clients: the web app served by a node (another
//! origin) posts encapsulated requests to the relay and reads its target list.
//!
//! Only origins named by the operator pass ([`allow_origins`]); every other request
//! is answered exactly as without this layer (no CORS headers, so browsers refuse to
//! read the answer). A preflight from an allowed origin gets a 204 naming `GET`,
//! `POST` and the `content-type` header, the only one clients send. Nothing here logs.

use std::sync::Arc;

use axum::{
    Router,
    extract::Request,
    http::{HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};

/// Let browsers on `origins` (e.g. `http://127.0.0.1:7070`, exactly as a browser sends
/// its `Origin` header: scheme, host, port, no path) use `router`. No origins: `router`
/// unchanged.
pub fn allow_origins(router: Router, origins: &[String]) -> Router {
    let allowed: Arc<Vec<HeaderValue>> = Arc::new(
        origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
            .collect(),
    );
    if allowed.is_empty() {
        return router;
    }
    router.layer(middleware::from_fn(move |request: Request, next: Next| {
        let allowed = Arc::clone(&allowed);
        async move { cors(&allowed, request, next).await }
    }))
}

async fn cors(allowed: &[HeaderValue], request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .filter(|o| allowed.contains(o))
        .cloned();
    let Some(origin) = origin else {
        return next.run(request).await;
    };
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        r
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.append(header::VARY, HeaderValue::from_static("origin"));
    response
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, routing::get};
    use tower::ServiceExt as _;

    use super::*;

    fn app() -> Router {
        let router = Router::new().route("/v1/relay/targets", get(|| async { "ok" }));
        allow_origins(router, &["http://127.0.0.1:7070/".to_owned()])
    }

    async fn call(method: Method, origin: Option<&str>) -> Response {
        let mut request = Request::builder().method(method).uri("/v1/relay/targets");
        if let Some(o) = origin {
            request = request
                .header(header::ORIGIN, o)
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST");
        }
        app()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn only_allowed_origins_get_cors_headers_and_preflights() {
        let ok = call(Method::GET, Some("http://127.0.0.1:7070")).await;
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(
            ok.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "http://127.0.0.1:7070"
        );
        let preflight = call(Method::OPTIONS, Some("http://127.0.0.1:7070")).await;
        assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            preflight.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS],
            "content-type"
        );
        for origin in [Some("http://evil.example"), None] {
            let other = call(Method::GET, origin).await;
            assert!(
                !other
                    .headers()
                    .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            );
            let preflight = call(Method::OPTIONS, origin).await;
            assert_ne!(preflight.status(), StatusCode::NO_CONTENT);
        }
    }
}
