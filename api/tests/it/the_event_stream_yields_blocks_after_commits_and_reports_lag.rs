use std::time::Duration;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt as _;
use plexus_api::wire::{BlockEvent, LaggedEvent};
use plexus_types::PLX;
use tower::ServiceExt as _;

use crate::support::{TestChain, code, get, key};

/// Reads server-sent events off a response body.
struct Events {
    body: Body,
    buffer: String,
}

impl Events {
    async fn open(state: &plexus_api::ApiState) -> Self {
        let response = plexus_api::router(state.clone())
            .oneshot(Request::get("/v1/events").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/event-stream"
        );
        Self {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// The next event's name and data (comments and keep-alives skipped).
    async fn next(&mut self) -> Option<(String, String)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = String::from("message");
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if !data.is_empty() {
                    return Some((name, data));
                }
                continue;
            }
            let frame = tokio::time::timeout(Duration::from_secs(10), self.body.frame())
                .await
                .expect("an event within 10 s")?
                .expect("frame");
            if let Ok(bytes) = frame.into_data() {
                self.buffer
                    .push_str(std::str::from_utf8(&bytes).expect("utf-8"));
            }
        }
    }
}

#[tokio::test]
async fn a_subscriber_receives_each_committed_block_with_its_transactions_and_events() {
    let chain = TestChain::new();
    let state = chain.state();
    let mut events = Events::open(&state).await;
    assert_eq!(state.open_streams(), 1);

    let tx = chain.transfer(&chain.faucet(), key("bob").account(), PLX);
    plexus_api::Backend::submit(&chain, tx.clone()).unwrap();
    let produced = chain.produce_block();

    let (name, data) = events.next().await.expect("an event");
    assert_eq!(name, "block");
    let block: BlockEvent = serde_json::from_str(&data).expect("a block event");
    assert_eq!(block.height, 1);
    assert_eq!(block.digest, produced.digest);
    assert_eq!(block.tx_hashes, vec![tx.hash()]);
    assert!(
        block
            .events
            .iter()
            .any(|e| matches!(e, plexus_ledger::Event::Transfer { .. }))
    );

    chain.produce_block();
    let (name, data) = events.next().await.expect("another event");
    assert_eq!(name, "block");
    assert_eq!(serde_json::from_str::<BlockEvent>(&data).unwrap().height, 2);

    drop(events);
    assert_eq!(state.open_streams(), 0, "a dropped stream frees its slot");
}

#[tokio::test]
async fn a_lagging_subscriber_is_told_how_many_blocks_it_missed_and_continues() {
    let chain = TestChain::with_buffer(2);
    let state = chain.state();
    let mut events = Events::open(&state).await;
    chain.produce_blocks(5);

    let (name, data) = events.next().await.expect("an event");
    assert_eq!(name, "lagged");
    let lagged: LaggedEvent = serde_json::from_str(&data).unwrap();
    assert_eq!(lagged.missed, 3);
    let (name, data) = events.next().await.expect("the stream continues");
    assert_eq!(name, "block");
    assert_eq!(serde_json::from_str::<BlockEvent>(&data).unwrap().height, 4);
    let (_, data) = events.next().await.unwrap();
    assert_eq!(serde_json::from_str::<BlockEvent>(&data).unwrap().height, 5);
    chain.produce_block();
    let (_, data) = events.next().await.unwrap();
    assert_eq!(serde_json::from_str::<BlockEvent>(&data).unwrap().height, 6);
}

#[tokio::test]
async fn streams_are_capped_and_closing_ends_them() {
    let chain = TestChain::new();
    let config = plexus_api::ApiConfig {
        max_streams: 2,
        ..plexus_api::ApiConfig::default()
    };
    let state = chain.state_with(config);
    let mut first = Events::open(&state).await;
    let _second = Events::open(&state).await;
    let (status, body) = get(&state, "/v1/events").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "too_many_streams")
    );

    state.close_streams();
    assert_eq!(first.next().await, None, "closing ends open streams");
    let (status, body) = get(&state, "/v1/events").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "shutting_down")
    );
}
