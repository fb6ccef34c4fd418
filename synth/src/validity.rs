//! Data Validity (boundary, category and key adherence) and NewRowSynthesis, as SDMetrics defines them.

use crate::schema::{ColumnKind, Schema};
use crate::table::{ColumnData, Table};
use std::collections::{BTreeMap, BTreeSet};

/// One column's validity score.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ValidityDetail {
    /// Column name.
    pub column: String,
    /// `BoundaryAdherence`, `CategoryAdherence` or `KeyUniqueness`.
    pub metric: String,
    /// Share of synthetic values that are valid.
    pub score: f64,
}

/// The Data Validity property: mean of the per-column scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DataValidity {
    /// Mean of the details' scores, NaN skipped.
    pub score: f64,
    /// Per-column scores in schema order.
    pub details: Vec<ValidityDetail>,
}

/// Share of synthetic values within the real range (or the schema's), nulls valid if real has any.
fn boundary_adherence(real: &[f64], synthetic: &[f64], range: Option<(f64, f64)>) -> f64 {
    let nullable = real.iter().any(|x| x.is_nan());
    let (lo, hi) = range.unwrap_or_else(|| {
        real.iter()
            .filter(|x| !x.is_nan())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            })
    });
    let considered: Vec<f64> = synthetic
        .iter()
        .copied()
        .filter(|x| !(nullable && x.is_nan()))
        .collect();
    if considered.is_empty() {
        return f64::NAN;
    }
    considered.iter().filter(|&&x| x >= lo && x <= hi).count() as f64 / considered.len() as f64
}

/// Share of synthetic labels seen in real (or in the schema's set), nulls valid if real has any.
fn category_adherence(
    real: &[Option<&str>],
    synthetic: &[Option<&str>],
    categories: Option<&[String]>,
) -> f64 {
    let nullable = real.iter().any(Option::is_none);
    let valid: BTreeSet<&str> = match categories {
        Some(c) => c.iter().map(String::as_str).collect(),
        None => real.iter().flatten().copied().collect(),
    };
    if synthetic.is_empty() {
        return f64::NAN;
    }
    synthetic
        .iter()
        .filter(|v| match v {
            Some(v) => valid.contains(v),
            None => nullable,
        })
        .count() as f64
        / synthetic.len() as f64
}

/// 1 − share of synthetic keys that are null or repeat an earlier one.
fn key_uniqueness(synthetic: &[Option<&str>]) -> f64 {
    if synthetic.is_empty() {
        return f64::NAN;
    }
    let mut seen = BTreeSet::new();
    let bad = synthetic
        .iter()
        .filter(|v| v.is_none_or(|v| !seen.insert(v)))
        .count();
    1.0 - bad as f64 / synthetic.len() as f64
}

/// Data Validity of `synthetic` against `real`: boundaries, categories, primary key uniqueness.
pub fn data_validity(schema: &Schema, real: &Table, synthetic: &Table) -> DataValidity {
    let mut details = Vec::new();
    for (i, spec) in schema.columns.iter().enumerate() {
        let (metric, score) = match &spec.kind {
            ColumnKind::Numerical | ColumnKind::Datetime { .. } => {
                let (r, s) = (
                    real.column(i).as_f64().unwrap_or_default(),
                    synthetic.column(i).as_f64().unwrap_or_default(),
                );
                ("BoundaryAdherence", boundary_adherence(&r, &s, spec.range))
            }
            ColumnKind::Categorical | ColumnKind::Boolean => {
                let (r, s) = (
                    real.column(i).as_labels().unwrap_or_default(),
                    synthetic.column(i).as_labels().unwrap_or_default(),
                );
                (
                    "CategoryAdherence",
                    category_adherence(&r, &s, spec.categories.as_deref()),
                )
            }
            ColumnKind::Id if schema.primary_key.as_deref() == Some(spec.name.as_str()) => {
                let s = synthetic.column(i).as_labels().unwrap_or_default();
                ("KeyUniqueness", key_uniqueness(&s))
            }
            ColumnKind::Id => continue,
        };
        details.push(ValidityDetail {
            column: spec.name.clone(),
            metric: metric.into(),
            score,
        });
    }
    DataValidity {
        score: crate::quality::nanmean(details.iter().map(|d| d.score)),
        details,
    }
}

/// NewRowSynthesis: share of synthetic rows that match no real row (numbers within 1%).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewRowSynthesis {
    /// num_new_rows / synthetic rows.
    pub score: f64,
    /// Synthetic rows matching no real row.
    pub num_new_rows: usize,
    /// Synthetic rows matching some real row.
    pub num_matched_rows: usize,
}

/// SDMetrics' NewRowSynthesis with `numerical_match_tolerance = 0.01`: a synthetic row is
/// matched when some real row has equal labels (null = null) and every number within
/// 1% of the synthetic value (null = null).
pub fn new_row_synthesis(schema: &Schema, real: &Table, synthetic: &Table) -> NewRowSynthesis {
    use rayon::prelude::*;
    let scored: Vec<usize> = (0..schema.columns.len())
        .filter(|&i| schema.columns[i].kind.is_scored())
        .collect();
    let (cont, disc): (Vec<usize>, Vec<usize>) = scored
        .iter()
        .partition(|&&i| schema.columns[i].kind.is_continuous());
    let numbers = |t: &Table| -> Vec<Vec<f64>> {
        cont.iter()
            .map(|&i| t.column(i).as_f64().unwrap_or_default())
            .collect()
    };
    let (rn, sn) = (numbers(real), numbers(synthetic));
    let label_key = |t: &Table, row: usize| -> Vec<Option<String>> {
        disc.iter()
            .map(|&i| match t.column(i) {
                ColumnData::Boolean(v) => v[row].map(|b| b.to_string()),
                ColumnData::Categorical(v) | ColumnData::Id(v) => v[row].clone(),
                _ => None,
            })
            .collect()
    };
    let mut groups: BTreeMap<Vec<Option<String>>, Vec<usize>> = BTreeMap::new();
    for r in 0..real.num_rows() {
        groups.entry(label_key(real, r)).or_default().push(r);
    }
    let matched = (0..synthetic.num_rows())
        .into_par_iter()
        .filter(|&s| {
            groups.get(&label_key(synthetic, s)).is_some_and(|rows| {
                rows.iter().any(|&r| {
                    rn.iter().zip(&sn).all(|(rc, sc)| {
                        let (x, y) = (rc[r], sc[s]);
                        match (x.is_nan(), y.is_nan()) {
                            (true, true) => true,
                            (false, false) => (x - y).abs() <= (0.01 * y).abs(),
                            _ => false,
                        }
                    })
                })
            })
        })
        .count();
    let n = synthetic.num_rows();
    NewRowSynthesis {
        score: if n == 0 {
            f64::NAN
        } else {
            (n - matched) as f64 / n as f64
        },
        num_new_rows: n - matched,
        num_matched_rows: matched,
    }
}
