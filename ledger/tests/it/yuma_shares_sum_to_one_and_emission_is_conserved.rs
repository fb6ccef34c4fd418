//! Invariants: whenever a valid weight exists, incentive and dividends each sum to
//! 65535 up to one unit of rounding per UID, and the emission paid out never
//! exceeds the amount and falls short of it only by rounding.

use plexus_ledger::yuma::{self, EpochInput, EpochOutput, LiquidAlpha, Params, Variant};
use proptest::prelude::*;

/// A subnet whose first `validators` UIDs hold stake and weight only miners, each
/// giving a positive weight to the common miner `validators`, so consensus exists.
#[derive(Debug, Clone)]
struct Subnet {
    params: Params,
    stake: Vec<u64>,
    weights: Vec<Vec<(u16, u16)>>,
    emission: u64,
}

fn uid(i: usize) -> u16 {
    u16::try_from(i).expect("fewer than 65536 UIDs")
}

fn subnet() -> impl Strategy<Value = Subnet> {
    (2usize..64)
        .prop_flat_map(|n| (Just(n), 1..n))
        .prop_flat_map(|(n, validators)| {
            let miners = uid(validators)..uid(n);
            (
                prop_oneof![Just(Variant::Original), Just(Variant::Yuma3)],
                any::<u16>(),
                any::<u16>(),
                0u64..=1_000_000,
                prop::option::of((any::<u16>(), any::<u16>(), 0u16..3_000)),
                prop::collection::vec(1u64..1_000_000_000_000, validators),
                prop::collection::vec(
                    (
                        1u16..=u16::MAX,
                        prop::collection::vec((miners, any::<u16>()), 0..12),
                    ),
                    validators,
                ),
                0u64..=(1 << 32),
            )
                .prop_map(
                    move |(variant, kappa, penalty, bma, la, vstake, vweights, emission)| {
                        let mut stake = vec![0; n];
                        stake[..validators].copy_from_slice(&vstake);
                        let common = uid(validators);
                        let weights = (0..n)
                            .map(|i| {
                                let Some((w0, extra)) = vweights.get(i) else {
                                    return Vec::new();
                                };
                                let mut row = vec![(common, *w0)];
                                for &(j, w) in extra {
                                    if !row.iter().any(|(k, _)| *k == j) {
                                        row.push((j, w));
                                    }
                                }
                                let values: Vec<u16> = row.iter().map(|e| e.1).collect();
                                let up = yuma::math::vec_u16_max_upscale_to_u16(&values);
                                row.iter().map(|e| e.0).zip(up).collect()
                            })
                            .collect();
                        Subnet {
                            params: Params {
                                variant,
                                kappa,
                                bonds_penalty: penalty,
                                bonds_moving_average: bma,
                                max_allowed_validators: uid(n),
                                liquid_alpha: la.filter(|_| variant == Variant::Yuma3).map(
                                    |(a, b, steepness)| LiquidAlpha {
                                        alpha_low: a.min(b),
                                        alpha_high: a.max(b),
                                        steepness,
                                    },
                                ),
                                ..Params::default()
                            },
                            stake,
                            weights,
                            emission,
                        }
                    },
                )
        })
}

/// Runs a genesis epoch (permits), then three epochs with the weights set.
fn epochs(s: &Subnet) -> Vec<EpochOutput> {
    let n = s.stake.len();
    let empty = vec![Vec::new(); n];
    let mut bonds = empty.clone();
    let mut permits = vec![false; n];
    let mut outputs = Vec::new();
    for block in 0..4u64 {
        let weights = if block == 0 { &empty } else { &s.weights };
        let input = EpochInput {
            current_block: block,
            last_epoch_block: block.saturating_sub(1),
            stake: &s.stake,
            weights,
            bonds: &bonds,
            permits: &permits,
            last_update: &vec![block; n],
            registered_at: &vec![0; n],
            weights_committed_at: None,
            emission: s.emission,
        };
        let out = yuma::epoch(&s.params, &input);
        bonds.clone_from(&out.bonds);
        permits.clone_from(&out.permits);
        if block > 0 {
            outputs.push(out);
        }
    }
    outputs
}

fn total(v: &[u16]) -> u64 {
    v.iter().map(|x| u64::from(*x)).sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn incentive_and_dividends_each_sum_to_65535_within_n(s in subnet()) {
        let n = s.stake.len() as u64;
        for out in epochs(&s) {
            let (i, d) = (total(&out.incentive), total(&out.dividends));
            prop_assert!((65_535 - n..=65_535).contains(&i), "incentive sums to {}", i);
            prop_assert!((65_535 - n..=65_535).contains(&d), "dividends sum to {}", d);
        }
    }

    /// Each UID here is paid as a miner or as a validator, never both, so the
    /// shortfall is below one base unit per UID from flooring the amount, plus
    /// `E / 2^32` per UID from truncating its `I32F32` share.
    #[test]
    fn emission_is_paid_out_up_to_rounding(s in subnet()) {
        let n = s.stake.len() as u64;
        let e = s.emission;
        let slack = n * (1 + e.div_ceil(1 << 32));
        for out in epochs(&s) {
            let paid: u64 = out.miner_emission.iter().chain(&out.validator_emission).sum();
            prop_assert!(paid <= e, "paid {} of {}", paid, e);
            prop_assert!(paid + slack >= e, "paid {} of {}", paid, e);
            for (m, v) in out.miner_emission.iter().zip(&out.validator_emission) {
                prop_assert!(*m == 0 || *v == 0);
            }
        }
    }
}

#[test]
fn emission_never_exceeds_the_amount_even_without_weights() {
    let stake = [u64::MAX, u64::MAX, 1, 0];
    let input = EpochInput {
        current_block: 10,
        last_epoch_block: 9,
        stake: &stake,
        weights: &[vec![], vec![], vec![], vec![]],
        bonds: &[vec![], vec![], vec![], vec![]],
        permits: &[true, false, true, false],
        last_update: &[0; 4],
        registered_at: &[0; 4],
        weights_committed_at: None,
        emission: u64::MAX,
    };
    let out = yuma::epoch(&Params::default(), &input);
    let paid: u128 = out.validator_emission.iter().map(|x| u128::from(*x)).sum();
    assert!(paid <= u128::from(u64::MAX));
    assert_eq!(out.miner_emission, [0; 4]);
    // Active stake exists (UIDs 0 and 2 are permitted and active), so it is used.
    assert_eq!(out.validator_emission[1], 0);
    assert!(out.validator_emission[0] > 0);
}
