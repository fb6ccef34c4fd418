use plexus_ledger::{Event, TxError, query, registration_key};
use plexus_types::{Hyperparams, PLX, Payload};

use crate::support::{Chain, key};

fn hp(max_uids: u16, immunity_period: u64) -> Hyperparams {
    Hyperparams {
        tempo: 4,
        max_uids,
        immunity_period,
        commit_reveal: false,
        min_burn: 1_000,
        max_burn: PLX,
        ..Hyperparams::default()
    }
}

fn replaced(out: &plexus_ledger::BlockOutput) -> (u16, Option<plexus_types::AccountId>) {
    out.events
        .iter()
        .find_map(|e| match e {
            Event::Registered { uid, replaced, .. } => Some((*uid, *replaced)),
            _ => None,
        })
        .unwrap()
}

#[test]
fn a_full_subnet_prunes_the_lowest_emission_uid_and_clears_its_weights() {
    let mut chain = Chain::new();
    let (owner, cold) = (key("owner"), key("cold"));
    chain.fund(&owner.account(), 1_000 * PLX);
    chain.fund(&cold.account(), 1_000 * PLX);
    let netuid = chain.create_subnet(&owner, hp(3, 0));
    let hots: Vec<_> = (0..4).map(|i| key(&format!("h{i}"))).collect();
    for h in &hots[..3] {
        chain.register(&cold, netuid, &h.account()).unwrap();
    }
    chain
        .add_stake(&cold, &hots[0].account(), 10 * PLX)
        .unwrap();
    chain.next_epoch(netuid);
    // The validator (uid 0) weights uid 1 heavily and uid 2 lightly.
    chain
        .submit(
            &hots[0],
            Payload::SetWeights {
                netuid,
                uids: vec![1, 2],
                weights: vec![65535, 100],
                version: 0,
            },
        )
        .unwrap();
    chain.next_epoch(netuid);
    let mg = query::metagraph(&chain.store, netuid).unwrap();
    let e: Vec<u64> = mg.neurons.iter().map(|n| n.emission).collect();
    assert!(e[2] < e[1] && e[2] < e[0], "{e:?}");

    let out = chain.register(&cold, netuid, &hots[3].account()).unwrap();
    assert_eq!(replaced(&out), (2, Some(hots[2].account())));
    assert_eq!(
        crate::support::read(&chain.store, &registration_key(netuid, &hots[2].account())),
        None
    );
    let mg = query::metagraph(&chain.store, netuid).unwrap();
    assert_eq!(mg.neurons.len(), 3);
    assert_eq!(mg.neurons[2].hotkey, hots[3].account());
    assert_eq!(mg.neurons[2].emission, 0);
    // uid 2's column is gone from the validator's weights.
    assert_eq!(
        query::weights(&chain.store, netuid, 0).unwrap(),
        vec![(1, 65535)]
    );
    assert!(
        query::bonds(&chain.store, netuid, 0)
            .unwrap()
            .iter()
            .all(|(u, _)| *u != 2)
    );
    // The pruned hotkey is no longer registered and cannot serve.
    let err = chain
        .submit(
            &hots[2],
            Payload::Serve {
                netuid,
                endpoint: plexus_types::Endpoint {
                    url: "http://127.0.0.1:1".into(),
                    ..Default::default()
                },
            },
        )
        .unwrap_err();
    assert!(matches!(err, TxError::NotRegistered { .. }), "{err}");
}

#[test]
fn with_every_uid_immune_the_oldest_registration_is_replaced() {
    let mut chain = Chain::new();
    let (owner, cold) = (key("owner"), key("cold"));
    chain.fund(&owner.account(), 1_000 * PLX);
    chain.fund(&cold.account(), 1_000 * PLX);
    let netuid = chain.create_subnet(&owner, hp(2, 1_000_000));
    for i in 0..2 {
        chain
            .register(&cold, netuid, &key(&format!("h{i}")).account())
            .unwrap();
    }
    let out = chain.register(&cold, netuid, &key("h2").account()).unwrap();
    assert_eq!(replaced(&out), (0, Some(key("h0").account())));
}
