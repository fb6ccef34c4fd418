//! Membership-inference attacks on a submission: each tells training rows (members) from
//! held-out rows (non-members) using only the synthetic rows, and is judged by ROC AUC.
//!
//! Three attacks, all on the Gower distance of [`mod@crate::dcr`] (columns scaled by the
//! training half's ranges, categoricals by equality, nulls their own value):
//! - **distance**: a row is a member the closer its nearest synthetic row is;
//! - **density ratio** (DOMIAS): a kernel density of the synthetic rows against one of the
//!   held-out rows (the reference, each held-out row left out of its own estimate),
//!   Laplace kernel on the Gower distance with an eighth of the held-out rows' median
//!   nearest-neighbour distance as bandwidth: a generator that memorises raises the
//!   synthetic density at its training rows above what the population explains;
//! - **classifier**: an inverse-distance-weighted k-nearest-neighbour classifier that
//!   separates synthetic rows from held-out rows (classes weighted by size), scored on
//!   members against non-members: rows it takes for synthetic are members.
//!
//! The evaluation sets are seeded subsets of T and H (at most `membership_rows` each)
//! drawn from the task seed and the submission's own row keys, so every validator scores
//! the same rows. AUC counts pairs exactly (ties count half), so it is reproducible to the
//! bit; the distances are sums of per-column terms in schema order.

use crate::dcr::nearest_k;
use crate::rng::{SeededRng, derive_seed};
use crate::schema::Schema;
use crate::table::Table;

/// Neighbours the density-ratio attack's kernel sums run over (the rest weigh nothing).
const DENSITY_K: usize = 10;
/// Neighbours the classifier attack votes with.
const CLASSIFIER_K: usize = 10;
/// Keeps ratios and inverse distances finite (a verbatim copy is at distance 0).
const RATIO_EPS: f64 = 1e-9;

/// The attacks of the ensemble, in report order.
pub const ATTACKS: [&str; 3] = ["distance", "density_ratio", "classifier"];

/// Tuning of the ensemble and of the privacy factor it sets (task-overridable).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MembershipParams {
    /// Most members (and most non-members) the attacks score.
    pub rows: usize,
    /// AUC up to 0.5 + `z`·σ costs nothing, σ the AUC's standard deviation when nothing
    /// leaks: an honest generator's AUC is 0.5 plus sampling noise.
    pub z: f64,
    /// Above that the factor falls linearly and reaches 0 (and the gate fails) `width`
    /// later.
    pub width: f64,
}

impl Default for MembershipParams {
    fn default() -> Self {
        Self {
            rows: 2000,
            z: 3.0,
            width: 0.2,
        }
    }
}

/// One attack's result.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AttackAuc {
    /// The attack (one of [`ATTACKS`]).
    pub attack: String,
    /// ROC AUC of members against non-members (0.5: the attack learns nothing).
    pub auc: f64,
}

/// The ensemble's outcome on one submission.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MembershipInference {
    /// Every attack's AUC, in [`ATTACKS`] order.
    pub attacks: Vec<AttackAuc>,
    /// The largest AUC.
    pub worst_auc: f64,
    /// The attack that reached it (the first in order on a tie).
    pub worst_attack: String,
    /// Members scored (rows of T).
    pub members: usize,
    /// Non-members scored (rows of H).
    pub non_members: usize,
    /// σ: the AUC's standard deviation when nothing leaks, for these set sizes.
    pub null_sd: f64,
    /// The gate's limit on the worst AUC: 0.5 + z·σ + width.
    pub limit: f64,
    /// The privacy factor it sets: 1 up to 0.5 + z·σ, falling linearly to 0 at the limit.
    pub factor: f64,
}

/// ROC AUC of `members` against `non_members` (higher score: member), ties counting half;
/// 0.5 when either side is empty. Counts pairs exactly, so the result does not depend on
/// the order of the inputs.
pub fn roc_auc(members: &[f64], non_members: &[f64]) -> f64 {
    if members.is_empty() || non_members.is_empty() {
        return 0.5;
    }
    let mut all: Vec<(f64, bool)> = members
        .iter()
        .map(|&s| (s, true))
        .chain(non_members.iter().map(|&s| (s, false)))
        .map(|(s, m)| (if s.is_nan() { f64::NEG_INFINITY } else { s }, m))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Twice the Mann-Whitney U: 2 per (member, lower non-member) pair, 1 per tie.
    let (mut twice_u, mut below) = (0u128, 0u128);
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        let (mut m, mut h) = (0u128, 0u128);
        while j < all.len() && all[j].0 == all[i].0 {
            if all[j].1 {
                m += 1
            } else {
                h += 1
            }
            j += 1;
        }
        twice_u += m * (2 * below + h);
        below += h;
        i = j;
    }
    let pairs = 2 * members.len() as u128 * non_members.len() as u128;
    twice_u as f64 / pairs as f64
}

/// σ of the AUC of `m` against `n` scores from one distribution (Mann-Whitney).
pub fn null_sd(m: usize, n: usize) -> f64 {
    if m == 0 || n == 0 {
        return 0.0;
    }
    let (m, n) = (m as f64, n as f64);
    ((m + n + 1.0) / (12.0 * m * n)).sqrt()
}

/// A seeded subset of `0..n` of at most `cap` indices, ascending.
fn subset(n: usize, cap: usize, rng: &mut SeededRng) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..n).collect();
    if n > cap {
        rng.shuffle(&mut rows);
        rows.truncate(cap);
        rows.sort_unstable();
    }
    rows
}

/// The seed of the evaluation sets: the task seed, keyed on the submission's row keys.
fn evaluation_seed(schema: &Schema, synthetic: &Table, seed: [u8; 32]) -> [u8; 32] {
    let mut h = blake3::Hasher::new_keyed(&derive_seed(&seed, "membership-inference"));
    for k in synthetic.row_keys(schema) {
        h.update(&k);
    }
    *h.finalize().as_bytes()
}

/// Run the ensemble on `synthetic` against the split reference: members from `train`,
/// non-members from `holdout` (which is also the classifier's and the density ratio's
/// reference population). Deterministic for a seed and a submission.
pub fn membership_inference(
    schema: &Schema,
    train: &Table,
    holdout: &Table,
    synthetic: &Table,
    params: &MembershipParams,
    seed: [u8; 32],
) -> MembershipInference {
    let mut rng = SeededRng::new(evaluation_seed(schema, synthetic, seed));
    let cap = params.rows.max(1);
    let m_idx = subset(train.num_rows(), cap, &mut rng);
    let n_idx = subset(holdout.num_rows(), cap, &mut rng);
    let (nm, nn) = (m_idx.len(), n_idx.len());
    let queries = train.select(&m_idx).concat(&holdout.select(&n_idx));
    // Non-members are never their own neighbour in the held-out reference.
    let skip: Vec<usize> = std::iter::repeat_n(usize::MAX, nm)
        .chain(n_idx.iter().copied())
        .collect();
    let k = DENSITY_K.max(CLASSIFIER_K);
    let to_s = nearest_k(schema, &queries, synthetic, train, k, None);
    let to_h = nearest_k(schema, &queries, holdout, train, k, Some(&skip));
    let (ns, nh) = (synthetic.num_rows(), holdout.num_rows().saturating_sub(1));

    // Kernel bandwidth: an eighth of the median distance from a held-out row to its nearest
    // other held-out row (the scale at which real rows are neighbours), so that a copied
    // row's own kernel stands out of its neighbourhood's.
    let nn_h: Vec<f64> = to_h[nm..]
        .iter()
        .filter_map(|d| d.first().copied())
        .collect();
    let bandwidth = (crate::dcr::median(&nn_h) / 8.0).max(1e-6);
    let density = |d: &[f64], n: usize| {
        d.iter()
            .take(DENSITY_K)
            .map(|x| (-x / bandwidth).exp())
            .sum::<f64>()
            / n.max(1) as f64
    };
    let mut scores: [Vec<f64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for (s, h) in to_s.iter().zip(&to_h) {
        // Distance: the nearer the closest synthetic row, the likelier a member.
        scores[0].push(-s.first().copied().unwrap_or(f64::INFINITY));
        // Density ratio: synthetic density against the population's at x.
        scores[1].push((density(s, ns) + RATIO_EPS) / (density(h, nh) + RATIO_EPS));
        // Classifier: inverse-distance-weighted vote of the k nearest among S ∪ H (the
        // kernel bandwidth added to each distance, so one coincident row cannot outvote
        // the rest), classes weighted by size (S first on ties).
        let (mut i, mut j, mut vs, mut vh) = (0, 0, 0.0f64, 0.0f64);
        for _ in 0..CLASSIFIER_K {
            if j >= h.len() && i >= s.len() {
                break;
            }
            if j >= h.len() || (i < s.len() && s[i] <= h[j]) {
                vs += 1.0 / (s[i] + bandwidth);
                i += 1;
            } else {
                vh += 1.0 / (h[j] + bandwidth);
                j += 1;
            }
        }
        let (ws, wh) = (vs / ns.max(1) as f64, vh / nh.max(1) as f64);
        scores[2].push(if ws + wh > 0.0 { ws / (ws + wh) } else { 0.5 });
    }
    let attacks: Vec<AttackAuc> = ATTACKS
        .iter()
        .zip(&scores)
        .map(|(name, s)| AttackAuc {
            attack: (*name).into(),
            auc: if ns == 0 {
                0.5
            } else {
                roc_auc(&s[..nm], &s[nm..])
            },
        })
        .collect();
    let worst = attacks
        .iter()
        .fold(&attacks[0], |w, a| if a.auc > w.auc { a } else { w });
    let (worst_auc, worst_attack) = (worst.auc, worst.attack.clone());
    let sd = null_sd(nm, nn);
    let free = 0.5 + params.z * sd;
    let width = params.width.max(1e-9);
    MembershipInference {
        worst_auc,
        worst_attack,
        members: nm,
        non_members: nn,
        null_sd: sd,
        limit: free + width,
        factor: (1.0 - (worst_auc - free) / width).clamp(0.0, 1.0),
        attacks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_pairs_and_ties_half() {
        assert_eq!(roc_auc(&[3.0, 4.0], &[1.0, 2.0]), 1.0);
        assert_eq!(roc_auc(&[1.0, 2.0], &[3.0, 4.0]), 0.0);
        assert_eq!(roc_auc(&[1.0, 1.0], &[1.0]), 0.5);
        // 2 > 1 (1 pair), 2 = 2 (half), 0 < both.
        assert_eq!(roc_auc(&[2.0, 0.0], &[1.0, 2.0]), 1.5 / 4.0);
        assert_eq!(roc_auc(&[], &[1.0]), 0.5);
    }

    #[test]
    fn the_null_sd_shrinks_with_the_sets() {
        assert!(null_sd(172, 172) > 0.03 && null_sd(172, 172) < 0.0315);
        assert!(null_sd(2000, 2000) < 0.01);
    }

    proptest::proptest! {
        #[test]
        fn auc_is_order_free_and_mirrors_when_sides_swap(
            m in proptest::collection::vec(0u8..6, 1..30),
            n in proptest::collection::vec(0u8..6, 1..30),
        ) {
            let m: Vec<f64> = m.into_iter().map(f64::from).collect();
            let n: Vec<f64> = n.into_iter().map(f64::from).collect();
            let a = roc_auc(&m, &n);
            let mut mr = m.clone();
            mr.reverse();
            proptest::prop_assert_eq!(a, roc_auc(&mr, &n));
            proptest::prop_assert!((a + roc_auc(&n, &m) - 1.0).abs() < 1e-12);
            proptest::prop_assert!((0.0..=1.0).contains(&a));
        }
    }
}
