use plexus_ledger::{TxError, query};
use plexus_types::{Hyperparams, PLX, Payload};

use crate::support::{Chain, key};

fn set(netuid: u16, uids: Vec<u16>, weights: Vec<u16>) -> Payload {
    Payload::SetWeights {
        netuid,
        uids,
        weights,
        version: 0,
    }
}

#[test]
fn weights_are_validated_and_stored_max_upscaled() {
    let mut chain = Chain::new();
    let (owner, cold) = (key("owner"), key("cold"));
    chain.fund(&owner.account(), 1_000 * PLX);
    chain.fund(&cold.account(), 1_000 * PLX);
    let hp = Hyperparams {
        tempo: 5,
        commit_reveal: false,
        min_allowed_weights: 2,
        weights_rate_limit: 3,
        ..Hyperparams::default()
    };
    let netuid = chain.create_subnet(&owner, hp);
    let hots: Vec<_> = (0..3).map(|i| key(&format!("h{i}"))).collect();
    for h in &hots {
        chain.register(&cold, netuid, &h.account()).unwrap();
    }
    let stranger = key("stranger");
    let err = chain
        .submit(&stranger, set(netuid, vec![0], vec![1]))
        .unwrap_err();
    assert!(matches!(err, TxError::NotRegistered { .. }), "{err}");
    // Without a permit only a self-weight is allowed.
    let err = chain
        .submit(&hots[1], set(netuid, vec![0, 2], vec![1, 1]))
        .unwrap_err();
    assert!(matches!(err, TxError::NoValidatorPermit { .. }), "{err}");
    chain
        .submit(&hots[1], set(netuid, vec![1], vec![9]))
        .unwrap();
    assert_eq!(
        query::weights(&chain.store, netuid, 1).unwrap(),
        vec![(1, 65535)]
    );
    // ...and then the rate limit applies.
    let err = chain
        .submit(&hots[1], set(netuid, vec![1], vec![9]))
        .unwrap_err();
    assert!(matches!(err, TxError::RateLimited { .. }), "{err}");

    chain.add_stake(&cold, &hots[0].account(), PLX).unwrap();
    chain.next_epoch(netuid);
    let v = &hots[0];
    let cases: Vec<(Payload, &str)> = vec![
        (set(netuid, vec![1, 2], vec![1]), "weights_length_mismatch"),
        (set(netuid, vec![], vec![]), "empty_weights"),
        (set(netuid, vec![1, 1], vec![1, 2]), "duplicate_uid"),
        (set(netuid, vec![1, 3], vec![1, 2]), "uid_out_of_range"),
        (set(netuid, vec![1, 2], vec![0, 2]), "too_few_weights"),
        (set(9, vec![1, 2], vec![1, 2]), "unknown_subnet"),
    ];
    for (payload, code) in cases {
        assert_eq!(chain.submit(v, payload).unwrap_err().code(), code);
    }
    chain
        .submit(v, set(netuid, vec![2, 1], vec![1000, 500]))
        .unwrap();
    assert_eq!(
        query::weights(&chain.store, netuid, 0).unwrap(),
        vec![(1, 32767), (2, 65535)]
    );
    let mg = query::metagraph(&chain.store, netuid).unwrap();
    assert_eq!(mg.neurons[0].last_update, chain.height);
}
