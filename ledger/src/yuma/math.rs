//! Fixed-point arithmetic behind Yuma consensus: conversions, normalisation, the
//! stake-weighted median, clipping and the liquid-alpha sigmoid.
//!
//! Every function here is total and deterministic: arithmetic saturates, a division
//! by zero (or one that overflows) yields zero, and no floating point is used. The
//! rounding of each operation is that of the [`fixed`] crate, which is the rounding
//! subtensor gets from `substrate_fixed`: a product is floored, a quotient is
//! truncated toward zero, and a conversion to fewer fractional bits is floored.
//!
//! Sparse matrices are `&[Vec<(u16, I32F32)>]`: one row per UID, each row a list of
//! `(column, value)` pairs. Absent entries are zero.

pub use fixed::types::{I32F32, I64F64};

/// 96 integer bits and 32 fractional bits: wide enough to multiply an `I32F32`
/// share by any `u64` amount without overflow.
pub type I96F32 = fixed::FixedI128<fixed::types::extra::U32>;

/// One sparse row: `(column, value)` pairs.
pub type SparseRow = Vec<(u16, I32F32)>;

/// Zero.
pub const ZERO: I32F32 = I32F32::ZERO;
/// One.
pub const ONE: I32F32 = I32F32::ONE;
/// `u16::MAX` as a fixed-point number, the scale of every stored proportion.
pub const U16_MAX: I32F32 = I32F32::const_from_int(65_535);

/// `a / b`, or zero when `b` is zero or the quotient overflows (subtensor's
/// `safe_div`). The quotient is truncated toward zero.
#[must_use]
pub fn safe_div(a: I32F32, b: I32F32) -> I32F32 {
    a.checked_div(b).unwrap_or(ZERO)
}

/// Exact truncating division of many dividends by one positive divisor, without a
/// 128-bit division per dividend: `floor(a * 2^32 / b)` is estimated with a
/// precomputed reciprocal of `b` and corrected by one remainder check. The result
/// is bit-identical to `a / b`; dividends outside `[0, b]` take the plain path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Divisor {
    bits: i64,
    reciprocal: u128,
}

impl Divisor {
    /// A divisor, or `None` if it is not positive.
    #[must_use]
    pub(crate) fn new(divisor: I32F32) -> Option<Self> {
        let bits = divisor.to_bits();
        let positive = u128::try_from(bits).ok().filter(|b| *b > 0)?;
        Some(Self {
            bits,
            reciprocal: (1u128 << 96) / positive,
        })
    }

    /// `dividend / divisor`, as [`safe_div`] computes it.
    #[must_use]
    pub(crate) fn divide(&self, dividend: I32F32) -> I32F32 {
        let a = dividend.to_bits();
        if a < 0 || a > self.bits {
            return safe_div(dividend, I32F32::from_bits(self.bits));
        }
        // 0 <= a <= b < 2^63, so a * floor(2^96 / b) <= 2^96 and the estimate is
        // the true quotient (at most 2^32) or one less.
        let (a, b) = (a.unsigned_abs() as u128, self.bits.unsigned_abs() as u128);
        let mut q = (a * self.reciprocal) >> 64;
        if (a << 32) - q * b >= b {
            q += 1;
        }
        I32F32::from_bits(q as i64)
    }
}

/// Saturating sum of a slice.
#[must_use]
pub fn sum(values: &[I32F32]) -> I32F32 {
    values.iter().fold(ZERO, |acc, v| acc.saturating_add(*v))
}

/// A stored `u16` proportion (`x / 65535`) as a fixed-point number.
#[must_use]
pub fn u16_proportion_to_fixed(x: u16) -> I32F32 {
    safe_div(I32F32::from_num(x), U16_MAX)
}

/// A proportion in `[0, 1]` as the stored `u16`: `floor(x * 65535)`, saturating to
/// `[0, 65535]`.
#[must_use]
pub fn fixed_proportion_to_u16(x: I32F32) -> u16 {
    x.saturating_mul(U16_MAX).saturating_to_num::<u16>()
}

/// Normalise in place so the values sum to one; a zero-sum vector is left as is.
pub fn normalize(values: &mut [I32F32]) {
    let total = sum(values);
    if total == ZERO {
        return;
    }
    match Divisor::new(total) {
        Some(d) => values.iter_mut().for_each(|v| *v = d.divide(*v)),
        None => values.iter_mut().for_each(|v| *v = safe_div(*v, total)),
    }
}

/// Raw stakes as proportions: stakes under `threshold` count as zero, the rest are
/// divided by their sum in `I64F64` and then floored to `I32F32`.
///
/// The quotient is computed exactly in 128-bit integers, which gives subtensor's
/// `I64F64` result bit for bit whenever subtensor's own sum does not overflow, and
/// a correct result for any `u64` stakes where subtensor would saturate.
#[must_use]
pub fn normalize_stake(raw: &[u64], threshold: u64) -> Vec<I32F32> {
    let filtered = raw.iter().map(|&s| if s < threshold { 0 } else { s });
    let total: u128 = filtered.clone().map(u128::from).sum();
    if total == 0 {
        return vec![ZERO; raw.len()];
    }
    filtered
        .map(|s| {
            // floor(floor(s * 2^64 / total) / 2^32) == floor(s * 2^32 / total) <= 2^32.
            let bits = (u128::from(s) << 32) / total;
            I32F32::from_bits(i64::try_from(bits).unwrap_or(i64::MAX))
        })
        .collect()
}

/// Flags the `k` largest non-zero values. Ties are broken as subtensor's stable
/// ascending sort breaks them: among equal values the higher index wins.
#[must_use]
pub fn is_topk_nonzero(values: &[I32F32], k: usize) -> Vec<bool> {
    let mut result: Vec<bool> = values.iter().map(|v| *v != ZERO).collect();
    let n = values.len();
    if n <= k {
        return result;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].cmp(&values[b]).then(a.cmp(&b)));
    for &idx in order.iter().take(n - k) {
        result[idx] = false;
    }
    result
}

/// Max-upscale to `u16` so the largest value becomes 65535 (subtensor's
/// `vec_max_upscale_to_u16`, including its rounding and its large-value branch).
#[must_use]
pub fn vec_max_upscale_to_u16(values: &[I32F32]) -> Vec<u16> {
    let Some(&max) = values.iter().max() else {
        return Vec::new();
    };
    if max == ZERO {
        return values
            .iter()
            .map(|e| e.saturating_mul(U16_MAX).saturating_to_num())
            .collect();
    }
    if max > I32F32::const_from_int(32_768) {
        let ratio = safe_div(U16_MAX, max);
        return values
            .iter()
            .map(|e| e.saturating_mul(ratio).round().saturating_to_num())
            .collect();
    }
    values
        .iter()
        .map(|e| {
            safe_div(e.saturating_mul(U16_MAX), max)
                .round()
                .saturating_to_num()
        })
        .collect()
}

/// Max-upscale a `u16` row so its largest value becomes 65535, as a chain does when
/// it stores a validator's weights.
#[must_use]
pub fn vec_u16_max_upscale_to_u16(values: &[u16]) -> Vec<u16> {
    let fixed: Vec<I32F32> = values.iter().map(|&v| I32F32::from_num(v)).collect();
    vec_max_upscale_to_u16(&fixed)
}

/// Median of `(score, stake)` pairs: the smallest score `v` whose cumulative stake
/// `S(score <= v)` exceeds `minority`, or the largest score if none does, or zero
/// for an empty set. `zero_group`, if any, is stake scoring zero that is not listed
/// (every listed score must then be positive).
///
/// This is exactly the value subtensor's pivot search (`weighted_median`) returns:
/// its partitions are contiguous score ranges whose stake sums are computed exactly,
/// so the search stops at the first score whose cumulative stake passes `minority`.
/// Here the pivot is the count-median of the current range (found by
/// `select_nth_unstable`), so each round halves the range and the whole search is
/// linear in the number of pairs.
fn weighted_select(
    zero_group: Option<I32F32>,
    entries: &mut [(I32F32, I32F32)],
    minority: I32F32,
) -> I32F32 {
    let mut below = ZERO;
    if let Some(mass) = zero_group {
        below = mass;
        if below > minority || entries.is_empty() {
            return ZERO;
        }
    }
    let mut range = entries;
    loop {
        if range.is_empty() {
            return ZERO;
        }
        let mid = range.len() / 2;
        let pivot = range.select_nth_unstable_by(mid, |a, b| a.0.cmp(&b.0)).1.0;
        let (mut lower, mut equal) = (ZERO, ZERO);
        let (mut has_lower, mut has_upper) = (false, false);
        for &(score, stake) in range.iter() {
            if score < pivot {
                lower = lower.saturating_add(stake);
                has_lower = true;
            } else if score == pivot {
                equal = equal.saturating_add(stake);
            } else {
                has_upper = true;
            }
        }
        if has_lower && below.saturating_add(lower) > minority {
            let k = partition(range, |score| score < pivot);
            range = &mut range[..k];
        } else if !has_upper || below.saturating_add(lower).saturating_add(equal) > minority {
            return pivot;
        } else {
            below = below.saturating_add(lower).saturating_add(equal);
            let k = partition(range, |score| score <= pivot);
            range = &mut range[k..];
        }
    }
}

/// Move the pairs whose score satisfies `keep_left` to the front; return how many.
fn partition(range: &mut [(I32F32, I32F32)], keep_left: impl Fn(I32F32) -> bool) -> usize {
    let mut k = 0;
    for i in 0..range.len() {
        if keep_left(range[i].0) {
            range.swap(i, k);
            k += 1;
        }
    }
    k
}

/// Stake-weighted median of `score` with majority ratio `majority`: the smallest
/// score `v` such that the stake scoring at most `v` exceeds `sum(stake) - majority`;
/// equivalently, the largest `x` such that at least `majority` of the stake scores at
/// least `x`. Returns zero for empty input or mismatched lengths.
#[must_use]
pub fn weighted_median(stake: &[I32F32], score: &[I32F32], majority: I32F32) -> I32F32 {
    if stake.len() != score.len() {
        return ZERO;
    }
    let minority = sum(stake).saturating_sub(majority);
    let mut entries: Vec<(I32F32, I32F32)> =
        score.iter().copied().zip(stake.iter().copied()).collect();
    weighted_select(None, &mut entries, minority)
}

/// Consensus: for each of `columns` columns, the stake-weighted `kappa`-median of
/// the weights the rows with positive stake give it (subtensor's
/// `weighted_median_col_sparse`). Rows with zero stake are ignored; the others'
/// stakes are renormalised to sum to one; absent entries score zero.
///
/// Cost: `O(nnz + rows + columns)`; the zero scores are never materialised.
#[must_use]
pub fn weighted_median_col(
    stake: &[I32F32],
    weights: &[SparseRow],
    columns: usize,
    kappa: I32F32,
) -> Vec<I32F32> {
    let mut use_stake: Vec<I32F32> = stake.iter().copied().filter(|s| *s > ZERO).collect();
    normalize(&mut use_stake);
    let stake_sum = sum(&use_stake);
    let minority = stake_sum.saturating_sub(kappa);
    let voters = use_stake.len();
    if voters == 0 {
        return vec![ZERO; columns];
    }

    // The voting rows (positive stake) with their renormalised stake.
    let empty = Vec::new();
    let rows: Vec<(&[(u16, I32F32)], I32F32)> = stake
        .iter()
        .enumerate()
        .filter(|(_, s)| **s > ZERO)
        .zip(use_stake)
        .map(|((i, _), s)| (weights.get(i).unwrap_or(&empty).as_slice(), s))
        .collect();

    let mut median = Vec::with_capacity(columns);
    let mut take_median = |bucket: &mut [(I32F32, I32F32)]| {
        let explicit = bucket.iter().fold(ZERO, |acc, e| acc.saturating_add(e.1));
        let zero_group = (bucket.len() < voters).then(|| stake_sum.saturating_sub(explicit));
        median.push(weighted_select(zero_group, bucket, minority));
    };

    let nnz: usize = rows.iter().map(|(row, _)| row.len()).sum();
    let blocks = columns.div_ceil(GATHER_BLOCK);
    let sorted = rows.iter().all(|(row, _)| row.is_sorted_by_key(|e| e.0));
    if sorted && rows.len().saturating_mul(blocks) <= nnz.saturating_mul(4) {
        // Dense enough: gather a block of columns at a time by walking each row in
        // order, so the buckets stay in cache.
        let mut cursors = vec![0usize; rows.len()];
        let mut buckets: Vec<Vec<(I32F32, I32F32)>> = vec![Vec::new(); GATHER_BLOCK];
        for start in (0..columns).step_by(GATHER_BLOCK) {
            let end = (start + GATHER_BLOCK).min(columns);
            buckets.iter_mut().for_each(Vec::clear);
            for ((row, s), cursor) in rows.iter().zip(cursors.iter_mut()) {
                while let Some(&(j, w)) = row.get(*cursor) {
                    let j = usize::from(j);
                    if j >= end {
                        break;
                    }
                    if w > ZERO {
                        buckets[j - start].push((w, *s));
                    }
                    *cursor += 1;
                }
            }
            buckets
                .iter_mut()
                .take(end - start)
                .for_each(|b| take_median(b));
        }
    } else {
        // Sparse (or unsorted) rows: transpose by counting, in O(nnz + columns).
        let mut offsets = vec![0usize; columns + 1];
        for (row, _) in &rows {
            for &(j, w) in *row {
                if usize::from(j) < columns && w > ZERO {
                    offsets[usize::from(j) + 1] += 1;
                }
            }
        }
        for j in 0..columns {
            offsets[j + 1] += offsets[j];
        }
        let mut fill = offsets.clone();
        let mut flat = vec![(ZERO, ZERO); offsets[columns]];
        for (row, s) in &rows {
            for &(j, w) in *row {
                let j = usize::from(j);
                if j < columns && w > ZERO {
                    flat[fill[j]] = (w, *s);
                    fill[j] += 1;
                }
            }
        }
        for j in 0..columns {
            take_median(&mut flat[offsets[j]..offsets[j + 1]]);
        }
    }
    median
}

/// Columns gathered per pass by [`weighted_median_col`] on dense input.
const GATHER_BLOCK: usize = 32;

/// Clip each entry to its column's threshold: `min(w_ij, threshold_j)`. An entry
/// clipped to a non-positive threshold is dropped (subtensor's `col_clip_sparse`).
#[must_use]
pub fn col_clip(weights: &[SparseRow], thresholds: &[I32F32]) -> Vec<SparseRow> {
    weights
        .iter()
        .map(|row| {
            row.iter()
                .filter_map(|&(j, w)| {
                    let th = thresholds.get(usize::from(j)).copied().unwrap_or(ZERO);
                    if th < w {
                        (th > ZERO).then_some((j, th))
                    } else {
                        Some((j, w))
                    }
                })
                .collect()
        })
        .collect()
}

/// `ln 2 / 16` with 80 fractional bits, rounded to nearest.
const LN2_OVER_16_Q80: i128 = 52_372_720_210_750_077_582_494;

/// `16 / ln 2` with 32 fractional bits, rounded to nearest.
const SIXTEEN_OVER_LN2_Q32: i128 = 99_141_248_300;

/// `2^(j/16)` for `j` in `0..16`, with 62 fractional bits, rounded to nearest.
const EXP2_SIXTEENTHS_Q62: [i64; 16] = [
    4_611_686_018_427_387_904,
    4_815_862_801_830_788_490,
    5_029_079_263_719_320_435,
    5_251_735_624_851_448_219,
    5_484_249_825_272_419_512,
    5_727_058_308_814_112_983,
    5_980_616_842_327_661_685,
    6_245_401_371_186_603_363,
    6_521_908_912_666_391_106,
    6_810_658_488_877_194_079,
    7_112_192_101_001_162_095,
    7_427_075_746_662_858_866,
    7_755_900_482_342_532_474,
    8_099_283_532_826_439_817,
    8_457_869_449_776_733_335,
    8_832_331_321_595_618_838,
];

/// Taylor terms of `e^r` for `|r| <= ln 2 / 32`: the tenth, `r^9/9!`, is below
/// `2^-70`.
const EXP_TERMS: usize = 10;

/// `floor(2^62 / k!)` for `k < EXP_TERMS`.
const EXP_COEFFICIENTS_Q62: [i64; EXP_TERMS] = {
    let mut c = [0i64; EXP_TERMS];
    let mut factorial: i64 = 1;
    let mut k = 0;
    while k < EXP_TERMS {
        if k > 0 {
            factorial *= k as i64;
        }
        c[k] = (1i64 << 62) / factorial;
        k += 1;
    }
    c
};

/// `a * b` with 62 fractional bits, floored. Both operands are below `2^63` in
/// magnitude, so the 128-bit product cannot overflow, and the callers keep the
/// result below `2^63` as well.
fn mul_q62(a: i64, b: i64) -> i64 {
    (i128::from(a).wrapping_mul(i128::from(b)) >> 62) as i64
}

/// `e^x` for `x` clamped to `[-20, 20]` (subtensor's `exp_safe`), with integers
/// only: `x = (16q + j) ln 2 / 16 + r` with `|r| <= ln 2 / 32`, so
/// `e^x = 2^q 2^(j/16) e^r`; `e^r` is a Taylor polynomial evaluated by Horner's rule
/// with 62 fractional bits, and the result is floored to `I32F32`. The error is a
/// few units of the last place at most.
#[must_use]
pub fn exp_safe(x: I32F32) -> I32F32 {
    let x = i128::from(
        x.clamp(I32F32::const_from_int(-20), I32F32::const_from_int(20))
            .to_bits(),
    );
    // k = round(16 x / ln 2), |k| <= 462; r = x - k ln 2 / 16 with 62 fractional
    // bits, |r| < 2^57.
    let k = (x * SIXTEEN_OVER_LN2_Q32 + (1 << 63)) >> 64;
    let r = (((x << 48) - k * LN2_OVER_16_Q80) >> 18) as i64;
    let mut acc = EXP_COEFFICIENTS_Q62[EXP_TERMS - 1];
    for c in EXP_COEFFICIENTS_Q62.iter().rev().skip(1) {
        acc = mul_q62(acc, r) + c;
    }
    let k = k as i64;
    let mantissa = mul_q62(EXP2_SIXTEENTHS_Q62[(k & 15) as usize], acc);
    // mantissa is in [1, 2) with 62 fractional bits; scale by 2^q, q = floor(k/16)
    // in [-29, 28], and keep 32 fractional bits.
    I32F32::from_bits(mantissa >> (30 - (k >> 4)))
}

/// Liquid alpha for one bond: a sigmoid of how far the weight is from consensus
/// (when buying) or from the bond (when selling), mapped to `[low, high]`:
/// `low + (high - low) / (1 + e^(-steepness/100 * (d - 1/2)))`, as subtensor's
/// `alpha_sigmoid`.
#[must_use]
pub fn alpha_sigmoid(
    consensus: I32F32,
    weight: I32F32,
    bond: I32F32,
    low: I32F32,
    high: I32F32,
    steepness: I32F32,
) -> I32F32 {
    let rate = sigmoid_rate(steepness);
    alpha_sigmoid_at_rate(consensus, weight, bond, low, high, rate)
}

/// The sigmoid's rate `-steepness / 100`, computed once per epoch.
pub(crate) fn sigmoid_rate(steepness: I32F32) -> I32F32 {
    steepness.saturating_div(I32F32::const_from_int(-100))
}

/// [`alpha_sigmoid`] with the rate already computed.
pub(crate) fn alpha_sigmoid_at_rate(
    consensus: I32F32,
    weight: I32F32,
    bond: I32F32,
    low: I32F32,
    high: I32F32,
    rate: I32F32,
) -> I32F32 {
    const HALF: I32F32 = I32F32::lit("0.5");
    let diff_buy = weight.saturating_sub(consensus).clamp(ZERO, ONE);
    let diff_sell = bond.saturating_sub(weight).clamp(ZERO, ONE);
    let combined = if weight >= bond { diff_buy } else { diff_sell };
    let exponent = rate.saturating_mul(combined.saturating_sub(HALF));
    let sigmoid = ONE.saturating_div(ONE.saturating_add(exp_safe(exponent)));
    let alpha = low.saturating_add(sigmoid.saturating_mul(high.saturating_sub(low)));
    alpha.min(high).max(low)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> I32F32 {
        s.parse().unwrap()
    }

    #[test]
    fn exp_is_accurate_and_clamped() {
        for (x, expected) in [
            ("0", 1.0_f64),
            ("1", std::f64::consts::E),
            ("-1", (-1.0f64).exp()),
            ("5", 5.0f64.exp()),
            ("-5", (-5.0f64).exp()),
            ("20", 20.0f64.exp()),
            ("-20", (-20.0f64).exp()),
            ("0.3465", 0.3465f64.exp()),
        ] {
            let got = exp_safe(lit(x)).to_num::<f64>();
            let tolerance = expected * 1e-9 + 2.0 / 4_294_967_296.0;
            assert!(
                (got - expected).abs() <= tolerance,
                "exp({x}) = {got}, want {expected}"
            );
        }
        assert_eq!(exp_safe(I32F32::MAX), exp_safe(lit("20")));
        assert_eq!(exp_safe(I32F32::MIN), exp_safe(lit("-20")));
    }

    #[test]
    fn exp_agrees_with_f64_across_its_range() {
        for i in -4_000..=4_000 {
            let x = I32F32::from_num(i) / 200;
            let expected = x.to_num::<f64>().exp();
            let got = exp_safe(x).to_num::<f64>();
            let tolerance = expected * 1e-14 + 2.0 / 4_294_967_296.0;
            assert!(
                (got - expected).abs() <= tolerance,
                "exp({x}) = {got}, want {expected}"
            );
        }
    }

    #[test]
    fn exp_of_the_range_edges_is_within_a_few_last_bits() {
        // floor(e^20 * 2^32) and floor(e^-20 * 2^32).
        let high = exp_safe(lit("20")).to_bits();
        assert!((high - 2_083_768_647_442_498_562).abs() <= 4, "{high}");
        assert_eq!(exp_safe(lit("-20")).to_bits(), 8);
        assert_eq!(exp_safe(ZERO), ONE);
    }

    proptest::proptest! {
        #[test]
        fn divisor_divides_exactly_like_fixed(b in 1i64..=i64::MAX, a in proptest::prelude::any::<i64>(), small in 0i64..(1 << 34)) {
            let d = Divisor::new(I32F32::from_bits(b)).unwrap();
            for a in [a, a.rem_euclid(b.saturating_add(1)), small.min(b), b, 0] {
                let a = I32F32::from_bits(a);
                proptest::prop_assert_eq!(d.divide(a), safe_div(a, I32F32::from_bits(b)));
            }
        }
    }

    #[test]
    fn topk_prefers_higher_uids_on_ties_and_skips_zero() {
        let v: Vec<I32F32> = [0, 1, 2, 3, 4, 5, 5, 5, 5, 6]
            .iter()
            .map(|&x| I32F32::from_num(x))
            .collect();
        assert_eq!(
            is_topk_nonzero(&v, 5),
            [
                false, false, false, false, false, true, true, true, true, true
            ]
        );
        let v: Vec<I32F32> = [0, 0, 1].iter().map(|&x| I32F32::from_num(x)).collect();
        assert_eq!(is_topk_nonzero(&v, 5), [false, false, true]);
        assert_eq!(is_topk_nonzero(&v, 0), [false, false, false]);
    }

    #[test]
    fn max_upscale_matches_subtensor_cases() {
        let f = |xs: &[&str]| xs.iter().map(|x| lit(x)).collect::<Vec<_>>();
        assert_eq!(
            vec_max_upscale_to_u16(&f(&["0", "0.000000001"])),
            [0, 65535]
        );
        assert_eq!(
            vec_max_upscale_to_u16(&f(&["0", "0.5", "1", "1.5", "2", "32768"])),
            [0, 1, 2, 3, 4, 65535]
        );
        assert_eq!(
            vec_max_upscale_to_u16(&f(&["0", "0.5", "1", "1.5", "2", "32768", "32769"])),
            [0, 1, 2, 3, 4, 65533, 65535]
        );
        assert_eq!(vec_u16_max_upscale_to_u16(&[0, 1, 65534]), [0, 1, 65535]);
        assert_eq!(vec_u16_max_upscale_to_u16(&[1]), [65535]);
        assert_eq!(
            vec_u16_max_upscale_to_u16(&[16383, 32767, 49149, 65535]),
            [16383, 32767, 49149, 65535]
        );
    }

    #[test]
    fn stake_normalization_floors_like_i64f64_then_i32f32() {
        let s = normalize_stake(&[1, 1, 1], 0);
        assert_eq!(s[0].to_bits(), (1i64 << 32) / 3);
        let s = normalize_stake(&[5, 10], 6);
        assert_eq!(s, [ZERO, ONE]);
        let s = normalize_stake(&[u64::MAX, u64::MAX], 0);
        assert_eq!(s[0], ONE / 2);
    }
}
