//! A chunked OHTTP response is not buffered: each piece reaches the client while the
//! gateway is still holding the rest back.

use std::{
    io,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    http::StatusCode,
};
use futures::channel::mpsc;
use plexus_privacy::chunked;

use crate::support::{answer, client, hotkey, local_config, relay, sample, serve, serve_relay};

type Pieces = mpsc::UnboundedSender<Result<Bytes, io::Error>>;

#[tokio::test]
async fn every_piece_arrives_before_the_gateway_sends_the_next() {
    // The gateway hands the test the sending end of its response body.
    let (senders, mut handed) = mpsc::unbounded::<Pieces>();
    let senders = Arc::new(Mutex::new(senders));
    let app = Router::new().fallback(move || {
        let senders = Arc::clone(&senders);
        async move {
            let (tx, rx) = mpsc::unbounded();
            senders.lock().unwrap().unbounded_send(tx).unwrap();
            answer(
                StatusCode::OK,
                chunked::RESPONSE_MEDIA_TYPE,
                Body::from_stream(rx),
            )
        }
    });
    let gateway = serve(app).await;
    let target = hotkey(3);
    let relay = relay(local_config(), &[(target, gateway)]);
    let base = serve_relay(relay.clone()).await;

    let mut response = client()
        .post(format!("{base}/v1/relay/{}", target.to_address()))
        .header("content-type", chunked::REQUEST_MEDIA_TYPE)
        .body(vec![7u8; 100])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        chunked::RESPONSE_MEDIA_TYPE
    );
    let pieces = futures::StreamExt::next(&mut handed).await.unwrap();

    let within = Duration::from_secs(10);
    for n in 0..5u8 {
        let piece = Bytes::from(vec![n; 1024 + usize::from(n)]);
        pieces.unbounded_send(Ok(piece.clone())).unwrap();
        let mut got = Vec::new();
        while got.len() < piece.len() {
            let chunk = tokio::time::timeout(within, response.chunk())
                .await
                .expect("a piece was held back until the gateway sent more")
                .unwrap()
                .expect("the response ended early");
            got.extend_from_slice(&chunk);
        }
        assert_eq!(got, piece, "piece {n}");
        assert_eq!(sample(&relay.metrics(), "plexus_relay_in_flight"), 1.0);
    }
    drop(pieces);
    let end = tokio::time::timeout(within, response.chunk())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(end, None, "the response ends when the gateway's does");
    // The stream's end releases the in-flight count.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(sample(&relay.metrics(), "plexus_relay_in_flight"), 0.0);
}
