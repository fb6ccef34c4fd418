//! Sparse matrix operations of the epoch, each linear in the number of stored
//! entries (plus the number of rows or columns).
//!
//! Invariant: every row is sorted by column and holds each column at most once, so
//! two rows can be merged in one pass. Per entry, every operation rounds exactly as
//! subtensor's dense and sparse versions do; since fixed-point addition is exact,
//! the order in which entries are summed never changes a result.

use super::math::{
    Divisor, I32F32, ONE, SparseRow, ZERO, alpha_sigmoid_at_rate, safe_div, sigmoid_rate,
};

/// Divide every row by its sum, where that sum is positive.
pub(crate) fn row_normalize(m: &mut [SparseRow]) {
    for row in m.iter_mut() {
        let total = row.iter().fold(ZERO, |acc, e| acc.saturating_add(e.1));
        if let Some(d) = Divisor::new(total) {
            for e in row.iter_mut() {
                e.1 = d.divide(e.1);
            }
        }
    }
}

/// Row sums.
pub(crate) fn row_sums(m: &[SparseRow]) -> Vec<I32F32> {
    m.iter()
        .map(|row| row.iter().fold(ZERO, |acc, e| acc.saturating_add(e.1)))
        .collect()
}

/// Divide every column by its sum, where that sum is non-zero.
pub(crate) fn col_normalize(m: &mut [SparseRow], columns: usize) {
    let mut totals = vec![ZERO; columns];
    for row in m.iter() {
        for &(j, v) in row {
            if let Some(t) = totals.get_mut(usize::from(j)) {
                *t = t.saturating_add(v);
            }
        }
    }
    divide_columns(m, &totals);
}

/// Divide every column by its maximum, where that maximum is non-zero.
pub(crate) fn col_max_upscale(m: &mut [SparseRow], columns: usize) {
    let mut maxima = vec![ZERO; columns];
    for row in m.iter() {
        for &(j, v) in row {
            if let Some(x) = maxima.get_mut(usize::from(j))
                && *x < v
            {
                *x = v;
            }
        }
    }
    divide_columns(m, &maxima);
}

/// Divide every entry by its column's divisor, where that divisor is non-zero.
fn divide_columns(m: &mut [SparseRow], divisors: &[I32F32]) {
    let fast: Vec<Option<Divisor>> = divisors.iter().map(|d| Divisor::new(*d)).collect();
    for row in m.iter_mut() {
        for e in row.iter_mut() {
            let j = usize::from(e.0);
            match (
                fast.get(j).copied().flatten(),
                divisors.get(j).copied().unwrap_or(ZERO),
            ) {
                (Some(d), _) => e.1 = d.divide(e.1),
                (None, t) if t != ZERO => e.1 = safe_div(e.1, t),
                _ => {}
            }
        }
    }
}

/// Scale each row `i` by `v[i]` (rows past `v` are dropped).
pub(crate) fn row_hadamard(m: &[SparseRow], v: &[I32F32]) -> Vec<SparseRow> {
    m.iter()
        .zip(v)
        .map(|(row, &scale)| {
            row.iter()
                .map(|&(j, x)| (j, x.saturating_mul(scale)))
                .collect()
        })
        .collect()
}

/// `r_j = sum_i v_i m_ij` over `columns` columns.
pub(crate) fn matmul(m: &[SparseRow], v: &[I32F32], columns: usize) -> Vec<I32F32> {
    let mut out = vec![ZERO; columns];
    for (row, &scale) in m.iter().zip(v) {
        for &(j, x) in row {
            if let Some(o) = out.get_mut(usize::from(j)) {
                *o = o.saturating_add(scale.saturating_mul(x));
            }
        }
    }
    out
}

/// `r_i = sum_j m_ij v_j`.
pub(crate) fn matmul_transpose(m: &[SparseRow], v: &[I32F32]) -> Vec<I32F32> {
    m.iter()
        .map(|row| {
            row.iter().fold(ZERO, |acc, &(j, x)| {
                let vj = v.get(usize::from(j)).copied().unwrap_or(ZERO);
                acc.saturating_add(vj.saturating_mul(x))
            })
        })
        .collect()
}

/// Walk two sorted rows together, calling `f(column, a, b)` once per column present
/// in either (the missing side reads zero).
fn merge(a: &[(u16, I32F32)], b: &[(u16, I32F32)], mut f: impl FnMut(u16, I32F32, I32F32)) {
    let (mut x, mut y) = (0, 0);
    while x < a.len() || y < b.len() {
        match (a.get(x), b.get(y)) {
            (Some(&(ja, va)), Some(&(jb, vb))) if ja == jb => {
                f(ja, va, vb);
                x += 1;
                y += 1;
            }
            (Some(&(ja, va)), Some(&(jb, _))) if ja < jb => {
                f(ja, va, ZERO);
                x += 1;
            }
            (Some(&(ja, va)), None) => {
                f(ja, va, ZERO);
                x += 1;
            }
            (_, Some(&(jb, vb))) => {
                f(jb, ZERO, vb);
                y += 1;
            }
            (None, None) => break,
        }
    }
}

/// `a + ratio (b - a)` entry-wise (subtensor's `interpolate_sparse`): `a` itself for a
/// ratio of zero, `b` for one, otherwise the positive results.
pub(crate) fn interpolate(a: &[SparseRow], b: &[SparseRow], ratio: I32F32) -> Vec<SparseRow> {
    if ratio == ZERO {
        return a.to_vec();
    }
    if ratio == ONE {
        return b.to_vec();
    }
    a.iter()
        .zip(b)
        .map(|(ra, rb)| {
            let mut out = Vec::with_capacity(ra.len());
            merge(ra, rb, |j, va, vb| {
                let v = va.saturating_add(ratio.saturating_mul(vb.saturating_sub(va)));
                if v > ZERO {
                    out.push((j, v));
                }
            });
            out
        })
        .collect()
}

/// Exponential moving average `alpha new + (1 - alpha) old` over the union of both
/// matrices' entries, keeping positive results (subtensor's `mat_ema_sparse`). An
/// entry present only in `old` therefore decays instead of disappearing.
pub(crate) fn ema(new: &[SparseRow], old: &[SparseRow], alpha: I32F32) -> Vec<SparseRow> {
    let keep = ONE.saturating_sub(alpha);
    let empty = Vec::new();
    new.iter()
        .enumerate()
        .map(|(i, rn)| {
            let ro = old.get(i).unwrap_or(&empty);
            let mut out = Vec::with_capacity(rn.len().max(ro.len()));
            merge(rn, ro, |j, vn, vo| {
                let v = alpha
                    .saturating_mul(vn)
                    .saturating_add(keep.saturating_mul(vo));
                if v > ZERO {
                    out.push((j, v));
                }
            });
            out
        })
        .collect()
}

/// Liquid-alpha parameters as fixed-point numbers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LiquidAlphaFixed {
    /// Lower bound of alpha.
    pub(crate) low: I32F32,
    /// Upper bound of alpha.
    pub(crate) high: I32F32,
    /// Sigmoid steepness (not divided by 100 yet).
    pub(crate) steepness: I32F32,
}

/// Per-entry EMA with liquid alpha, clamped to `[0, 1]`, over the union of both
/// matrices' entries: `min(1, (1 - a_ij) old_ij + max(0, a_ij new_ij))`. A bond whose
/// weight entry is gone decays with the alpha of a zero weight (what subtensor's
/// dense path does); subtensor's sparse path would drop it instead.
pub(crate) fn ema_liquid(
    new: &[SparseRow],
    old: &[SparseRow],
    consensus: &[I32F32],
    la: LiquidAlphaFixed,
) -> Vec<SparseRow> {
    let empty = Vec::new();
    let rate = sigmoid_rate(la.steepness);
    new.iter()
        .enumerate()
        .map(|(i, rn)| {
            let ro = old.get(i).unwrap_or(&empty);
            let mut out = Vec::with_capacity(rn.len().max(ro.len()));
            merge(rn, ro, |j, w, b| {
                let c = consensus.get(usize::from(j)).copied().unwrap_or(ZERO);
                let a = alpha_sigmoid_at_rate(c, w, b, la.low, la.high, rate);
                let decayed = ONE.saturating_sub(a).saturating_mul(b);
                let bought = a.saturating_mul(w).max(ZERO);
                let v = decayed.saturating_add(bought).min(ONE);
                if v > ZERO {
                    out.push((j, v));
                }
            });
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: i32) -> I32F32 {
        I32F32::from_num(x)
    }

    #[test]
    fn merge_visits_the_union_in_column_order() {
        let a = vec![(1, f(1)), (3, f(3))];
        let b = vec![(0, f(10)), (3, f(30)), (7, f(70))];
        let mut seen = Vec::new();
        merge(&a, &b, |j, x, y| seen.push((j, x, y)));
        assert_eq!(
            seen,
            [
                (0, ZERO, f(10)),
                (1, f(1), ZERO),
                (3, f(3), f(30)),
                (7, ZERO, f(70))
            ]
        );
    }

    #[test]
    fn ema_keeps_decaying_entries() {
        let half = ONE / 2;
        let out = ema(&[vec![(2, ONE)]], &[vec![(1, ONE)]], half);
        assert_eq!(out, [vec![(1, half), (2, half)]]);
    }
}
