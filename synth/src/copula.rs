//! SDV-style Gaussian copula synthesizer, plain or stratified by a categorical column; seeded.

use crate::rng::{SeededRng, derive_seed};
use crate::schema::{ColumnKind, Schema};
use crate::table::{ColumnData, Table};
use nalgebra::{DMatrix, DVector};
use statrs::distribution::{ContinuousCDF, Normal};
use std::collections::BTreeMap;

/// Errors fitting or sampling the copula.
#[derive(Debug, thiserror::Error)]
pub enum CopulaError {
    /// The training table has no rows.
    #[error("cannot fit a copula to an empty table")]
    EmptyTable,
    /// The stratification column is not a declared categorical or boolean column.
    #[error("cannot stratify by {0:?}: not a categorical or boolean column of the schema")]
    BadStratum(String),
    /// The table does not follow the schema.
    #[error("table does not match the schema")]
    SchemaMismatch,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Marginal {
    /// Empirical quantiles of the non-null values, smoothed by a Gaussian kernel of
    /// `bandwidth`; nulls re-inserted at `null_rate`.
    Continuous {
        sorted: Vec<f64>,
        null_rate: f64,
        decimals: u32,
        datetime: bool,
        /// Absent in copulas saved before the smoothing: none.
        #[serde(default)]
        bandwidth: f64,
    },
    /// Labels (null is a label) with cumulative frequency upper bounds.
    Discrete {
        labels: Vec<Option<String>>,
        upper: Vec<f64>,
        boolean: bool,
    },
    /// Identifiers: generated, not modelled.
    Id,
}

/// One fitted copula: marginals per schema column and the correlation of the normal scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Model {
    marginals: Vec<Marginal>,
    /// Schema columns in the copula (not ids).
    modelled: Vec<usize>,
    /// Lower Cholesky factor of the PSD-projected correlation, row-major d×d.
    factor: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Stratum {
    rows: usize,
    model: Model,
}

/// A fitted Gaussian copula (one per stratum when stratified).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GaussianCopula {
    schema: Schema,
    strata: Vec<Stratum>,
}

fn normal() -> Normal {
    Normal::standard()
}

fn rank_scores(values: &[f64]) -> Vec<f64> {
    // Average ranks of non-null values, mapped to (0, 1) by rank / (n + 1), then Φ⁻¹.
    let mut idx: Vec<usize> = (0..values.len()).filter(|&i| !values[i].is_nan()).collect();
    idx.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let n = idx.len() as f64;
    let mut z = vec![0.0; values.len()];
    let nd = normal();
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && values[idx[j + 1]] == values[idx[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        let score = nd.inverse_cdf(rank / (n + 1.0));
        for &k in &idx[i..=j] {
            z[k] = score;
        }
        i = j + 1;
    }
    z
}

fn fit_model(schema: &Schema, table: &Table, rng: &mut SeededRng) -> Model {
    let n = table.num_rows();
    let nd = normal();
    let mut marginals = Vec::with_capacity(schema.columns.len());
    let mut modelled = Vec::new();
    let mut scores: Vec<Vec<f64>> = Vec::new();
    for (i, spec) in schema.columns.iter().enumerate() {
        let col = table.column(i);
        if let (true, Some(values)) = (spec.kind.is_continuous(), col.as_f64()) {
            let mut sorted: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
            sorted.sort_by(f64::total_cmp);
            let null_rate = 1.0 - sorted.len() as f64 / n.max(1) as f64;
            marginals.push(Marginal::Continuous {
                bandwidth: bandwidth(&sorted),
                sorted,
                null_rate,
                decimals: table.decimals()[i],
                datetime: matches!(spec.kind, ColumnKind::Datetime { .. }),
            });
            modelled.push(i);
            scores.push(rank_scores(&values));
        } else if let (true, Some(labels)) = (spec.kind.is_discrete(), col.as_labels()) {
            let mut counts: BTreeMap<Option<&str>, usize> = BTreeMap::new();
            for l in &labels {
                *counts.entry(*l).or_default() += 1;
            }
            // Most frequent first, ties by label: a stable, seed-independent order.
            let mut order: Vec<(Option<&str>, usize)> = counts.into_iter().collect();
            order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let total = labels.len().max(1) as f64;
            let mut cum = 0.0;
            let mut upper = Vec::with_capacity(order.len());
            let mut lower_of: BTreeMap<Option<&str>, (f64, f64)> = BTreeMap::new();
            for (l, c) in &order {
                let lo = cum;
                cum += *c as f64 / total;
                upper.push(cum);
                lower_of.insert(*l, (lo, cum));
            }
            let z = labels
                .iter()
                .map(|l| {
                    let (lo, hi) = lower_of.get(l).copied().unwrap_or((0.0, 1.0));
                    let u = (lo + (hi - lo) * rng.open_uniform()).clamp(1e-9, 1.0 - 1e-9);
                    nd.inverse_cdf(u)
                })
                .collect();
            marginals.push(Marginal::Discrete {
                labels: order.iter().map(|(l, _)| l.map(str::to_owned)).collect(),
                upper,
                boolean: matches!(spec.kind, ColumnKind::Boolean),
            });
            modelled.push(i);
            scores.push(z);
        } else {
            marginals.push(Marginal::Id);
        }
    }
    let d = modelled.len();
    let mut corr = DMatrix::<f64>::identity(d, d);
    let stats: Vec<(f64, f64)> = scores
        .iter()
        .map(|z| {
            let m = z.iter().sum::<f64>() / n.max(1) as f64;
            let s = z.iter().map(|x| (x - m) * (x - m)).sum::<f64>().sqrt();
            (m, s)
        })
        .collect();
    for a in 0..d {
        for b in a + 1..d {
            let (ma, sa) = stats[a];
            let (mb, sb) = stats[b];
            let r = if sa > 0.0 && sb > 0.0 {
                scores[a]
                    .iter()
                    .zip(&scores[b])
                    .map(|(x, y)| (x - ma) * (y - mb))
                    .sum::<f64>()
                    / (sa * sb)
            } else {
                0.0
            };
            corr[(a, b)] = r.clamp(-1.0, 1.0);
            corr[(b, a)] = corr[(a, b)];
        }
    }
    Model {
        marginals,
        modelled,
        factor: psd_factor(corr),
    }
}

/// Project a correlation matrix to the PSD cone (eigenvalues ≥ 1e-6, unit diagonal) and factor it.
fn psd_factor(corr: DMatrix<f64>) -> Vec<f64> {
    let d = corr.nrows();
    if d == 0 {
        return Vec::new();
    }
    let eig = corr.symmetric_eigen();
    let clipped = eig.eigenvalues.map(|l| l.max(1e-6));
    let mut m = &eig.eigenvectors * DMatrix::from_diagonal(&clipped) * eig.eigenvectors.transpose();
    let diag: Vec<f64> = (0..d).map(|i| m[(i, i)].sqrt()).collect();
    for a in 0..d {
        for b in 0..d {
            m[(a, b)] /= diag[a] * diag[b];
        }
    }
    let m = (&m + m.transpose()) * 0.5;
    let l = match m.clone().cholesky() {
        Some(c) => c.l(),
        None => (m + DMatrix::identity(d, d) * 1e-6)
            .cholesky()
            .map_or_else(|| DMatrix::identity(d, d), |c| c.l()),
    };
    let mut out = Vec::with_capacity(d * d);
    for a in 0..d {
        for b in 0..d {
            out.push(l[(a, b)]);
        }
    }
    out
}

/// Empirical quantile with linear interpolation at u ∈ [0, 1].
/// The empirical quantile at `u`, interpolated linearly between every `step`-th order
/// statistic (and the maximum) rather than between all of them.
///
/// Interpolating between every training value puts the sampled density highest right at
/// the training values: a random point falls in a longer gap between order statistics than
/// the gaps next to a sample point (the inspection paradox), which is exactly what a
/// membership-inference attack reads. Knots `step` values apart spread each block's mass
/// evenly over it, so a training value is no likelier a location than any other, at a
/// cost of at most `step / n` in the marginal CDF.
fn quantile(sorted: &[f64], u: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let last = sorted.len() - 1;
    let step = knot_step(sorted.len());
    // Knots at 0, step, 2·step, …, and `last`.
    let knots = last.div_ceil(step);
    if knots == 0 {
        return sorted[0];
    }
    let pos = u.clamp(0.0, 1.0) * knots as f64;
    let j = (pos.floor() as usize).min(knots - 1);
    let (lo, hi) = (j * step, ((j + 1) * step).min(last));
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - j as f64)
}

/// How much wider than Silverman's rule of thumb the marginals' smoothing kernel is.
///
/// The empirical marginals reproduce where the training rows happen to cluster, and the
/// membership-inference ensemble reads that. Worst single-sample AUC over three data
/// sets, four splits and three attacks
/// (`each_membership_attack_tells_a_verbatim_copy_from_an_honest_copula`): 0.62
/// unsmoothed, 0.605 at 1.6×, 0.596 at 2×; the honest copula still scores 0.82–0.98.
const BANDWIDTH_FACTOR: f64 = 2.0;

/// The marginal's smoothing kernel: Silverman's rule of thumb
/// `0.9 · min(σ, IQR / 1.34) · n^(-1/5)`, times [`BANDWIDTH_FACTOR`]; 0 for a column
/// whose middle half is one value (no smoothing of mostly-constant columns).
fn bandwidth(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n < 2 {
        return 0.0;
    }
    let nf = n as f64;
    let mean = sorted.iter().sum::<f64>() / nf;
    let sd = (sorted.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (nf - 1.0)).sqrt();
    let at = |q: f64| sorted[((q * (nf - 1.0)).round() as usize).min(n - 1)];
    let iqr = at(0.75) - at(0.25);
    let h = 0.9 * sd.min(iqr / 1.34) * nf.powf(-0.2) * BANDWIDTH_FACTOR;
    if h.is_finite() { h.max(0.0) } else { 0.0 }
}

/// Order statistics between quantile knots: about half the square root of the sample size.
fn knot_step(n: usize) -> usize {
    (((n as f64).sqrt() / 2.0).round() as usize).max(1)
}

fn sample_model(model: &Model, rows: usize, rng: &mut SeededRng, out: &mut [ColumnData]) {
    let nd = normal();
    let d = model.modelled.len();
    let l = DMatrix::from_row_slice(d, d, &model.factor);
    for _ in 0..rows {
        let eps = DVector::from_fn(d, |_, _| rng.normal());
        let z = &l * eps;
        for (k, &col) in model.modelled.iter().enumerate() {
            let u = nd.cdf(z[k]);
            match (&model.marginals[col], &mut out[col]) {
                (
                    Marginal::Continuous {
                        sorted,
                        null_rate,
                        decimals,
                        bandwidth,
                        ..
                    },
                    data,
                ) => {
                    let null = *null_rate > 0.0 && rng.uniform() < *null_rate;
                    let x = if null || sorted.is_empty() {
                        f64::NAN
                    } else if *bandwidth > 0.0 {
                        (quantile(sorted, u) + bandwidth * rng.normal())
                            .clamp(sorted[0], sorted[sorted.len() - 1])
                    } else {
                        quantile(sorted, u)
                    };
                    match data {
                        ColumnData::Numerical(v) => {
                            let scale = 10f64.powi(i32::try_from(*decimals).unwrap_or(15).min(15));
                            v.push(if x.is_nan() {
                                x
                            } else {
                                // Re-rounding may not leave the observed range (values
                                // with more than 15 decimals round past their own extremes).
                                ((x * scale).round_ties_even() / scale)
                                    .clamp(sorted[0], sorted[sorted.len() - 1])
                            });
                        }
                        ColumnData::Datetime(v) => {
                            v.push((!x.is_nan()).then(|| x.round() as i64));
                        }
                        _ => {}
                    }
                }
                (Marginal::Discrete { labels, upper, .. }, data) => {
                    let k = upper
                        .partition_point(|&b| b <= u)
                        .min(labels.len().saturating_sub(1));
                    let label = labels.get(k).cloned().flatten();
                    match data {
                        ColumnData::Categorical(v) => v.push(label),
                        ColumnData::Boolean(v) => v.push(label.map(|l| l == "True")),
                        _ => {}
                    }
                }
                (Marginal::Id, _) => {}
            }
        }
    }
}

impl GaussianCopula {
    /// Fit one copula to the whole table.
    pub fn fit(schema: &Schema, table: &Table, seed: [u8; 32]) -> Result<Self, CopulaError> {
        check(schema, table)?;
        let mut rng = SeededRng::new(derive_seed(&seed, "copula-fit"));
        let model = fit_model(schema, table, &mut rng);
        Ok(Self {
            schema: schema.clone(),
            strata: vec![Stratum {
                rows: table.num_rows(),
                model,
            }],
        })
    }

    /// Fit one copula per value of the categorical column `column` (null is a value too).
    pub fn fit_stratified(
        schema: &Schema,
        table: &Table,
        column: &str,
        seed: [u8; 32],
    ) -> Result<Self, CopulaError> {
        check(schema, table)?;
        let idx = schema
            .index_of(column)
            .filter(|&i| schema.columns[i].kind.is_discrete())
            .ok_or_else(|| CopulaError::BadStratum(column.to_owned()))?;
        let labels = table
            .column(idx)
            .as_labels()
            .ok_or_else(|| CopulaError::BadStratum(column.to_owned()))?;
        let mut groups: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
        for (r, l) in labels.iter().enumerate() {
            groups.entry(*l).or_default().push(r);
        }
        let mut rng = SeededRng::new(derive_seed(&seed, "copula-fit"));
        let strata = groups
            .values()
            .map(|rows| Stratum {
                rows: rows.len(),
                model: fit_model(schema, &table.select(rows), &mut rng),
            })
            .collect();
        Ok(Self {
            schema: schema.clone(),
            strata,
        })
    }

    /// Sample `rows` rows; ids are `0..rows`. The same seed gives the same table.
    pub fn sample(&self, rows: usize, seed: [u8; 32]) -> Table {
        let mut rng = SeededRng::new(derive_seed(&seed, "copula-sample"));
        let total: usize = self.strata.iter().map(|s| s.rows).sum();
        // Largest-remainder allocation of rows to strata by their training share.
        let exact: Vec<f64> = self
            .strata
            .iter()
            .map(|s| rows as f64 * s.rows as f64 / total.max(1) as f64)
            .collect();
        let mut counts: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
        let mut order: Vec<usize> = (0..counts.len()).collect();
        order.sort_by(|&a, &b| {
            (exact[b] - exact[b].floor())
                .total_cmp(&(exact[a] - exact[a].floor()))
                .then(a.cmp(&b))
        });
        let short = rows - counts.iter().sum::<usize>();
        for &k in order.iter().take(short) {
            counts[k] += 1;
        }
        let mut out: Vec<ColumnData> = self
            .schema
            .columns
            .iter()
            .map(|c| match c.kind {
                ColumnKind::Numerical => ColumnData::Numerical(Vec::with_capacity(rows)),
                ColumnKind::Datetime { .. } => ColumnData::Datetime(Vec::with_capacity(rows)),
                ColumnKind::Categorical => ColumnData::Categorical(Vec::with_capacity(rows)),
                ColumnKind::Boolean => ColumnData::Boolean(Vec::with_capacity(rows)),
                ColumnKind::Id => ColumnData::Id((0..rows).map(|i| Some(i.to_string())).collect()),
            })
            .collect();
        for (s, &c) in self.strata.iter().zip(&counts) {
            sample_model(&s.model, c, &mut rng, &mut out);
        }
        // Fill columns that no model covers (all-null in training) with nulls.
        for col in &mut out {
            while col.len() < rows {
                match col {
                    ColumnData::Numerical(v) => v.push(f64::NAN),
                    ColumnData::Datetime(v) => v.push(None),
                    ColumnData::Categorical(v) | ColumnData::Id(v) => v.push(None),
                    ColumnData::Boolean(v) => v.push(None),
                }
            }
        }
        let mut perm: Vec<usize> = (0..rows).collect();
        rng.shuffle(&mut perm);
        for col in &mut out {
            // Ids stay 0..rows in output order; everything else follows the shuffle.
            if !matches!(col, ColumnData::Id(_)) {
                *col = col.select(&perm);
            }
        }
        Table::from_parts(out, self.decimals(), rows)
    }

    fn decimals(&self) -> Vec<u32> {
        self.strata
            .first()
            .map(|s| {
                s.model
                    .marginals
                    .iter()
                    .map(|m| match m {
                        Marginal::Continuous { decimals, .. } => *decimals,
                        _ => 0,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn check(schema: &Schema, table: &Table) -> Result<(), CopulaError> {
    if table.columns().len() != schema.columns.len() {
        return Err(CopulaError::SchemaMismatch);
    }
    if table.num_rows() == 0 {
        return Err(CopulaError::EmptyTable);
    }
    Ok(())
}
