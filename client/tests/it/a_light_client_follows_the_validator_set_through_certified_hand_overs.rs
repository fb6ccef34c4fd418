//! A light client that trusts only the genesis set follows the validator set epoch
//! by epoch: each set is proven under the state root of the block that chose it, and
//! that block is certified by the set before. A node that hands over to a set of its
//! own, swaps the proofs of two epochs, or vouches for a late block with the genesis
//! keys (a long-range forgery) is caught.

use axum::{Json, Router, extract::Path, routing::get};
use plexus_api::wire::{FinalizationView, Header, Proof, ProofResponse};
use plexus_client::{ClientError, trust::TrustAnchor};
use plexus_ledger::{Genesis, validators};
use plexus_types::{AccountId, Keypair};

use crate::{
    node::Server,
    support::{TestChain, changing_set, key, staking_genesis},
};

const EPOCH: u64 = 4;

/// A chain of epochs of four blocks whose genesis set is `keys`.
fn genesis(keys: &[Keypair]) -> Genesis {
    staking_genesis(keys, EPOCH)
}

fn keys(label: &str) -> Vec<Keypair> {
    (0..3).map(|i| key(&format!("{label} {i}"))).collect()
}

fn changing_chain() -> (TestChain, Vec<Keypair>, Keypair) {
    changing_set(EPOCH)
}

fn anchor(chain: &TestChain) -> TrustAnchor {
    TrustAnchor::from_genesis(chain.genesis())
}

#[tokio::test]
async fn the_set_of_each_epoch_is_followed_from_the_genesis_and_certifies_the_tip() {
    let (chain, genesis_keys, newcomer) = changing_chain();
    let server = Server::start(chain.state()).await;
    let client = server.client();
    let anchor = anchor(&chain);
    let store = chain.store_handle();
    for epoch in 0..=3 {
        let followed = client.validator_set(&anchor, epoch).await.unwrap();
        let chosen = validators::set(store.as_ref(), epoch).unwrap().unwrap();
        assert_eq!(followed, chosen, "epoch {epoch}");
    }
    let set3 = client.validator_set(&anchor, 3).await.unwrap();
    assert!(set3.contains(&newcomer.account()));
    assert!(!set3.contains(&genesis_keys[0].account()));
    // The tip, in epoch 3, checks out under the followed set and not under the genesis set.
    let tip = client.certified_tip(&anchor).await.unwrap();
    assert!(tip.height >= 3 * EPOCH);
    let stale = client
        .certified_header(tip.height, anchor.chain_id, &anchor.validators)
        .await;
    assert!(
        matches!(stale, Err(ClientError::ProofInvalid(_))),
        "{stale:?}"
    );
}

#[tokio::test]
async fn a_node_that_hands_over_to_a_set_of_its_own_is_caught() {
    // Same chain id, same shape, but every set and certificate comes from keys the
    // client's genesis never named.
    let forgers = keys("forger");
    let forged = TestChain::certified(genesis(&forgers), forgers.clone());
    forged.produce_blocks(9);
    let server = Server::start(forged.state()).await;
    let client = server.client();
    let honest = anchor(&TestChain::certified(
        genesis(&keys("genesis validator")),
        Vec::new(),
    ));
    let err = client.validator_set(&honest, 2).await.unwrap_err();
    assert!(matches!(err, ClientError::ProofInvalid(_)), "{err}");
    let err = client.certified_tip(&honest).await.unwrap_err();
    assert!(matches!(err, ClientError::ProofInvalid(_)), "{err}");
}

/// A router that serves the real chain, with one route replaced.
fn lying(chain: &TestChain, lie: Router) -> Router {
    lie.fallback_service(plexus_api::router(chain.state()))
}

#[tokio::test]
async fn a_node_that_serves_another_epochs_hand_over_is_caught() {
    let (chain, _, _) = changing_chain();
    let store = chain.store_handle();
    let epoch1 = store
        .prove(&validators::keys::set_key(1), Some(EPOCH - 1))
        .unwrap();
    let header = store.header(EPOCH - 1).unwrap().unwrap();
    let swapped = ProofResponse {
        proof: Proof::from(&epoch1),
        header: Header::from(&header),
    };
    let router = Router::new().route(
        "/v1/proofs/validator-set/{epoch}",
        get(move |Path(_): Path<String>| {
            let swapped = swapped.clone();
            async move { Json(swapped) }
        }),
    );
    let server = Server::start_router(lying(&chain, router)).await;
    let err = server
        .client()
        .validator_set(&anchor(&chain), 2)
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::ProofInvalid(_)), "{err}");
}

#[tokio::test]
async fn a_late_block_vouched_for_by_the_genesis_keys_is_refused() {
    // The genesis validators have since unbonded: their keys could sign anything
    // without losing a bond. A certificate for a block of epoch 3 that names epoch 0
    // is their long-range forgery.
    let (chain, genesis_keys, _) = changing_chain();
    let tip = chain.store_handle().committed_height().unwrap();
    let header = chain.store_handle().header(tip).unwrap().unwrap();
    let mut set: Vec<AccountId> = genesis_keys.iter().map(|k| k.account()).collect();
    set.sort_unstable();
    let mut certificate = plexus_types::finality::FinalityCertificate {
        epoch: 0,
        view: 1_000,
        parent_view: 999,
        payload: header.digest(),
        signers: Vec::new(),
        signatures: Vec::new(),
    };
    let message = plexus_types::finality::finalize_message(chain.chain_id(), &certificate);
    for (i, member) in set.iter().enumerate() {
        let key = genesis_keys
            .iter()
            .find(|k| k.account() == *member)
            .unwrap();
        certificate.signers.push(i as u32);
        certificate.signatures.push(key.sign(&message));
    }
    let view = FinalizationView {
        height: tip,
        digest: header.digest(),
        certificate,
    };
    let router = Router::new().route(
        "/v1/blocks/{height}/finalization",
        get(move |Path(_): Path<String>| {
            let view = view.clone();
            async move { Json(view) }
        }),
    );
    let server = Server::start_router(lying(&chain, router)).await;
    let err = server
        .client()
        .certified_header_following(tip, &anchor(&chain))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::ProofInvalid(reason) if reason.contains("epoch")),
        "{err}"
    );
}
