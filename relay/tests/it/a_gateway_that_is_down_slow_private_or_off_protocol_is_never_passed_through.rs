//! Gateways that fail are answered for: unreachable is a 502, slow a 504, anything
//! but an encapsulated response a 502 that shows none of it, a stall mid-response
//! cuts the response off, and with private targets disallowed no loopback gateway
//! is ever contacted, by address or by name.

use std::time::Duration;

use axum::{
    Router,
    body::{Body, Bytes},
    http::StatusCode,
};
use futures::StreamExt as _;
use http_body_util::BodyExt as _;
use plexus_privacy::oblivious;
use plexus_relay::RelayConfig;
use tower::ServiceExt as _;

use crate::support::{
    answer, code, hotkey, local_config, oneshot, peer, post, recording_gateway, relay, sample,
    serve,
};

fn request() -> axum::http::Request<Body> {
    post(
        &hotkey(1).to_address(),
        Some(oblivious::REQUEST_MEDIA_TYPE),
        "sealed request",
    )
}

#[tokio::test]
async fn a_closed_port_is_a_502_upstream_unreachable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let relay = relay(local_config(), &[(hotkey(1), format!("http://{addr}"))]);
    let (status, _, body) = oneshot(&relay, peer("192.0.2.1"), request()).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(code(&body), "upstream_unreachable");
    assert_eq!(
        sample(
            &relay.metrics(),
            "plexus_relay_requests_total{outcome=\"upstream_unreachable\"}"
        ),
        1.0
    );
}

#[tokio::test]
async fn a_gateway_slower_than_the_timeout_is_a_504() {
    let app = Router::new().fallback(|| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        answer(StatusCode::OK, oblivious::RESPONSE_MEDIA_TYPE, "late")
    });
    let gateway = serve(app).await;
    let config = RelayConfig {
        upstream_timeout: Duration::from_millis(200),
        ..local_config()
    };
    let relay = relay(config, &[(hotkey(1), gateway)]);
    let (status, _, body) = oneshot(&relay, peer("192.0.2.1"), request()).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(code(&body), "upstream_timeout");
}

#[tokio::test]
async fn a_gateway_answering_anything_but_an_encapsulated_response_is_a_502_without_its_body() {
    for (status, content_type) in [
        (StatusCode::OK, "application/json"),
        (StatusCode::INTERNAL_SERVER_ERROR, "text/plain"),
        (StatusCode::FOUND, "text/html"),
    ] {
        let (gateway, _) = recording_gateway(move |_| {
            let mut response = answer(status, content_type, "internal detail: db password");
            response
                .headers_mut()
                .insert("location", "http://169.254.169.254/".parse().unwrap());
            response
        })
        .await;
        let relay = relay(local_config(), &[(hotkey(1), gateway)]);
        let (got, headers, body) = oneshot(&relay, peer("192.0.2.1"), request()).await;
        assert_eq!(got, StatusCode::BAD_GATEWAY, "{content_type}");
        assert_eq!(code(&body), "bad_upstream_response");
        assert!(!String::from_utf8_lossy(&body).contains("db password"));
        assert!(headers.get("location").is_none());
    }
}

#[tokio::test]
async fn a_gateway_that_stalls_mid_response_has_its_response_cut_off() {
    let app = Router::new().fallback(|| async {
        let pieces = futures::stream::once(async { Ok::<_, std::io::Error>(Bytes::from("first")) })
            .chain(futures::stream::once(async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(Bytes::from("never"))
            }));
        answer(
            StatusCode::OK,
            plexus_privacy::chunked::RESPONSE_MEDIA_TYPE,
            Body::from_stream(pieces),
        )
    });
    let gateway = serve(app).await;
    let config = RelayConfig {
        idle_timeout: Duration::from_millis(300),
        ..local_config()
    };
    let relay = relay(config, &[(hotkey(1), gateway)]);
    let response = plexus_relay::router(relay.clone())
        .layer(axum::extract::connect_info::MockConnectInfo(peer(
            "192.0.2.1",
        )))
        .oneshot(request())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "first");
    let cut = tokio::time::timeout(Duration::from_secs(10), body.frame())
        .await
        .expect("the stall was not cut off");
    assert!(
        matches!(cut, Some(Err(_))),
        "the response must end in an error"
    );
    drop(body);
    assert_eq!(sample(&relay.metrics(), "plexus_relay_in_flight"), 0.0);
}

#[tokio::test]
async fn without_private_targets_no_loopback_gateway_is_contacted_by_address_or_name() {
    let (gateway, log) =
        recording_gateway(|_| answer(StatusCode::OK, oblivious::RESPONSE_MEDIA_TYPE, "sealed"))
            .await;
    let port = gateway.rsplit(':').next().unwrap().to_owned();
    // The directory is forced here; the refresher would already have left these out.
    let relay = relay(
        RelayConfig::default(),
        &[
            (hotkey(1), gateway.clone()),
            (hotkey(2), format!("http://localhost:{port}")),
            (hotkey(3), format!("http://[::ffff:127.0.0.1]:{port}")),
        ],
    );
    for n in 1..=3 {
        let (status, _, body) = oneshot(
            &relay,
            peer("192.0.2.1"),
            post(
                &hotkey(n).to_address(),
                Some(oblivious::REQUEST_MEDIA_TYPE),
                "x",
            ),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "target {n}");
        assert_eq!(code(&body), "upstream_unreachable");
    }
    assert!(
        log.lock().unwrap().is_empty(),
        "a private gateway was contacted"
    );
}
