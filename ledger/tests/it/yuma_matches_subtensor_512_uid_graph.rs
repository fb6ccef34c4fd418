//! Subtensor's `test_512_graph`: 64 equal-stake validators weight all 448 servers
//! equally for three epochs.

use plexus_ledger::yuma::{self, EpochInput, EpochOutput, Params, scenario};

const N: usize = 512;
const VALIDATORS: usize = 64;
const STAKE: u64 = 328_125_000_000_000; // 21e15 / 64

/// Validator and server UIDs: blockwise, regularly interleaved, or shuffled by a
/// fixed permutation (subtensor's `distribute_nodes`, with a deterministic shuffle).
fn distribute(interleave: usize) -> (Vec<u16>, Vec<u16>) {
    let all: Vec<u16> = (0..u16::try_from(N).expect("512 fits")).collect();
    match interleave {
        0 => (all[..VALIDATORS].to_vec(), all[VALIDATORS..].to_vec()),
        1 => all
            .iter()
            .partition(|&&u| usize::from(u) % (N / VALIDATORS) == 0),
        _ => {
            let mut order = all;
            // A fixed permutation: multiplication by an odd constant modulo 512.
            order.sort_by_key(|u| (u32::from(*u) * 173 + 29) % 512);
            (order[..VALIDATORS].to_vec(), order[VALIDATORS..].to_vec())
        }
    }
}

fn check(out: &EpochOutput, validators: &[u16], servers: &[u16]) {
    let (v0, s0) = (usize::from(validators[0]), servers[0]);
    for &v in validators {
        let v = usize::from(v);
        assert_eq!(out.consensus[v], 0);
        assert_eq!(out.incentive[v], 0);
        assert_eq!(out.dividends[v], 1023);
        assert_eq!(out.miner_emission[v] + out.validator_emission[v], 7_812_500);
        assert!(!out.bonds[v].iter().any(|(j, _)| usize::from(*j) == v0));
        assert_eq!(
            out.bonds[v].iter().find(|(j, _)| *j == s0),
            Some(&(s0, 65535))
        );
    }
    for &s in servers {
        let s = usize::from(s);
        assert_eq!(out.consensus[s], 146);
        assert_eq!(out.incentive[s], 146);
        assert_eq!(out.dividends[s], 0);
        assert_eq!(out.miner_emission[s] + out.validator_emission[s], 1_116_071);
        assert!(out.bonds[s].is_empty());
    }
}

/// Runs the graph. With `same_block`, the three epochs run in one block as in
/// subtensor's test, where every bond column counts as freshly registered and is
/// reset each time; otherwise they run on consecutive blocks and bonds accumulate.
fn run(interleave: usize, server_self: bool, same_block: bool) {
    let (validators, servers) = distribute(interleave);
    let mut stake = vec![0; N];
    validators
        .iter()
        .for_each(|&v| stake[usize::from(v)] = STAKE);
    let params = Params {
        max_allowed_validators: 64,
        ..Params::default()
    };
    let mut weights = vec![Vec::new(); N];
    let mut bonds = vec![Vec::new(); N];
    let mut last_update = vec![0; N];
    let registered_at = vec![1; N];

    let genesis = EpochInput {
        current_block: 1,
        last_epoch_block: 0,
        stake: &stake,
        weights: &weights,
        bonds: &bonds,
        permits: &[false; N],
        last_update: &last_update,
        registered_at: &registered_at,
        weights_committed_at: None,
        emission: 1_000_000_000,
    };
    let mut permits = yuma::epoch(&params, &genesis).permits;

    for &v in &validators {
        weights[usize::from(v)] = servers.iter().map(|&s| (s, 65535)).collect();
        last_update[usize::from(v)] = 2;
    }
    if server_self {
        for &s in &servers {
            weights[usize::from(s)] = vec![(s, 65535)];
            last_update[usize::from(s)] = 2;
        }
    }
    for epoch in 0..3u64 {
        let (current_block, last_epoch_block) = if same_block {
            (2, 0)
        } else {
            (2 + epoch, 1 + epoch)
        };
        let input = EpochInput {
            current_block,
            last_epoch_block,
            stake: &stake,
            weights: &weights,
            bonds: &bonds,
            permits: &permits,
            last_update: &last_update,
            registered_at: &registered_at,
            weights_committed_at: None,
            emission: 1_000_000_000,
        };
        let out = yuma::epoch(&params, &input);
        if epoch == 2 {
            check(&out, &validators, &servers);
        }
        bonds = out.bonds;
        permits = out.permits;
    }
}

#[test]
fn every_interleaving_pays_validators_1023_and_servers_146() {
    for interleave in 0..3 {
        for server_self in [false, true] {
            run(interleave, server_self, true);
        }
    }
}

#[test]
fn bonds_that_accumulate_over_consecutive_blocks_give_the_same_payout() {
    run(0, true, false);
    run(2, false, false);
}

#[test]
fn the_512_uid_scenario_file_reproduces_the_vector() {
    let jsonl = scenario::run_json(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/graph_512.json"
    )))
    .unwrap();
    let reports: Vec<scenario::EpochReport> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reports.len(), 3);
    let r = &reports[2];
    for v in 0..VALIDATORS {
        assert_eq!(
            (r.consensus[v], r.incentive[v], r.dividends[v]),
            (0, 0, 1023)
        );
        assert_eq!(r.emission[v], 7_812_500);
        assert_eq!(r.bonds[v][0], 0);
        assert!(r.bonds[v][VALIDATORS..].iter().all(|b| *b == 65535));
    }
    for s in VALIDATORS..N {
        assert_eq!(
            (r.consensus[s], r.incentive[s], r.dividends[s]),
            (146, 146, 0)
        );
        assert_eq!(r.emission[s], 1_116_071);
        assert!(r.bonds[s].iter().all(|b| *b == 0));
    }
}
