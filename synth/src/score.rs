//! Scoring a revealed submission: the gates, fidelity F, utility U, privacy P and the composite.

use crate::canary::{Canaries, CanaryCheck};
use crate::dcr::{
    DcrOverfitting, dcr_overfitting_protection, dcr_scaled_by, median, overfitting_from, percentile,
};
use crate::disclosure::{DisclosureProtection, default_disclosure_protection};
use crate::mia::{MembershipInference, MembershipParams, membership_inference};
use crate::quality::{QualityReport, quality_report};
use crate::rng::{SeededRng, derive_seed};
use crate::schema::Schema;
use crate::table::{ColumnData, Table};
use crate::utility::train_test_score;
use crate::validity::{DataValidity, NewRowSynthesis, data_validity, new_row_synthesis};
use std::collections::BTreeSet;

/// Gate limits (DATA.md defaults; a task may override them).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GateParams {
    /// Minimum Data Validity.
    pub validity_min: f64,
    /// |S| ≥ this · |T|.
    pub size_min_factor: f64,
    /// |S| ≤ this · |T|.
    pub size_max_factor: f64,
    /// Duplicate share may exceed T's by at most this.
    pub duplicate_slack: f64,
    /// Exact-copy share may exceed the real-vs-real rate by at most this.
    pub exact_copy_slack: f64,
    /// τ is this percentile of DCR(H→T).
    pub near_copy_percentile: f64,
    /// Most share of S with DCR below τ to T, and to H, unless sampling noise alone
    /// allows more (see `near_copy_significance`).
    pub near_copy_max: f64,
    /// The near-copy limit is at least the share a fresh real sample of |S| rows would
    /// exceed only with this probability (0 keeps `near_copy_max` alone).
    #[serde(default = "default_near_copy_significance")]
    pub near_copy_significance: f64,
    /// Most share of S closer to T than to H.
    pub overfitting_max: f64,
    /// Least fidelity F.
    pub fidelity_min: f64,
    /// Most share of S near or equal to rows of earlier commits.
    pub copying_max: f64,
    /// Accepted rows are capped at this many times |T| when weighting.
    pub row_cap_factor: f64,
    /// The membership-inference ensemble: its evaluation size, and where its privacy
    /// factor starts to fall and reaches 0 (the gate's limit).
    #[serde(default)]
    pub membership: MembershipParams,
}

impl Default for GateParams {
    fn default() -> Self {
        Self {
            validity_min: 0.99,
            size_min_factor: 0.5,
            size_max_factor: 2.0,
            duplicate_slack: 0.01,
            exact_copy_slack: 0.01,
            near_copy_percentile: 5.0,
            near_copy_max: 0.10,
            near_copy_significance: default_near_copy_significance(),
            overfitting_max: 0.75,
            fidelity_min: 0.20,
            copying_max: 0.20,
            row_cap_factor: 1.0,
            membership: MembershipParams::default(),
        }
    }
}

fn default_near_copy_significance() -> f64 {
    0.001
}

/// Smallest `x` with P(X ≤ x) ≥ `level` for X ~ BetaBinomial(`n`, `a`, `b`).
fn beta_binomial_quantile(n: usize, a: f64, b: f64, level: f64) -> Option<usize> {
    use statrs::function::{beta::checked_ln_beta, factorial::ln_binomial};
    let norm = checked_ln_beta(a, b).ok()?;
    let mut cdf = 0.0;
    for x in 0..=n {
        let ln_p = ln_binomial(n as u64, x as u64)
            + checked_ln_beta(x as f64 + a, (n - x) as f64 + b).ok()?
            - norm;
        cdf += ln_p.exp();
        if cdf >= level {
            return Some(x);
        }
    }
    Some(n)
}

/// The near-copy limit for `n` synthetic rows against a holdout of `m` rows.
///
/// τ is the empirical `near_copy_percentile` of m holdout distances (numpy's linear
/// interpolation puts it at fractional rank h + 1, h = (m − 1)·q). A fresh real row
/// falls below the (h + 1)-th of m order statistics with probability ~ Beta(h + 1,
/// m − h), so a fresh real sample of n rows puts a BetaBinomial(n, h + 1, m − h)
/// count below τ. The limit is `near_copy_max`, or that count's upper
/// `near_copy_significance` quantile as a share when it is larger: on small references
/// an honest sample must not fail on sampling noise (a fresh real third of
/// palmerpenguins exceeds 0.10 in 21 of 100 splits); from a few thousand rows on
/// the limit is `near_copy_max`.
pub fn near_copy_limit(params: &GateParams, n: usize, m: usize) -> f64 {
    let significance = params.near_copy_significance;
    if n == 0 || m == 0 || significance <= 0.0 || significance >= 1.0 {
        return params.near_copy_max;
    }
    let h = (m - 1) as f64 * (params.near_copy_percentile / 100.0).clamp(0.0, 1.0);
    match beta_binomial_quantile(n, h + 1.0, m as f64 - h, 1.0 - significance) {
        Some(x) => params.near_copy_max.max(x as f64 / n as f64),
        None => params.near_copy_max,
    }
}

/// One gate's statistic and verdict.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Gate {
    /// Gate name (`validity`, `size`, `duplicates`, …).
    pub name: String,
    /// The measured statistic.
    pub statistic: f64,
    /// The limit it was held to.
    pub limit: f64,
    /// Whether it passed.
    pub passed: bool,
}

/// Everything a validator publishes about one submission.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SubmissionScore {
    /// QualityReport(T, S).
    pub quality: QualityReport,
    /// QualityReport(T, seeded uniform noise) overall.
    pub quality_noise: f64,
    /// QualityReport(T, H) overall.
    pub quality_real: f64,
    /// F = clip((Q − Q_noise)/(Q_real − Q_noise), 0, 1).
    pub fidelity: f64,
    /// U, when the schema has a target.
    pub utility: Option<f64>,
    /// P = clip(median DCR(S→T) / median DCR(H→T), 0, 1).
    pub privacy: f64,
    /// The privacy factor: the smaller of min(1, P / 0.7) and the membership-inference
    /// ensemble's factor.
    pub privacy_factor: f64,
    /// The membership-inference attacks on this submission, their worst AUC and its factor.
    pub membership: MembershipInference,
    /// SDMetrics' DisclosureProtection of S against T (CAP; the target, or else the last
    /// categorical column, sensitive; every other column known), reported beside the
    /// ensemble.
    pub disclosure_protection: Option<DisclosureProtection>,
    /// SDMetrics' DCROverfittingProtection of S against T and H, reported beside the ensemble.
    pub dcr_overfitting_protection: DcrOverfitting,
    /// The canary check, when the validator planted canaries in T (a reproduced canary
    /// fails the `canaries` gate).
    pub canaries: Option<CanaryCheck>,
    /// Median DCR(S→T).
    pub median_dcr_synthetic: f64,
    /// Median DCR(H→T).
    pub median_dcr_holdout: f64,
    /// τ: the near-copy threshold.
    pub near_copy_threshold: f64,
    /// Share of S with DCR to T below τ.
    pub near_copies_to_train: f64,
    /// Share of S with DCR to H below τ.
    pub near_copies_to_holdout: f64,
    /// Data Validity of S against T.
    pub validity: DataValidity,
    /// NewRowSynthesis of S against T ∪ H.
    pub new_rows: NewRowSynthesis,
    /// The gates, in DATA.md order.
    pub gates: Vec<Gate>,
    /// Whether every gate passed.
    pub passed: bool,
    /// (0.6 F + 0.4 U)/(0.6 + 0.4) · privacy factor, or 0 when a gate fails.
    pub score: f64,
    /// Rows near or equal to rows of earlier commits (earn nothing).
    pub overlapping_rows: usize,
    /// Rows that earn: |S| − overlapping, 0 when a gate fails.
    pub accepted_rows: usize,
}

/// Split the reference 50/50 into (train T, holdout H) with a seeded shuffle.
pub fn split_reference(reference: &Table, seed: [u8; 32]) -> (Table, Table) {
    let mut rows: Vec<usize> = (0..reference.num_rows()).collect();
    SeededRng::new(derive_seed(&seed, "split")).shuffle(&mut rows);
    let half = rows.len() / 2;
    let (mut t, mut h) = (rows[..half].to_vec(), rows[half..].to_vec());
    t.sort_unstable();
    h.sort_unstable();
    (reference.select(&t), reference.select(&h))
}

/// A seeded uniform-noise table shaped like `reference`: numbers and datetimes uniform over its
/// range, labels uniform over its categories, ids sequential, no nulls.
pub fn uniform_noise(schema: &Schema, reference: &Table, rows: usize, seed: [u8; 32]) -> Table {
    let mut rng = SeededRng::new(derive_seed(&seed, "noise"));
    let columns = reference
        .columns()
        .iter()
        .map(|c| match c {
            ColumnData::Numerical(_) | ColumnData::Datetime(_) => {
                let vals = c.as_f64().unwrap_or_default();
                let (lo, hi) = crate::dcr::bounds(&vals).unwrap_or((0.0, 1.0));
                let draws: Vec<f64> = (0..rows).map(|_| lo + (hi - lo) * rng.uniform()).collect();
                if matches!(c, ColumnData::Datetime(_)) {
                    ColumnData::Datetime(draws.iter().map(|x| Some(*x as i64)).collect())
                } else {
                    ColumnData::Numerical(draws)
                }
            }
            ColumnData::Boolean(_) => {
                ColumnData::Boolean((0..rows).map(|_| Some(rng.below(2) == 1)).collect())
            }
            ColumnData::Categorical(v) => {
                let cats: Vec<&String> = v
                    .iter()
                    .flatten()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                ColumnData::Categorical(
                    (0..rows)
                        .map(|_| (!cats.is_empty()).then(|| cats[rng.below(cats.len())].clone()))
                        .collect(),
                )
            }
            _ => ColumnData::Id((0..rows).map(|i| Some(format!("noise-{i}"))).collect()),
        })
        .collect();
    Table::from_columns(schema, columns)
        .unwrap_or_else(|_| reference.select(&[]))
        .canonicalize(reference)
}

fn clip01(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) }
}

/// Normalise `value` between a `floor` (noise) and a `ceiling` (real): clip((v − f)/(c − f), 0, 1).
fn normalise(value: f64, floor: f64, ceiling: f64) -> f64 {
    let span = ceiling - floor;
    if span.is_nan() || span <= 1e-12 {
        return if value >= ceiling { 1.0 } else { 0.0 };
    }
    clip01((value - floor) / span)
}

fn share(count: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        count as f64 / of as f64
    }
}

/// Share of rows whose key already appeared earlier in the same table.
fn duplicate_share(keys: &[[u8; 32]]) -> f64 {
    let mut seen = BTreeSet::new();
    let dup = keys.iter().filter(|k| !seen.insert(**k)).count();
    share(dup, keys.len())
}

/// Score submission `synthetic` against the split reference (`train`, `holdout`), given the
/// submissions committed earlier in the same task. Deterministic for a seed.
pub fn score_submission(
    schema: &Schema,
    train: &Table,
    holdout: &Table,
    synthetic: &Table,
    earlier: &[Table],
    params: &GateParams,
    seed: [u8; 32],
) -> SubmissionScore {
    score_submission_with_canaries(
        schema, train, holdout, synthetic, earlier, params, seed, None,
    )
}

/// [`score_submission`] for a task whose training half the validator planted `canaries` in
/// (`train` is the real half, without them): a submission that reproduces a canary fails
/// the `canaries` gate and scores 0.
#[allow(clippy::too_many_arguments)]
pub fn score_submission_with_canaries(
    schema: &Schema,
    train: &Table,
    holdout: &Table,
    synthetic: &Table,
    earlier: &[Table],
    params: &GateParams,
    seed: [u8; 32],
    canaries: Option<&Canaries>,
) -> SubmissionScore {
    let canonical = synthetic.canonicalize(train);
    let quality = quality_report(schema, train, synthetic);
    let noise = uniform_noise(schema, train, train.num_rows(), seed);
    let quality_noise = quality_report(schema, train, &noise).overall;
    let quality_real = quality_report(schema, train, holdout).overall;
    let fidelity = normalise(quality.overall, quality_noise, quality_real);

    let utility = schema.target.as_ref().and_then(|_| {
        let u = train_test_score(schema, train, &canonical, holdout)?;
        let u_noise = train_test_score(schema, train, &noise, holdout)?;
        let u_real = train_test_score(schema, train, train, holdout)?;
        Some(normalise(
            if u.is_nan() { f64::NEG_INFINITY } else { u },
            u_noise,
            u_real,
        ))
    });

    let s_to_t = dcr_scaled_by(schema, &canonical, train, train);
    let s_to_h = dcr_scaled_by(schema, &canonical, holdout, train);
    let h_to_t = dcr_scaled_by(schema, holdout, train, train);
    let tau = percentile(&h_to_t, params.near_copy_percentile);
    let (median_s, median_h) = (median(&s_to_t), median(&h_to_t));
    let privacy = if median_h > 0.0 {
        clip01(median_s / median_h)
    } else {
        1.0
    };
    let membership =
        membership_inference(schema, train, holdout, &canonical, &params.membership, seed);
    let privacy_factor = (privacy / 0.7).min(1.0).min(membership.factor);
    let disclosure_protection = default_disclosure_protection(schema, train, &canonical);
    let dcr_overfitting_protection = dcr_overfitting_protection(schema, train, &canonical, holdout);
    let canaries = canaries.map(|c| c.check(schema, &canonical));

    let n = canonical.num_rows();
    let s_keys = canonical.row_keys(schema);
    let t_keys = train.row_keys(schema);
    let h_keys = holdout.row_keys(schema);
    let t_set: BTreeSet<[u8; 32]> = t_keys.iter().copied().collect();
    let real_set: BTreeSet<[u8; 32]> = t_keys.iter().chain(&h_keys).copied().collect();
    let exact = share(s_keys.iter().filter(|k| real_set.contains(*k)).count(), n);
    let real_exact = share(
        h_keys.iter().filter(|k| t_set.contains(*k)).count(),
        h_keys.len(),
    );
    let near_t = share(s_to_t.iter().filter(|d| **d < tau).count(), n);
    let near_h = share(s_to_h.iter().filter(|d| **d < tau).count(), n);
    let near = near_t.max(near_h);
    let near_limit = near_copy_limit(params, n, h_to_t.len());
    let overfit = overfitting_from(&s_to_t, &s_to_h).closer_to_training;

    // Rows near or equal to rows of earlier commits.
    let mut overlapping = vec![false; n];
    for prior in earlier {
        let prior = prior.canonicalize(train);
        let prior_keys: BTreeSet<[u8; 32]> = prior.row_keys(schema).into_iter().collect();
        let d = dcr_scaled_by(schema, &canonical, &prior, train);
        for (i, flag) in overlapping.iter_mut().enumerate() {
            *flag |= prior_keys.contains(&s_keys[i]) || d[i] < tau;
        }
    }
    let overlapping_rows = overlapping.iter().filter(|f| **f).count();

    // Against T in the same canonical form: values with more than 15 decimals round past
    // T's own extremes otherwise, and a faithful sample would fail boundary adherence.
    let validity = data_validity(schema, &train.canonicalize(train), &canonical);
    let new_rows = new_row_synthesis(schema, &train.concat(holdout), &canonical);
    let t_rows = train.num_rows() as f64;
    let gate = |name: &str, statistic: f64, limit: f64, passed: bool| Gate {
        name: name.into(),
        statistic,
        limit,
        passed,
    };
    let dup_limit = duplicate_share(&t_keys) + params.duplicate_slack;
    let mut gates = vec![
        gate(
            "validity",
            validity.score,
            params.validity_min,
            validity.score >= params.validity_min,
        ),
        gate(
            "size",
            n as f64,
            params.size_min_factor * t_rows,
            n as f64 >= params.size_min_factor * t_rows
                && n as f64 <= params.size_max_factor * t_rows,
        ),
        {
            let d = duplicate_share(&s_keys);
            gate("duplicates", d, dup_limit, d <= dup_limit)
        },
        gate(
            "exact_copies",
            exact,
            real_exact + params.exact_copy_slack,
            exact <= real_exact + params.exact_copy_slack,
        ),
        gate("near_copies", near, near_limit, near <= near_limit),
        gate(
            "overfitting",
            overfit,
            params.overfitting_max,
            overfit <= params.overfitting_max,
        ),
        gate(
            "membership_inference",
            membership.worst_auc,
            membership.limit,
            membership.worst_auc <= membership.limit,
        ),
        gate(
            "fidelity_floor",
            fidelity,
            params.fidelity_min,
            fidelity >= params.fidelity_min,
        ),
        {
            let c = share(overlapping_rows, n);
            gate(
                "copying_others",
                c,
                params.copying_max,
                c <= params.copying_max,
            )
        },
    ];
    if let Some(c) = &canaries {
        gates.push(gate(
            "canaries",
            c.reproduced as f64,
            0.0,
            c.reproduced == 0,
        ));
    }
    let passed = gates.iter().all(|g| g.passed);
    let (wu, u) = match utility {
        Some(u) => (0.4, u),
        None => (0.0, 0.0),
    };
    let composite = (0.6 * fidelity + wu * u) / (0.6 + wu) * privacy_factor;
    let score = if passed { composite } else { 0.0 };
    SubmissionScore {
        quality,
        quality_noise,
        quality_real,
        fidelity,
        utility,
        privacy,
        privacy_factor,
        membership,
        disclosure_protection,
        dcr_overfitting_protection,
        canaries,
        median_dcr_synthetic: median_s,
        median_dcr_holdout: median_h,
        near_copy_threshold: tau,
        near_copies_to_train: near_t,
        near_copies_to_holdout: near_h,
        validity,
        new_rows,
        gates,
        passed,
        score,
        overlapping_rows,
        accepted_rows: if passed { n - overlapping_rows } else { 0 },
    }
}

/// One contributor's inputs to the weight.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WeightInput {
    /// The submission's score.
    pub score: f64,
    /// Its accepted rows.
    pub accepted_rows: usize,
    /// Its credibility (EMA of passing all gates).
    pub credibility: f64,
}

/// weight_i ∝ score_i · min(accepted_rows_i, cap) · credibility_i^2.5, normalised to sum 1
/// (all zero when nothing earns).
pub fn weights(inputs: &[WeightInput], row_cap: usize) -> Vec<f64> {
    let raw: Vec<f64> = inputs
        .iter()
        .map(|i| {
            i.score.max(0.0)
                * i.accepted_rows.min(row_cap) as f64
                * i.credibility.max(0.0).powf(2.5)
        })
        .collect();
    let total: f64 = raw.iter().sum();
    if total > 0.0 {
        raw.iter().map(|w| w / total).collect()
    } else {
        vec![0.0; raw.len()]
    }
}

/// Credibility after one more task: EMA with alpha 0.15 of passing all gates (start at 0).
pub fn update_credibility(previous: f64, passed_all_gates: bool) -> f64 {
    0.85 * previous + 0.15 * f64::from(u8::from(passed_all_gates))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_near_copy_limit_allows_sampling_noise_on_small_references_only() {
        let p = GateParams::default();
        // The quantile is a proper one: P(X <= x) reaches the level exactly at x.
        assert_eq!(beta_binomial_quantile(10, 1.0, 1.0, 0.5), Some(5));
        // palmerpenguins halves: 172 synthetic rows against a 172-row holdout.
        let small = near_copy_limit(&p, 172, 172);
        assert!(small > 0.12 && small < 0.20, "{small}");
        // Large references: the spec's 0.10.
        assert_eq!(near_copy_limit(&p, 25_000, 25_000), 0.10);
        // Off, or degenerate sizes: the spec's 0.10.
        let off = GateParams {
            near_copy_significance: 0.0,
            ..p
        };
        assert_eq!(near_copy_limit(&off, 172, 172), 0.10);
        assert_eq!(near_copy_limit(&p, 0, 172), 0.10);
    }
}
