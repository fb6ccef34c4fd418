use plexus_client::AccountState;
use plexus_ledger::genesis::DEV_FAUCET_BALANCE;
use plexus_storage::verify_proof;
use plexus_types::{BlockHeader, PLX};

use crate::{
    node::Server,
    support::{TestChain, key},
};

#[tokio::test]
async fn verified_account_stake_and_registration_reads_match_the_plain_reads() {
    let chain = TestChain::new();
    let setup = chain.setup_subnet();
    let server = Server::start(chain.state()).await;
    let client = server.client();
    let owner = setup.owner.account();
    let hotkey = setup.hotkey.account();

    let verified = client.verified_account(&owner).await.unwrap();
    let plain = client.account(&owner).await.unwrap();
    assert_eq!(
        verified.value,
        AccountState {
            balance: plain.balance,
            nonce: plain.nonce
        }
    );
    assert!(verified.value.balance < DEV_FAUCET_BALANCE);
    assert_eq!(verified.header.height, plain.height);
    verify_proof(&verified.header.state_root, &verified.proof).unwrap();

    let stake = client.verified_stake(&hotkey, &owner).await.unwrap();
    assert_eq!(stake.value, setup.stake);
    let none = client
        .verified_stake(&hotkey, &key("nobody").account())
        .await
        .unwrap();
    assert_eq!(none.value, 0);
    assert_eq!(none.proof.value, None, "an exclusion proof");

    let uid = client
        .verified_registration(setup.netuid, &hotkey)
        .await
        .unwrap();
    assert_eq!(uid.value, Some(0));
    let absent = client.verified_registration(9, &hotkey).await.unwrap();
    assert_eq!(absent.value, None);
}

#[tokio::test]
async fn an_unknown_account_is_proven_empty() {
    let chain = TestChain::new();
    let server = Server::start(chain.state()).await;
    let verified = server
        .client()
        .verified_account(&key("ghost").account())
        .await
        .unwrap();
    assert_eq!(
        verified.value,
        AccountState {
            balance: 0,
            nonce: 0
        }
    );
    assert_eq!(verified.proof.value, None);
}

#[tokio::test]
async fn a_read_against_a_trusted_header_uses_that_height() {
    let chain = TestChain::new();
    let server = Server::start(chain.state()).await;
    let client = server.client();
    let bob = key("bob").account();
    let tx = chain.transfer(&chain.faucet(), bob, PLX);
    client.submit(&tx).await.unwrap();
    chain.produce_block();
    let trusted_view = client.block(1).await.unwrap();
    let trusted = BlockHeader::try_from(&trusted_view.header).unwrap();
    let tx = chain.transfer(&chain.faucet(), bob, PLX);
    client.submit(&tx).await.unwrap();
    chain.produce_block();

    let at_one = client.verified_account_at(&bob, &trusted).await.unwrap();
    assert_eq!(at_one.value.balance, PLX);
    assert_eq!(at_one.header, trusted);
    let latest = client.verified_account(&bob).await.unwrap();
    assert_eq!(latest.value.balance, 2 * PLX);
    assert_eq!(latest.header.height, 2);
}
