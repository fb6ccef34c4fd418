//! A dishonest credit issuer meets a bond it cannot withdraw, a key schedule it cannot
//! bend, and buyers who get their deposits back.

use std::sync::OnceLock;

use plexus_ledger::{Event, Genesis, TxError, query};
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

/// Key epochs of 100 blocks, settled up to 10 blocks after; a 5 PLX least bond.
const PERIOD: u64 = 100;
const WINDOW: u64 = 10;

fn world() -> World {
    world_with(|_| {})
}

fn world_with(edit: impl FnOnce(&mut Genesis)) -> World {
    let mut genesis = Genesis::development(key("validator").account());
    genesis.params.issuer_key_period = PERIOD;
    genesis.params.credit_settle_window = WINDOW;
    genesis.params.issuer_bond = 5 * PLX;
    edit(&mut genesis);
    let mut chain = Chain::with_genesis(genesis);
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
        "the issuer withdrew its bond: {:?}",
        unstake.as_ref().err()
    );

    // Only what is above the bond comes out.
    let bonded = query::credits_bond(&chain.store, &issuer.account(), chain.height + 1).unwrap();
    assert_eq!(bonded, 5 * PLX, "the least bond covers 0.2 PLX of deposits");
    chain
        .submit(
            &issuer_cold,
            Payload::RemoveStake {
                hotkey: issuer.account(),
                amount: stake - bonded,
            },
        )
        .unwrap();

    // It signs unbacked tokens for its own provider and settles them: the first 160
    // drain what is left of the key's escrow, the rest are recorded unpaid and prove
    // the over-issuance.
    let fakes = tokens(0, &issuer.account(), &own_provider.account(), 200);
    let evil_cold = issuer_cold.account();
    let before = chain.balance(&evil_cold);
    let stake_before = chain.stake(&issuer.account(), &issuer_cold.account());
    for chunk in fakes.chunks(100) {
        chain.submit(&own_provider, settle(chunk)).unwrap();
    }
    assert_eq!(chain.balance(&evil_cold), before + 160 * price);
    let key = &query::issuer(&chain.store, &issuer.account())
        .unwrap()
        .unwrap()
        .keys[0];
    assert!(key.over_issued);
    assert_eq!(key.unpaid_tokens, 40);
    // The bond paid back into the escrow all the key ever paid out: 200 credits.
    assert_eq!(key.slashed, 200 * price);
    assert_eq!(key.escrow(), 200 * price);
    // (Its validator dividends keep adding stake, hence at most.)
    assert!(
        chain.stake(&issuer.account(), &issuer_cold.account())
            <= stake_before + 2 * PLX - 200 * price
    );

    // The issuer sells no more credits, on any key.
    assert!(matches!(
        chain.submit(&alice, buy(&issuer, 0, 10)),
        Err(TxError::IssuerNotSelling { .. })
    ));
    // Alice's unspent tokens are worth nothing now, and both buyers take back their
    // whole deposits: the dishonest issuer's bond pays the difference.
    let out = chain.submit(&provider, settle(&alices[40..])).unwrap();
    assert!(out.events.iter().any(|e| matches!(
        e,
        Event::CreditsSettled {
            paid: 0,
            unpaid: 60,
            ..
        }
    )));
    for (buyer, deposit) in [(&alice, 0), (&bob, 1)] {
        let before = chain.balance(&buyer.account());
        chain
            .submit(buyer, Payload::RefundCredits { deposit })
            .unwrap();
        assert_eq!(
            chain.balance(&buyer.account()),
            before + 100 * price - chain.min_fee()
        );
        // Once only, and only by its buyer.
        assert!(matches!(
            chain.submit(buyer, Payload::RefundCredits { deposit }),
            Err(TxError::NotRefundable { .. })
        ));
    }
    // The issuer ends 200 credits poorer than it started, net of what it took.
    let key = &query::issuer(&chain.store, &issuer.account())
        .unwrap()
        .unwrap()
        .keys[0];
    assert_eq!(key.escrow(), 0);
    assert_eq!(query::supply(&chain.store).unwrap().credit_escrow, 0);
}

#[test]
fn an_offline_issuers_buyers_take_their_deposits_back_when_the_key_closes() {
    let World {
        mut chain,
        netuid,
        issuer,
        issuer_cold,
        provider,
        alice,
        bob,
        ..
    } = world();
    chain
        .submit(&issuer, register(netuid, vec![spec(0, 0)]))
        .unwrap();
    let price = query::chain(&chain.store).unwrap().params.credit_price;
    chain.submit(&alice, buy(&issuer, 0, 100)).unwrap();
    chain.submit(&bob, buy(&issuer, 0, 10)).unwrap();
    // Alice was served and spent 50; Bob was never served (the issuer went away).
    let alices = tokens(0, &issuer.account(), &provider.account(), 50);
    let settle = Payload::SettleCredits {
        netuid,
        tokens: alices,
    };
    chain.submit(&provider, settle).unwrap();
    // Nothing comes back while the key's tokens may still be settled.
    let closes = PERIOD + WINDOW;
    assert!(matches!(
        chain.submit(&bob, Payload::RefundCredits { deposit: 1 }),
        Err(TxError::RefundNotOpen { from_block, .. }) if from_block == closes
    ));
    // Nor does the bond.
    assert!(matches!(
        chain.submit(
            &issuer_cold,
            Payload::RemoveStake {
                hotkey: issuer.account(),
                amount: chain.stake(&issuer.account(), &issuer_cold.account()),
            },
        ),
        Err(TxError::StakeBonded { .. })
    ));
    chain.advance(closes - chain.height);
    // Each deposit takes its share of what is left: 60 of 110 credits.
    for (buyer, deposit, share) in [(&bob, 1, 10 * 60 / 110), (&alice, 0, 100 * 60 / 110)] {
        let before = chain.balance(&buyer.account());
        chain
            .submit(buyer, Payload::RefundCredits { deposit })
            .unwrap();
        let got = chain.balance(&buyer.account()) + chain.min_fee() - before;
        assert_eq!(got / price, share);
    }
    // The key closed, so the bond is free.
    let stake = chain.stake(&issuer.account(), &issuer_cold.account());
    chain
        .submit(
            &issuer_cold,
            Payload::RemoveStake {
                hotkey: issuer.account(),
                amount: stake,
            },
        )
        .unwrap();
}

#[test]
fn a_purchase_needs_a_bond_that_covers_every_open_deposit() {
    let World {
        mut chain,
        netuid,
        issuer,
        alice,
        ..
    } = world_with(|g| g.params.block_emission = 0);
    chain
        .submit(&issuer, register(netuid, vec![spec(0, 0)]))
        .unwrap();
    // 20 PLX staked (no emission adds to it): 1000-credit bundles (1 PLX each) sell
    // while the bond covers every deposit, then stop.
    let mut bought = 0u64;
    let refused = loop {
        match chain.submit(&alice, buy(&issuer, 0, 1000)) {
            Ok(_) => bought += 1,
            Err(e) => break e,
        }
        assert!(bought < 100, "the bond never ran out");
    };
    assert_eq!(bought, 20);
    match refused {
        TxError::IssuerBondTooSmall { have, need, .. } => {
            assert_eq!(need, (bought + 1) * PLX);
            assert!(have < need);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn an_issuer_cannot_publish_a_key_per_victim_ahead_of_the_chain_key_schedule() {
    let World {
        mut chain,
        netuid,
        issuer,
        alice,
        bob,
        ..
    } = world();
    // Keys for epochs the chain has not reached, one to hand each victim.
    let early = chain.submit(
        &issuer,
        register(netuid, vec![spec(0, 0), spec(1, 5), spec(2, 6), spec(3, 7)]),
    );
    assert!(
        matches!(early, Err(TxError::IssuerKeyOffSchedule { .. })),
        "the issuer published key epochs 5 to 7 ahead of the chain's schedule: {:?}",
        early.as_ref().err()
    );
    // The current key and the next one are fine; the next is not on sale yet.
    chain
        .submit(&issuer, register(netuid, vec![spec(0, 0), spec(1, 1)]))
        .unwrap();
    assert!(matches!(
        chain.submit(&alice, buy(&issuer, 1, 10)),
        Err(TxError::IssuerKeyNotCurrent {
            key_epoch: 1,
            current: 0
        })
    ));
    // One key per denomination and epoch: a second epoch-0 key is refused.
    assert!(matches!(
        chain.submit(&issuer, register(netuid, vec![spec(2, 0)])),
        Err(TxError::IssuerKeyTaken { .. })
    ));
    // Every buyer of the period shares the key, and the chain counts them.
    chain.submit(&alice, buy(&issuer, 0, 10)).unwrap();
    chain.submit(&alice, buy(&issuer, 0, 10)).unwrap();
    chain.submit(&bob, buy(&issuer, 0, 10)).unwrap();
    let view = query::issuer(&chain.store, &issuer.account())
        .unwrap()
        .unwrap();
    assert_eq!(view.keys[0].buyers, 2);
    // In the next period, epoch 0 is off sale and epoch 1 on.
    chain.advance(PERIOD - chain.height);
    assert!(matches!(
        chain.submit(&alice, buy(&issuer, 0, 10)),
        Err(TxError::IssuerKeyNotCurrent { .. })
    ));
    chain.submit(&alice, buy(&issuer, 1, 10)).unwrap();
}
