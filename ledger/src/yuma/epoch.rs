//! The epoch itself: the steps shared with the dense reference, and the sparse
//! matrix path.

use super::math::{
    self, Divisor, I32F32, I64F64, I96F32, ONE, SparseRow, U16_MAX, ZERO, fixed_proportion_to_u16,
    normalize, safe_div, u16_proportion_to_fixed,
};
use super::sparse::{self, LiquidAlphaFixed};
use super::{EpochInput, EpochOutput, Params, Variant};

/// The per-UID vectors every later step needs.
pub(crate) struct Prepared {
    /// Number of UIDs.
    pub(crate) n: usize,
    /// Normalised stake.
    pub(crate) stake: Vec<I32F32>,
    /// Permits this epoch uses (the previous epoch's).
    pub(crate) permits: Vec<bool>,
    /// Permits this epoch issues.
    pub(crate) new_permits: Vec<bool>,
    /// Normalised stake of active, permitted UIDs.
    pub(crate) active_stake: Vec<I32F32>,
    /// Kappa as a proportion.
    pub(crate) kappa: I32F32,
    /// Bonds penalty as a proportion.
    pub(crate) bonds_penalty: I32F32,
    /// Fixed EMA rate `1 - bonds_moving_average / 1e6`.
    pub(crate) alpha: I32F32,
}

/// Steps 1–4: activity, stake, permits, active stake.
pub(crate) fn prepare(params: &Params, input: &EpochInput<'_>) -> Prepared {
    let n = input.stake.len();
    let stake = math::normalize_stake(input.stake, params.stake_threshold);
    let new_permits = math::is_topk_nonzero(&stake, usize::from(params.max_allowed_validators));
    let permits: Vec<bool> = (0..n)
        .map(|i| input.permits.get(i).copied().unwrap_or(false))
        .collect();
    let mut active_stake: Vec<I32F32> = (0..n)
        .map(|i| {
            let updated = input.last_update.get(i).copied().unwrap_or(0);
            let active = updated.saturating_add(params.activity_cutoff) >= input.current_block;
            if active && permits[i] { stake[i] } else { ZERO }
        })
        .collect();
    normalize(&mut active_stake);

    let moving_average = I64F64::saturating_from_num(params.bonds_moving_average.min(1_000_000))
        .checked_div(I64F64::const_from_int(1_000_000))
        .unwrap_or(I64F64::ZERO);
    let alpha = ONE.saturating_sub(I32F32::saturating_from_num(moving_average));

    Prepared {
        n,
        stake,
        permits,
        new_permits,
        active_stake,
        kappa: u16_proportion_to_fixed(params.kappa),
        bonds_penalty: u16_proportion_to_fixed(params.bonds_penalty),
        alpha,
    }
}

/// Step 5 before normalisation: the stored weights that count, as sorted rows.
pub(crate) fn masked_weights(input: &EpochInput<'_>, p: &Prepared) -> Vec<SparseRow> {
    let registered = |j: usize| input.registered_at.get(j).copied().unwrap_or(0);
    (0..p.n)
        .map(|i| {
            if !p.permits[i] {
                return Vec::new();
            }
            let updated = input.last_update.get(i).copied().unwrap_or(0);
            let committed = input
                .weights_committed_at
                .map(|c| c.get(i).copied().unwrap_or(u64::MAX));
            let mut row: SparseRow = input
                .weights
                .get(i)
                .map(|r| r.as_slice())
                .unwrap_or_default()
                .iter()
                .filter(|&&(j, _)| {
                    let j = usize::from(j);
                    j < p.n
                        && j != i
                        && updated > registered(j)
                        && committed.is_none_or(|c| c >= registered(j))
                })
                .map(|&(j, w)| (j, I32F32::from_num(w)))
                .collect();
            sort_dedup(&mut row);
            row
        })
        .collect()
}

/// The stored bonds as read by the variant (raw `u16` values for Original,
/// proportions for Yuma3), with the columns of recently registered UIDs reset.
pub(crate) fn stored_bonds(
    input: &EpochInput<'_>,
    p: &Prepared,
    variant: Variant,
) -> Vec<SparseRow> {
    let kept: Vec<bool> = (0..p.n)
        .map(|j| input.registered_at.get(j).copied().unwrap_or(0) <= input.last_epoch_block)
        .collect();
    let proportion = Divisor::new(U16_MAX);
    let value = |b: u16| match (variant, proportion) {
        (Variant::Original, _) | (Variant::Yuma3, None) => I32F32::from_num(b),
        (Variant::Yuma3, Some(d)) => d.divide(I32F32::from_num(b)),
    };
    (0..p.n)
        .map(|i| {
            let stored = input.bonds.get(i).map(|r| r.as_slice()).unwrap_or_default();
            let mut row: SparseRow = stored
                .iter()
                .filter(|&&(j, _)| kept.get(usize::from(j)).copied().unwrap_or(false))
                .map(|&(j, b)| (j, value(b)))
                .collect();
            sort_dedup(&mut row);
            row
        })
        .collect()
}

/// Sort a row by column and keep the first entry of each column.
fn sort_dedup(row: &mut SparseRow) {
    if !row.is_sorted_by(|a, b| a.0 < b.0) {
        row.sort_by_key(|e| e.0);
        row.dedup_by_key(|e| e.0);
    }
}

/// The liquid-alpha parameters in fixed point, when liquid alpha applies.
pub(crate) fn liquid_alpha(params: &Params) -> Option<LiquidAlphaFixed> {
    params.liquid_alpha.map(|la| LiquidAlphaFixed {
        low: u16_proportion_to_fixed(la.alpha_low),
        high: u16_proportion_to_fixed(la.alpha_high),
        steepness: I32F32::from_num(la.steepness),
    })
}

/// Everything the matrix steps produce, as fixed-point vectors.
pub(crate) struct Core {
    /// Consensus per UID.
    pub(crate) consensus: Vec<I32F32>,
    /// Normalised rank per UID.
    pub(crate) incentive: Vec<I32F32>,
    /// Normalised dividends per UID.
    pub(crate) dividends: Vec<I32F32>,
    /// Validator trust per UID.
    pub(crate) validator_trust: Vec<I32F32>,
    /// Trust per UID.
    pub(crate) trust: Vec<I32F32>,
    /// New bonds, in the form the variant stores them, as proportions.
    pub(crate) bonds: Vec<SparseRow>,
}

/// Steps 5–10 on sparse matrices.
fn core(params: &Params, input: &EpochInput<'_>, p: &Prepared) -> Core {
    let n = p.n;
    let mut weights = masked_weights(input, p);
    sparse::row_normalize(&mut weights);

    let consensus = math::weighted_median_col(&p.active_stake, &weights, n, p.kappa);
    let clipped = math::col_clip(&weights, &consensus);
    let validator_trust = sparse::row_sums(&clipped);
    let preranks = sparse::matmul(&weights, &p.active_stake, n);
    let ranks = sparse::matmul(&clipped, &p.active_stake, n);
    let trust: Vec<I32F32> = ranks
        .iter()
        .zip(&preranks)
        .map(|(r, q)| safe_div(*r, *q))
        .collect();
    let mut incentive = ranks;
    normalize(&mut incentive);

    let weights_for_bonds = sparse::interpolate(&weights, &clipped, p.bonds_penalty);
    drop(weights);
    drop(clipped);
    let old = stored_bonds(input, p, params.variant);

    let (dividends, bonds) = match params.variant {
        Variant::Original => {
            let mut old = old;
            sparse::col_normalize(&mut old, n);
            let mut delta = sparse::row_hadamard(&weights_for_bonds, &p.active_stake);
            sparse::col_normalize(&mut delta, n);
            let mut ema = sparse::ema(&delta, &old, p.alpha);
            sparse::col_normalize(&mut ema, n);
            let mut dividends = sparse::matmul_transpose(&ema, &incentive);
            normalize(&mut dividends);
            sparse::col_max_upscale(&mut ema, n);
            (dividends, ema)
        }
        Variant::Yuma3 => {
            let ema = match liquid_alpha(params) {
                Some(la) if consensus.iter().any(|c| *c != ZERO) => {
                    sparse::ema_liquid(&weights_for_bonds, &old, &consensus, la)
                }
                _ => {
                    let mut ema = sparse::ema(&weights_for_bonds, &old, p.alpha);
                    for row in &mut ema {
                        for e in row.iter_mut() {
                            e.1 = e.1.min(ONE);
                        }
                    }
                    ema
                }
            };
            let mut normalized = ema.clone();
            sparse::col_normalize(&mut normalized, n);
            let per_validator = sparse::matmul_transpose(&normalized, &incentive);
            let mut dividends = yuma3_dividends(&per_validator, &p.active_stake);
            normalize(&mut dividends);
            (dividends, ema)
        }
    };

    Core {
        consensus,
        incentive,
        dividends,
        validator_trust,
        trust,
        bonds,
    }
}

/// Yuma3 dividends before normalisation: `a_i * sum_j colnorm(B)_ij I_j`, where an
/// overflowing product counts as zero (subtensor's `vec_mul`).
pub(crate) fn yuma3_dividends(per_validator: &[I32F32], active_stake: &[I32F32]) -> Vec<I32F32> {
    per_validator
        .iter()
        .zip(active_stake)
        .map(|(b, a)| b.checked_mul(*a).unwrap_or(ZERO))
        .collect()
}

/// Step 11 and the conversions to stored form.
pub(crate) fn finish(input: &EpochInput<'_>, p: &Prepared, core: &Core) -> EpochOutput {
    let emission_sum = core
        .incentive
        .iter()
        .zip(&core.dividends)
        .fold(ZERO, |acc, (i, d)| acc.saturating_add(i.saturating_add(*d)));
    let (miner_share, validator_share): (Vec<I32F32>, Vec<I32F32>) = if emission_sum == ZERO {
        let fallback = if math::sum(&p.active_stake) == ZERO {
            &p.stake
        } else {
            &p.active_stake
        };
        (core.incentive.clone(), fallback.clone())
    } else {
        (
            core.incentive
                .iter()
                .map(|x| safe_div(*x, emission_sum))
                .collect(),
            core.dividends
                .iter()
                .map(|x| safe_div(*x, emission_sum))
                .collect(),
        )
    };
    let amount = I96F32::saturating_from_num(input.emission);
    let pay = |shares: &[I32F32]| -> Vec<u64> {
        shares
            .iter()
            .map(|s| {
                I96F32::saturating_from_num(*s)
                    .saturating_mul(amount)
                    .saturating_to_num::<u64>()
            })
            .collect()
    };
    let to_u16 =
        |v: &[I32F32]| -> Vec<u16> { v.iter().map(|x| fixed_proportion_to_u16(*x)).collect() };

    let bonds = core
        .bonds
        .iter()
        .zip(&p.new_permits)
        .map(|(row, &permit)| {
            if !permit {
                return Vec::new();
            }
            row.iter()
                .map(|&(j, b)| (j, fixed_proportion_to_u16(b)))
                .filter(|&(_, b)| b != 0)
                .collect()
        })
        .collect();

    EpochOutput {
        consensus: to_u16(&core.consensus),
        incentive: to_u16(&core.incentive),
        dividends: to_u16(&core.dividends),
        validator_trust: to_u16(&core.validator_trust),
        ranks: to_u16(&core.incentive),
        trust: to_u16(&core.trust),
        permits: p.new_permits.clone(),
        bonds,
        miner_emission: pay(&miner_share),
        validator_emission: pay(&validator_share),
    }
}

/// Run one epoch on sparse matrices.
pub(crate) fn run(params: &Params, input: &EpochInput<'_>) -> EpochOutput {
    let p = prepare(params, input);
    let core = core(params, input, &p);
    finish(input, &p, &core)
}
