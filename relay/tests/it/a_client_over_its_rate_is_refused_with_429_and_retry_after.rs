//! Rate limiting keys on the TCP peer address alone: a client over its burst gets a
//! 429 with `Retry-After`, others are unaffected, and forwarding headers change
//! nothing.

use axum::http::StatusCode;
use plexus_privacy::oblivious;
use plexus_relay::RateConfig;

use crate::support::{code, hotkey, local_config, oneshot, peer, post, relay, sample};

#[tokio::test]
async fn the_request_past_the_burst_is_answered_429_with_retry_after() {
    let mut config = local_config();
    config.rate = RateConfig {
        per_second: 1,
        burst: 2,
        max_tracked: 16,
    };
    let relay = relay(config, &[]);
    let unknown = || {
        post(
            &hotkey(5).to_address(),
            Some(oblivious::REQUEST_MEDIA_TYPE),
            "x",
        )
    };
    let alice = peer("192.0.2.1");
    for _ in 0..2 {
        let (status, _, body) = oneshot(&relay, alice, unknown()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(code(&body), "unknown_target");
    }
    let (status, headers, body) = oneshot(&relay, alice, unknown()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(&body), "rate_limited");
    assert_eq!(headers["retry-after"], "1");

    // Claiming another address in a header does not help.
    let mut spoofed = unknown();
    spoofed
        .headers_mut()
        .insert("x-forwarded-for", "192.0.2.99".parse().unwrap());
    spoofed
        .headers_mut()
        .insert("forwarded", "for=192.0.2.99".parse().unwrap());
    let (status, _, _) = oneshot(&relay, alice, spoofed).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // Another client, even with alice's address in a header, has its own bucket.
    let mut bob_request = unknown();
    bob_request
        .headers_mut()
        .insert("x-forwarded-for", "192.0.2.1".parse().unwrap());
    let (status, _, _) = oneshot(&relay, peer("192.0.2.2"), bob_request).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Two addresses of one IPv6 /64 share a bucket.
    let (a, b) = (peer("2001:db8:7:7::1"), peer("2001:db8:7:7::2"));
    assert_eq!(oneshot(&relay, a, unknown()).await.0, StatusCode::NOT_FOUND);
    assert_eq!(oneshot(&relay, b, unknown()).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        oneshot(&relay, a, unknown()).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );

    let metrics = relay.metrics();
    assert_eq!(sample(&metrics, "plexus_relay_rate_limited_total"), 3.0);
    assert_eq!(
        sample(
            &metrics,
            "plexus_relay_requests_total{outcome=\"rate_limited\"}"
        ),
        3.0
    );
    assert_eq!(
        sample(&metrics, "plexus_relay_rate_limiter_tracked_clients"),
        3.0
    );
}
