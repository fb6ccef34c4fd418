//! A node that serves real proofs with one thing altered: each alteration must be
//! caught as `ProofInvalid`.

use axum::{Json, Router, extract::Path, routing::get};
use plexus_api::{
    Backend as _,
    wire::{Header, Proof, ProofResponse},
};
use plexus_client::ClientError;
use plexus_ledger::account_key;
use plexus_types::{AccountId, BlockHeader, Hash};

use crate::{
    node::Server,
    support::{TestChain, key},
};

#[derive(Clone, Copy)]
enum Lie {
    Value,
    Root,
    HeaderRoot,
    Key,
    Height,
}

fn lying_router(chain: TestChain, lie: Lie) -> Router {
    get_router(move |address: String| {
        let store = chain.store();
        let who = AccountId::parse(&address).unwrap();
        let mut proof = store.prove(&account_key(&who), None).unwrap();
        let mut header = store.header(proof.height).unwrap().unwrap();
        match lie {
            Lie::Value => proof.value = Some(vec![0xff; 16]),
            Lie::Root => proof.root = Hash([1; 32]),
            Lie::HeaderRoot => {
                header.state_root = Hash([2; 32]);
                proof.root = header.state_root;
            }
            Lie::Key => proof.key = account_key(&key("someone else").account()),
            Lie::Height => header.height += 1,
        }
        ProofResponse {
            proof: Proof::from(&proof),
            header: Header::from(&header),
        }
    })
}

fn get_router(f: impl Fn(String) -> ProofResponse + Clone + Send + Sync + 'static) -> Router {
    Router::new().route(
        "/v1/proofs/account/{address}",
        get(move |Path(address): Path<String>| {
            let f = f.clone();
            async move { Json(f(address)) }
        }),
    )
}

#[tokio::test]
async fn every_kind_of_altered_proof_is_refused() {
    let chain = TestChain::new();
    chain.produce_block();
    let faucet = chain.faucet().account();
    for lie in [
        Lie::Value,
        Lie::Root,
        Lie::HeaderRoot,
        Lie::Key,
        Lie::Height,
    ] {
        let server = Server::start_router(lying_router(chain.clone(), lie)).await;
        let err = server.client().verified_account(&faucet).await.unwrap_err();
        assert!(matches!(err, ClientError::ProofInvalid(_)), "{err:?}");
        assert!(err.hint().unwrap().contains("another node"));
    }
}

#[tokio::test]
async fn a_node_serving_another_header_than_the_trusted_one_is_refused() {
    let chain = TestChain::new();
    chain.produce_blocks(2);
    let store = chain.store();
    // An honest proof at height 2 is still refused for a trusted header at height 1
    // whose digest differs, because the node must serve exactly the trusted header.
    let honest = lying_router_honest_at(chain.clone(), 2);
    let server = Server::start_router(honest).await;
    let trusted: BlockHeader = store.header(1).unwrap().unwrap();
    let err = server
        .client()
        .verified_account_at(&chain.faucet().account(), &trusted)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClientError::ProofInvalid(ref m) if m.contains("trusted")),
        "{err:?}"
    );
}

fn lying_router_honest_at(chain: TestChain, height: u64) -> Router {
    get_router(move |address: String| {
        let store = chain.store();
        let who = AccountId::parse(&address).unwrap();
        let proof = store.prove(&account_key(&who), Some(height)).unwrap();
        let header = store.header(height).unwrap().unwrap();
        ProofResponse {
            proof: Proof::from(&proof),
            header: Header::from(&header),
        }
    })
}
