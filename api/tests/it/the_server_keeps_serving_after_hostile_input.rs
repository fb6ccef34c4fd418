use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};

use crate::support::{TestChain, code, get, json, post_raw, send};

#[tokio::test]
async fn unknown_routes_and_wrong_methods_get_json_errors() {
    let state = TestChain::new().state();
    let (status, body) = get(&state, "/v2/accounts").await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "no_route"));
    // `/` is the web app; the API's own namespace still answers JSON.
    let (status, body) = get(&state, "/v1").await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "no_route"));
    let (status, body) = get(&state, "/v1/transactions").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    let request = Request::delete("/v1/status").body(Body::empty()).unwrap();
    let (status, body) = send(&state, request).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(code(&json(&body)), "method_not_allowed");
}

#[tokio::test]
async fn a_barrage_of_hostile_requests_leaves_the_server_answering() {
    let chain = TestChain::new();
    let state = chain.state();
    let long = "a".repeat(16 * 1024);
    let paths = [
        format!("/v1/accounts/{long}"),
        "/v1/accounts/%FF%FE".to_string(),
        "/v1/accounts/%00".to_string(),
        "/v1/accounts/plx1%0A%0D".to_string(),
        "/v1/blocks/99999999999999999999999".to_string(),
        "/v1/blocks/-5".to_string(),
        format!("/v1/blocks?from={long}"),
        "/v1/blocks?limit=18446744073709551616".to_string(),
        "/v1/blocks?from=1&from=2".to_string(),
        "/v1/subnets/1/weights/65536".to_string(),
        "/v1/proofs/account/x?height=-1".to_string(),
        "/v1/proofs/stake/a/b".to_string(),
        "/v1/transactions/%ZZ".to_string(),
        format!("/v1/blocks/{long}/finalization"),
        "/v1/blocks/18446744073709551616/finalization".to_string(),
        format!("/v1/data/tasks/{long}/dataset"),
        "/v1/data/tasks/0/dataset?format=PARQUET".to_string(),
        "/v1/data/tasks/0/training?format=csv&format=parquet".to_string(),
        "/v1/data/tasks/-1/reports".to_string(),
        "/../../etc/passwd".to_string(),
        "/v1//accounts".to_string(),
    ];
    for path in &paths {
        let request = Request::get(path.as_str()).body(Body::empty()).unwrap();
        let (status, body) = send(&state, request).await;
        assert!(status.is_client_error(), "{path}: {status}");
        let body = json(&body);
        assert!(body["error"]["code"].is_string(), "{path}: {body}");
        // Untrusted input is echoed at most truncated.
        assert!(
            body.to_string().len() < 1024,
            "{path}: the error echoes too much"
        );
    }

    let bodies: Vec<Vec<u8>> = vec![
        vec![0xff; 1024],
        b"{".repeat(10_000),
        format!("{}{}", "[".repeat(5_000), "]".repeat(5_000)).into_bytes(),
        b"{\"tx\": \"\\u0000\"}".to_vec(),
        b"null".to_vec(),
        vec![b'a'; 300 * 1024],
    ];
    for body in bodies {
        let len = body.len();
        let (status, answer) = post_raw(&state, "/v1/transactions", body).await;
        assert!(status.is_client_error(), "{len} bytes: {status}");
        assert!(answer["error"]["code"].is_string());
    }
    let odd = Request::builder()
        .method(Method::from_bytes(b"BREW").unwrap())
        .uri("/v1/status")
        .body(Body::empty())
        .unwrap();
    let (status, _) = send(&state, odd).await;
    assert!(status.is_client_error());

    // Still serving, and still accepting valid work.
    let (status, body) = get(&state, "/v1/status").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tx = chain.transfer(&chain.faucet(), crate::support::key("bob").account(), 1);
    let (status, _) = crate::support::submit(&state, &tx).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(chain.queued(), 1);
}

#[tokio::test]
async fn before_genesis_reads_say_not_ready_and_status_still_answers() {
    let chain = TestChain::without_genesis(4);
    let state = chain.state();
    let account = crate::support::key("bob").account();
    for path in [
        format!("/v1/accounts/{account}"),
        "/v1/supply".to_string(),
        "/v1/blocks/latest".to_string(),
        "/v1/blocks".to_string(),
        format!("/v1/proofs/account/{account}"),
    ] {
        let (status, body) = get(&state, &path).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
            "{path}"
        );
    }
    let (status, body) = get(&state, "/v1/status").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["tip"].is_null());
    chain.commit_genesis();
    let (status, _) = get(&state, "/v1/supply").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_loopback_page_may_call_the_api_across_origins_and_others_may_not() {
    let state = TestChain::new().state();
    let ask = |origin: &'static str| {
        Request::get("/v1/status")
            .header("origin", origin)
            .body(Body::empty())
            .unwrap()
    };
    let response = tower::ServiceExt::oneshot(
        plexus_api::router(state.clone()),
        ask("http://127.0.0.1:5173"),
    )
    .await
    .unwrap();
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://127.0.0.1:5173"
    );
    let response =
        tower::ServiceExt::oneshot(plexus_api::router(state), ask("https://evil.example"))
            .await
            .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

/// A backend whose `status` panics, as a buggy node might.
struct Panicky(TestChain);

impl plexus_api::Backend for Panicky {
    fn store(&self) -> std::sync::Arc<plexus_storage::Store> {
        self.0.store()
    }
    fn submit(
        &self,
        tx: plexus_types::SignedTransaction,
    ) -> Result<plexus_types::Hash, plexus_api::SubmitError> {
        Err(plexus_api::SubmitError::Unavailable(format!(
            "secret operator detail for {}",
            tx.hash()
        )))
    }
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<plexus_api::FinalizedBlock> {
        self.0.subscribe()
    }
    fn status(&self) -> plexus_api::NodeStatus {
        panic!("secret panic detail")
    }
    fn metrics(&self) -> String {
        self.0.metrics()
    }
}

#[tokio::test]
async fn internal_failures_are_plain_json_500s_and_503s_without_details() {
    let chain = TestChain::new();
    let state = plexus_api::ApiState::new(Panicky(chain.clone()));
    let (status, body) = get(&state, "/v1/status").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal")
    );
    assert!(!body.to_string().contains("secret"), "{body}");

    let tx = chain.transfer(&chain.faucet(), crate::support::key("bob").account(), 1);
    let (status, body) = crate::support::submit(&state, &tx).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    );
    assert!(!body.to_string().contains("secret"), "{body}");

    // The server is still up.
    let (status, _) = get(&state, "/v1/supply").await;
    assert_eq!(status, StatusCode::OK);
}
