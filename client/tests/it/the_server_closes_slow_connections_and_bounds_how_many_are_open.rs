use std::time::Duration;

use plexus_api::{ApiConfig, ApiState};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

use crate::{node::Server, support::TestChain};

fn state(chain: &TestChain, max_connections: usize) -> ApiState {
    chain.state_with(ApiConfig {
        max_connections,
        header_timeout: Duration::from_millis(300),
        ..ApiConfig::default()
    })
}

/// Read until the server closes the connection; the bytes it sent.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out))
        .await
        .expect("the server closes the connection within 5 s")
        .expect("read");
    out
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let chain = TestChain::new();
    let server = Server::start(state(&chain, 16)).await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .unwrap();
    until_closed(&mut slow).await;
    // Others are served meanwhile and after.
    assert!(server.client().status().await.is_ok());
}

#[tokio::test]
async fn idle_connections_hold_slots_only_until_the_header_timeout() {
    let chain = TestChain::new();
    let server = Server::start(state(&chain, 1)).await;
    // An idle connection takes the only slot...
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    // ...and is closed after the header timeout, so the next request is served.
    let client = server.client().with_timeout(Duration::from_secs(5));
    let status = client.status().await.unwrap();
    assert_eq!(status.tip.unwrap().height, 0);
    until_closed(&mut idle).await;
}
