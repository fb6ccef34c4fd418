//! The masking rules of an epoch: stale weights, late commits, fresh registrations,
//! inactivity and the stake threshold; and the Yuma3 bond-decay policy.

use plexus_ledger::yuma::{self, EpochInput, EpochOutput, LiquidAlpha, Params, Variant};

/// Three validators (UIDs 0–2, stake 1 each) and two servers (UIDs 3, 4), all
/// registered at block 0 and permitted.
struct Net {
    weights: Vec<Vec<(u16, u16)>>,
    bonds: Vec<Vec<(u16, u16)>>,
    last_update: Vec<u64>,
    registered_at: Vec<u64>,
    committed_at: Option<Vec<u64>>,
    stake: Vec<u64>,
}

impl Net {
    fn new() -> Self {
        Self {
            weights: vec![
                vec![(3, 65535)],
                vec![(3, 65535)],
                vec![(3, 65535)],
                vec![],
                vec![],
            ],
            bonds: vec![Vec::new(); 5],
            last_update: vec![5, 5, 5, 0, 0],
            registered_at: vec![0; 5],
            committed_at: None,
            stake: vec![1, 1, 1, 0, 0],
        }
    }

    fn epoch(&self, params: &Params, block: u64) -> EpochOutput {
        let input = EpochInput {
            current_block: block,
            last_epoch_block: block - 1,
            stake: &self.stake,
            weights: &self.weights,
            bonds: &self.bonds,
            permits: &[true, true, true, false, false],
            last_update: &self.last_update,
            registered_at: &self.registered_at,
            weights_committed_at: self.committed_at.as_deref(),
            emission: 1_000,
        };
        input.validate().expect("well-formed");
        let out = yuma::epoch(params, &input);
        assert_eq!(out, yuma::dense::epoch(params, &input));
        out
    }
}

fn bond(out: &EpochOutput, i: usize, j: u16) -> u16 {
    out.bonds[i].iter().find(|e| e.0 == j).map_or(0, |e| e.1)
}

fn yuma3(liquid: bool) -> Params {
    Params {
        variant: Variant::Yuma3,
        bonds_penalty: 0,
        bonds_moving_average: 900_000,
        liquid_alpha: liquid.then(LiquidAlpha::default),
        ..Params::default()
    }
}

#[test]
fn a_yuma3_bond_decays_when_its_weight_entry_disappears() {
    for liquid in [false, true] {
        let params = yuma3(liquid);
        let mut net = Net::new();
        net.bonds[0] = vec![(3, 30_000)];
        net.weights[0] = vec![(4, 65535)]; // UID 0 no longer mentions UID 3 at all
        let out = net.epoch(&params, 6);
        let kept = bond(&out, 0, 3);
        assert!(kept > 0, "the bond was dropped (liquid alpha {liquid})");
        assert!(
            kept < 30_000,
            "the bond did not decay (liquid alpha {liquid})"
        );
        if !liquid {
            // (1 - 0.1) * 30000/65535, stored as floor(x * 65535).
            assert!((26_999..=27_000).contains(&kept), "{kept}");
        }
        // Writing the entry with weight zero is the same thing.
        net.weights[0] = vec![(3, 0), (4, 65535)];
        assert_eq!(net.epoch(&params, 6).bonds, out.bonds);
    }
}

#[test]
fn weights_set_before_a_uid_registered_are_ignored() {
    let mut net = Net::new();
    net.registered_at[3] = 5; // UID 3 changed hands at block 5, when weights were set
    let out = net.epoch(&Params::default(), 6);
    assert_eq!(out.incentive, [0; 5]);
    net.last_update = vec![6, 6, 6, 0, 0];
    assert_eq!(net.epoch(&Params::default(), 6).incentive[3], 65535);
}

#[test]
fn reveals_of_commits_made_before_a_uid_registered_are_ignored() {
    let mut net = Net::new();
    net.registered_at[3] = 3;
    net.committed_at = Some(vec![2, 2, 4, u64::MAX, u64::MAX]);
    let out = net.epoch(&Params::default(), 6);
    // Only validator 2 committed after UID 3 registered; its third of the stake
    // falls short of kappa, so consensus on UID 3 is zero.
    assert_eq!(out.consensus[3], 0);
    assert_eq!(out.validator_trust, [0; 5]);
    net.committed_at = Some(vec![3, 3, 4, u64::MAX, u64::MAX]);
    assert_eq!(net.epoch(&Params::default(), 6).incentive[3], 65535);
}

#[test]
fn bond_columns_of_freshly_registered_uids_are_reset() {
    let mut net = Net::new();
    net.bonds = vec![vec![(4, 65535)], vec![(4, 1000)], vec![], vec![], vec![]];
    net.registered_at[4] = 7; // registered after the previous epoch (block 6)
    let out = net.epoch(&Params::default(), 7);
    assert!(out.bonds.iter().all(|row| row.iter().all(|e| e.0 != 4)));
    net.registered_at[4] = 4;
    assert_eq!(bond(&net.epoch(&Params::default(), 7), 0, 4), 65535);
}

#[test]
fn inactive_validators_earn_no_dividends() {
    let mut net = Net::new();
    net.last_update[2] = 1;
    let params = Params {
        activity_cutoff: 3,
        ..Params::default()
    };
    let out = net.epoch(&params, 5);
    assert_eq!(out.dividends[2], 0);
    assert_eq!(out.dividends[0], out.dividends[1]);
    assert!(out.dividends[0] >= 32_767);
}

#[test]
fn stake_under_the_threshold_earns_no_permit() {
    let mut net = Net::new();
    net.stake = vec![10, 10, 9, 0, 0];
    let params = Params {
        stake_threshold: 10,
        ..Params::default()
    };
    assert_eq!(
        net.epoch(&params, 6).permits,
        [true, true, false, false, false]
    );
}

#[test]
fn permits_go_to_the_largest_stakes_and_ties_to_the_higher_uid() {
    let mut net = Net::new();
    net.stake = vec![5, 5, 7, 0, 0];
    let params = Params {
        max_allowed_validators: 2,
        ..Params::default()
    };
    assert_eq!(
        net.epoch(&params, 6).permits,
        [false, true, true, false, false]
    );
}

#[test]
fn input_validation_names_the_bad_slice() {
    let input = EpochInput {
        current_block: 0,
        last_epoch_block: 0,
        stake: &[1, 2],
        weights: &[vec![(5, 1)], vec![]],
        bonds: &[vec![], vec![]],
        permits: &[true, true],
        last_update: &[0],
        registered_at: &[0, 0],
        weights_committed_at: None,
        emission: 0,
    };
    let err = input.validate().unwrap_err();
    assert_eq!(
        err.to_string(),
        "`last_update` has 1 entries, expected one per UID (2)"
    );
    let input = EpochInput {
        last_update: &[0, 0],
        ..input
    };
    assert_eq!(
        input.validate().unwrap_err().to_string(),
        "`weights` row 0 refers to UID 5, but there are only 2 UIDs"
    );
    // The epoch itself tolerates both: the entry is ignored.
    let out = yuma::epoch(&Params::default(), &input);
    assert_eq!(out.incentive, [0, 0]);
}
