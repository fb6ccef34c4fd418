use plexus_ledger::{TxError, query};
use plexus_types::{PLX, Payload};

use crate::support::{Chain, fast_hp, key};

#[test]
fn hotkeys_belong_to_one_coldkey_and_stake_moves_both_ways() {
    let mut chain = Chain::new();
    let (owner, alice, bob, hot) = (key("owner"), key("alice"), key("bob"), key("hot"));
    for k in [&owner, &alice, &bob] {
        chain.fund(&k.account(), 1_000 * PLX);
    }
    let netuid = chain.create_subnet(&owner, fast_hp());

    // Staking to a hotkey nobody registered is refused.
    let err = chain.add_stake(&bob, &hot.account(), PLX).unwrap_err();
    assert!(matches!(err, TxError::UnknownHotkey { .. }), "{err}");

    chain.register(&alice, netuid, &hot.account()).unwrap();
    assert_eq!(
        query::hotkey_owner(&chain.store, &hot.account()).unwrap(),
        Some(alice.account())
    );
    // Another coldkey cannot register the same hotkey anywhere.
    let other = chain.create_subnet(&owner, fast_hp());
    let err = chain.register(&bob, other, &hot.account()).unwrap_err();
    assert!(matches!(err, TxError::HotkeyOwnedByAnother { .. }), "{err}");
    let err = chain.register(&alice, netuid, &hot.account()).unwrap_err();
    assert!(matches!(err, TxError::AlreadyRegistered { .. }), "{err}");

    // Delegation: bob stakes to alice's hotkey, then takes some back.
    let bob_before = chain.balance(&bob.account());
    let fee = chain.min_fee();
    chain.add_stake(&bob, &hot.account(), 100 * PLX).unwrap();
    chain
        .submit(
            &bob,
            Payload::RemoveStake {
                hotkey: hot.account(),
                amount: 40 * PLX,
            },
        )
        .unwrap();
    assert_eq!(chain.stake(&hot.account(), &bob.account()), 60 * PLX);
    assert_eq!(
        chain.balance(&bob.account()),
        bob_before - 60 * PLX - 2 * fee
    );
    let err = chain
        .submit(
            &bob,
            Payload::RemoveStake {
                hotkey: hot.account(),
                amount: 61 * PLX,
            },
        )
        .unwrap_err();
    assert!(matches!(err, TxError::InsufficientStake { .. }), "{err}");
    let stakes = query::stakes_of_coldkey(&chain.store, &bob.account()).unwrap();
    assert_eq!(stakes.len(), 1);
    assert_eq!(stakes[0].amount, 60 * PLX);
    let view = query::hotkey(&chain.store, &hot.account())
        .unwrap()
        .unwrap();
    assert_eq!(view.total_stake, 60 * PLX);
    assert_eq!(view.take, 11796);
    assert_eq!(view.registrations, vec![(netuid, 0)]);
    // Removing all of it drops the entry.
    chain
        .submit(
            &bob,
            Payload::RemoveStake {
                hotkey: hot.account(),
                amount: 60 * PLX,
            },
        )
        .unwrap();
    assert!(
        query::stakes_of_coldkey(&chain.store, &bob.account())
            .unwrap()
            .is_empty()
    );

    // Only the owner sets the take, and not above the maximum.
    let err = chain
        .submit(
            &bob,
            Payload::SetTake {
                hotkey: hot.account(),
                take: 100,
            },
        )
        .unwrap_err();
    assert!(matches!(err, TxError::NotHotkeyOwner { .. }), "{err}");
    let err = chain
        .submit(
            &alice,
            Payload::SetTake {
                hotkey: hot.account(),
                take: 20_000,
            },
        )
        .unwrap_err();
    assert!(matches!(err, TxError::TakeTooHigh { .. }), "{err}");
    chain
        .submit(
            &alice,
            Payload::SetTake {
                hotkey: hot.account(),
                take: 100,
            },
        )
        .unwrap();
    assert_eq!(
        query::hotkey(&chain.store, &hot.account())
            .unwrap()
            .unwrap()
            .take,
        100
    );

    // Only the subnet owner changes hyperparameters, and only to valid ones.
    let err = chain
        .submit(
            &alice,
            Payload::SetHyperparams {
                netuid,
                hyperparams: fast_hp(),
            },
        )
        .unwrap_err();
    assert!(matches!(err, TxError::NotSubnetOwner { .. }), "{err}");
    let bad = plexus_types::Hyperparams {
        tempo: 0,
        ..fast_hp()
    };
    let err = chain
        .submit(
            &owner,
            Payload::SetHyperparams {
                netuid,
                hyperparams: bad,
            },
        )
        .unwrap_err();
    assert!(matches!(err, TxError::InvalidHyperparams(_)), "{err}");
    let tempo7 = plexus_types::Hyperparams {
        tempo: 7,
        ..fast_hp()
    };
    chain
        .submit(
            &owner,
            Payload::SetHyperparams {
                netuid,
                hyperparams: tempo7,
            },
        )
        .unwrap();
    assert_eq!(
        query::subnet(&chain.store, netuid, chain.height)
            .unwrap()
            .unwrap()
            .hyperparams
            .tempo,
        7
    );
}
