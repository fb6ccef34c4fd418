use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};

use crate::support::{TestChain, code, get, send};

async fn page(state: &plexus_api::ApiState, path: &str) -> (StatusCode, String, String) {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = tower::ServiceExt::oneshot(plexus_api::router(state.clone()), request)
        .await
        .unwrap();
    let status = response.status();
    let ct = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let csp = response
        .headers()
        .contains_key(header::CONTENT_SECURITY_POLICY);
    let (_, body) = send(state, Request::get(path).body(Body::empty()).unwrap()).await;
    let body = String::from_utf8(body).unwrap();
    assert!(
        !ct.starts_with("text/html") || csp,
        "{path}: HTML without a CSP"
    );
    (status, ct, body)
}

#[tokio::test]
async fn the_root_and_app_paths_serve_the_app_and_api_paths_stay_json() {
    let state = TestChain::new().state();
    let (status, ct, root) = page(&state, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(root.contains("Plexus"), "{root}");
    // A path of the app (history routing) gets the same page.
    for path in ["/wallet", "/blocks/3", "/chat"] {
        let (status, _, body) = page(&state, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body, root, "{path}");
    }
    // Missing files are 404s, never the app's HTML.
    let (status, body) = get(&state, "/assets/missing-0000.js").await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "no_route"));
    // The API namespace keeps its JSON errors, and odd paths name nothing of the app.
    for path in [
        "/v1/nope",
        "/v2/accounts",
        "/v1",
        "/../etc/passwd",
        "/.env",
        "//wallet",
    ] {
        let (status, body) = get(&state, path).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::NOT_FOUND, "no_route"),
            "{path}"
        );
    }
    let (status, body) = get(&state, "/v1/status").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["node"].is_object());
}

#[tokio::test]
async fn every_embedded_asset_the_index_names_is_served() {
    let state = TestChain::new().state();
    let (_, _, root) = page(&state, "/").await;
    if !plexus_api::web::is_built() {
        // Built without `web/dist`: the placeholder says how to build the app.
        assert!(root.contains("npm run build"), "{root}");
        return;
    }
    let mut found = 0;
    for piece in root.split('"').filter(|p| p.starts_with("/assets/")) {
        let (status, ct, _) = page(&state, piece).await;
        assert_eq!(status, StatusCode::OK, "{piece}");
        assert!(!ct.starts_with("text/html"), "{piece}: {ct}");
        found += 1;
    }
    assert!(found > 0, "the index names no /assets/ file: {root}");
}
