use axum::http::StatusCode;
use plexus_types::PLX;

use crate::support::{TestChain, code, get, key};

#[tokio::test]
async fn a_block_is_found_by_height_digest_and_as_latest() {
    let chain = TestChain::new();
    let state = chain.state();
    let tx = chain.transfer(&chain.faucet(), key("bob").account(), PLX);
    plexus_api::Backend::submit(&chain, tx.clone()).unwrap();
    let produced = chain.produce_block();

    let (status, by_height) = get(&state, "/v1/blocks/1").await;
    assert_eq!(status, StatusCode::OK, "{by_height}");
    assert_eq!(by_height["digest"], produced.digest.to_hex());
    assert_eq!(by_height["header"]["height"], 1);
    assert_eq!(by_height["transactions"][0]["hash"], tx.hash().to_hex());
    assert_eq!(by_height["transactions"][0]["kind"], "transfer");
    assert_eq!(by_height["bodies"][0]["tx"]["nonce"], 0);

    let (_, by_digest) = get(&state, &format!("/v1/blocks/{}", produced.digest)).await;
    assert_eq!(by_digest, by_height);
    let (_, latest) = get(&state, "/v1/blocks/latest").await;
    assert_eq!(latest, by_height);

    // The header served converts back to the block's header: same digest.
    let header: plexus_api::wire::Header =
        serde_json::from_value(by_height["header"].clone()).unwrap();
    let header = plexus_types::BlockHeader::try_from(&header).unwrap();
    assert_eq!(header.digest(), produced.digest);

    let (status, body) = get(&state, "/v1/blocks/2").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "unknown_block")
    );
    let (status, body) = get(&state, &format!("/v1/blocks/{}", "00".repeat(32))).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "unknown_block")
    );
    let (status, body) = get(&state, "/v1/blocks/tip").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_block_id")
    );
}

#[tokio::test]
async fn pages_of_blocks_are_bounded_and_link_to_the_next_page() {
    let chain = TestChain::new();
    let state = chain.state();
    chain.produce_blocks(25);

    let (status, page) = get(&state, "/v1/blocks").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let heights: Vec<u64> = page["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["height"].as_u64().unwrap())
        .collect();
    assert_eq!(
        heights,
        (6..=25).collect::<Vec<_>>(),
        "the last 20 blocks by default"
    );
    assert!(page["next"].is_null());

    let (_, page) = get(&state, "/v1/blocks?from=0&limit=10").await;
    assert_eq!(page["blocks"].as_array().unwrap().len(), 10);
    assert_eq!(page["blocks"][0]["height"], 0);
    assert_eq!(page["blocks"][0]["tx_count"], 0);
    assert_eq!(page["next"], 10);

    let (_, page) = get(&state, "/v1/blocks?from=20&limit=100").await;
    assert_eq!(page["blocks"].as_array().unwrap().len(), 6);
    assert!(page["next"].is_null());
    let (_, page) = get(&state, "/v1/blocks?from=1000").await;
    assert_eq!(page["blocks"], serde_json::json!([]));

    for bad in ["limit=0", "limit=101", "limit=-1", "from=x", "frm=1"] {
        let (status, body) = get(&state, &format!("/v1/blocks?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            ["invalid_parameter", "invalid_query"].contains(&code(&body)),
            "{bad}: {body}"
        );
    }

    // Certificates come from the node; a backend that holds none says so per block.
    let (status, body) = get(&state, "/v1/blocks/1/finalization").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "no_certificate"),
        "{body}"
    );
    let (status, body) = get(&state, "/v1/blocks/1000/finalization").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "unknown_block"),
        "{body}"
    );
    let (status, body) = get(&state, "/v1/blocks/x/finalization").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_block_id"),
        "{body}"
    );
}
