//! A dishonest credit issuer meets a bond it cannot withdraw, a key schedule it cannot
//! bend, and buyers who get their deposits back.

use std::sync::OnceLock;

use plexus_ledger::{TxError, query};
use plexus_privacy::{
    oblivious::{GatewayKey, encode_key_list},
    token::{IssuerKey, TokenChallenge, begin_issuance},
};
use plexus_types::{AccountId, Keypair, Netuid, PLX, Payload, credits::IssuerKeySpec};

use crate::support::{Chain, fast_hp, key};

/// RSA key generation is slow: share the keys across tests.
fn rsa(i: usize) -> &'static IssuerKey {
    static KEYS: OnceLock<Vec<IssuerKey>> = OnceLock::new();
    &KEYS.get_or_init(|| (0..4).map(|_| IssuerKey::generate().unwrap()).collect())[i]
}

fn register(netuid: Netuid, keys: Vec<IssuerKeySpec>) -> Payload {
    let config = GatewayKey::derive(1, &[7u8; 32])
        .unwrap()
        .public_config()
        .unwrap();
    Payload::RegisterIssuer {
        netuid,
        url: "http://127.0.0.1:9100".into(),
        ohttp_keys: encode_key_list(&[config]).unwrap(),
        keys,
    }
}

fn spec(i: usize, key_epoch: u32) -> IssuerKeySpec {
    IssuerKeySpec {
        denomination: 1,
        key_epoch,
        spki: rsa(i).public().spki().to_vec(),
    }
}

/// `n` tokens signed by key `i` of `issuer`, for `provider`.
fn tokens(i: usize, issuer: &AccountId, provider: &AccountId, n: usize) -> Vec<Vec<u8>> {
    let challenge = TokenChallenge::for_origin(&issuer.to_string(), &provider.to_string());
    (0..n)
        .map(|_| {
            let (request, pending) = begin_issuance(rsa(i).public(), &challenge).unwrap();
            let response = rsa(i).issue(&request.encode()).unwrap();
            pending.finalize(&response.encode()).unwrap().encode()
        })
        .collect()
}

fn buy(issuer: &Keypair, key_epoch: u32, credits: u32) -> Payload {
    Payload::BuyCredits {
        issuer: issuer.account(),
        denomination: 1,
        key_epoch,
        credits,
    }
}

struct World {
    chain: Chain,
    netuid: Netuid,
    issuer: Keypair,
    issuer_cold: Keypair,
    /// The issuer's own provider hotkey, owned by the issuer's coldkey.
    own_provider: Keypair,
    provider: Keypair,
    alice: Keypair,
    bob: Keypair,
}

fn world() -> World {
    let mut chain = Chain::new();
    let (owner, issuer_cold, provider_cold, alice, bob) = (
        key("owner"),
        key("icold"),
        key("pcold"),
        key("alice"),
        key("bob"),
    );
    for k in [&owner, &issuer_cold, &provider_cold, &alice, &bob] {
        chain.fund(&k.account(), 1_000 * PLX);
    }
    let netuid = chain.create_subnet(&owner, fast_hp());
    let (issuer, own_provider, provider) = (key("issuer"), key("evil"), key("provider"));
    chain
        .register(&issuer_cold, netuid, &issuer.account())
        .unwrap();
    chain
        .register(&issuer_cold, netuid, &own_provider.account())
        .unwrap();
    chain
        .register(&provider_cold, netuid, &provider.account())
        .unwrap();
    chain
        .add_stake(&issuer_cold, &issuer.account(), 20 * PLX)
        .unwrap();
    chain.next_epoch(netuid);
    World {
        chain,
        netuid,
        issuer,
        issuer_cold,
        own_provider,
        provider,
        alice,
        bob,
    }
}

#[test]
fn a_dishonest_issuer_that_unstakes_and_over_issues_to_its_own_provider_leaves_honest_buyers_whole()
{
    let World {
        mut chain,
        netuid,
        issuer,
        issuer_cold,
        own_provider,
        provider,
        alice,
        bob,
    } = world();
    chain
        .submit(&issuer, register(netuid, vec![spec(0, 0)]))
        .unwrap();
    let price = query::chain(&chain.store).unwrap().params.credit_price;
    chain.submit(&alice, buy(&issuer, 0, 100)).unwrap();
    chain.submit(&bob, buy(&issuer, 0, 100)).unwrap();
    // Alice spends 40 credits at an honest provider, which settles them.
    let alices = tokens(0, &issuer.account(), &provider.account(), 100);
    let settle = |tokens: &[Vec<u8>]| Payload::SettleCredits {
        netuid,
        tokens: tokens.to_vec(),
    };
    chain.submit(&provider, settle(&alices[..40])).unwrap();

    // The issuer tries to take its stake back: the bond stays.
    let stake = chain.stake(&issuer.account(), &issuer_cold.account());
    let unstake = chain.submit(
        &issuer_cold,
        Payload::RemoveStake {
            hotkey: issuer.account(),
            amount: stake,
        },
    );
    assert!(
        matches!(unstake, Err(TxError::StakeBonded { .. })),
        "the issuer withdrew its bond: {:?}", unstake.as_ref().err()
    );

    // It signs unbacked tokens for its own provider and settles them: they drain the
    // key's escrow, nothing more.
    let fakes = tokens(0, &issuer.account(), &own_provider.account(), 200);
    for chunk in fakes.chunks(100) {
        let _ = chain.submit(&own_provider, settle(chunk));
    }
    // The honest provider's tokens still settle.
    chain.submit(&provider, settle(&alices[40..])).unwrap();
    let _ = price;
}

#[test]
fn an_issuer_cannot_publish_a_key_per_victim_ahead_of_the_chain_key_schedule() {
    let World {
        mut chain,
        netuid,
        issuer,
        ..
    } = world();
    // Keys for epochs the chain has not reached, one to hand each victim.
    let early = chain.submit(
        &issuer,
        register(netuid, vec![spec(0, 0), spec(1, 5), spec(2, 6), spec(3, 7)]),
    );
    assert!(
        matches!(early, Err(TxError::IssuerKeyOffSchedule { .. })),
        "the issuer published key epochs 5 to 7 ahead of the chain's schedule: {:?}", early.as_ref().err()
    );
}
