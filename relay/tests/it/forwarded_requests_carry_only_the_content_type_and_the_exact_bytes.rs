//! A relayed request reaches the gateway with nothing of the client but the body:
//! no address, no forwarding headers, no user-agent, cookie or credentials; the body
//! passes byte for byte both ways and the answer carries only its content type.

use std::collections::BTreeSet;

use axum::{body::Bytes, http::StatusCode, response::IntoResponse};
use plexus_privacy::{chunked, oblivious};

use crate::support::{
    CLIENT_IP, answer, client, hotkey, local_config, recording_gateway, relay, sample, serve_relay,
};

/// Every byte value, repeated to `len` bytes.
fn binary(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt))
        .collect()
}

#[tokio::test]
async fn the_gateway_sees_only_the_content_type_and_the_exact_bytes_both_ways() {
    let (gateway, log) = recording_gateway(|body: Bytes| {
        // Answer the reversed body, with headers the relay must not pass on.
        let kind = if body.first() == Some(&1) {
            chunked::RESPONSE_MEDIA_TYPE
        } else {
            oblivious::RESPONSE_MEDIA_TYPE
        };
        let reversed: Vec<u8> = body.iter().rev().copied().collect();
        let mut response = answer(StatusCode::OK, kind, reversed);
        let headers = response.headers_mut();
        headers.insert("set-cookie", "gateway=secret".parse().unwrap());
        headers.insert("server", "gateway/1.0".parse().unwrap());
        headers.insert("x-gateway-internal", "node-7".parse().unwrap());
        response.into_response()
    })
    .await;
    let target = hotkey(9);
    let relay = relay(local_config(), &[(target, format!("{gateway}/"))]);
    let base = serve_relay(relay.clone()).await;
    let http = client();

    // One whole request at exactly the limit, one chunked request.
    let whole = {
        let mut b = binary(oblivious::MAX_ENCAPSULATED_REQUEST_LEN, 0);
        b[0] = 0;
        b
    };
    let streamed = {
        let mut b = binary(70_000, 5);
        b[0] = 1;
        b
    };
    for (content_type, body, answered) in [
        (
            oblivious::REQUEST_MEDIA_TYPE,
            &whole,
            oblivious::RESPONSE_MEDIA_TYPE,
        ),
        (
            "Message/OHTTP-Chunked-Req; tag=fingerprint",
            &streamed,
            chunked::RESPONSE_MEDIA_TYPE,
        ),
    ] {
        let response = http
            .post(format!("{base}/v1/relay/{}", target.to_address()))
            .header("content-type", content_type)
            .header("user-agent", "curious-browser/1.0 (client machine)")
            .header("cookie", "session=alice")
            .header("authorization", "Bearer alice-token")
            .header("x-forwarded-for", "198.51.100.7, 127.0.0.2")
            .header("x-real-ip", "198.51.100.7")
            .header("forwarded", "for=198.51.100.7;proto=https")
            .header("via", "1.1 client-proxy")
            .header("referer", "https://alice.example/chat")
            .header("accept-language", "fr-CH")
            .header("x-client-secret", "alice")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let names: BTreeSet<String> = response
            .headers()
            .keys()
            .map(|k| k.as_str().to_owned())
            .collect();
        assert!(
            names.is_subset(
                &[
                    "content-type",
                    "content-length",
                    "transfer-encoding",
                    "date"
                ]
                .map(str::to_owned)
                .into()
            ),
            "the client got gateway headers: {names:?}"
        );
        assert_eq!(response.headers()["content-type"], answered);
        assert_eq!(
            response.headers()["content-length"],
            body.len().to_string(),
            "a length the gateway declared is kept"
        );
        let back = response.bytes().await.unwrap();
        let reversed: Vec<u8> = body.iter().rev().copied().collect();
        assert!(back == reversed, "the response changed on the way");
    }

    let received = log.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    for (got, (sent, content_type)) in received.iter().zip([
        (&whole, oblivious::REQUEST_MEDIA_TYPE),
        (&streamed, chunked::REQUEST_MEDIA_TYPE),
    ]) {
        assert_eq!(got.path, "/ohttp");
        let names: BTreeSet<&str> = got.headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            ["content-length", "content-type", "host"].into(),
            "the gateway got more than the content type"
        );
        assert_eq!(got.headers["content-type"], content_type);
        assert_eq!(got.headers["content-length"], sent.len().to_string());
        for value in got.headers.values() {
            let value = value.to_str().unwrap();
            assert!(!value.contains(&CLIENT_IP.to_string()), "{value}");
            assert!(!value.contains("198.51.100.7"), "{value}");
        }
        assert_ne!(
            got.peer.ip(),
            CLIENT_IP,
            "the gateway saw the client connect"
        );
        assert!(got.body == **sent, "the request changed on the way");
    }

    let metrics = relay.metrics();
    assert_eq!(
        sample(
            &metrics,
            "plexus_relay_requests_total{outcome=\"forwarded\"}"
        ),
        2.0
    );
    assert_eq!(
        sample(&metrics, "plexus_relay_request_bytes_total"),
        (whole.len() + streamed.len()) as f64
    );
    assert_eq!(
        sample(&metrics, "plexus_relay_response_bytes_total"),
        (whole.len() + streamed.len()) as f64
    );
    assert_eq!(sample(&metrics, "plexus_relay_in_flight"), 0.0);
    assert_eq!(
        sample(&metrics, "plexus_relay_upstream_latency_seconds_count"),
        2.0
    );
    assert_eq!(sample(&metrics, "plexus_relay_directory_targets"), 1.0);
}
