//! The sparse epoch must equal the dense `O(n²)` transcription of subtensor's
//! `epoch_dense` bit for bit, on arbitrary (even inconsistent) subnet state.

use plexus_ledger::yuma::{self, EpochInput, LiquidAlpha, Params, Variant};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Owned {
    params: Params,
    current_block: u64,
    last_epoch_block: u64,
    stake: Vec<u64>,
    weights: Vec<Vec<(u16, u16)>>,
    bonds: Vec<Vec<(u16, u16)>>,
    permits: Vec<bool>,
    last_update: Vec<u64>,
    registered_at: Vec<u64>,
    committed_at: Option<Vec<u64>>,
    emission: u64,
}

impl Owned {
    fn input(&self) -> EpochInput<'_> {
        EpochInput {
            current_block: self.current_block,
            last_epoch_block: self.last_epoch_block,
            stake: &self.stake,
            weights: &self.weights,
            bonds: &self.bonds,
            permits: &self.permits,
            last_update: &self.last_update,
            registered_at: &self.registered_at,
            weights_committed_at: self.committed_at.as_deref(),
            emission: self.emission,
        }
    }
}

fn params() -> impl Strategy<Value = Params> {
    (
        prop_oneof![Just(Variant::Original), Just(Variant::Yuma3)],
        prop_oneof![Just(32_767u16), any::<u16>()],
        prop_oneof![Just(0u16), Just(u16::MAX), any::<u16>()],
        prop_oneof![Just(900_000u64), 0u64..=1_000_000],
        0u16..12,
        prop_oneof![Just(u64::MAX), 0u64..20],
        prop_oneof![Just(0u64), 0u64..1_000],
        prop::option::of((any::<u16>(), any::<u16>(), 0u16..3_000)),
    )
        .prop_map(
            |(variant, kappa, bonds_penalty, bma, max_v, cutoff, threshold, la)| Params {
                variant,
                kappa,
                bonds_penalty,
                bonds_moving_average: bma,
                max_allowed_validators: max_v,
                activity_cutoff: cutoff,
                stake_threshold: threshold,
                liquid_alpha: la.map(|(a, b, steepness)| LiquidAlpha {
                    alpha_low: a.min(b),
                    alpha_high: a.max(b),
                    steepness,
                }),
            },
        )
}

fn rows(n: usize) -> impl Strategy<Value = Vec<Vec<(u16, u16)>>> {
    let uid = 0..u16::try_from(n + 1).expect("few UIDs"); // one past the end on purpose
    prop::collection::vec(
        prop::collection::vec(
            (uid, prop_oneof![Just(u16::MAX), Just(0u16), any::<u16>()]),
            0..8,
        ),
        n,
    )
}

fn subnet() -> impl Strategy<Value = Owned> {
    (2usize..24).prop_flat_map(|n| {
        (
            params(),
            (0u64..12, 0u64..12),
            prop::collection::vec(
                prop_oneof![Just(0u64), 1u64..1_000_000, Just(u64::MAX / 3)],
                n,
            ),
            rows(n),
            rows(n),
            prop::collection::vec(any::<bool>(), n),
            prop::collection::vec(0u64..10, n),
            prop::collection::vec(0u64..6, n),
            prop::option::of(prop::collection::vec(
                prop_oneof![Just(u64::MAX), 0u64..10],
                n,
            )),
            prop_oneof![Just(1_000_000_000u64), any::<u64>()],
        )
            .prop_map(
                |(
                    params,
                    (b1, b2),
                    stake,
                    weights,
                    bonds,
                    permits,
                    last_update,
                    registered_at,
                    committed_at,
                    emission,
                )| {
                    Owned {
                        params,
                        current_block: b1.max(b2),
                        last_epoch_block: b1.min(b2),
                        stake,
                        weights,
                        bonds,
                        permits,
                        last_update,
                        registered_at,
                        committed_at,
                        emission,
                    }
                },
            )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sparse_and_dense_epochs_agree_bit_for_bit(s in subnet()) {
        let input = s.input();
        prop_assert_eq!(yuma::epoch(&s.params, &input), yuma::dense::epoch(&s.params, &input));
    }

    #[test]
    fn chained_epochs_agree_bit_for_bit(s in subnet()) {
        // Feed each epoch's bonds and permits into the next, as a chain would.
        let mut state = s;
        for _ in 0..4 {
            let out = yuma::epoch(&state.params, &state.input());
            prop_assert_eq!(&out, &yuma::dense::epoch(&state.params, &state.input()));
            state.bonds = out.bonds;
            state.permits = out.permits;
            state.last_epoch_block = state.current_block;
            state.current_block += 1;
        }
    }
}
