use plexus_ledger::{Genesis, emission::block_emission, genesis::GenesisSubnet, query};
use plexus_types::{Hyperparams, Mechanism, PLX, SUPPLY_CAP};

use crate::support::{Chain, key};

#[test]
fn block_emission_halves_at_the_golden_issuances() {
    assert_eq!(block_emission(PLX, 0), 1_000_000_000);
    assert_eq!(block_emission(PLX, 10_500_000_000_000_000), 500_000_000);
    assert_eq!(block_emission(PLX, 15_750_000_000_000_000), 250_000_000);
    assert_eq!(block_emission(PLX, 21_000_000_000_000_000), 0);
    assert_eq!(block_emission(PLX, SUPPLY_CAP + 1), 0);
}

#[test]
fn a_chain_past_half_the_cap_accrues_half_the_emission_split_equally_between_subnets() {
    let mut g = Genesis::development(key("validator").account());
    g.accounts[0].balance = SUPPLY_CAP / 2;
    let owner = key("owner").account();
    for name in ["a", "b", "c"] {
        g.subnets.push(GenesisSubnet {
            name: name.into(),
            mechanism: Mechanism::Generic,
            owner,
            hyperparams: Hyperparams {
                tempo: 1000,
                ..Hyperparams::default()
            },
        });
    }
    let mut chain = Chain::with_genesis(g);
    chain.advance(3);
    let supply = query::supply(&chain.store).unwrap();
    assert_eq!(supply.emitted, 3 * 500_000_000);
    let pending: Vec<u64> = query::subnets(&chain.store, chain.height)
        .unwrap()
        .iter()
        .map(|s| s.pending_emission)
        .collect();
    // 5e8 / 3 leaves a remainder of 2 per block, rotated between subnets.
    assert_eq!(pending.iter().sum::<u64>(), 3 * 500_000_000);
    assert!(
        pending
            .iter()
            .all(|p| (499_999_998..=500_000_002).contains(p)),
        "{pending:?}"
    );
}
