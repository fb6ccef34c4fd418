use plexus_client::{Client, ClientError};
use plexus_types::Transaction;

use crate::{
    node::Server,
    support::{TestChain, key},
};

#[tokio::test]
async fn ledger_rejections_arrive_as_typed_api_errors_with_hints() {
    let chain = TestChain::new();
    let server = Server::start(chain.state()).await;
    let client = server.client();
    let tx = chain.transfer(&chain.faucet(), key("bob").account(), 1);
    client.submit(&tx).await.unwrap();
    chain.produce_block();

    let replay = Transaction {
        fee: tx.tx.fee + 1,
        ..tx.tx.clone()
    }
    .sign(&chain.faucet());
    let err = client.submit(&replay).await.unwrap_err();
    match &err {
        ClientError::Api {
            status,
            code,
            message,
        } => {
            assert_eq!((*status, code.as_str()), (409, "stale_nonce"));
            assert_eq!(message, "nonce 0 is stale: the account's next nonce is 1");
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    assert!(err.hint().unwrap().contains("nonce"));

    let wrong = Transaction {
        chain_id: 1,
        nonce: 1,
        ..tx.tx.clone()
    }
    .sign(&chain.faucet());
    let err = client.submit(&wrong).await.unwrap_err();
    assert_eq!(err.code(), Some("wrong_chain"));
    assert_eq!(err.status(), Some(400));

    let err = client.subnet(42).await.unwrap_err();
    assert_eq!(
        (err.code(), err.status()),
        (Some("unknown_subnet"), Some(404))
    );
    let err = client.hotkey(&key("ghost").account()).await.unwrap_err();
    assert_eq!(err.code(), Some("unknown_hotkey"));
    let err = client.block(99).await.unwrap_err();
    assert_eq!(err.code(), Some("unknown_block"));
}

#[tokio::test]
async fn an_unreachable_node_says_so_and_suggests_checking_it_runs() {
    // Bind then release a port, so nothing listens there.
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let client = Client::new(&format!("http://{addr}")).unwrap();
    let err = client.status().await.unwrap_err();
    assert!(matches!(err, ClientError::Unreachable { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(err.hint().unwrap().contains("running"));
}

#[tokio::test]
async fn a_server_that_is_not_a_plexus_node_is_an_unexpected_response() {
    let router = axum::Router::new().route("/v1/status", axum::routing::get(|| async { "hello" }));
    let server = Server::start_router(router).await;
    let client = server.client();
    let err = client.status().await.unwrap_err();
    assert!(
        matches!(err, ClientError::UnexpectedResponse { .. }),
        "{err:?}"
    );
    let err = client.supply().await.unwrap_err();
    assert!(
        matches!(err, ClientError::UnexpectedResponse { .. }),
        "{err:?}"
    );
}
