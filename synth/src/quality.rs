//! SDMetrics 0.32.0 QualityReport: Column Shapes and Column Pair Trends, number for number.

use crate::schema::Schema;
use crate::table::{ColumnData, Table};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Thresholds for which column pairs count (SDMetrics' report defaults: 0.5 and 0.3).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QualityOptions {
    /// A continuous pair counts only if |Pearson ρ| in the real data exceeds this.
    pub real_correlation_threshold: f64,
    /// A mixed or discrete pair counts only if the real Cramér's V exceeds this.
    pub real_association_threshold: f64,
}

impl Default for QualityOptions {
    fn default() -> Self {
        Self {
            real_correlation_threshold: 0.5,
            real_association_threshold: 0.3,
        }
    }
}

impl QualityOptions {
    /// Every pair counts (both thresholds 0).
    pub fn no_thresholds() -> Self {
        Self {
            real_correlation_threshold: 0.0,
            real_association_threshold: 0.0,
        }
    }
}

/// The metric that scored a column or pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Metric {
    /// 1 − two-sample Kolmogorov–Smirnov statistic.
    KSComplement,
    /// 1 − total variation distance of category frequencies.
    TVComplement,
    /// 1 − |ρ_R − ρ_S| / 2 with Pearson ρ.
    CorrelationSimilarity,
    /// 1 − total variation distance of the joint frequency table.
    ContingencySimilarity,
}

/// One column's shape score.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ShapeDetail {
    /// Column name.
    pub column: String,
    /// The metric used.
    pub metric: Metric,
    /// The score (NaN when incomputable).
    pub score: f64,
    /// Why the score is NaN, if it is.
    pub error: Option<String>,
}

/// One column pair's trend score.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PairDetail {
    /// First column (schema order).
    pub column_1: String,
    /// Second column.
    pub column_2: String,
    /// The metric used.
    pub metric: Metric,
    /// The score (NaN when below threshold or incomputable).
    pub score: f64,
    /// Pearson ρ of the real data (continuous pairs).
    pub real_correlation: f64,
    /// Pearson ρ of the synthetic data (continuous pairs).
    pub synthetic_correlation: f64,
    /// Cramér's V of the real data (other pairs, only with a positive threshold).
    pub real_association: f64,
    /// Whether the pair counts towards the property score.
    pub meets_threshold: bool,
    /// Why the score is NaN, if an error made it so.
    pub error: Option<String>,
}

/// The QualityReport: overall, the two properties, and their details.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QualityReport {
    /// nanmean(column_shapes, column_pair_trends).
    pub overall: f64,
    /// Mean of the shape scores, NaN skipped.
    pub column_shapes: f64,
    /// Mean of the counting pair scores, NaN skipped.
    pub column_pair_trends: f64,
    /// Per-column shape scores, schema order.
    pub shapes: Vec<ShapeDetail>,
    /// Per-pair trend scores, schema order.
    pub pairs: Vec<PairDetail>,
}

/// The QualityReport of `synthetic` against `real` with SDMetrics' default thresholds.
pub fn quality_report(schema: &Schema, real: &Table, synthetic: &Table) -> QualityReport {
    quality_report_with(schema, real, synthetic, QualityOptions::default())
}

/// NaN-skipping mean (NaN if nothing is left).
pub(crate) fn nanmean(values: impl IntoIterator<Item = f64>) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for v in values {
        if !v.is_nan() {
            sum += v;
            n += 1;
        }
    }
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

/// The QualityReport with explicit thresholds.
pub fn quality_report_with(
    schema: &Schema,
    real: &Table,
    synthetic: &Table,
    options: QualityOptions,
) -> QualityReport {
    let scored: Vec<usize> = (0..schema.columns.len())
        .filter(|&i| schema.columns[i].kind.is_scored())
        .collect();
    let prepared_r: Vec<Prepared> = scored
        .par_iter()
        .map(|&i| Prepared::new(real.column(i)))
        .collect();
    let prepared_s: Vec<Prepared> = scored
        .par_iter()
        .map(|&i| Prepared::new(synthetic.column(i)))
        .collect();
    // Joint label dictionaries so codes agree between real and synthetic.
    let mut dicts: Vec<Option<(Vec<u32>, Vec<u32>)>> = Vec::with_capacity(scored.len());
    for &i in &scored {
        dicts.push(joint_codes(real.column(i), synthetic.column(i)));
    }
    let shapes: Vec<ShapeDetail> = scored
        .par_iter()
        .enumerate()
        .map(|(k, &i)| {
            let spec = &schema.columns[i];
            let (metric, result) = if spec.kind.is_continuous() {
                (
                    Metric::KSComplement,
                    ks_complement(&prepared_r[k].values, &prepared_s[k].values),
                )
            } else {
                let (r, s) = dicts[k]
                    .as_ref()
                    .map_or((&[][..], &[][..]), |(r, s)| (r, s));
                (Metric::TVComplement, tv_complement(r, s))
            };
            let (score, error) = match result {
                Ok(v) => (v, None),
                Err(e) => (f64::NAN, Some(e)),
            };
            ShapeDetail {
                column: spec.name.clone(),
                metric,
                score,
                error,
            }
        })
        .collect();
    let mut pair_idx = Vec::new();
    for a in 0..scored.len() {
        for b in a + 1..scored.len() {
            pair_idx.push((a, b));
        }
    }
    let pairs: Vec<PairDetail> = pair_idx
        .par_iter()
        .map(|&(a, b)| {
            let (ka, kb) = (
                &schema.columns[scored[a]].kind,
                &schema.columns[scored[b]].kind,
            );
            let mut d = PairDetail {
                column_1: schema.columns[scored[a]].name.clone(),
                column_2: schema.columns[scored[b]].name.clone(),
                metric: Metric::ContingencySimilarity,
                score: f64::NAN,
                real_correlation: f64::NAN,
                synthetic_correlation: f64::NAN,
                real_association: f64::NAN,
                meets_threshold: false,
                error: None,
            };
            if ka.is_continuous() && kb.is_continuous() {
                d.metric = Metric::CorrelationSimilarity;
                match correlation_similarity(
                    &prepared_r[a],
                    &prepared_r[b],
                    &prepared_s[a],
                    &prepared_s[b],
                    options.real_correlation_threshold,
                ) {
                    Ok((score, rr, rs)) => {
                        d.score = score;
                        d.real_correlation = rr;
                        d.synthetic_correlation = rs;
                        d.meets_threshold = options.real_correlation_threshold <= 0.0
                            || (!rr.is_nan() && rr.abs() > options.real_correlation_threshold);
                    }
                    Err(e) => d.error = Some(e),
                }
            } else {
                let codes = |k: usize, prepared: &[Prepared], real_side: bool| -> Vec<u32> {
                    let kind = &schema.columns[scored[k]].kind;
                    if kind.is_continuous() {
                        prepared[k].bins.clone()
                    } else {
                        let (r, s) = dicts[k]
                            .as_ref()
                            .map_or((&[][..], &[][..]), |(r, s)| (r, s));
                        if real_side { r.to_vec() } else { s.to_vec() }
                    }
                };
                let (ra, rb) = (codes(a, &prepared_r, true), codes(b, &prepared_r, true));
                let (sa, sb) = (codes(a, &prepared_s, false), codes(b, &prepared_s, false));
                let (score, assoc) =
                    contingency_similarity(&ra, &rb, &sa, &sb, options.real_association_threshold);
                d.score = score;
                d.real_association = assoc;
                d.meets_threshold = options.real_association_threshold <= 0.0
                    || (!assoc.is_nan() && assoc > options.real_association_threshold);
            }
            d
        })
        .collect();
    let column_shapes = nanmean(shapes.iter().map(|s| s.score));
    let column_pair_trends = nanmean(pairs.iter().filter(|p| p.meets_threshold).map(|p| p.score));
    QualityReport {
        overall: nanmean([column_shapes, column_pair_trends]),
        column_shapes,
        column_pair_trends,
        shapes,
        pairs,
    }
}

/// A continuous column prepared once: values (NaN null), and its 10-bin codes (NaN and max → 11).
struct Prepared {
    values: Vec<f64>,
    bins: Vec<u32>,
    distinct_non_null: usize,
}

impl Prepared {
    fn new(column: &ColumnData) -> Self {
        let Some(values) = column.as_f64() else {
            return Self {
                values: Vec::new(),
                bins: Vec::new(),
                distinct_non_null: 0,
            };
        };
        let edges = histogram_bin_edges(&values);
        let bins = values.iter().map(|&v| digitize(v, &edges)).collect();
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup();
        Self {
            values,
            bins,
            distinct_non_null: sorted.len(),
        }
    }
}

/// `numpy.histogram_bin_edges(values.dropna(), bins=10)`.
fn histogram_bin_edges(values: &[f64]) -> [f64; 11] {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for &v in values.iter().filter(|v| !v.is_nan()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        (lo, hi) = (0.0, 1.0);
    }
    if lo == hi {
        lo -= 0.5;
        hi += 0.5;
    }
    let step = (hi - lo) / 10.0;
    let mut edges = [0.0; 11];
    for (i, e) in edges.iter_mut().enumerate() {
        *e = i as f64 * step + lo;
    }
    edges[10] = hi;
    edges
}

/// `numpy.digitize(v, edges)`: how many edges are ≤ v; NaN sorts last (11).
fn digitize(v: f64, edges: &[f64; 11]) -> u32 {
    if v.is_nan() {
        return 11;
    }
    edges.iter().take_while(|&&e| e <= v).count() as u32
}

/// Codes for a discrete column in real and synthetic, from one dictionary; null is `u32::MAX`.
fn joint_codes(real: &ColumnData, synthetic: &ColumnData) -> Option<(Vec<u32>, Vec<u32>)> {
    let (r, s) = (real.as_labels()?, synthetic.as_labels()?);
    let mut dict: BTreeMap<&str, u32> = BTreeMap::new();
    for v in r.iter().chain(&s).flatten() {
        let next = dict.len() as u32;
        dict.entry(v).or_insert(next);
    }
    let code = |v: &Option<&str>| v.map_or(u32::MAX, |v| dict.get(v).copied().unwrap_or(u32::MAX));
    Some((r.iter().map(code).collect(), s.iter().map(code).collect()))
}

/// `numpy.round(x, 14)`: multiply, round half to even, divide.
fn round14(x: f64) -> f64 {
    let y = (x * 1e14).round_ties_even() / 1e14;
    if y.is_finite() { y } else { x }
}

/// KSComplement: 1 − D of scipy's `ks_2samp` on NaN-dropped, 14-decimal-rounded values.
pub(crate) fn ks_complement(real: &[f64], synthetic: &[f64]) -> Result<f64, String> {
    let prep = |v: &[f64]| {
        let mut out: Vec<f64> = v
            .iter()
            .copied()
            .filter(|x| !x.is_nan())
            .map(round14)
            .collect();
        out.sort_by(f64::total_cmp);
        out
    };
    let (a, b) = (prep(real), prep(synthetic));
    if a.is_empty() || b.is_empty() {
        return Ok(f64::NAN);
    }
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let (mut max_pos, mut max_neg) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    while i < a.len() || j < b.len() {
        let v = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        while i < a.len() && a[i] <= v {
            i += 1;
        }
        while j < b.len() && b[j] <= v {
            j += 1;
        }
        let diff = i as f64 / n1 - j as f64 / n2;
        max_pos = max_pos.max(diff);
        max_neg = max_neg.max(-diff);
    }
    let d = max_pos.max(max_neg.clamp(0.0, 1.0));
    Ok(1.0 - d)
}

/// TVComplement over codes (null dropped); synthetic-only values add 1e-6 to the real counts.
pub(crate) fn tv_complement(real: &[u32], synthetic: &[u32]) -> Result<f64, String> {
    let mut counts: BTreeMap<u32, (f64, f64)> = BTreeMap::new();
    let (mut nr, mut ns) = (0.0, 0.0);
    for &c in real.iter().filter(|&&c| c != u32::MAX) {
        counts.entry(c).or_default().0 += 1.0;
        nr += 1.0;
    }
    for &c in synthetic.iter().filter(|&&c| c != u32::MAX) {
        counts.entry(c).or_default().1 += 1.0;
        ns += 1.0;
    }
    if nr == 0.0 || ns == 0.0 {
        return Err(
            "IncomputableMetricError: The TVComplement metric must have 1 or more non-null values."
                .into(),
        );
    }
    let mut real_total = nr;
    for (r, _) in counts.values_mut() {
        if *r == 0.0 {
            *r = 1e-6;
            real_total += 1e-6;
        }
    }
    let tv: f64 = counts
        .values()
        .map(|(r, s)| (s / ns - r / real_total).abs())
        .sum();
    Ok(1.0 - 0.5 * tv)
}

/// scipy's `pearsonr` (NaN when a side is constant).
pub(crate) fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    (sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0)
}

fn complete_pairs(a: &[f64], b: &[f64]) -> (Vec<f64>, Vec<f64>) {
    a.iter()
        .zip(b)
        .filter(|(x, y)| !x.is_nan() && !y.is_nan())
        .map(|(x, y)| (*x, *y))
        .unzip()
}

/// CorrelationSimilarity: (score, ρ_R, ρ_S) or the error SDMetrics would record.
fn correlation_similarity(
    ra: &Prepared,
    rb: &Prepared,
    sa: &Prepared,
    sb: &Prepared,
    threshold: f64,
) -> Result<(f64, f64, f64), String> {
    if ra.distinct_non_null == 1 || rb.distinct_non_null == 1 {
        return Err("ConstantInputError: the real data contains a constant value".into());
    }
    if sa.distinct_non_null == 1 || sb.distinct_non_null == 1 {
        return Err("ConstantInputError: the synthetic data contains a constant value".into());
    }
    let (x, y) = complete_pairs(&ra.values, &rb.values);
    if x.len() < 2 {
        return Err("ValueError: x and y must have length at least 2.".into());
    }
    let real = pearson(&x, &y);
    if real.abs() <= threshold {
        return Ok((f64::NAN, real, f64::NAN));
    }
    let (x, y) = complete_pairs(&sa.values, &sb.values);
    if x.len() < 2 {
        return Err("ValueError: x and y must have length at least 2.".into());
    }
    let synth = pearson(&x, &y);
    if real.is_nan() || synth.is_nan() {
        return Ok((f64::NAN, real, synth));
    }
    Ok((1.0 - (real - synth).abs() / 2.0, real, synth))
}

/// Sorted (key, count) of a two-column code table.
fn joint_counts(a: &[u32], b: &[u32]) -> Vec<(u64, f64)> {
    let mut keys: Vec<u64> = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (u64::from(x) << 32) | u64::from(y))
        .collect();
    keys.sort_unstable();
    let mut out: Vec<(u64, f64)> = Vec::new();
    for k in keys {
        match out.last_mut() {
            Some((last, c)) if *last == k => *c += 1.0,
            _ => out.push((k, 1.0)),
        }
    }
    out
}

/// Cramér's V of the real contingency table, no correction (scipy `association`).
fn cramers_v(counts: &[(u64, f64)]) -> f64 {
    let mut rows: BTreeMap<u32, f64> = BTreeMap::new();
    let mut cols: BTreeMap<u32, f64> = BTreeMap::new();
    let mut n = 0.0;
    for &(k, c) in counts {
        *rows.entry((k >> 32) as u32).or_default() += c;
        *cols.entry(k as u32).or_default() += c;
        n += c;
    }
    if n == 0.0 || rows.len() < 2 || cols.len() < 2 {
        return f64::NAN;
    }
    // Σ over all cells of (O−E)²/E = Σ_nonzero[(O−E)²/E − E] + Σ_all E, and Σ_all E = n.
    let mut chi2 = 0.0;
    let mut e_nonzero = 0.0;
    for &(k, o) in counts {
        let e = rows[&((k >> 32) as u32)] * cols[&(k as u32)] / n;
        chi2 += (o - e) * (o - e) / e;
        e_nonzero += e;
    }
    chi2 += n - e_nonzero;
    let k = (rows.len().min(cols.len()) - 1) as f64;
    (chi2 / n / k).sqrt()
}

/// ContingencySimilarity: (score, real Cramér's V) — NaN score below the threshold.
fn contingency_similarity(
    ra: &[u32],
    rb: &[u32],
    sa: &[u32],
    sb: &[u32],
    threshold: f64,
) -> (f64, f64) {
    let real = joint_counts(ra, rb);
    let mut assoc = f64::NAN;
    if threshold > 0.0 {
        assoc = cramers_v(&real);
        if assoc.is_nan() || assoc <= threshold {
            return (f64::NAN, assoc);
        }
    }
    let synth = joint_counts(sa, sb);
    let (nr, ns) = (ra.len() as f64, sa.len() as f64);
    let (mut i, mut j) = (0, 0);
    let mut total = 0.0;
    while i < real.len() || j < synth.len() {
        let (pr, ps) = match (real.get(i), synth.get(j)) {
            (Some(r), Some(s)) if r.0 == s.0 => {
                i += 1;
                j += 1;
                (r.1 / nr, s.1 / ns)
            }
            (Some(r), Some(s)) if r.0 < s.0 => {
                i += 1;
                (r.1 / nr, 0.0)
            }
            (Some(r), None) => {
                i += 1;
                (r.1 / nr, 0.0)
            }
            (_, Some(s)) => {
                j += 1;
                (0.0, s.1 / ns)
            }
            (None, None) => break,
        };
        let d = (pr - ps).abs();
        if !d.is_nan() {
            total += d / 2.0;
        }
    }
    (1.0 - total, assoc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ks_matches_hand_computed_statistics() {
        assert_eq!(
            ks_complement(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]).unwrap(),
            1.0
        );
        assert_eq!(ks_complement(&[1.0, 2.0], &[3.0, 4.0]).unwrap(), 0.0);
        // Empirical CDFs differ most at 1: 1/2 vs 0.
        assert!((ks_complement(&[1.0, 2.0], &[1.5, 2.0]).unwrap() - 0.5).abs() < 1e-15);
        assert!(ks_complement(&[f64::NAN], &[1.0]).unwrap().is_nan());
    }

    #[test]
    fn tv_regularises_synthetic_only_values() {
        let s = tv_complement(&[0, 0, 1], &[0, 2]).unwrap();
        let rt: f64 = 3.0 + 1e-6;
        let expect =
            1.0 - 0.5 * ((0.5 - 2.0 / rt).abs() + (1.0 / rt).abs() + (0.5 - 1e-6 / rt).abs());
        assert!((s - expect).abs() < 1e-15);
        assert!(tv_complement(&[u32::MAX], &[0]).is_err());
    }

    #[test]
    fn bins_follow_numpy_digitize() {
        let edges = histogram_bin_edges(&[0.0, 10.0, f64::NAN]);
        assert_eq!(digitize(0.0, &edges), 1);
        assert_eq!(digitize(9.99, &edges), 10);
        assert_eq!(digitize(10.0, &edges), 11);
        assert_eq!(digitize(f64::NAN, &edges), 11);
        assert_eq!(digitize(-1.0, &edges), 0);
        let constant = histogram_bin_edges(&[3.0, 3.0]);
        assert_eq!(digitize(3.0, &constant), 6);
    }

    #[test]
    fn cramers_v_of_a_perfect_association_is_one() {
        let c = joint_counts(&[0, 0, 1, 1], &[5, 5, 7, 7]);
        assert!((cramers_v(&c) - 1.0).abs() < 1e-12);
    }
}
