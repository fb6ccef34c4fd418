use std::time::Duration;

use futures::StreamExt as _;
use plexus_client::StreamEvent;
use plexus_types::PLX;

use crate::{
    node::Server,
    support::{TestChain, key},
};

async fn next(stream: &mut plexus_client::BlockStream) -> Option<StreamEvent> {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an event within 10 s")
        .map(|item| item.expect("a well-formed event"))
}

/// Wait until the server has registered the subscription, so no block is missed.
async fn subscribed(state: &plexus_api::ApiState, n: usize) {
    for _ in 0..200 {
        if state.open_streams() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the subscription never opened");
}

#[tokio::test]
async fn blocks_arrive_in_order_with_their_transactions() {
    let chain = TestChain::new();
    let state = chain.state();
    let server = Server::start(state.clone()).await;
    let client = server.client();
    let mut stream = client.subscribe_blocks().await.unwrap();
    subscribed(&state, 1).await;

    let tx = chain.transfer(&chain.faucet(), key("bob").account(), PLX);
    client.submit(&tx).await.unwrap();
    chain.produce_block();
    chain.produce_block();
    match next(&mut stream).await {
        Some(StreamEvent::Block(block)) => {
            assert_eq!(block.height, 1);
            assert_eq!(block.tx_hashes, vec![tx.hash()]);
            assert!(!block.events.is_empty());
        }
        other => panic!("expected block 1, got {other:?}"),
    }
    match next(&mut stream).await {
        Some(StreamEvent::Block(block)) => assert_eq!(block.height, 2),
        other => panic!("expected block 2, got {other:?}"),
    }
}

#[tokio::test]
async fn a_slow_subscriber_is_told_it_lagged_and_keeps_receiving() {
    let chain = TestChain::with_buffer(2);
    let state = chain.state();
    let server = Server::start(state.clone()).await;
    let mut stream = server.client().subscribe_blocks().await.unwrap();
    subscribed(&state, 1).await;
    chain.produce_blocks(6);
    assert_eq!(
        next(&mut stream).await,
        Some(StreamEvent::Lagged { missed: 4 })
    );
    for height in [5, 6] {
        match next(&mut stream).await {
            Some(StreamEvent::Block(block)) => assert_eq!(block.height, height),
            other => panic!("expected block {height}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_graceful_shutdown_ends_open_streams_instead_of_waiting_on_them() {
    let chain = TestChain::new();
    let state = chain.state();
    let server = Server::start(state.clone()).await;
    let mut stream = server.client().subscribe_blocks().await.unwrap();
    subscribed(&state, 1).await;
    server.stop().await.unwrap();
    assert_eq!(
        next(&mut stream).await,
        None,
        "the stream ends with the server"
    );
    assert_eq!(state.open_streams(), 0);
}
