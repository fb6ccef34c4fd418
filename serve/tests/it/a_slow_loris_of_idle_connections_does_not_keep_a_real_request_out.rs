//! Idle and slow clients cannot hold a listener: connections that send no request are
//! closed after the header timeout, idle ones make room for new ones when every slot
//! is taken, slow bodies are cut off, and a response in progress is never cut.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::ConnectInfo,
    routing::{get, post},
};
use plexus_serve::{Limits, serve};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
    sync::oneshot,
};

fn app() -> Router {
    Router::new()
        .route("/ok", get(|| async { "ok" }))
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        )
        .route("/echo", post(|body: Bytes| async move { body }))
        .route(
            "/slow",
            get(|| async {
                // Five chunks, 200 ms apart.
                let chunks = futures::stream::unfold(0u32, |n| async move {
                    if n == 5 {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    Some((Ok::<_, std::io::Error>("chunk;"), n + 1))
                });
                Body::from_stream(chunks)
            }),
        )
}

/// Serve [`app`] within `limits` on a loopback port; stopped when the sender drops.
async fn start(limits: Limits) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listener, app(), limits, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// Whether the server closed `stream` within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(within, stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

/// One `GET path` on a fresh connection; the response as text.
async fn get_once(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn idle_connections_that_send_no_request_are_closed_after_the_header_timeout() {
    let (addr, _stop) = start(Limits {
        header_timeout: Duration::from_millis(500),
        ..Limits::default()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    // Half a request line: a slow-loris trickle.
    let mut trickle = TcpStream::connect(addr).await.unwrap();
    trickle
        .write_all(b"GET /ok HTTP/1.1\r\nhost:")
        .await
        .unwrap();
    for s in &mut idle {
        assert!(closed_within(s, Duration::from_secs(3)).await);
    }
    assert!(closed_within(&mut trickle, Duration::from_secs(3)).await);
}

#[tokio::test]
async fn a_slow_loris_holding_every_slot_does_not_keep_a_real_request_out() {
    // A long header timeout: only evicting idle connections can let the request in.
    let (addr, _stop) = start(Limits {
        header_timeout: Duration::from_secs(60),
        max_connections: 16,
        ..Limits::default()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..100 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(5), get_once(addr, "/ok"))
        .await
        .expect("a real request is served while idle connections hold every slot");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok"));
    assert!(started.elapsed() < Duration::from_secs(5));
    // And the peer address reaches the handlers.
    assert!(get_once(addr, "/peer").await.ends_with("127.0.0.1"));
}

#[tokio::test]
async fn a_response_in_progress_is_never_cut_to_make_room() {
    let (addr, _stop) = start(Limits {
        header_timeout: Duration::from_secs(60),
        max_connections: 1,
        ..Limits::default()
    })
    .await;
    let slow = tokio::spawn(get_once(addr, "/slow"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The only slot streams a response: the next request waits for it, then is served.
    let next = get_once(addr, "/ok").await;
    assert!(next.ends_with("ok"), "{next}");
    let slow = slow.await.unwrap();
    // All five chunks and the chunked terminator: the response was not cut.
    assert_eq!(slow.matches("chunk;").count(), 5, "{slow}");
    assert!(slow.ends_with("0\r\n\r\n"), "{slow}");
}

#[tokio::test]
async fn a_body_that_trickles_past_its_deadline_is_refused_and_bodies_over_the_limit_get_413() {
    let (addr, _stop) = start(Limits {
        body_timeout: Some(Duration::from_millis(300)),
        body_limit: 1024,
        ..Limits::default()
    })
    .await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nab")
        .await
        .unwrap();
    let mut out = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut out))
        .await
        .expect("the server answers a slow body before the client finishes")
        .unwrap();
    let text = String::from_utf8_lossy(&out[..n]);
    assert!(!text.starts_with("HTTP/1.1 200"), "{text}");

    let mut big = TcpStream::connect(addr).await.unwrap();
    big.write_all(
        b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 5000\r\nconnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    big.read_to_end(&mut out).await.unwrap();
    assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 413"));
}
