//! A slow-loris client opens more connections to the relay than it allows and never
//! finishes a request: the relay closes them after its header timeout, and a real
//! client is served meanwhile (the idlest connection makes room for it).

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

use crate::support::{client, local_config, relay};

#[tokio::test]
async fn a_slow_loris_of_idle_connections_is_cut_off_and_real_requests_are_still_served() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = plexus_serve::Limits {
        header_timeout: Duration::from_secs(2),
        max_connections: 64,
        ..plexus_relay::default_limits()
    };
    tokio::spawn(plexus_relay::serve_within(
        listener,
        relay(local_config(), &[]),
        &[],
        limits,
        std::future::pending(),
    ));
    let mut idle = Vec::new();
    for i in 0..200 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        if i % 2 == 0 {
            // Half a request head, never finished.
            s.write_all(b"POST /v1/relay/x HTTP/1.1\r\nhost: relay\r\n")
                .await
                .unwrap();
        }
        idle.push(s);
    }
    let t = std::time::Instant::now();
    let health = client()
        .get(format!("http://{addr}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("a real request is served during the flood");
    assert!(health.status().is_success());
    // Well within the header timeout: idle connections made room, none had to time out.
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "served after {:?}",
        t.elapsed()
    );
    // Every idle connection is closed by the relay within its header timeout (2 s
    // here, 10 s by default), so the flood cannot pile up until descriptors run out.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(6);
    for s in &mut idle {
        let mut buf = [0u8; 256];
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let read = tokio::time::timeout(left, s.read(&mut buf)).await;
        assert!(read.is_ok(), "an idle connection is still open after 6 s");
    }
}
