use plexus_types::Hash;

use crate::{node::Server, support::TestChain};

#[tokio::test]
async fn every_read_decodes_into_its_wire_type() {
    let chain = TestChain::new();
    let setup = chain.setup_subnet();
    let server = Server::start(chain.state()).await;
    let client = server.client();
    let owner = setup.owner.account();
    let hotkey = setup.hotkey.account();

    assert_eq!(client.account(&owner).await.unwrap().address, owner);
    assert_eq!(client.stakes(&owner).await.unwrap().total, setup.stake);
    assert_eq!(
        client.owned_hotkeys(&owner).await.unwrap().hotkeys,
        vec![hotkey]
    );
    assert_eq!(client.hotkey(&hotkey).await.unwrap().owner, owner);
    assert_eq!(client.subnets().await.unwrap().subnets.len(), 1);
    assert_eq!(client.subnet(1).await.unwrap().subnet.name, "inference");
    let graph = client.metagraph(1).await.unwrap();
    assert_eq!(graph.neurons[0].hotkey, hotkey);
    assert_eq!(
        graph.neurons[0].endpoint.as_ref().map(|e| e.url.as_str()),
        Some("http://127.0.0.1:8090")
    );
    assert_eq!(client.weights(1, 0).await.unwrap().uid, 0);
    assert_eq!(client.supply().await.unwrap().total_stake, setup.stake);
    assert_eq!(client.chain().await.unwrap().chain_id, chain.chain_id());
    let status = client.status().await.unwrap();
    assert_eq!(status.tip.unwrap().height, 2);
    assert_eq!(status.node.finalized_height, 2);

    let latest = client.latest_block().await.unwrap();
    assert_eq!(latest.height, 2);
    assert_eq!(client.block(2).await.unwrap(), latest);
    assert_eq!(
        client.block_by_digest(&latest.digest).await.unwrap(),
        latest
    );
    let page = client.blocks(Some(0), Some(2)).await.unwrap();
    assert_eq!(page.blocks.len(), 2);
    assert_eq!(page.next, Some(2));
    assert_eq!(client.blocks(None, None).await.unwrap().blocks.len(), 3);

    assert!(
        client
            .account_proof(&owner, Some(1))
            .await
            .unwrap()
            .proof
            .value
            .is_some()
    );
    assert!(
        client
            .stake_proof(&hotkey, &owner, None)
            .await
            .unwrap()
            .proof
            .value
            .is_some()
    );
    assert!(
        client
            .registration_proof(1, &hotkey, None)
            .await
            .unwrap()
            .proof
            .value
            .is_some()
    );

    let metrics = client.metrics().await.unwrap();
    assert!(metrics.ends_with("# EOF\n"));
    assert!(metrics.contains("plexus_api_requests_total"));
    let doc = client.openapi().await.unwrap();
    assert!(doc["paths"]["/v1/accounts/{address}"]["get"].is_object());

    let err = client.transaction(&Hash([3; 32])).await.unwrap_err();
    assert_eq!(err.code(), Some("unknown_transaction"));
}

#[tokio::test]
async fn a_client_under_a_path_prefix_reaches_the_routes_below_it() {
    let chain = TestChain::new();
    let router = axum::Router::new().nest("/node", plexus_api::router(chain.state()));
    let server = Server::start_router(router).await;
    let client = plexus_client::Client::new(&format!("http://{}/node/", server.addr)).unwrap();
    assert_eq!(client.status().await.unwrap().tip.unwrap().height, 0);
}
