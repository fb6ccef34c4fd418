//! Subtensor's `test_10_graph`: ten UIDs with equal stake and only self-weights
//! produce no consensus, incentive or dividends, and split the emission by stake.

use plexus_ledger::yuma::{self, EpochInput, Params, scenario};

#[test]
fn self_weights_only_pay_validators_by_stake_through_the_api() {
    let n = 10;
    let weights: Vec<Vec<(u16, u16)>> = (0..n).map(|i| vec![(i, 65535)]).collect();
    let stake = vec![1; usize::from(n)];
    let bonds = vec![Vec::new(); usize::from(n)];
    // As in subtensor's test, no epoch has issued permits yet: nobody is permitted,
    // so the emission falls back to raw stake.
    for permits in [vec![false; usize::from(n)], vec![true; usize::from(n)]] {
        let input = EpochInput {
            current_block: 1,
            last_epoch_block: 0,
            stake: &stake,
            weights: &weights,
            bonds: &bonds,
            permits: &permits,
            last_update: &[1; 10],
            registered_at: &[0; 10],
            weights_committed_at: None,
            emission: 1_000_000_000,
        };
        let params = Params {
            max_allowed_validators: 64,
            ..Params::default()
        };
        let out = yuma::epoch(&params, &input);
        assert_eq!(out, yuma::dense::epoch(&params, &input));
        assert_eq!(out.consensus, [0; 10]);
        assert_eq!(out.incentive, [0; 10]);
        assert_eq!(out.dividends, [0; 10]);
        assert_eq!(out.miner_emission, [0; 10]);
        assert_eq!(out.validator_emission, [99_999_999; 10]);
    }
}

#[test]
fn self_weights_only_pay_validators_by_stake_as_a_scenario() {
    let jsonl = scenario::run_json(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/no_valid_weights.json"
    )))
    .unwrap();
    let reports: Vec<scenario::EpochReport> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(r.consensus, [0; 10]);
    assert_eq!(r.incentive, [0; 10]);
    assert_eq!(r.dividends, [0; 10]);
    assert_eq!(r.emission, [99_999_999; 10]);
}
