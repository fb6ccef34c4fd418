use std::sync::OnceLock;

use plexus_ledger::{Event, TxError, query};
use plexus_privacy::{
    oblivious::{GatewayKey, encode_key_list},
    token::{IssuerKey, TokenChallenge, begin_issuance},
};
use plexus_types::{AccountId, Keypair, Netuid, PLX, Payload, credits::IssuerKeySpec};

use crate::support::{Chain, fast_hp, key};

/// RSA key generation is slow: share the keys across tests.
fn rsa(i: usize) -> &'static IssuerKey {
    static KEYS: OnceLock<Vec<IssuerKey>> = OnceLock::new();
    &KEYS.get_or_init(|| (0..2).map(|_| IssuerKey::generate().unwrap()).collect())[i]
}

fn ohttp_keys() -> Vec<u8> {
    let config = GatewayKey::derive(1, &[7u8; 32])
        .unwrap()
        .public_config()
        .unwrap();
    encode_key_list(&[config]).unwrap()
}

fn register(netuid: Netuid, keys: Vec<IssuerKeySpec>) -> Payload {
    Payload::RegisterIssuer {
        netuid,
        url: "http://127.0.0.1:9100".into(),
        ohttp_keys: ohttp_keys(),
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

struct Setup {
    chain: Chain,
    netuid: Netuid,
    buyer: Keypair,
    issuer: Keypair,
    issuer_cold: Keypair,
    provider: Keypair,
    provider_cold: Keypair,
    other_provider: Keypair,
}

fn setup() -> Setup {
    let mut chain = Chain::new();
    let (owner, issuer_cold, provider_cold, buyer) =
        (key("owner"), key("icold"), key("pcold"), key("buyer"));
    for k in [&owner, &issuer_cold, &provider_cold, &buyer] {
        chain.fund(&k.account(), 1_000 * PLX);
    }
    let netuid = chain.create_subnet(&owner, fast_hp());
    let (issuer, provider, other_provider) = (key("issuer"), key("provider"), key("provider2"));
    chain
        .register(&issuer_cold, netuid, &issuer.account())
        .unwrap();
    chain
        .register(&provider_cold, netuid, &provider.account())
        .unwrap();
    chain
        .register(&provider_cold, netuid, &other_provider.account())
        .unwrap();
    chain
        .add_stake(&issuer_cold, &issuer.account(), 10 * PLX)
        .unwrap();
    Setup {
        chain,
        netuid,
        buyer,
        issuer,
        issuer_cold,
        provider,
        provider_cold,
        other_provider,
    }
}

#[test]
fn only_a_validator_registers_issuer_keys_and_a_key_never_changes() {
    let Setup {
        mut chain,
        netuid,
        issuer,
        provider,
        ..
    } = setup();
    // No permit before the first epoch, and a miner never gets one.
    assert_eq!(
        chain.submit(&issuer, register(netuid, vec![spec(0, 0)])),
        Err(TxError::NoValidatorPermit { netuid })
    );
    chain.next_epoch(netuid);
    chain
        .submit(&issuer, register(netuid, vec![spec(0, 0)]))
        .unwrap();
    assert_eq!(
        chain.submit(&provider, register(netuid, vec![spec(1, 0)])),
        Err(TxError::NoValidatorPermit { netuid })
    );
    // Publishing the same key again changes nothing; another key for the same
    // (denomination, key epoch) is refused; a new epoch is fine.
    chain
        .submit(&issuer, register(netuid, vec![spec(0, 0)]))
        .unwrap();
    assert_eq!(
        chain.submit(&issuer, register(netuid, vec![spec(1, 0)])),
        Err(TxError::IssuerKeyTaken {
            denomination: 1,
            key_epoch: 0
        })
    );
    chain
        .submit(&issuer, register(netuid, vec![spec(1, 1)]))
        .unwrap();
    let view = query::issuer(&chain.store, &issuer.account())
        .unwrap()
        .unwrap();
    assert_eq!(view.keys.len(), 2);
    assert_eq!(view.keys[0].spki, rsa(0).public().spki());
    assert_eq!(view.keys[0].key_id.0, rsa(0).public().key_id());
    assert_eq!(view.issuer.ohttp_keys, ohttp_keys());
    // Malformed registrations are refused before any state is read.
    let bad_spki = IssuerKeySpec {
        spki: vec![0x30; 40],
        ..spec(0, 5)
    };
    assert!(matches!(
        chain.submit(&issuer, register(netuid, vec![bad_spki])),
        Err(TxError::InvalidIssuer(_))
    ));
    let no_ohttp = Payload::RegisterIssuer {
        netuid,
        url: "http://127.0.0.1:9100".into(),
        ohttp_keys: vec![1, 2, 3],
        keys: vec![],
    };
    assert!(matches!(
        chain.submit(&issuer, no_ohttp),
        Err(TxError::InvalidIssuer(_))
    ));
}

#[test]
fn a_purchase_escrows_the_bundle_and_each_token_is_paid_once_to_its_provider() {
    let Setup {
        mut chain,
        netuid,
        buyer,
        issuer,
        provider,
        provider_cold,
        other_provider,
        ..
    } = setup();
    chain.next_epoch(netuid);
    chain
        .submit(&issuer, register(netuid, vec![spec(0, 0)]))
        .unwrap();
    let price = query::chain(&chain.store).unwrap().params.credit_price;
    let buy = |credits, key_epoch| Payload::BuyCredits {
        issuer: issuer.account(),
        denomination: 1,
        key_epoch,
        credits,
    };
    assert!(matches!(
        chain.submit(&buyer, buy(11, 0)),
        Err(TxError::InvalidBundle { .. })
    ));
    assert!(matches!(
        chain.submit(&buyer, buy(10, 9)),
        Err(TxError::UnknownIssuerKey { key_epoch: 9, .. })
    ));
    let before = chain.balance(&buyer.account());
    chain.submit(&buyer, buy(100, 0)).unwrap();
    assert_eq!(
        chain.balance(&buyer.account()),
        before - 100 * price - chain.min_fee()
    );
    let deposit = query::deposit(&chain.store, 0).unwrap().unwrap();
    assert_eq!(
        (deposit.buyer, deposit.credits, deposit.tokens),
        (buyer.account(), 100, 100)
    );
    assert_eq!(deposit.amount, 100 * price);
    assert_eq!(
        query::supply(&chain.store).unwrap().credit_escrow,
        100 * price
    );

    let mine = tokens(0, &issuer.account(), &provider.account(), 3);
    let settle = |tokens: Vec<Vec<u8>>| Payload::SettleCredits { netuid, tokens };
    let paid_before = chain.balance(&provider_cold.account());
    chain.submit(&provider, settle(mine[..2].to_vec())).unwrap();
    assert_eq!(
        chain.balance(&provider_cold.account()),
        paid_before + 2 * price
    );
    assert_eq!(
        query::supply(&chain.store).unwrap().credit_escrow,
        98 * price
    );
    let nonce: [u8; 32] = mine[0][2..34].try_into().unwrap();
    let settled = query::settled_nonce(&chain.store, &nonce).unwrap().unwrap();
    assert_eq!(settled.provider, provider.account());

    // Settling a token again, or twice in one settlement, is refused.
    assert!(matches!(
        chain.submit(&provider, settle(vec![mine[2].clone(), mine[0].clone()])),
        Err(TxError::TokenAlreadySettled { index: 1, .. })
    ));
    assert!(matches!(
        chain.submit(&provider, settle(vec![mine[2].clone(), mine[2].clone()])),
        Err(TxError::TokenAlreadySettled { index: 1, .. })
    ));
    // A token bound to one provider cannot be settled by another.
    assert!(matches!(
        chain.submit(&other_provider, settle(vec![mine[2].clone()])),
        Err(TxError::InvalidToken { index: 0, reason }) if reason.contains("not for this provider")
    ));
    // A tampered token and a token of an unregistered key are refused.
    let mut tampered = mine[2].clone();
    *tampered.last_mut().unwrap() ^= 1;
    assert!(matches!(
        chain.submit(&provider, settle(vec![tampered])),
        Err(TxError::InvalidToken {
            reason: "bad issuer signature",
            ..
        })
    ));
    let foreign = tokens(1, &issuer.account(), &provider.account(), 1);
    assert!(matches!(
        chain.submit(&provider, settle(foreign)),
        Err(TxError::InvalidToken {
            reason: "unknown issuer key",
            ..
        })
    ));
    assert_eq!(
        chain.submit(&provider, settle(vec![])),
        Err(TxError::NoTokens)
    );
    // The untouched token still settles.
    chain
        .submit(&provider, settle(vec![mine[2].clone()]))
        .unwrap();
    let key = &query::issuer(&chain.store, &issuer.account())
        .unwrap()
        .unwrap()
        .keys[0];
    assert_eq!(
        (key.deposited, key.settled, key.tokens_settled),
        (100 * price, 3 * price, 3)
    );
}

/// Before issue 15 the gap was paid to the provider out of the issuer's stake, which
/// let an issuer drain its own bond to its own provider: now the surplus tokens are
/// recorded unpaid and the bond refills the escrow for the buyers' refunds.
#[test]
fn an_issuer_that_signs_more_than_was_deposited_refills_the_escrow_from_its_bond() {
    let Setup {
        mut chain,
        netuid,
        buyer,
        issuer,
        issuer_cold,
        provider,
        provider_cold,
        ..
    } = setup();
    chain.next_epoch(netuid);
    chain
        .submit(&issuer, register(netuid, vec![spec(0, 0)]))
        .unwrap();
    let price = query::chain(&chain.store).unwrap().params.credit_price;
    chain
        .submit(
            &buyer,
            Payload::BuyCredits {
                issuer: issuer.account(),
                denomination: 1,
                key_epoch: 0,
                credits: 10,
            },
        )
        .unwrap();
    let paid_before = chain.balance(&provider_cold.account());
    let stake_before = chain.stake(&issuer.account(), &issuer_cold.account());
    let over = tokens(0, &issuer.account(), &provider.account(), 12);
    let out = chain
        .submit(
            &provider,
            Payload::SettleCredits {
                netuid,
                tokens: over,
            },
        )
        .unwrap();
    assert_eq!(
        chain.balance(&provider_cold.account()),
        paid_before + 10 * price
    );
    assert!(out.events.contains(&Event::CreditsSettled {
        provider: provider.account(),
        tokens: 12,
        paid: 10 * price,
        slashed: 10 * price,
        unpaid: 2,
    }));
    assert_eq!(
        chain.stake(&issuer.account(), &issuer_cold.account()),
        stake_before - 10 * price
    );
    let key = &query::issuer(&chain.store, &issuer.account())
        .unwrap()
        .unwrap()
        .keys[0];
    assert_eq!(
        (key.deposited, key.settled, key.slashed, key.escrow()),
        (10 * price, 10 * price, 10 * price, 10 * price)
    );
    assert_eq!(
        query::supply(&chain.store).unwrap().credit_escrow,
        10 * price
    );
    // The buyer takes its deposit back.
    chain
        .submit(&buyer, Payload::RefundCredits { deposit: 0 })
        .unwrap();
    assert_eq!(query::supply(&chain.store).unwrap().credit_escrow, 0);
}
