//! Dense `O(n²)` reference implementation of the epoch, a direct transcription of
//! subtensor's `epoch_dense` with its pivot-search weighted median.
//!
//! It exists to cross-check the sparse [`super::epoch`] (tests assert identical
//! outputs) and as the baseline the benchmark compares against. It shares the
//! vector steps (stake, permits, emission split) with the sparse path; every matrix
//! step is its own.

use super::epoch::{self, Core, Prepared};
use super::math::{self, I32F32, ONE, ZERO, alpha_sigmoid, normalize, safe_div};
use super::{EpochInput, EpochOutput, Params, Variant};

/// A dense matrix, row-major.
type Matrix = Vec<Vec<I32F32>>;

/// Densify sparse rows into an `n × n` matrix.
fn densify(rows: &[math::SparseRow], n: usize) -> Matrix {
    rows.iter()
        .map(|row| {
            let mut dense = vec![ZERO; n];
            for &(j, v) in row {
                dense[usize::from(j)] = v;
            }
            dense
        })
        .collect()
}

fn row_normalize(m: &mut Matrix) {
    for row in m.iter_mut() {
        let total = math::sum(row);
        if total > ZERO {
            for v in row.iter_mut() {
                *v = safe_div(*v, total);
            }
        }
    }
}

fn col_normalize(m: &mut Matrix, n: usize) {
    let mut totals = vec![ZERO; n];
    for row in m.iter() {
        for (t, v) in totals.iter_mut().zip(row) {
            *t = t.saturating_add(*v);
        }
    }
    for row in m.iter_mut() {
        for (v, t) in row.iter_mut().zip(&totals) {
            if *t != ZERO {
                *v = safe_div(*v, *t);
            }
        }
    }
}

fn col_max_upscale(m: &mut Matrix, n: usize) {
    let mut maxima = vec![ZERO; n];
    for row in m.iter() {
        for (x, v) in maxima.iter_mut().zip(row) {
            if *x < *v {
                *x = *v;
            }
        }
    }
    for row in m.iter_mut() {
        for (v, x) in row.iter_mut().zip(&maxima) {
            if *x != ZERO {
                *v = safe_div(*v, *x);
            }
        }
    }
}

/// Subtensor's `weighted_median`: a deterministic mid-pivot partition search over
/// `idx`, with the stake integral of the current partition in `[lo, hi]`.
fn pivot_median(
    stake: &[I32F32],
    score: &[I32F32],
    idx: &[usize],
    minority: I32F32,
    hi: I32F32,
) -> I32F32 {
    let mut current: Vec<usize> = idx.to_vec();
    let (mut lo, mut hi) = (ZERO, hi);
    let mut lower = Vec::new();
    let mut upper = Vec::new();
    for _ in 0..=idx.len() {
        match current.len() {
            0 => return ZERO,
            1 => return score[current[0]],
            _ => {}
        }
        let pivot = score[current[current.len() / 2]];
        let (mut lo_stake, mut hi_stake) = (ZERO, ZERO);
        for &k in &current {
            if score[k] < pivot {
                lo_stake = lo_stake.saturating_add(stake[k]);
                lower.push(k);
            } else if score[k] > pivot {
                hi_stake = hi_stake.saturating_add(stake[k]);
                upper.push(k);
            }
        }
        if minority < lo.saturating_add(lo_stake) && !lower.is_empty() {
            current = std::mem::take(&mut lower);
            hi = lo.saturating_add(lo_stake);
        } else if hi.saturating_sub(hi_stake) <= minority && !upper.is_empty() {
            current = std::mem::take(&mut upper);
            lo = hi.saturating_sub(hi_stake);
        } else {
            return pivot;
        }
        lower.clear();
        upper.clear();
    }
    ZERO
}

/// Subtensor's `weighted_median` with a majority ratio: the pivot search over all
/// entries with `minority = sum(stake) - majority`.
#[must_use]
pub fn weighted_median(stake: &[I32F32], score: &[I32F32], majority: I32F32) -> I32F32 {
    if stake.len() != score.len() {
        return ZERO;
    }
    let total = math::sum(stake);
    let idx: Vec<usize> = (0..stake.len()).collect();
    pivot_median(stake, score, &idx, total.saturating_sub(majority), total)
}

/// Subtensor's `weighted_median_col` on a dense matrix.
fn weighted_median_col(stake: &[I32F32], weights: &Matrix, n: usize, kappa: I32F32) -> Vec<I32F32> {
    let voters: Vec<usize> = (0..stake.len()).filter(|&i| stake[i] > ZERO).collect();
    let mut use_stake: Vec<I32F32> = voters.iter().map(|&i| stake[i]).collect();
    normalize(&mut use_stake);
    let total = math::sum(&use_stake);
    let minority = total.saturating_sub(kappa);
    let idx: Vec<usize> = (0..voters.len()).collect();
    (0..n)
        .map(|j| {
            if voters.is_empty() {
                return ZERO;
            }
            let score: Vec<I32F32> = voters.iter().map(|&i| weights[i][j]).collect();
            pivot_median(&use_stake, &score, &idx, minority, total)
        })
        .collect()
}

/// Run one epoch on dense matrices.
#[must_use]
pub fn epoch(params: &Params, input: &EpochInput<'_>) -> EpochOutput {
    let p = epoch::prepare(params, input);
    let core = core(params, input, &p);
    epoch::finish(input, &p, &core)
}

fn core(params: &Params, input: &EpochInput<'_>, p: &Prepared) -> Core {
    let n = p.n;
    let mut weights = densify(&epoch::masked_weights(input, p), n);
    row_normalize(&mut weights);

    let consensus = weighted_median_col(&p.active_stake, &weights, n, p.kappa);
    let clipped: Matrix = weights
        .iter()
        .map(|row| row.iter().zip(&consensus).map(|(w, c)| *c.min(w)).collect())
        .collect();
    let validator_trust: Vec<I32F32> = clipped.iter().map(|row| math::sum(row)).collect();
    let matmul = |m: &Matrix| -> Vec<I32F32> {
        let mut out = vec![ZERO; n];
        for (row, a) in m.iter().zip(&p.active_stake) {
            for (o, w) in out.iter_mut().zip(row) {
                *o = o.saturating_add(a.saturating_mul(*w));
            }
        }
        out
    };
    let preranks = matmul(&weights);
    let ranks = matmul(&clipped);
    let trust: Vec<I32F32> = ranks
        .iter()
        .zip(&preranks)
        .map(|(r, q)| safe_div(*r, *q))
        .collect();
    let mut incentive = ranks;
    normalize(&mut incentive);

    let penalty = p.bonds_penalty;
    let weights_for_bonds: Matrix = if penalty == ZERO {
        weights
    } else if penalty == ONE {
        clipped
    } else {
        weights
            .iter()
            .zip(&clipped)
            .map(|(rw, rc)| {
                rw.iter()
                    .zip(rc)
                    .map(|(w, c)| w.saturating_add(penalty.saturating_mul(c.saturating_sub(*w))))
                    .collect()
            })
            .collect()
    };
    let mut old = densify(&epoch::stored_bonds(input, p, params.variant), n);

    let ema_with = |new: &Matrix, old: &Matrix, alpha: I32F32| -> Matrix {
        let keep = ONE.saturating_sub(alpha);
        new.iter()
            .zip(old)
            .map(|(rn, ro)| {
                rn.iter()
                    .zip(ro)
                    .map(|(x, y)| {
                        alpha
                            .saturating_mul(*x)
                            .saturating_add(keep.saturating_mul(*y))
                    })
                    .collect()
            })
            .collect()
    };
    let row_dot = |m: &Matrix, v: &[I32F32]| -> Vec<I32F32> {
        m.iter()
            .map(|row| {
                row.iter()
                    .zip(v)
                    .fold(ZERO, |acc, (b, x)| acc.saturating_add(b.saturating_mul(*x)))
            })
            .collect()
    };

    let (dividends, ema) = match params.variant {
        Variant::Original => {
            col_normalize(&mut old, n);
            let mut delta: Matrix = weights_for_bonds
                .iter()
                .zip(&p.active_stake)
                .map(|(row, a)| row.iter().map(|w| a.saturating_mul(*w)).collect())
                .collect();
            col_normalize(&mut delta, n);
            let mut ema = ema_with(&delta, &old, p.alpha);
            col_normalize(&mut ema, n);
            let mut dividends = row_dot(&ema, &incentive);
            normalize(&mut dividends);
            col_max_upscale(&mut ema, n);
            (dividends, ema)
        }
        Variant::Yuma3 => {
            let ema: Matrix = match epoch::liquid_alpha(params) {
                Some(la) if consensus.iter().any(|c| *c != ZERO) => weights_for_bonds
                    .iter()
                    .zip(&old)
                    .map(|(rw, rb)| {
                        rw.iter()
                            .zip(rb)
                            .zip(&consensus)
                            .map(|((w, b), c)| {
                                let a = alpha_sigmoid(*c, *w, *b, la.low, la.high, la.steepness);
                                let decayed = ONE.saturating_sub(a).saturating_mul(*b);
                                decayed
                                    .saturating_add(a.saturating_mul(*w).max(ZERO))
                                    .min(ONE)
                            })
                            .collect()
                    })
                    .collect(),
                _ => {
                    let mut ema = ema_with(&weights_for_bonds, &old, p.alpha);
                    for v in ema.iter_mut().flatten() {
                        *v = (*v).min(ONE);
                    }
                    ema
                }
            };
            let mut normalized = ema.clone();
            col_normalize(&mut normalized, n);
            let per_validator = row_dot(&normalized, &incentive);
            let mut dividends = epoch::yuma3_dividends(&per_validator, &p.active_stake);
            normalize(&mut dividends);
            (dividends, ema)
        }
    };

    let bonds = ema
        .iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .filter(|(_, v)| **v > ZERO)
                .map(|(j, v)| (u16::try_from(j).unwrap_or(u16::MAX), *v))
                .collect()
        })
        .collect();
    Core {
        consensus,
        incentive,
        dividends,
        validator_trust,
        trust,
        bonds,
    }
}
