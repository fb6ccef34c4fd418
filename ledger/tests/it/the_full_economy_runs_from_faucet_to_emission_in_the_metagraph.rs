use plexus_ledger::{Event, query};
use plexus_types::{PLX, Payload, tx::weights_commit_hash};

use crate::support::{Chain, fast_hp, key};

#[test]
fn the_full_economy_runs_from_faucet_to_emission_in_the_metagraph() {
    let mut chain = Chain::new();
    let (owner, val, miner, nominator) = (key("owner"), key("val"), key("miner"), key("nominator"));
    let (vhot, mhot) = (key("val/hot"), key("miner/hot"));
    for who in [&owner, &val, &miner, &nominator] {
        chain.fund(&who.account(), 10_000 * PLX);
    }
    assert_eq!(chain.balance(&owner.account()), 10_000 * PLX);

    let netuid = chain.create_subnet(&owner, fast_hp());
    assert_eq!(netuid, 1);
    chain.register(&val, netuid, &vhot.account()).unwrap();
    chain.register(&miner, netuid, &mhot.account()).unwrap();
    chain.add_stake(&val, &vhot.account(), 1_000 * PLX).unwrap();
    chain
        .add_stake(&nominator, &vhot.account(), 500 * PLX)
        .unwrap();

    // An epoch hands out validator permits by stake.
    chain.next_epoch(netuid);
    let mg = query::metagraph(&chain.store, netuid).unwrap();
    assert!(mg.neurons[0].validator_permit);
    // Without weights the first epoch paid validators by stake, so stake grew.
    assert!(mg.neurons[0].stake > 1_500 * PLX);
    let miner_uid = mg.neurons[1].uid;

    // Commit, then reveal in the next epoch.
    let salt = [7u8; 32];
    let hash = weights_commit_hash(&vhot.account(), netuid, &[miner_uid], &[65535], &salt, 0);
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
    chain
        .submit(
            &vhot,
            Payload::RevealWeights {
                netuid,
                uids: vec![miner_uid],
                weights: vec![65535],
                salt,
                version: 0,
            },
        )
        .unwrap();
    assert_eq!(
        query::weights(&chain.store, netuid, 0).unwrap(),
        vec![(miner_uid, 65535)]
    );

    let owner_before = chain.balance(&owner.account());
    let val_before = chain.stake(&vhot.account(), &val.account());
    let nom_before = chain.stake(&vhot.account(), &nominator.account());
    let miner_before = chain.stake(&mhot.account(), &miner.account());
    // Run past the next epoch and find its payout event.
    let mut epoch = None;
    while epoch.is_none() {
        let out = chain.block(Vec::new()).unwrap();
        epoch = out
            .events
            .into_iter()
            .find(|e| matches!(e, Event::EpochRun { .. }));
    }
    let Some(Event::EpochRun {
        emission,
        owner_cut,
        miners,
        validators,
        carried,
        ..
    }) = epoch
    else {
        unreachable!()
    };
    assert_eq!(emission, owner_cut + miners + validators + carried);
    assert_eq!(owner_cut, emission * 11796 / 65535);
    assert!(
        miners > 0 && validators > 0,
        "miners {miners} validators {validators}"
    );

    let mg = query::metagraph(&chain.store, netuid).unwrap();
    let (v, m) = (&mg.neurons[0], &mg.neurons[1]);
    assert!(m.incentive > 0 && m.emission > 0, "{m:?}");
    assert!(v.dividends > 0 && v.emission > 0, "{v:?}");
    assert_eq!(m.emission, miners);
    assert_eq!(v.emission, validators);

    // The miner's emission is stake on its hotkey, owned by its coldkey.
    assert_eq!(
        chain.stake(&mhot.account(), &miner.account()),
        miner_before + miners
    );
    // The validator's take plus its pro-rata share, and the nominator's share, as stake.
    let val_gain = chain.stake(&vhot.account(), &val.account()) - val_before;
    let nom_gain = chain.stake(&vhot.account(), &nominator.account()) - nom_before;
    assert_eq!(val_gain + nom_gain, validators);
    let take = validators * 11796 / 65535;
    let rest = validators - take;
    let nom_share = u64::try_from(
        u128::from(rest) * u128::from(nom_before) / u128::from(val_before + nom_before),
    )
    .unwrap();
    assert_eq!(nom_gain, nom_share);
    // The subnet owner's cut is free balance.
    assert_eq!(chain.balance(&owner.account()), owner_before + owner_cut);
    chain.assert_conserved();
}
