//! Train-on-one, test-on-holdout utility: multinomial logistic regression (macro-F1) or ridge (R²).

use crate::schema::{ColumnKind, Schema};
use crate::table::Table;
use nalgebra::{DMatrix, DVector};
use std::collections::BTreeMap;

/// How features are built, fixed by the training half T so every model sees the same space.
struct Featurizer {
    /// (column, mean, std) for continuous features.
    continuous: Vec<(usize, f64, f64)>,
    /// (column, categories) for one-hot features (plus one null indicator each).
    discrete: Vec<(usize, Vec<String>)>,
    dim: usize,
}

impl Featurizer {
    fn new(schema: &Schema, reference: &Table, target: usize) -> Self {
        let mut continuous = Vec::new();
        let mut discrete = Vec::new();
        let mut dim = 1; // intercept
        for (i, spec) in schema.columns.iter().enumerate() {
            if i == target || !spec.kind.is_scored() {
                continue;
            }
            if let Some(v) = reference.column(i).as_f64() {
                let vals: Vec<f64> = v.into_iter().filter(|x| !x.is_nan()).collect();
                let n = vals.len().max(1) as f64;
                let mean = vals.iter().sum::<f64>() / n;
                let var = vals.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
                let std = if var > 0.0 { var.sqrt() } else { 1.0 };
                continuous.push((i, mean, std));
                dim += 2;
            } else if let Some(labels) = reference.column(i).as_labels() {
                let cats: Vec<String> = labels
                    .iter()
                    .flatten()
                    .map(|s| (*s).to_owned())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                dim += cats.len() + 1;
                discrete.push((i, cats));
            }
        }
        Self {
            continuous,
            discrete,
            dim,
        }
    }

    fn matrix(&self, table: &Table) -> DMatrix<f64> {
        let n = table.num_rows();
        let mut x = DMatrix::zeros(n, self.dim);
        for r in 0..n {
            x[(r, 0)] = 1.0;
        }
        let mut c = 1;
        for &(i, mean, std) in &self.continuous {
            let v = table.column(i).as_f64().unwrap_or_default();
            for r in 0..n {
                if v[r].is_nan() {
                    x[(r, c + 1)] = 1.0;
                } else {
                    x[(r, c)] = ((v[r] - mean) / std).clamp(-10.0, 10.0);
                }
            }
            c += 2;
        }
        for (i, cats) in &self.discrete {
            let labels = table.column(*i).as_labels().unwrap_or_default();
            for (r, l) in labels.iter().enumerate() {
                match l {
                    Some(l) => {
                        if let Ok(k) = cats.binary_search_by(|c| c.as_str().cmp(l)) {
                            x[(r, c + k)] = 1.0;
                        }
                    }
                    None => x[(r, c + cats.len())] = 1.0,
                }
            }
            c += cats.len() + 1;
        }
        x
    }
}

/// Rows with a usable target: (row indices, class index or value).
fn class_targets(table: &Table, target: usize, classes: &[String]) -> (Vec<usize>, Vec<usize>) {
    let labels = table.column(target).as_labels().unwrap_or_default();
    labels
        .iter()
        .enumerate()
        .filter_map(|(r, l)| {
            let l = (*l)?;
            let k = classes.binary_search_by(|c| c.as_str().cmp(l)).ok()?;
            Some((r, k))
        })
        .unzip()
}

fn rows_of(x: &DMatrix<f64>, rows: &[usize]) -> DMatrix<f64> {
    DMatrix::from_fn(rows.len(), x.ncols(), |i, j| x[(rows[i], j)])
}

/// Multinomial logistic regression, L2 (C = 1), fixed-step gradient descent: deterministic.
fn fit_logistic(x: &DMatrix<f64>, y: &[usize], classes: usize) -> DMatrix<f64> {
    let (n, d) = (x.nrows(), x.ncols());
    let mut w = DMatrix::<f64>::zeros(d, classes);
    if n == 0 {
        return w;
    }
    let lipschitz =
        0.5 * (0..d).map(|j| x.column(j).norm_squared()).sum::<f64>() / n as f64 + 1.0 / n as f64;
    let step = 1.0 / lipschitz.max(1e-12);
    for _ in 0..300 {
        let mut p = x * &w;
        for mut row in p.row_iter_mut() {
            let m = row.max();
            row.apply(|v| *v = (*v - m).exp());
            let s = row.sum();
            row /= s;
        }
        for (i, &k) in y.iter().enumerate() {
            p[(i, k)] -= 1.0;
        }
        let mut grad = x.transpose() * p / n as f64;
        grad += &w / n as f64;
        w -= grad * step;
    }
    w
}

fn macro_f1(truth: &[usize], pred: &[usize]) -> f64 {
    let labels: std::collections::BTreeSet<usize> = truth.iter().chain(pred).copied().collect();
    if labels.is_empty() {
        return f64::NAN;
    }
    let f1s = labels.iter().map(|&c| {
        let tp = truth
            .iter()
            .zip(pred)
            .filter(|(t, p)| **t == c && **p == c)
            .count() as f64;
        let fp = truth
            .iter()
            .zip(pred)
            .filter(|(t, p)| **t != c && **p == c)
            .count() as f64;
        let fn_ = truth
            .iter()
            .zip(pred)
            .filter(|(t, p)| **t == c && **p != c)
            .count() as f64;
        if tp == 0.0 {
            0.0
        } else {
            2.0 * tp / (2.0 * tp + fp + fn_)
        }
    });
    f1s.sum::<f64>() / labels.len() as f64
}

/// Ridge regression (alpha = 1, intercept unpenalised) by the normal equations.
fn fit_ridge(x: &DMatrix<f64>, y: &DVector<f64>) -> DVector<f64> {
    let d = x.ncols();
    let mut a = x.transpose() * x;
    for j in 1..d {
        a[(j, j)] += 1.0;
    }
    a[(0, 0)] += 1e-9;
    let b = x.transpose() * y;
    a.cholesky()
        .map_or_else(|| DVector::zeros(d), |c| c.solve(&b))
}

fn r2(truth: &[f64], pred: &[f64]) -> f64 {
    let n = truth.len() as f64;
    let mean = truth.iter().sum::<f64>() / n;
    let ss_tot: f64 = truth.iter().map(|t| (t - mean) * (t - mean)).sum();
    let ss_res: f64 = truth.iter().zip(pred).map(|(t, p)| (t - p) * (t - p)).sum();
    if ss_tot == 0.0 {
        f64::NAN
    } else {
        1.0 - ss_res / ss_tot
    }
}

/// Score a model trained on `train` and tested on `test` (macro-F1 or R²); features from `reference`.
pub fn train_test_score(
    schema: &Schema,
    reference: &Table,
    train: &Table,
    test: &Table,
) -> Option<f64> {
    let target = schema.index_of(schema.target.as_deref()?)?;
    let feats = Featurizer::new(schema, reference, target);
    let (xtr, xte) = (feats.matrix(train), feats.matrix(test));
    match &schema.columns[target].kind {
        ColumnKind::Numerical | ColumnKind::Datetime { .. } => {
            let pick = |t: &Table| -> (Vec<usize>, Vec<f64>) {
                let v = t.column(target).as_f64().unwrap_or_default();
                v.iter()
                    .enumerate()
                    .filter(|(_, y)| !y.is_nan())
                    .map(|(r, y)| (r, *y))
                    .unzip()
            };
            let (rtr, ytr) = pick(train);
            let (rte, yte) = pick(test);
            if rte.is_empty() {
                return None;
            }
            let w = fit_ridge(&rows_of(&xtr, &rtr), &DVector::from_vec(ytr));
            let pred = rows_of(&xte, &rte) * w;
            Some(r2(&yte, pred.as_slice()))
        }
        _ => {
            let mut classes: Vec<String> = reference
                .column(target)
                .as_labels()
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .map(str::to_owned)
                .collect();
            classes.sort();
            classes.dedup();
            let (rtr, ytr) = class_targets(train, target, &classes);
            let (rte, yte) = class_targets(test, target, &classes);
            if rte.is_empty() || classes.is_empty() {
                return None;
            }
            let w = fit_logistic(&rows_of(&xtr, &rtr), &ytr, classes.len());
            let scores = rows_of(&xte, &rte) * w;
            let pred: Vec<usize> = scores
                .row_iter()
                .map(|r| {
                    let mut best = (0usize, f64::NEG_INFINITY);
                    for (k, v) in r.iter().enumerate() {
                        if *v > best.1 {
                            best = (k, *v);
                        }
                    }
                    best.0
                })
                .collect();
            Some(macro_f1(&yte, &pred))
        }
    }
}

/// Counts per class label of the target, for reports.
pub fn class_counts(schema: &Schema, table: &Table) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    if let Some(t) = schema.target.as_deref().and_then(|t| schema.index_of(t))
        && let Some(labels) = table.column(t).as_labels()
    {
        for l in labels.into_iter().flatten() {
            *out.entry(l.to_owned()).or_insert(0) += 1;
        }
    }
    out
}
