use plexus_ledger::{Event, query, subnets::decay};
use plexus_types::{Hyperparams, PLX};

use crate::support::{Chain, key};

#[test]
fn the_burn_price_grows_on_registration_and_decays_with_its_half_life() {
    let mut chain = Chain::new();
    let (owner, cold) = (key("owner"), key("cold"));
    chain.fund(&owner.account(), 1_000 * PLX);
    chain.fund(&cold.account(), 1_000 * PLX);
    let hp = Hyperparams {
        min_burn: 1_000_000,
        max_burn: 2_000_000,
        burn_half_life: 10,
        tempo: 1000,
        ..Hyperparams::default()
    };
    let netuid = chain.create_subnet(&owner, hp);
    let price = |c: &Chain| {
        query::subnet(&c.store, netuid, c.height + 1)
            .unwrap()
            .unwrap()
            .burn_price
    };
    assert_eq!(price(&chain), 1_000_000);

    let mut paid = Vec::new();
    for i in 0..4 {
        let quoted = price(&chain);
        let burned_before = query::supply(&chain.store).unwrap().burned;
        let fee = chain.min_fee();
        let out = chain
            .register(&cold, netuid, &key(&format!("h{i}")).account())
            .unwrap();
        let burned = out.events.iter().find_map(|e| match e {
            Event::Registered { burned, .. } => Some(*burned),
            _ => None,
        });
        assert_eq!(burned, Some(quoted));
        assert_eq!(
            query::supply(&chain.store).unwrap().burned,
            burned_before + quoted + fee
        );
        paid.push(quoted);
    }
    // Each registration multiplies by 1.26, then one block of decay (2^-1/10) applies,
    // and the price is clamped at max_burn.
    assert_eq!(paid[0], 1_000_000);
    assert_eq!(paid[1], decay(1_260_000, 1, 10));
    assert_eq!(paid[2], decay(paid[1] * 126 / 100, 1, 10));
    assert_eq!(paid[3], decay((paid[2] * 126 / 100).min(2_000_000), 1, 10));
    assert!(paid[1] > paid[0] && paid[2] > paid[1]);

    // Ten half-lives later it is back at the floor.
    chain.advance(100);
    assert_eq!(price(&chain), 1_000_000);
}
