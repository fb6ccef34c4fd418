use axum::http::StatusCode;
use plexus_types::PLX;

use crate::support::{TestChain, get, key, submit};

#[tokio::test]
async fn a_valid_transfer_is_accepted_pending_then_finalized_with_its_position() {
    let chain = TestChain::new();
    let state = chain.state();
    let bob = key("bob");
    let tx = chain.transfer(&chain.faucet(), bob.account(), 5 * PLX);

    let (status, body) = submit(&state, &tx).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["hash"], tx.hash().to_hex());

    let path = format!("/v1/transactions/{}", tx.hash());
    let (status, body) = get(&state, &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "pending");
    assert!(body["height"].is_null());

    chain.produce_block();
    let (status, body) = get(&state, &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "finalized");
    assert_eq!(body["height"], 1);
    assert_eq!(body["index"], 0);
    assert_eq!(body["transaction"]["tx"]["payload"]["type"], "transfer");
    let encoded = hex::decode(body["encoded"].as_str().expect("encoded")).expect("hex");
    assert_eq!(
        blake3::hash(&encoded).as_bytes(),
        &tx.hash().0,
        "the encoding hashes to the id"
    );

    let (status, body) = get(&state, &format!("/v1/accounts/{}", bob.account())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["balance"], 5 * PLX);
    assert_eq!(body["nonce"], 0);
    assert_eq!(body["height"], 1);
    let (_, faucet) = get(
        &state,
        &format!("/v1/accounts/{}", chain.faucet().account()),
    )
    .await;
    assert_eq!(faucet["nonce"], 1);
}

#[tokio::test]
async fn an_unknown_transaction_is_a_json_404_and_a_bad_hash_a_json_400() {
    let state = TestChain::new().state();
    let (status, body) = get(&state, &format!("/v1/transactions/{}", "ab".repeat(32))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(crate::support::code(&body), "unknown_transaction");
    let (status, body) = get(&state, "/v1/transactions/xyz").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(crate::support::code(&body), "invalid_hash");
}

#[tokio::test]
async fn an_account_is_found_by_its_hex_key_as_well_as_its_address() {
    let chain = TestChain::new();
    let state = chain.state();
    let faucet = chain.faucet().account();
    let (_, by_address) = get(&state, &format!("/v1/accounts/{faucet}")).await;
    let (_, by_hex) = get(&state, &format!("/v1/accounts/{}", hex::encode(faucet.0))).await;
    assert_eq!(by_address, by_hex);
    assert_eq!(
        by_address["balance"],
        plexus_ledger::genesis::DEV_FAUCET_BALANCE
    );
    assert_eq!(by_address["address"], faucet.to_address());
}
