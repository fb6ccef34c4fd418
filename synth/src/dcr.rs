//! Distance to closest record (Gower-like, SDMetrics' definition), chunked across all cores.

use crate::schema::Schema;
use crate::table::Table;
use rayon::prelude::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Values divided by the reference range; distance min(|x−y|, 1).
    Scaled,
    /// Reference range 0 (or undefined): distance is the inequality indicator.
    Indicator,
    /// Codes; distance is the inequality indicator, null equal to null.
    Discrete,
}

/// Rows of one table encoded for distances: row-major, one f64 per scored column, NaN null.
struct Encoded {
    k: usize,
    values: Vec<f64>,
}

impl Encoded {
    fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.k..(i + 1) * self.k]
    }
}

/// The per-column modes and the encodings of the data and reference tables.
struct Space {
    modes: Vec<Mode>,
    data: Encoded,
    reference: Encoded,
}

/// The smallest and largest non-null values, `None` when every value is null.
pub(crate) fn bounds(values: &[f64]) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .iter()
        .filter(|x| !x.is_nan())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    (lo <= hi).then_some((lo, hi))
}

/// Range (max − min) of each scored continuous column of `table`, NaN if all null.
fn ranges(schema: &Schema, table: &Table) -> Vec<f64> {
    schema
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind.is_scored())
        .map(|(i, _)| match table.column(i).as_f64() {
            Some(v) => bounds(&v).map_or(f64::NAN, |(lo, hi)| hi - lo),
            None => f64::NAN,
        })
        .collect()
}

fn encode(schema: &Schema, data: &Table, reference: &Table, range_of: &Table) -> Space {
    let cols: Vec<usize> = (0..schema.columns.len())
        .filter(|&i| schema.columns[i].kind.is_scored())
        .collect();
    let k = cols.len();
    let rng = ranges(schema, range_of);
    let mut modes = Vec::with_capacity(k);
    let mut d = vec![f64::NAN; data.num_rows() * k];
    let mut r = vec![f64::NAN; reference.num_rows() * k];
    for (j, &c) in cols.iter().enumerate() {
        if schema.columns[c].kind.is_continuous() {
            let (dv, rv) = (
                data.column(c).as_f64().unwrap_or_default(),
                reference.column(c).as_f64().unwrap_or_default(),
            );
            let range = rng[j];
            let (mode, scale) = if range > 0.0 {
                (Mode::Scaled, 1.0 / range)
            } else {
                (Mode::Indicator, 1.0)
            };
            modes.push(mode);
            for (i, x) in dv.iter().enumerate() {
                d[i * k + j] = x * scale;
            }
            for (i, x) in rv.iter().enumerate() {
                r[i * k + j] = x * scale;
            }
        } else {
            modes.push(Mode::Discrete);
            let (dl, rl) = (
                data.column(c).as_labels().unwrap_or_default(),
                reference.column(c).as_labels().unwrap_or_default(),
            );
            let mut dict: BTreeMap<&str, f64> = BTreeMap::new();
            for v in dl.iter().chain(&rl).flatten() {
                let next = dict.len() as f64;
                dict.entry(v).or_insert(next);
            }
            for (i, v) in dl.iter().enumerate() {
                d[i * k + j] = v.and_then(|v| dict.get(v).copied()).unwrap_or(f64::NAN);
            }
            for (i, v) in rl.iter().enumerate() {
                r[i * k + j] = v.and_then(|v| dict.get(v).copied()).unwrap_or(f64::NAN);
            }
        }
    }
    Space {
        modes,
        data: Encoded { k, values: d },
        reference: Encoded { k, values: r },
    }
}

#[inline]
fn column_distance(mode: Mode, a: f64, b: f64) -> f64 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => 0.0,
        (true, false) | (false, true) => 1.0,
        (false, false) => match mode {
            Mode::Scaled => (a - b).abs().min(1.0),
            Mode::Indicator | Mode::Discrete => f64::from(u8::from(a != b)),
        },
    }
}

/// Sum of column distances, giving up (returning ≥ `bound`) once the sum reaches `bound`.
#[inline]
fn row_distance_sum(modes: &[Mode], a: &[f64], b: &[f64], bound: f64) -> f64 {
    let mut s = 0.0;
    for ((m, x), y) in modes.iter().zip(a).zip(b) {
        s += column_distance(*m, *x, *y);
        if s >= bound {
            return s;
        }
    }
    s
}

/// Nearest-neighbour search with a sorted projection on the most spread scaled column.
struct Index<'a> {
    space: &'a Space,
    /// Projection column, if any scaled column exists.
    proj: Option<usize>,
    /// Reference rows with a non-null projection value, sorted by it.
    sorted: Vec<(f64, usize)>,
    /// Reference rows with a null projection value.
    nulls: Vec<usize>,
}

impl<'a> Index<'a> {
    fn new(space: &'a Space) -> Self {
        let n = space.reference.values.len() / space.reference.k.max(1);
        let proj = (0..space.modes.len())
            .filter(|&j| matches!(space.modes[j], Mode::Scaled))
            .max_by_key(|&j| {
                let mut v: Vec<u64> = (0..n)
                    .map(|i| space.reference.row(i)[j])
                    .filter(|x| !x.is_nan())
                    .map(f64::to_bits)
                    .collect();
                v.sort_unstable();
                v.dedup();
                (v.len(), usize::MAX - j)
            });
        let (mut sorted, mut nulls) = (Vec::new(), Vec::new());
        if let Some(j) = proj {
            for i in 0..n {
                let x = space.reference.row(i)[j];
                if x.is_nan() {
                    nulls.push(i)
                } else {
                    sorted.push((x, i))
                }
            }
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        Self {
            space,
            proj,
            sorted,
            nulls,
        }
    }

    /// The `k` smallest summed column distances from `q` to reference rows other than
    /// `skip`, ascending (fewer when the reference has fewer rows).
    fn nearest_k_sums(&self, q: &[f64], k: usize, skip: Option<usize>) -> Vec<f64> {
        let modes = &self.space.modes;
        let reference = &self.space.reference;
        let n = reference.values.len() / reference.k.max(1);
        let mut best: Vec<f64> = Vec::with_capacity(k + 1);
        let bound = |best: &Vec<f64>| {
            if best.len() < k {
                f64::INFINITY
            } else {
                best[k - 1]
            }
        };
        let scan = |i: usize, best: &mut Vec<f64>| {
            if Some(i) == skip || k == 0 {
                return;
            }
            let b = bound(best);
            let s = row_distance_sum(modes, q, reference.row(i), b);
            if s < b {
                let at = best.partition_point(|x| *x <= s);
                best.insert(at, s);
                best.truncate(k);
            }
        };
        let full = |best: &mut Vec<f64>| {
            for i in 0..n {
                scan(i, best);
            }
        };
        let Some(j) = self.proj else {
            full(&mut best);
            return best;
        };
        let v = q[j];
        if v.is_nan() {
            full(&mut best);
            return best;
        }
        for &i in &self.nulls {
            scan(i, &mut best);
        }
        let pos = self.sorted.partition_point(|&(x, _)| x < v);
        let (mut lo, mut hi) = (pos, pos);
        loop {
            let left = (lo > 0).then(|| (v - self.sorted[lo - 1].0).min(1.0));
            let right = (hi < self.sorted.len()).then(|| (self.sorted[hi].0 - v).min(1.0));
            let (go_left, gap) = match (left, right) {
                (None, None) => break,
                (Some(l), None) => (true, l),
                (None, Some(r)) => (false, r),
                (Some(l), Some(r)) => (l <= r, l.min(r)),
            };
            if gap >= bound(&best) {
                break;
            }
            if go_left {
                lo -= 1;
                scan(self.sorted[lo].1, &mut best);
            } else {
                scan(self.sorted[hi].1, &mut best);
                hi += 1;
            }
        }
        best
    }

    /// min over reference rows of the summed column distance (k × DCR).
    fn nearest_sum(&self, q: &[f64]) -> f64 {
        self.nearest_k_sums(q, 1, None)
            .first()
            .copied()
            .unwrap_or(f64::INFINITY)
    }
}

fn dcr_in(space: &Space) -> Vec<f64> {
    let k = space.data.k;
    let n = space.data.values.len() / k.max(1);
    if k == 0 || space.reference.values.is_empty() {
        return vec![f64::NAN; n];
    }
    let index = Index::new(space);
    (0..n)
        .into_par_iter()
        .with_min_len(64)
        .map(|i| index.nearest_sum(space.data.row(i)) / k as f64)
        .collect()
}

/// DCR of every row of `data` to `reference`, columns scaled by the reference's own ranges
/// (SDMetrics' `calculate_dcr`). NaN for every row if the reference is empty.
pub fn dcr(schema: &Schema, data: &Table, reference: &Table) -> Vec<f64> {
    dcr_in(&encode(schema, data, reference, reference))
}

/// DCR with column ranges taken from `ranges_from` (e.g. always the training half T).
pub fn dcr_scaled_by(
    schema: &Schema,
    data: &Table,
    reference: &Table,
    ranges_from: &Table,
) -> Vec<f64> {
    dcr_in(&encode(schema, data, reference, ranges_from))
}

/// The `k` smallest Gower distances from every row of `data` to the rows of `reference`
/// (columns scaled by the ranges of `ranges_from`), ascending. With `leave_one_out`, it
/// names, for each data row, a reference row it may not use (`usize::MAX`: none), so a row
/// of `reference` is never its own neighbour. Deterministic: the same multiset of distances
/// whatever order the search visits rows in.
pub(crate) fn nearest_k(
    schema: &Schema,
    data: &Table,
    reference: &Table,
    ranges_from: &Table,
    k: usize,
    leave_one_out: Option<&[usize]>,
) -> Vec<Vec<f64>> {
    let space = encode(schema, data, reference, ranges_from);
    let cols = space.data.k;
    let n = space.data.values.len() / cols.max(1);
    if cols == 0 {
        return vec![Vec::new(); data.num_rows()];
    }
    let index = Index::new(&space);
    (0..n)
        .into_par_iter()
        .with_min_len(16)
        .map(|i| {
            index
                .nearest_k_sums(
                    space.data.row(i),
                    k,
                    leave_one_out.and_then(|s| s.get(i).copied()),
                )
                .into_iter()
                .map(|s| s / cols as f64)
                .collect()
        })
        .collect()
}

/// Brute-force DCR, for checking the indexed search.
#[cfg(test)]
fn dcr_brute(schema: &Schema, data: &Table, reference: &Table) -> Vec<f64> {
    let s = encode(schema, data, reference, reference);
    let n = s.data.values.len() / s.data.k;
    let m = s.reference.values.len() / s.reference.k;
    (0..n)
        .map(|i| {
            (0..m)
                .map(|r| {
                    row_distance_sum(&s.modes, s.data.row(i), s.reference.row(r), f64::INFINITY)
                })
                .fold(f64::INFINITY, f64::min)
                / s.data.k as f64
        })
        .collect()
}

/// SDMetrics' DCROverfittingProtection: share of synthetic rows closer to training than holdout.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DcrOverfitting {
    /// min((1 − closer_to_training) · 2, 1).
    pub score: f64,
    /// Share of synthetic rows with DCR(training) < DCR(holdout).
    pub closer_to_training: f64,
    /// 1 − closer_to_training.
    pub closer_to_holdout: f64,
}

/// DCROverfittingProtection exactly as SDMetrics defines it (each reference scaled by its ranges).
pub fn dcr_overfitting_protection(
    schema: &Schema,
    training: &Table,
    synthetic: &Table,
    holdout: &Table,
) -> DcrOverfitting {
    let to_train = dcr(schema, synthetic, training);
    let to_hold = dcr(schema, synthetic, holdout);
    overfitting_from(&to_train, &to_hold)
}

pub(crate) fn overfitting_from(to_train: &[f64], to_hold: &[f64]) -> DcrOverfitting {
    let closer = to_train.iter().zip(to_hold).filter(|(a, b)| a < b).count() as f64;
    let share = if to_train.is_empty() {
        0.0
    } else {
        closer / to_train.len() as f64
    };
    DcrOverfitting {
        score: ((1.0 - share) * 2.0).min(1.0),
        closer_to_training: share,
        closer_to_holdout: 1.0 - share,
    }
}

/// `numpy.median(values)`: the 50th [`percentile`], NaN skipped (NaN if empty).
pub fn median(values: &[f64]) -> f64 {
    percentile(values, 50.0)
}

/// `numpy.percentile(values, q)` with linear interpolation, NaN skipped (NaN if empty).
pub fn percentile(values: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let pos = (q / 100.0).clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::ColumnData;

    fn schema() -> Schema {
        Schema::from_metadata_json(
            r#"{"columns": {"x": {"sdtype": "numerical"}, "y": {"sdtype": "numerical"},
            "c": {"sdtype": "categorical"}, "id": {"sdtype": "id"}}}"#,
        )
        .unwrap()
    }

    fn table(n: usize, seed: u64) -> Table {
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut x = Vec::new();
        let mut y = Vec::new();
        let mut c = Vec::new();
        for _ in 0..n {
            let u = next();
            x.push(if u < 0.1 {
                f64::NAN
            } else {
                (next() * 100.0).round()
            });
            y.push(next());
            c.push(if next() < 0.1 {
                None
            } else {
                Some(format!("{}", (next() * 3.0) as u32))
            });
        }
        let ids = (0..n).map(|i| Some(i.to_string())).collect();
        Table::from_columns(
            &schema(),
            vec![
                ColumnData::Numerical(x),
                ColumnData::Numerical(y),
                ColumnData::Categorical(c),
                ColumnData::Id(ids),
            ],
        )
        .unwrap()
    }

    #[test]
    fn indexed_search_equals_brute_force() {
        let (a, b) = (table(300, 1), table(200, 2));
        let fast = dcr(&schema(), &a, &b);
        let slow = dcr_brute(&schema(), &a, &b);
        assert_eq!(fast.len(), 300);
        for (f, s) in fast.iter().zip(&slow) {
            assert!((f - s).abs() < 1e-12, "{f} vs {s}");
        }
        assert!(dcr(&schema(), &a, &a).iter().all(|&d| d == 0.0));
    }

    #[test]
    fn the_k_nearest_search_equals_brute_force_with_and_without_leaving_one_out() {
        let (a, b) = (table(250, 3), table(180, 4));
        let s = encode(&schema(), &a, &b, &b);
        let fast = nearest_k(&schema(), &a, &b, &b, 5, None);
        for (i, got) in fast.iter().enumerate() {
            let mut all: Vec<f64> = (0..180)
                .map(|r| {
                    row_distance_sum(&s.modes, s.data.row(i), s.reference.row(r), f64::INFINITY)
                        / s.data.k as f64
                })
                .collect();
            all.sort_by(f64::total_cmp);
            assert_eq!(got.len(), 5);
            for (g, w) in got.iter().zip(&all) {
                assert!((g - w).abs() < 1e-12, "{g} vs {w}");
            }
        }
        let own_rows: Vec<usize> = (0..180).collect();
        let own = nearest_k(&schema(), &b, &b, &b, 3, Some(&own_rows));
        let with_self = nearest_k(&schema(), &b, &b, &b, 4, None);
        for (o, w) in own.iter().zip(&with_self) {
            // Without leaving one out the row itself is the nearest, at 0.
            assert_eq!(w[0], 0.0);
            assert_eq!(o[..], w[1..]);
        }
    }

    #[test]
    fn percentile_interpolates_like_numpy() {
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), 2.5);
        assert!((percentile(&[0.0, 10.0], 5.0) - 0.5).abs() < 1e-12);
    }
}
