use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use tower::ServiceExt as _;

use crate::support::{TestChain, get};

#[tokio::test]
async fn metrics_hold_the_node_metrics_and_api_counters_by_route_and_status() {
    let chain = TestChain::new();
    let state = chain.state();
    let faucet = chain.faucet().account();
    get(&state, &format!("/v1/accounts/{faucet}")).await;
    get(&state, "/v1/accounts/nope").await;
    get(&state, "/v1/subnets/9").await;
    get(&state, "/v1/nowhere").await;
    let tx = chain.transfer(&chain.faucet(), faucet, 1);
    crate::support::submit(&state, &tx).await;

    let response = plexus_api::router(state.clone())
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let (_, body) = crate::support::send(
        &state,
        Request::get("/metrics").body(Body::empty()).unwrap(),
    )
    .await;
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("plexus_node_finalized_height 0"), "{text}");
    assert!(text.contains(r#"plexus_api_requests_total{route="/v1/accounts/{address}",method="GET",status="200"} 1"#), "{text}");
    assert!(text.contains(r#"plexus_api_requests_total{route="/v1/accounts/{address}",method="GET",status="400"} 1"#), "{text}");
    assert!(
        text.contains(
            r#"plexus_api_requests_total{route="/v1/subnets/{netuid}",method="GET",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"plexus_api_transactions_submitted_total{result="accepted"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("plexus_api_request_duration_seconds_bucket"),
        "{text}"
    );
    assert_eq!(text.matches("# EOF").count(), 1);
    assert!(text.ends_with("# EOF\n"));
}
