use axum::http::StatusCode;
use plexus_api::wire::{Proof, ProofResponse};
use plexus_ledger::{MemStore, account_key, query, registration_key, stake_key};
use plexus_storage::{ProofError, StateProof, verify_proof};
use plexus_types::{BlockHeader, PLX};

use crate::support::{TestChain, code, get, key};

async fn fetch(state: &plexus_api::ApiState, path: &str) -> (StateProof, BlockHeader) {
    let (status, body) = get(state, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    let response: ProofResponse = serde_json::from_value(body).expect("a proof response");
    let proof = StateProof::try_from(&response.proof).expect("hex fields");
    let header = BlockHeader::try_from(&response.header).expect("hex fields");
    (proof, header)
}

/// A state holding only the proven entry, read back with the ledger's own decoders.
fn proven(proof: &StateProof) -> MemStore {
    let mut mem = MemStore::new();
    mem.commit(
        [(proof.key.clone(), proof.value.clone())]
            .into_iter()
            .collect(),
    );
    mem
}

#[tokio::test]
async fn an_account_proof_verifies_against_the_header_and_decodes_to_the_balance() {
    let chain = TestChain::new();
    let state = chain.state();
    let bob = key("bob");
    let tx = chain.transfer(&chain.faucet(), bob.account(), 3 * PLX);
    plexus_api::Backend::submit(&chain, tx).unwrap();
    chain.produce_block();

    let (proof, header) = fetch(&state, &format!("/v1/proofs/account/{}", bob.account())).await;
    assert_eq!(header.height, 1);
    assert_eq!(proof.height, 1);
    assert_eq!(proof.key, account_key(&bob.account()));
    verify_proof(&header.state_root, &proof).expect("inclusion proof verifies");
    let account = query::account(&proven(&proof), &bob.account()).unwrap();
    assert_eq!((account.balance, account.nonce), (3 * PLX, 0));

    // Tampering with the value breaks it.
    let mut forged = proof.clone();
    forged.value = Some(vec![0xff; 16]);
    assert!(matches!(
        verify_proof(&header.state_root, &forged),
        Err(ProofError::Invalid(_))
    ));
    // Another root does not match.
    assert!(matches!(
        verify_proof(&plexus_types::Hash([9; 32]), &proof),
        Err(ProofError::RootMismatch { .. })
    ));
}

#[tokio::test]
async fn an_unknown_account_gets_an_exclusion_proof_that_verifies() {
    let chain = TestChain::new();
    let state = chain.state();
    chain.produce_blocks(2);
    let ghost = key("ghost").account();
    let (proof, header) = fetch(&state, &format!("/v1/proofs/account/{ghost}")).await;
    assert_eq!(proof.value, None);
    assert_eq!(header.height, 2);
    verify_proof(&header.state_root, &proof).expect("exclusion proof verifies");
    let account = query::account(&proven(&proof), &ghost).unwrap();
    assert_eq!((account.balance, account.nonce), (0, 0));

    // Claiming a value where there is none fails.
    let mut forged = proof;
    forged.value = Some(vec![1; 16]);
    assert!(verify_proof(&header.state_root, &forged).is_err());
}

#[tokio::test]
async fn proofs_at_a_past_height_verify_against_that_height_header() {
    let chain = TestChain::new();
    let state = chain.state();
    let bob = key("bob");
    for _ in 0..2 {
        let tx = chain.transfer(&chain.faucet(), bob.account(), PLX);
        plexus_api::Backend::submit(&chain, tx).unwrap();
        chain.produce_block();
    }
    let (proof, header) = fetch(
        &state,
        &format!("/v1/proofs/account/{}?height=1", bob.account()),
    )
    .await;
    assert_eq!((proof.height, header.height), (1, 1));
    verify_proof(&header.state_root, &proof).expect("verifies at height 1");
    assert_eq!(
        query::account(&proven(&proof), &bob.account())
            .unwrap()
            .balance,
        PLX
    );
    let (genesis_proof, genesis) = fetch(
        &state,
        &format!("/v1/proofs/account/{}?height=0", bob.account()),
    )
    .await;
    assert_eq!(genesis_proof.value, None);
    verify_proof(&genesis.state_root, &genesis_proof).expect("verifies at genesis");

    let (status, body) = get(
        &state,
        &format!("/v1/proofs/account/{}?height=99", bob.account()),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "unknown_height")
    );
    let (status, body) = get(
        &state,
        &format!("/v1/proofs/account/{}?height=x", bob.account()),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_query")
    );
}

#[tokio::test]
async fn stake_and_registration_proofs_verify_and_decode() {
    let chain = TestChain::new();
    let state = chain.state();
    let setup = chain.setup_subnet();
    let (hot, cold) = (setup.hotkey.account(), setup.owner.account());

    let (proof, header) = fetch(&state, &format!("/v1/proofs/stake/{hot}/{cold}")).await;
    assert_eq!(proof.key, stake_key(&hot, &cold));
    verify_proof(&header.state_root, &proof).expect("stake proof verifies");
    let stake = plexus_ledger::staking::stake(&proven(&proof), &hot, &cold).unwrap();
    assert_eq!(stake, setup.stake);

    let (proof, header) = fetch(&state, &format!("/v1/proofs/registration/1/{hot}")).await;
    assert_eq!(proof.key, registration_key(1, &hot));
    verify_proof(&header.state_root, &proof).expect("registration proof verifies");
    assert_eq!(
        plexus_ledger::neurons::uid_of(&proven(&proof), 1, &hot).unwrap(),
        Some(0)
    );

    let (proof, header) = fetch(&state, &format!("/v1/proofs/registration/2/{hot}")).await;
    assert_eq!(proof.value, None, "not registered on subnet 2");
    verify_proof(&header.state_root, &proof).expect("exclusion verifies");

    let wire = Proof::from(&proof);
    assert_eq!(StateProof::try_from(&wire).unwrap(), proof);
    let (status, body) = get(&state, &format!("/v1/proofs/registration/x/{hot}")).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_netuid")
    );
}
