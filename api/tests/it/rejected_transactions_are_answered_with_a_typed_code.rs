use axum::http::StatusCode;
use plexus_types::{Encode as _, PLX, Signature, Transaction};
use serde_json::json;

use crate::support::{TestChain, code, key, post_json, post_raw, submit};

fn transfer(chain: &TestChain) -> plexus_types::SignedTransaction {
    chain.transfer(&chain.faucet(), key("bob").account(), PLX)
}

#[tokio::test]
async fn malformed_bodies_get_typed_json_errors() {
    let chain = TestChain::new();
    let state = chain.state();
    let cases = [
        (json!({"tx": "not hex"}), "invalid_hex"),
        (json!({"tx": "abc"}), "invalid_hex"),
        (json!({"tx": "00ff00ff"}), "malformed_transaction"),
        (json!({"tx": ""}), "malformed_transaction"),
        (json!({"transaction": {}}), "invalid_json"),
        (json!({"tx": 5}), "invalid_json"),
        (json!([1, 2, 3]), "invalid_json"),
    ];
    for (body, expected) in cases {
        let (status, answer) = post_json(&state, "/v1/transactions", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {answer}");
        assert_eq!(code(&answer), expected, "{body}");
    }
    let (status, answer) = post_raw(&state, "/v1/transactions", b"{\"tx\": ".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&answer), "invalid_json");

    // A valid transaction with a byte appended does not decode (canonical encoding).
    let mut bytes = transfer(&chain).encode();
    bytes.push(0);
    let body = json!({ "tx": hex::encode(bytes) });
    let (status, answer) = post_json(&state, "/v1/transactions", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&answer), "malformed_transaction");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("trailing")
    );
    assert_eq!(chain.queued(), 0);
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413_in_json() {
    let state = TestChain::new().state();
    let huge = format!("{{\"tx\": \"{}\"}}", "ab".repeat(200 * 1024));
    let (status, answer) = post_raw(&state, "/v1/transactions", huge.into_bytes()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code(&answer), "body_too_large");

    // Under the body limit but above the transaction limit.
    let big = json!({ "tx": "ab".repeat(65 * 1024) });
    let (status, answer) = post_json(&state, "/v1/transactions", &big).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&answer), "transaction_too_large");
}

#[tokio::test]
async fn a_body_without_a_json_content_type_is_refused_with_415() {
    let state = TestChain::new().state();
    let request = axum::http::Request::post("/v1/transactions")
        .body(axum::body::Body::from("{\"tx\": \"00\"}"))
        .unwrap();
    let (status, body) = crate::support::send(&state, request).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(code(&crate::support::json(&body)), "unsupported_media_type");
}

#[tokio::test]
async fn ledger_rejections_pass_their_code_and_message_through() {
    let chain = TestChain::new();
    let state = chain.state();

    // Wrong chain.
    let mut wrong = transfer(&chain).tx;
    wrong.chain_id += 1;
    let wrong = wrong.sign(&chain.faucet());
    let (status, answer) = submit(&state, &wrong).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "wrong_chain")
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1337")
    );

    // Bad signature: signed by someone else.
    let forged = plexus_types::SignedTransaction {
        tx: transfer(&chain).tx,
        signature: key("mallory").sign(b"something else"),
    };
    let (status, answer) = submit(&state, &forged).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "bad_signature")
    );
    let zero_sig = plexus_types::SignedTransaction {
        tx: transfer(&chain).tx,
        signature: Signature([0; 64]),
    };
    let (_, answer) = submit(&state, &zero_sig).await;
    assert_eq!(code(&answer), "bad_signature");

    // Fee too low.
    let cheap = Transaction {
        fee: 0,
        ..transfer(&chain).tx
    }
    .sign(&chain.faucet());
    let (status, answer) = submit(&state, &cheap).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "fee_too_low")
    );

    // A broke sender.
    let broke = chain.transfer(&key("nobody"), key("bob").account(), 1);
    let (status, answer) = submit(&state, &broke).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "insufficient_balance")
    );

    // Stale nonce: nonce 0 again after a block used it.
    let first = transfer(&chain);
    assert_eq!(submit(&state, &first).await.0, StatusCode::ACCEPTED);
    let (status, answer) = submit(&state, &first).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::CONFLICT, "duplicate_transaction")
    );
    chain.produce_block();
    let replay = Transaction {
        fee: first.tx.fee + 1,
        ..first.tx.clone()
    }
    .sign(&chain.faucet());
    let (status, answer) = submit(&state, &replay).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::CONFLICT, "stale_nonce")
    );
    assert_eq!(
        answer["error"]["message"],
        "nonce 0 is stale: the account's next nonce is 1"
    );
    assert_eq!(chain.queued(), 0);
}
