//! Subtensor's Yuma3 tests (`test_yuma_3_*` in `tests/epoch.rs`): three validators
//! with stakes such as 0.8/0.1/0.1 move their weight between two or three servers;
//! dividends and bonds must follow subtensor's targets to within 1e-3.

use plexus_ledger::yuma::{self, EpochInput, EpochOutput, LiquidAlpha, Params, Variant, scenario};

const MAX: u16 = u16::MAX;
const HALF: u16 = u16::MAX / 2;

/// Subtensor's setup: kappa 0.5, no bonds penalty, moving average 0.975, liquid
/// alpha in `[0.1, 0.3]` (stored as u16) with steepness 1000, three validators.
fn params(liquid: bool) -> Params {
    Params {
        variant: Variant::Yuma3,
        kappa: 32_767,
        bonds_penalty: 0,
        bonds_moving_average: 975_000,
        max_allowed_validators: 3,
        liquid_alpha: liquid.then_some(LiquidAlpha {
            alpha_low: 6_553,
            alpha_high: 19_660,
            steepness: 1_000,
        }),
        ..Params::default()
    }
}

/// Runs the genesis epoch and then one epoch per schedule entry; an entry sets the
/// three validators' weights on the servers (UIDs 3..n) before its epoch.
fn run(stakes: &[u64], liquid: bool, schedule: &[Option<Vec<Vec<u16>>>]) -> Vec<EpochOutput> {
    let n = stakes.len();
    let params = params(liquid);
    let servers: Vec<u16> = (3..u16::try_from(n).expect("few UIDs")).collect();
    let mut weights = vec![Vec::new(); n];
    let mut bonds = vec![Vec::new(); n];
    let mut permits = vec![false; n];
    let mut last_update = vec![0; n];
    let registered_at = vec![0; n];
    let mut outputs = Vec::new();
    for block in 0..=schedule.len() as u64 {
        if block > 0
            && let Some(rows) = &schedule[usize::try_from(block).expect("small block") - 1]
        {
            for (v, row) in rows.iter().enumerate() {
                weights[v] = servers.iter().copied().zip(row.iter().copied()).collect();
                last_update[v] = block;
            }
        }
        let input = EpochInput {
            current_block: block,
            last_epoch_block: block.saturating_sub(1),
            stake: stakes,
            weights: &weights,
            bonds: &bonds,
            permits: &permits,
            last_update: &last_update,
            registered_at: &registered_at,
            weights_committed_at: None,
            emission: 1_000_000_000,
        };
        let out = yuma::epoch(&params, &input);
        assert_eq!(
            out,
            yuma::dense::epoch(&params, &input),
            "sparse and dense differ at block {block}"
        );
        bonds.clone_from(&out.bonds);
        permits.clone_from(&out.permits);
        if block > 0 {
            outputs.push(out);
        }
    }
    outputs
}

fn proportion(x: u16) -> f64 {
    f64::from(x) / 65535.0
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-3,
        "{what}: got {got:.4}, want {want:.4}"
    );
}

/// Check dividends, and bonds of validator `i` on the servers listed in `columns`.
fn check(outputs: &[EpochOutput], dividends: &[&[f64]], bonds: &[&[&[f64]]], columns: &[usize]) {
    for (epoch, out) in outputs.iter().enumerate() {
        for (uid, want) in dividends[epoch].iter().enumerate() {
            close(
                proportion(out.dividends[uid]),
                *want,
                &format!("epoch {epoch} dividend {uid}"),
            );
        }
        for (v, row) in bonds[epoch].iter().enumerate() {
            for (&column, want) in columns.iter().zip(row.iter()) {
                let got = out.bonds[v]
                    .iter()
                    .find(|(j, _)| usize::from(*j) == column)
                    .map_or(0, |e| e.1);
                close(
                    proportion(got),
                    *want,
                    &format!("epoch {epoch} bond {v}->{column}"),
                );
            }
        }
    }
}

fn all(row: &[u16]) -> Option<Vec<Vec<u16>>> {
    Some(vec![row.to_vec(); 3])
}

#[test]
fn big_validator_moving_first_keeps_most_dividends() {
    let schedule = [
        all(&[MAX, 0]),
        Some(vec![vec![0, MAX], vec![MAX, 0], vec![MAX, 0]]),
        Some(vec![vec![0, MAX], vec![0, MAX], vec![MAX, 0]]),
        all(&[0, MAX]),
        None,
        None,
    ];
    let outputs = run(&[8, 1, 1, 0, 0], true, &schedule);
    check(
        &outputs,
        &[
            &[0.8000, 0.1000, 0.1000, 0.0, 0.0],
            &[1.0000, 0.0000, 0.0000, 0.0, 0.0],
            &[0.9382, 0.0618, 0.0000, 0.0, 0.0],
            &[0.8819, 0.0773, 0.0407, 0.0, 0.0],
            &[0.8564, 0.0844, 0.0592, 0.0, 0.0],
            &[0.8418, 0.0884, 0.0697, 0.0, 0.0],
        ],
        &[
            &[&[0.1013, 0.0000], &[0.1013, 0.0000], &[0.1013, 0.0000]],
            &[&[0.0908, 0.1013], &[0.3697, 0.0000], &[0.3697, 0.0000]],
            &[&[0.0815, 0.1924], &[0.3170, 0.1013], &[0.5580, 0.0000]],
            &[&[0.0731, 0.2742], &[0.2765, 0.1924], &[0.4306, 0.1013]],
            &[&[0.0656, 0.3478], &[0.2435, 0.2742], &[0.3589, 0.1924]],
            &[&[0.0588, 0.4139], &[0.2157, 0.3478], &[0.3089, 0.2742]],
        ],
        &[3, 4],
    );
}

#[test]
fn big_validator_moving_second_shares_with_the_eager_one() {
    let schedule = [
        all(&[MAX, 0]),
        Some(vec![vec![MAX, 0], vec![0, MAX], vec![MAX, 0]]),
        Some(vec![vec![0, MAX], vec![0, MAX], vec![MAX, 0]]),
        all(&[0, MAX]),
        None,
        None,
    ];
    let outputs = run(&[8, 1, 1, 0, 0], true, &schedule);
    check(
        &outputs,
        &[
            &[0.8000, 0.1000, 0.1000, 0.0, 0.0],
            &[0.8446, 0.0498, 0.1056, 0.0, 0.0],
            &[0.6868, 0.3132, 0.0000, 0.0, 0.0],
            &[0.7421, 0.2090, 0.0489, 0.0, 0.0],
            &[0.7625, 0.1706, 0.0669, 0.0, 0.0],
            &[0.7730, 0.1508, 0.0762, 0.0, 0.0],
        ],
        &[
            &[&[0.1013, 0.0000], &[0.1013, 0.0000], &[0.1013, 0.0000]],
            &[&[0.1924, 0.0000], &[0.0908, 0.2987], &[0.1924, 0.0000]],
            &[&[0.1715, 0.1013], &[0.0815, 0.3697], &[0.4336, 0.0000]],
            &[&[0.1531, 0.1924], &[0.0731, 0.4336], &[0.3608, 0.1013]],
            &[&[0.1369, 0.2742], &[0.0656, 0.4910], &[0.3103, 0.1924]],
            &[&[0.1225, 0.3478], &[0.0588, 0.5426], &[0.2712, 0.2742]],
        ],
        &[3, 4],
    );
}

#[test]
fn big_validator_moving_last_loses_dividends_to_the_eager_ones() {
    let schedule = [
        all(&[MAX, 0]),
        Some(vec![vec![MAX, 0], vec![0, MAX], vec![MAX, 0]]),
        Some(vec![vec![MAX, 0], vec![0, MAX], vec![0, MAX]]),
        all(&[0, MAX]),
        None,
        None,
    ];
    let outputs = run(&[8, 1, 1, 0, 0], true, &schedule);
    check(
        &outputs,
        &[
            &[0.8000, 0.1000, 0.1000, 0.0, 0.0],
            &[0.8446, 0.0498, 0.1056, 0.0, 0.0],
            &[0.8966, 0.0333, 0.0701, 0.0, 0.0],
            &[0.4663, 0.3210, 0.2127, 0.0, 0.0],
            &[0.5976, 0.2340, 0.1683, 0.0, 0.0],
            &[0.6592, 0.1932, 0.1475, 0.0, 0.0],
        ],
        &[
            &[&[0.1013, 0.0000], &[0.1013, 0.0000], &[0.1013, 0.0000]],
            &[&[0.1924, 0.0000], &[0.0908, 0.2987], &[0.1924, 0.0000]],
            &[&[0.2742, 0.0000], &[0.0815, 0.5081], &[0.1715, 0.2987]],
            &[&[0.2416, 0.1013], &[0.0731, 0.5580], &[0.1531, 0.3697]],
            &[&[0.2141, 0.1924], &[0.0656, 0.6028], &[0.1369, 0.4336]],
            &[&[0.1903, 0.2742], &[0.0588, 0.6430], &[0.1225, 0.4910]],
        ],
        &[3, 4],
    );
}

fn one_epoch_switch() -> Vec<Option<Vec<Vec<u16>>>> {
    (0..6)
        .map(|epoch| {
            if epoch == 2 {
                Some(vec![vec![MAX, 0], vec![MAX, 0], vec![0, MAX]])
            } else {
                all(&[MAX, 0])
            }
        })
        .collect()
}

#[test]
fn a_one_epoch_switch_costs_the_switcher_for_a_while() {
    let outputs = run(&[33, 33, 34, 0, 0], true, &one_epoch_switch());
    check(
        &outputs,
        &[
            &[0.3300, 0.3300, 0.3400, 0.0, 0.0],
            &[0.3300, 0.3300, 0.3400, 0.0, 0.0],
            &[0.3782, 0.3782, 0.2436, 0.0, 0.0],
            &[0.3628, 0.3628, 0.2745, 0.0, 0.0],
            &[0.3541, 0.3541, 0.2917, 0.0, 0.0],
            &[0.3487, 0.3487, 0.3026, 0.0, 0.0],
        ],
        &[
            &[&[0.1013, 0.0000], &[0.1013, 0.0000], &[0.1013, 0.0000]],
            &[&[0.1924, 0.0000], &[0.1924, 0.0000], &[0.1924, 0.0000]],
            &[&[0.2742, 0.0000], &[0.2742, 0.0000], &[0.1715, 0.2987]],
            &[&[0.3478, 0.0000], &[0.3478, 0.0000], &[0.2554, 0.2618]],
            &[&[0.4139, 0.0000], &[0.4139, 0.0000], &[0.3309, 0.2312]],
            &[&[0.4733, 0.0000], &[0.4733, 0.0000], &[0.3987, 0.2051]],
        ],
        &[3, 4],
    );
}

#[test]
fn without_liquid_alpha_bonds_move_at_the_fixed_rate() {
    let outputs = run(&[33, 33, 34, 0, 0], false, &one_epoch_switch());
    check(
        &outputs,
        &[
            &[0.3300, 0.3300, 0.3400, 0.0, 0.0],
            &[0.3300, 0.3300, 0.3400, 0.0, 0.0],
            &[0.3734, 0.3734, 0.2532, 0.0, 0.0],
            &[0.3611, 0.3611, 0.2779, 0.0, 0.0],
            &[0.3541, 0.3541, 0.2919, 0.0, 0.0],
            &[0.3495, 0.3495, 0.3009, 0.0, 0.0],
        ],
        &[
            &[&[0.0250, 0.0000], &[0.0250, 0.0000], &[0.0250, 0.0000]],
            &[&[0.0494, 0.0000], &[0.0494, 0.0000], &[0.0494, 0.0000]],
            &[&[0.0731, 0.0000], &[0.0731, 0.0000], &[0.0481, 0.0250]],
            &[&[0.0963, 0.0000], &[0.0963, 0.0000], &[0.0719, 0.0244]],
            &[&[0.1189, 0.0000], &[0.1189, 0.0000], &[0.0951, 0.0238]],
            &[&[0.1409, 0.0000], &[0.1409, 0.0000], &[0.1178, 0.0232]],
        ],
        &[3, 4],
    );
}

#[test]
fn a_stable_miner_keeps_its_bonds_while_others_move() {
    let schedule = [
        all(&[HALF, 0, HALF]),
        Some(vec![
            vec![HALF, 0, HALF],
            vec![0, HALF, HALF],
            vec![HALF, 0, HALF],
        ]),
        Some(vec![
            vec![0, HALF, HALF],
            vec![0, HALF, HALF],
            vec![HALF, 0, HALF],
        ]),
        all(&[0, HALF, HALF]),
        None,
        None,
    ];
    let outputs = run(&[8, 1, 1, 0, 0, 0], true, &schedule);
    check(
        &outputs,
        &[
            &[0.8000, 0.1000, 0.1000, 0.0, 0.0, 0.0],
            &[0.8226, 0.0745, 0.1028, 0.0, 0.0, 0.0],
            &[0.7750, 0.1685, 0.0565, 0.0, 0.0, 0.0],
            &[0.7864, 0.1372, 0.0764, 0.0, 0.0, 0.0],
            &[0.7912, 0.1241, 0.0847, 0.0, 0.0, 0.0],
            &[0.7937, 0.1173, 0.0890, 0.0, 0.0, 0.0],
        ],
        &[
            &[
                &[0.0507, 0.0000, 0.0507],
                &[0.0507, 0.0000, 0.0507],
                &[0.0507, 0.0000, 0.0507],
            ],
            &[
                &[0.0962, 0.0000, 0.0962],
                &[0.0455, 0.1000, 0.0962],
                &[0.0962, 0.0000, 0.0962],
            ],
            &[
                &[0.0863, 0.0507, 0.1371],
                &[0.0408, 0.1405, 0.1371],
                &[0.1770, 0.0000, 0.1371],
            ],
            &[
                &[0.0774, 0.0962, 0.1739],
                &[0.0367, 0.1770, 0.1739],
                &[0.1579, 0.0507, 0.1739],
            ],
            &[
                &[0.0694, 0.1371, 0.2069],
                &[0.0329, 0.2097, 0.2069],
                &[0.1411, 0.0962, 0.2069],
            ],
            &[
                &[0.0623, 0.1739, 0.2366],
                &[0.0296, 0.2391, 0.2366],
                &[0.1263, 0.1371, 0.2366],
            ],
        ],
        &[3, 4, 5],
    );
}

#[test]
fn the_kappa_moves_first_scenario_file_reproduces_subtensors_dividends() {
    let jsonl = scenario::run_json(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/yuma3_kappa_moves_first.json"
    )))
    .unwrap();
    let reports: Vec<scenario::EpochReport> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let targets = [
        [0.8000, 0.1000, 0.1000],
        [1.0000, 0.0000, 0.0000],
        [0.9382, 0.0618, 0.0000],
        [0.8819, 0.0773, 0.0407],
        [0.8564, 0.0844, 0.0592],
        [0.8418, 0.0884, 0.0697],
    ];
    assert_eq!(reports.len(), targets.len());
    for (r, t) in reports.iter().zip(targets) {
        for (v, want) in t.iter().enumerate() {
            close(
                proportion(r.dividends[v]),
                *want,
                &format!("epoch {} dividend {v}", r.epoch),
            );
        }
    }
    close(
        proportion(reports[5].bonds[0][4]),
        0.4139,
        "final bond 0->4",
    );
}
