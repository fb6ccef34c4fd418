use std::time::Duration;

use plexus_client::wire::TxStatus;
use plexus_types::{PLX, Payload, Transaction};

use crate::{
    node::Server,
    support::{TestChain, key},
};

#[tokio::test]
async fn a_transfer_is_submitted_awaited_and_visible_in_the_balance() {
    let chain = TestChain::new();
    let server = Server::start(chain.state()).await;
    let client = server.client();
    let faucet = chain.faucet();
    let bob = key("bob").account();

    let nonce = client.next_nonce(&faucet.account()).await.unwrap();
    assert_eq!(nonce, 0);
    let chain_id = client.chain().await.unwrap().chain_id;
    let tx = Transaction {
        chain_id,
        sender: faucet.account(),
        nonce,
        fee: client.chain().await.unwrap().params.min_fee,
        payload: Payload::Transfer {
            to: bob,
            amount: 2 * PLX,
        },
    }
    .sign(&faucet);
    let hash = client.submit(&tx).await.unwrap();
    assert_eq!(hash, tx.hash());
    assert_eq!(
        client.transaction(&hash).await.unwrap().status,
        TxStatus::Pending
    );

    let producer = {
        let chain = chain.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            tokio::task::spawn_blocking(move || chain.produce_block())
                .await
                .unwrap()
        })
    };
    let finalized = client
        .wait_for_tx(&hash, Duration::from_secs(10))
        .await
        .unwrap();
    producer.await.unwrap();
    assert_eq!(finalized.status, TxStatus::Finalized);
    assert_eq!(finalized.height, Some(1));
    assert_eq!(finalized.transaction.as_ref(), Some(&tx));

    assert_eq!(client.account(&bob).await.unwrap().balance, 2 * PLX);
    assert_eq!(client.next_nonce(&faucet.account()).await.unwrap(), 1);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn waiting_for_a_transaction_that_never_lands_times_out_with_its_last_status() {
    let chain = TestChain::new();
    let server = Server::start(chain.state()).await;
    let client = server.client();
    let tx = chain.transfer(&chain.faucet(), key("bob").account(), 1);
    let hash = client.submit(&tx).await.unwrap();
    let err = client
        .wait_for_tx(&hash, Duration::from_millis(400))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            plexus_client::ClientError::TxTimeout {
                last_seen: "pending",
                ..
            }
        ),
        "{err}"
    );
    let unknown = plexus_types::Hash([7; 32]);
    let err = client
        .wait_for_tx(&unknown, Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        plexus_client::ClientError::TxTimeout {
            last_seen: "unknown",
            ..
        }
    ));
    assert!(err.hint().is_some());
}

#[tokio::test]
async fn a_transaction_sent_while_another_of_the_sender_waits_is_signed_again_at_the_next_nonce() {
    let chain = TestChain::new();
    let server = Server::start(chain.state()).await;
    let client = server.client();
    let faucet = chain.faucet();
    let bob = key("bob").account();
    // Another program of the same account (a service beside the command line) has a
    // transaction waiting at the nonce `send_tx` reads from the chain.
    let waiting = chain.transfer(&faucet, bob, 1);
    assert_eq!(waiting.tx.nonce, 0);
    client.submit(&waiting).await.unwrap();

    let producer = {
        let chain = chain.clone();
        tokio::spawn(async move {
            for _ in 0..2 {
                tokio::time::sleep(Duration::from_millis(400)).await;
                let chain = chain.clone();
                tokio::task::spawn_blocking(move || chain.produce_block())
                    .await
                    .unwrap();
            }
        })
    };
    let sent = client
        .send_tx(
            &faucet,
            Payload::Transfer { to: bob, amount: 2 },
            None,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    producer.await.unwrap();
    let landed = client.transaction(&sent.hash).await.unwrap();
    assert_eq!(landed.status, TxStatus::Finalized);
    assert_eq!(landed.transaction.unwrap().tx.nonce, 1);
    assert_eq!(client.account(&bob).await.unwrap().balance, 3);
    server.stop().await.unwrap();
}
