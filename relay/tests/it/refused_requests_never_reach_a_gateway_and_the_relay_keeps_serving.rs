//! The relay is no open proxy: malformed and unknown targets, other media types,
//! oversized bodies, other methods and paths are refused with JSON errors before
//! anything is sent anywhere, and the relay goes on serving good requests.

use axum::{
    body::{Body, Bytes},
    http::{Request, StatusCode},
};
use plexus_privacy::{chunked, oblivious};

use crate::support::{
    answer, code, hotkey, local_config, oneshot, peer, post, recording_gateway, relay, sample,
};

#[tokio::test]
async fn each_refusal_has_its_status_and_code_and_the_next_good_request_goes_through() {
    let (gateway, log) =
        recording_gateway(|_| answer(StatusCode::OK, oblivious::RESPONSE_MEDIA_TYPE, "sealed"))
            .await;
    let known = hotkey(1);
    let mut config = local_config();
    config.rate.burst = 1000;
    let relay = relay(config, &[(known, gateway)]);
    let client = peer("192.0.2.10");
    let good = || {
        post(
            &known.to_address(),
            Some(oblivious::REQUEST_MEDIA_TYPE),
            "x",
        )
    };
    let too_long_stream = || {
        // No content-length: the limit must hold while reading.
        let pieces = (0..40).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![0u8; 8192])));
        Body::from_stream(futures::stream::iter(pieces))
    };

    let refusals: Vec<(&str, Request<Body>, StatusCode, &str)> = vec![
        (
            "a target that is no address",
            post("not-an-address", Some(oblivious::REQUEST_MEDIA_TYPE), "x"),
            StatusCode::BAD_REQUEST,
            "invalid_target",
        ),
        (
            "an address of another network",
            post(
                "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
                Some(oblivious::REQUEST_MEDIA_TYPE),
                "x",
            ),
            StatusCode::BAD_REQUEST,
            "invalid_target",
        ),
        (
            "a hotkey no gateway registered",
            post(
                &hotkey(2).to_address(),
                Some(oblivious::REQUEST_MEDIA_TYPE),
                "x",
            ),
            StatusCode::NOT_FOUND,
            "unknown_target",
        ),
        (
            "no content type",
            post(&known.to_address(), None, "x"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "JSON",
            post(&known.to_address(), Some("application/json"), "{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "a response type",
            post(
                &known.to_address(),
                Some(oblivious::RESPONSE_MEDIA_TYPE),
                "x",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "a whole request one byte over its limit",
            post(
                &known.to_address(),
                Some(oblivious::REQUEST_MEDIA_TYPE),
                vec![0u8; oblivious::MAX_ENCAPSULATED_REQUEST_LEN + 1],
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            "a chunked request one byte over its limit",
            post(
                &known.to_address(),
                Some(chunked::REQUEST_MEDIA_TYPE),
                vec![0u8; chunked::MAX_ENCAPSULATED_REQUEST_LEN + 1],
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            "an oversized body without a length",
            post(
                &known.to_address(),
                Some(oblivious::REQUEST_MEDIA_TYPE),
                too_long_stream(),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            "a declared length over the limit",
            Request::post(format!("/v1/relay/{}", known.to_address()))
                .header("content-type", oblivious::REQUEST_MEDIA_TYPE)
                .header("content-length", "999999999")
                .body(Body::empty())
                .unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            "a GET on the relay route",
            Request::get(format!("/v1/relay/{}", known.to_address()))
                .body(Body::empty())
                .unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "a path the relay does not serve",
            Request::post("/ohttp").body(Body::from("x")).unwrap(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "an absolute URL, as to a forward proxy",
            Request::post("http://gateway.example/ohttp")
                .header("content-type", oblivious::REQUEST_MEDIA_TYPE)
                .body(Body::from("x"))
                .unwrap(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    let n = refusals.len();
    for (what, request, status, expected) in refusals {
        let (got, _, body) = oneshot(&relay, client, request).await;
        assert_eq!(got, status, "{what}");
        assert_eq!(code(&body), expected, "{what}");
        assert_eq!(log.lock().unwrap().len(), 0, "{what} reached the gateway");
        let (got, _, body) = oneshot(&relay, client, good()).await;
        assert_eq!(got, StatusCode::OK, "after {what}");
        assert_eq!(body, "sealed");
        log.lock().unwrap().clear();
    }

    let metrics = relay.metrics();
    for (outcome, count) in [
        ("invalid_target", 2.0),
        ("unknown_target", 1.0),
        ("unsupported_media_type", 3.0),
        ("too_large", 4.0),
        ("forwarded", n as f64),
    ] {
        assert_eq!(
            sample(
                &metrics,
                &format!("plexus_relay_requests_total{{outcome=\"{outcome}\"}}")
            ),
            count,
            "{outcome}"
        );
    }
}

#[tokio::test]
async fn the_targets_health_and_metrics_routes_answer_json_and_text() {
    let relay = relay(
        local_config(),
        &[
            (hotkey(2), "https://two.example/gw/".to_owned()),
            (hotkey(1), "http://127.0.0.1:9".to_owned()),
        ],
    );
    let (status, headers, body) = oneshot(
        &relay,
        peer("192.0.2.1"),
        Request::get("/v1/relay/targets")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    let targets: plexus_relay::wire::Targets = serde_json::from_slice(&body).unwrap();
    assert_eq!(targets.count, 2);
    assert_eq!(
        targets
            .targets
            .iter()
            .map(|t| (t.hotkey, t.url.as_str()))
            .collect::<Vec<_>>(),
        [
            (hotkey(1), "http://127.0.0.1:9"),
            (hotkey(2), "https://two.example/gw")
        ]
    );
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["targets"][0]["hotkey"], hotkey(1).to_address());

    let (status, _, body) = oneshot(
        &relay,
        peer("192.0.2.1"),
        Request::get("/healthz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let health: plexus_relay::wire::Health = serde_json::from_slice(&body).unwrap();
    assert_eq!((health.status.as_str(), health.targets), ("ok", 2));

    let (status, headers, body) = oneshot(
        &relay,
        peer("192.0.2.1"),
        Request::get("/metrics").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = String::from_utf8(body.to_vec()).unwrap();
    for name in [
        "plexus_relay_requests",
        "plexus_relay_request_bytes",
        "plexus_relay_response_bytes",
        "plexus_relay_in_flight",
        "plexus_relay_upstream_latency_seconds",
        "plexus_relay_rate_limited",
        "plexus_relay_directory_targets",
    ] {
        assert!(text.contains(&format!("# TYPE {name} ")), "{name} missing");
    }
    assert!(text.contains("plexus_relay_requests_total{outcome=\"unknown_target\"} 0"));
}

#[tokio::test]
async fn a_router_served_without_peer_addresses_fails_closed() {
    let relay = relay(
        local_config(),
        &[(hotkey(1), "http://127.0.0.1:9".to_owned())],
    );
    let response = tower::ServiceExt::oneshot(
        plexus_relay::router(relay),
        post(
            &hotkey(1).to_address(),
            Some(oblivious::REQUEST_MEDIA_TYPE),
            "x",
        ),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(code(&body), "internal");
}
