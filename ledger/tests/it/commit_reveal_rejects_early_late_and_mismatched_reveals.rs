use plexus_ledger::{TxError, query};
use plexus_types::{PLX, Payload, tx::weights_commit_hash};

use crate::support::{Chain, fast_hp, key};

fn reveal(uids: Vec<u16>, weights: Vec<u16>, salt: [u8; 32]) -> Payload {
    Payload::RevealWeights {
        netuid: 1,
        uids,
        weights,
        salt,
        version: 0,
    }
}

#[test]
fn commit_reveal_rejects_early_late_and_mismatched_reveals() {
    let mut chain = Chain::new();
    let (owner, cold, vhot, mhot) = (key("owner"), key("cold"), key("vhot"), key("mhot"));
    chain.fund(&owner.account(), 1_000 * PLX);
    chain.fund(&cold.account(), 1_000 * PLX);
    let netuid = chain.create_subnet(&owner, fast_hp());
    assert_eq!(netuid, 1);
    for h in [&vhot, &mhot] {
        chain.register(&cold, netuid, &h.account()).unwrap();
    }
    chain.add_stake(&cold, &vhot.account(), 10 * PLX).unwrap();
    chain.next_epoch(netuid);

    // Direct setting is refused while commit-reveal is on; revealing needs a commit.
    let err = chain
        .submit(
            &vhot,
            Payload::SetWeights {
                netuid,
                uids: vec![1],
                weights: vec![1],
                version: 0,
            },
        )
        .unwrap_err();
    assert!(matches!(err, TxError::CommitRevealEnabled { .. }), "{err}");
    let salt = [9u8; 32];
    let err = chain
        .submit(&vhot, reveal(vec![1], vec![5], salt))
        .unwrap_err();
    assert!(matches!(err, TxError::NoCommit { .. }), "{err}");

    let hash = weights_commit_hash(&vhot.account(), netuid, &[1], &[5], &salt, 0);
    chain
        .submit(
            &vhot,
            Payload::CommitWeights {
                netuid,
                commit: hash,
            },
        )
        .unwrap();
    assert!(
        query::pending_commit(&chain.store, netuid, 0)
            .unwrap()
            .is_some()
    );

    // Same epoch: too early.
    let err = chain
        .submit(&vhot, reveal(vec![1], vec![5], salt))
        .unwrap_err();
    assert!(matches!(err, TxError::RevealTooEarly { .. }), "{err}");
    assert_eq!(err.code(), "reveal_too_early");

    chain.next_epoch(netuid);
    // Next epoch: anything but the committed weights mismatches.
    for bad in [
        reveal(vec![1], vec![6], salt),
        reveal(vec![1], vec![5], [8u8; 32]),
        Payload::RevealWeights {
            netuid,
            uids: vec![1],
            weights: vec![5],
            salt,
            version: 1,
        },
    ] {
        let err = chain.submit(&vhot, bad).unwrap_err();
        assert_eq!(err, TxError::CommitMismatch);
    }

    // Two epochs after the commit: too late.
    chain.next_epoch(netuid);
    let err = chain
        .submit(&vhot, reveal(vec![1], vec![5], salt))
        .unwrap_err();
    assert!(matches!(err, TxError::RevealTooLate { .. }), "{err}");

    // A fresh commit revealed in the next epoch is stored, max-upscaled.
    chain
        .submit(
            &vhot,
            Payload::CommitWeights {
                netuid,
                commit: hash,
            },
        )
        .unwrap();
    chain.next_epoch(netuid);
    chain.submit(&vhot, reveal(vec![1], vec![5], salt)).unwrap();
    assert_eq!(
        query::weights(&chain.store, netuid, 0).unwrap(),
        vec![(1, 65535)]
    );
    assert!(
        query::pending_commit(&chain.store, netuid, 0)
            .unwrap()
            .is_none()
    );
}
