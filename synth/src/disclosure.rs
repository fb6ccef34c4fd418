//! SDMetrics' `DisclosureProtection` (CAP-based attribute disclosure), ported exactly.
//!
//! An attacker who knows some columns of a real row (the *known* columns) looks up the
//! synthetic rows with the same values there and guesses the *sensitive* columns from them.
//! CAP protection is 1 − the mean probability the synthetic rows give the true sensitive
//! values; the score is that divided by the protection of a random guess
//! (1 − 1/Π distinct sensitive values), capped at 1. Continuous columns named in
//! `continuous` are cut into `bins` equal-width bins of the real column (`pandas.cut`, outer
//! edges open); nulls are a category of their own.

use std::collections::BTreeMap;

use crate::schema::Schema;
use crate::table::{ColumnData, Table};

/// Why the metric could not be computed (SDMetrics raises `ValueError` on the same inputs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisclosureError {
    /// No known or no sensitive column was given.
    #[error("at least one known and one sensitive column are needed")]
    NoColumns,
    /// A named column is not in the schema.
    #[error("column {0:?} is not in the schema")]
    UnknownColumn(String),
    /// `bins` is 0.
    #[error("the number of bins must be at least 1")]
    NoBins,
}

/// How the attacker turns matching synthetic rows into a guess (SDMetrics' `computation_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CapMethod {
    /// `cap`: rows whose known values match no synthetic row are not counted.
    Cap,
    /// `zero_cap`: such rows count as a failed guess (probability 0).
    ZeroCap,
    /// `generalized_cap`: such rows use the synthetic keys at the least Hamming distance.
    GeneralizedCap,
}

/// `DisclosureProtection.compute_breakdown`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DisclosureProtection {
    /// min(cap_protection / baseline_protection, 1); NaN when the baseline is 0.
    #[serde(with = "nan_as_null")]
    pub score: f64,
    /// 1 − the mean probability of the true sensitive values (NaN when no row counts).
    #[serde(with = "nan_as_null")]
    pub cap_protection: f64,
    /// 1 − 1/Π (distinct real values of each sensitive column).
    #[serde(with = "nan_as_null")]
    pub baseline_protection: f64,
}

/// NaN travels as JSON `null` and comes back as NaN (JSON has no NaN).
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_nan() {
            s.serialize_none()
        } else {
            s.serialize_f64(*x)
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// One column's values as comparable tokens (`None`: null, its own category).
type Tokens = Vec<Option<String>>;
/// One row's tokens over some columns.
type Key<'a> = &'a [Option<String>];

/// `pandas.cut(real, bins)` edges with the outer ones open: the interior edges.
fn interior_edges(real: &[f64], bins: usize) -> Vec<f64> {
    let Some((mut mn, mut mx)) = crate::dcr::bounds(real) else {
        return Vec::new();
    };
    if mn == mx {
        mn -= if mn != 0.0 { 0.001 * mn.abs() } else { 0.001 };
        mx += if mx != 0.0 { 0.001 * mx.abs() } else { 0.001 };
    }
    // numpy.linspace: start + i·step, step = (stop − start)/bins.
    let step = (mx - mn) / bins as f64;
    (1..bins).map(|i| i as f64 * step + mn).collect()
}

/// Bin label of `x` for right-closed bins with these interior edges.
fn bin_of(edges: &[f64], x: f64) -> Option<String> {
    (!x.is_nan()).then(|| edges.partition_point(|e| *e < x).to_string())
}

fn tokens(column: &ColumnData) -> Tokens {
    match column {
        ColumnData::Numerical(v) => v
            .iter()
            .map(|x| (!x.is_nan()).then(|| format!("{x}")))
            .collect(),
        ColumnData::Datetime(v) => v.iter().map(|x| x.map(|x| x.to_string())).collect(),
        ColumnData::Boolean(v) => v.iter().map(|x| x.map(|b| b.to_string())).collect(),
        ColumnData::Categorical(v) | ColumnData::Id(v) => v.clone(),
    }
}

/// The real and synthetic tokens of column `name`, binned when it is continuous.
fn column_tokens(
    schema: &Schema,
    real: &Table,
    synthetic: &Table,
    name: &str,
    continuous: &[&str],
    bins: usize,
) -> Result<(Tokens, Tokens), DisclosureError> {
    let i = schema
        .index_of(name)
        .ok_or_else(|| DisclosureError::UnknownColumn(name.to_owned()))?;
    let (r, s) = (real.column(i), synthetic.column(i));
    if continuous.contains(&name)
        && let (Some(rv), Some(sv)) = (r.as_f64(), s.as_f64())
    {
        {
            let edges = interior_edges(&rv, bins);
            return Ok((
                rv.iter().map(|x| bin_of(&edges, *x)).collect(),
                sv.iter().map(|x| bin_of(&edges, *x)).collect(),
            ));
        }
    }
    Ok((tokens(r), tokens(s)))
}

fn rows_of(columns: &[Tokens], n: usize) -> Vec<Vec<Option<String>>> {
    (0..n)
        .map(|r| columns.iter().map(|c| c[r].clone()).collect())
        .collect()
}

/// `DisclosureProtection.compute_breakdown(real, synthetic, known, sensitive, method,
/// continuous, bins)`, exactly as SDMetrics 0.32.0 computes it.
#[allow(clippy::too_many_arguments)]
pub fn disclosure_protection(
    schema: &Schema,
    real: &Table,
    synthetic: &Table,
    known: &[&str],
    sensitive: &[&str],
    method: CapMethod,
    continuous: &[&str],
    bins: usize,
) -> Result<DisclosureProtection, DisclosureError> {
    if known.is_empty() || sensitive.is_empty() {
        return Err(DisclosureError::NoColumns);
    }
    if bins == 0 {
        return Err(DisclosureError::NoBins);
    }
    let split = |names: &[&str]| -> Result<(Vec<Tokens>, Vec<Tokens>), DisclosureError> {
        let mut r = Vec::new();
        let mut s = Vec::new();
        for n in names {
            let (a, b) = column_tokens(schema, real, synthetic, n, continuous, bins)?;
            r.push(a);
            s.push(b);
        }
        Ok((r, s))
    };
    let (rk, sk) = split(known)?;
    let (rs, ss) = split(sensitive)?;

    let distinct: f64 = rs
        .iter()
        .map(|c| c.iter().collect::<std::collections::BTreeSet<_>>().len() as f64)
        .product();
    let baseline_protection = 1.0 - 1.0 / distinct;

    let (nr, ns) = (real.num_rows(), synthetic.num_rows());
    let (real_keys, real_sens) = (rows_of(&rk, nr), rows_of(&rs, nr));
    let (syn_keys, syn_sens) = (rows_of(&sk, ns), rows_of(&ss, ns));
    // Synthetic key → its rows' sensitive values, keys in first-seen order.
    let mut index: BTreeMap<Key<'_>, usize> = BTreeMap::new();
    let mut groups: Vec<(Key<'_>, Vec<Key<'_>>)> = Vec::new();
    for (k, s) in syn_keys.iter().zip(&syn_sens) {
        let g = *index.entry(k.as_slice()).or_insert_with(|| {
            groups.push((k.as_slice(), Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push(s.as_slice());
    }
    let frequency = |list: &[Key<'_>], target: Key<'_>| {
        list.iter().filter(|s| **s == target).count() as f64 / list.len() as f64
    };
    let (mut count, mut score) = (0usize, 0.0f64);
    for (key, target) in real_keys.iter().zip(&real_sens) {
        let row = match index.get(key.as_slice()) {
            Some(&g) => Some(frequency(&groups[g].1, target)),
            None => match method {
                CapMethod::Cap => None,
                CapMethod::ZeroCap => Some(0.0),
                CapMethod::GeneralizedCap => {
                    let hamming = |k: &[Option<String>]| {
                        k.iter().zip(key.iter()).filter(|(a, b)| a != b).count()
                    };
                    let best = groups.iter().map(|g| hamming(g.0)).min();
                    best.map(|best| {
                        let pooled: Vec<Key<'_>> = groups
                            .iter()
                            .filter(|g| hamming(g.0) == best)
                            .flat_map(|g| g.1.iter().copied())
                            .collect();
                        frequency(&pooled, target)
                    })
                }
            },
        };
        if let Some(p) = row {
            count += 1;
            score += p;
        }
    }
    let cap_protection = if count == 0 {
        f64::NAN
    } else {
        1.0 - score / count as f64
    };
    // Python's min(nan, 1) is nan, where f64::min would give 1.
    let ratio = cap_protection / baseline_protection;
    let score = if baseline_protection == 0.0 || ratio.is_nan() {
        f64::NAN
    } else {
        ratio.min(1.0)
    };
    Ok(DisclosureProtection {
        score,
        cap_protection,
        baseline_protection,
    })
}

/// The default attack of a score report: the task's target (or else the last categorical
/// or boolean column) is sensitive, every other scored column is known, and every
/// continuous column is cut into SDMetrics' default 10 bins. `None` when the schema has
/// fewer than two scored columns.
pub fn default_disclosure_protection(
    schema: &Schema,
    real: &Table,
    synthetic: &Table,
) -> Option<DisclosureProtection> {
    let scored: Vec<&str> = schema
        .columns
        .iter()
        .filter(|c| c.kind.is_scored())
        .map(|c| c.name.as_str())
        .collect();
    let sensitive = schema
        .target
        .as_deref()
        .filter(|t| scored.contains(t))
        .or_else(|| {
            schema
                .columns
                .iter()
                .rev()
                .find(|c| c.kind.is_discrete())
                .map(|c| c.name.as_str())
        })
        .or(scored.last().copied())?;
    let known: Vec<&str> = scored.iter().copied().filter(|c| *c != sensitive).collect();
    let continuous: Vec<&str> = schema
        .columns
        .iter()
        .filter(|c| c.kind.is_continuous())
        .map(|c| c.name.as_str())
        .collect();
    disclosure_protection(
        schema,
        real,
        synthetic,
        &known,
        &[sensitive],
        CapMethod::Cap,
        &continuous,
        10,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_right_closed_with_open_outer_edges_like_pandas_cut() {
        let edges = interior_edges(&[0.0, 10.0], 10);
        assert_eq!(edges.len(), 9);
        assert_eq!(bin_of(&edges, 0.0).as_deref(), Some("0"));
        assert_eq!(bin_of(&edges, 1.0).as_deref(), Some("0"));
        assert_eq!(bin_of(&edges, 1.5).as_deref(), Some("1"));
        assert_eq!(bin_of(&edges, 10.0).as_deref(), Some("9"));
        assert_eq!(bin_of(&edges, 99.0).as_deref(), Some("9"));
        assert_eq!(bin_of(&edges, -99.0).as_deref(), Some("0"));
        assert_eq!(bin_of(&edges, f64::NAN), None);
    }

    #[test]
    fn a_nan_protection_round_trips_through_json_as_null() {
        let d = DisclosureProtection {
            score: f64::NAN,
            cap_protection: f64::NAN,
            baseline_protection: 0.5,
        };
        let text = serde_json::to_string(&d).unwrap();
        assert_eq!(
            text,
            r#"{"score":null,"cap_protection":null,"baseline_protection":0.5}"#
        );
        let back: DisclosureProtection = serde_json::from_str(&text).unwrap();
        assert!(back.score.is_nan() && back.cap_protection.is_nan());
        assert_eq!(back.baseline_protection, 0.5);
    }
}
