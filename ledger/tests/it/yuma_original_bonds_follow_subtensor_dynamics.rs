//! Subtensor's `test_bonds`: original-Yuma bond dynamics over seven epochs, through
//! the library API and through the scenario simulator.

use plexus_ledger::yuma::{self, EpochInput, EpochOutput, Params, Variant, scenario};

const STEP_1_EMISSION: [u64; 8] = [
    49_999_998,
    99_999_999,
    150_000_000,
    200_000_001,
    49_998_779,
    100_000_610,
    149_996_337,
    200_004_272,
];

/// `(column, bonds of validators 0..=3)` after each of the seven steps.
const EXPECTED: [(usize, [u16; 4]); 7] = [
    (4, [16383, 32767, 49151, 65535]),
    (4, [14582, 32767, 49151, 65535]),
    (4, [12603, 28321, 49151, 65535]),
    (7, [12602, 28320, 49150, 65535]),
    (7, [10951, 24609, 49150, 65535]),
    (7, [9559, 21482, 49150, 65535]),
    (7, [8376, 18824, 49150, 65535]),
];

/// A subnet of 8 UIDs registered at block 0, driven as subtensor's test drives it.
struct Subnet {
    params: Params,
    stake: Vec<u64>,
    weights: Vec<Vec<(u16, u16)>>,
    bonds: Vec<Vec<(u16, u16)>>,
    permits: Vec<bool>,
    last_update: Vec<u64>,
    registered_at: Vec<u64>,
    last_epoch: u64,
}

impl Subnet {
    fn set_weights(&mut self, uid: usize, block: u64, row: &[(u16, u16)]) {
        self.weights[uid] = row.to_vec();
        self.last_update[uid] = block;
    }

    fn epoch(&mut self, block: u64) -> EpochOutput {
        let input = EpochInput {
            current_block: block,
            last_epoch_block: self.last_epoch,
            stake: &self.stake,
            weights: &self.weights,
            bonds: &self.bonds,
            permits: &self.permits,
            last_update: &self.last_update,
            registered_at: &self.registered_at,
            weights_committed_at: None,
            emission: 1_000_000_000,
        };
        input.validate().expect("well-formed input");
        let out = yuma::epoch(&self.params, &input);
        assert_eq!(
            out,
            yuma::dense::epoch(&self.params, &input),
            "sparse and dense differ"
        );
        self.bonds.clone_from(&out.bonds);
        self.permits.clone_from(&out.permits);
        self.last_epoch = block;
        out
    }
}

fn bond(out: &EpochOutput, validator: usize, column: usize) -> u16 {
    out.bonds[validator]
        .iter()
        .find(|(j, _)| usize::from(*j) == column)
        .map_or(0, |e| e.1)
}

#[test]
fn original_bonds_follow_subtensors_seven_steps_through_the_api() {
    let n = 8;
    let mut net = Subnet {
        params: Params {
            variant: Variant::Original,
            max_allowed_validators: 8,
            ..Params::default()
        },
        stake: vec![1, 2, 3, 4, 0, 0, 0, 0],
        weights: vec![Vec::new(); n],
        bonds: vec![Vec::new(); n],
        permits: vec![false; n],
        last_update: vec![0; n],
        registered_at: vec![0; n],
        last_epoch: 0,
    };
    let first = net.epoch(0);
    assert_eq!(
        first.permits,
        [true, true, true, true, false, false, false, false]
    );

    let servers = [(4, 16383), (5, 32767), (6, 49149), (7, 65535)];
    for step in 1..=7u64 {
        match step {
            1 => (0..4).for_each(|v| net.set_weights(v, step, &servers)),
            2 => net.set_weights(0, step, &[(0, 65535)]),
            3 => net.set_weights(1, step, &[(1, 65535)]),
            4 => net.set_weights(2, step, &[(2, 65535)]),
            5 => net.set_weights(2, step, &[(7, 65535)]),
            _ => {}
        }
        let out = net.epoch(step);
        let (column, expected) = EXPECTED[usize::try_from(step).unwrap() - 1];
        let got: Vec<u16> = (0..4).map(|v| bond(&out, v, column)).collect();
        assert_eq!(got, expected, "step {step}");
        if step == 1 {
            // Subtensor's log for this step: T = [0, 0, 0, 0, 1, 1, 1, 1], rank = I.
            assert_eq!(out.trust, [0, 0, 0, 0, 65535, 65535, 65535, 65535]);
            assert_eq!(out.ranks, out.incentive);
            assert_eq!(out.incentive, [0, 0, 0, 0, 6553, 13107, 19660, 26214]);
            let emission: Vec<u64> = out
                .miner_emission
                .iter()
                .zip(&out.validator_emission)
                .map(|(m, v)| m + v)
                .collect();
            assert_eq!(emission, STEP_1_EMISSION);
        }
    }
}

#[test]
fn original_bonds_follow_subtensors_seven_steps_as_a_scenario() {
    let jsonl = scenario::run_json(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/original_bond_dynamics.json"
    )))
    .unwrap();
    let reports: Vec<scenario::EpochReport> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reports.len(), 7);
    for (report, (column, expected)) in reports.iter().zip(EXPECTED) {
        let got: Vec<u16> = (0..4).map(|v| report.bonds[v][column]).collect();
        assert_eq!(got, expected, "epoch {}", report.epoch);
    }
    assert_eq!(reports[0].emission, STEP_1_EMISSION);
}
