//! Fold probe results into a per-provider score and weights.
//!
//! Per epoch and provider: `availability × (0.6 + 0.2·latency + 0.2·throughput)`,
//! where availability is the fraction of probes answered in full, latency is
//! `r / (r + ttft)` for the median time to first token against a reference `r`, and
//! throughput is `t / (t + r)` for the median generation speed. The epoch score
//! enters an exponential moving average. A sampled answer that fails the
//! teacher-forcing check sets the average to zero and keeps it there for
//! `penalty_epochs` epochs (proof of sampling). A provider that was not probed in an
//! epoch keeps its average; one that answered nothing decays toward zero.

use std::{collections::BTreeMap, time::Duration};

use serde::{Deserialize, Serialize};

use crate::verify::VerifyPolicy;

/// The validator's documented rules.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Probes sent to each provider per epoch.
    pub probes_per_provider: u32,
    /// Per mille of answered probes re-executed with the declared model.
    pub sample_per_mille: u32,
    /// Epochs a provider caught serving another model keeps weight zero: both this
    /// many chain epochs and this many of the validator's own rounds after the one
    /// that caught it (a round of long answers can span several chain epochs, and a
    /// penalty that ran out while the round was still measuring would cost nothing).
    pub penalty_epochs: u64,
    /// Weight of the newest epoch in the moving average, per mille.
    pub ema_per_mille: u32,
    /// Time to first token that scores one half.
    pub reference_ttft: Duration,
    /// Generation speed (tokens per second) that scores one half.
    pub reference_tokens_per_second: f64,
    /// The teacher-forcing check.
    pub verify: VerifyPolicy,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            // 6 probes, every answer re-executed: a cheat caught on a quarter of its
            // answers (the hardest in the detection-curve bench) is caught within 3
            // epochs with probability 1 − 0.75¹⁸ ≈ 0.99.
            probes_per_provider: 6,
            sample_per_mille: 1000,
            penalty_epochs: 8,
            ema_per_mille: 300,
            reference_ttft: Duration::from_secs(1),
            reference_tokens_per_second: 20.0,
            verify: VerifyPolicy::default(),
        }
    }
}

/// How one probe went.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Probe {
    /// No complete answer: refused, timed out, unreachable, or cut off.
    Failed,
    /// A complete answer.
    Answered {
        /// From sending the request to the first content.
        ttft: Duration,
        /// From the first content to the end.
        generation: Duration,
        /// Tokens in the answer.
        completion_tokens: u32,
        /// The re-execution check, when this probe was sampled.
        check: Check,
    },
}

/// The proof-of-sampling outcome of one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Check {
    /// Not sampled.
    NotSampled,
    /// Re-executed, and the declared model agrees.
    Passed,
    /// Re-executed, and the declared model would not have answered so.
    Failed,
}

/// One provider's standing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    /// The moving average, in `[0, 1]`.
    pub ema: f64,
    /// The last epoch's score, in `[0, 1]`.
    pub last: f64,
    /// The weight stays zero before this epoch.
    pub penalized_until: u64,
    /// And for this many more rounds of this validator.
    #[serde(default)]
    pub penalty_rounds_left: u64,
    /// Sampled answers that failed, ever.
    pub failed_checks: u64,
    /// Sampled answers that passed, ever.
    pub passed_checks: u64,
}

impl Standing {
    /// Whether the weight is held at zero in `epoch`: a penalty is served in chain
    /// epochs and in rounds of the validator, whichever ends later.
    pub fn penalized(&self, epoch: u64) -> bool {
        epoch < self.penalized_until || self.penalty_rounds_left > 0
    }
}

/// The epoch score of a set of probes, and whether one failed its check.
pub fn epoch_score(probes: &[Probe], policy: &Policy) -> (f64, bool) {
    if probes.is_empty() {
        return (0.0, false);
    }
    let mut ttfts = Vec::new();
    let mut speeds = Vec::new();
    let mut caught = false;
    for p in probes {
        if let Probe::Answered {
            ttft,
            generation,
            completion_tokens,
            check,
        } = *p
        {
            ttfts.push(ttft.as_secs_f64());
            // A whole (unstreamed) answer has no measured generation time.
            if !generation.is_zero() {
                speeds.push(f64::from(completion_tokens) / generation.as_secs_f64().max(1e-3));
            }
            caught |= check == Check::Failed;
        }
    }
    if caught {
        return (0.0, true);
    }
    if ttfts.is_empty() {
        return (0.0, false);
    }
    let availability = ttfts.len() as f64 / probes.len() as f64;
    let r = policy.reference_ttft.as_secs_f64();
    let latency = r / (r + median(&mut ttfts));
    let t = if speeds.is_empty() {
        policy.reference_tokens_per_second
    } else {
        median(&mut speeds)
    };
    let throughput = t / (t + policy.reference_tokens_per_second);
    (
        availability * (0.6 + 0.2 * latency + 0.2 * throughput),
        false,
    )
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Standings of every provider a validator probes, keyed by `K` (a hotkey).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scoreboard<K: Ord> {
    /// The rules.
    pub policy: Policy,
    /// Per provider.
    pub standings: BTreeMap<K, Standing>,
}

impl<K: Ord + Clone> Scoreboard<K> {
    /// An empty board.
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            standings: BTreeMap::new(),
        }
    }

    /// Record `epoch`'s probes of `provider`.
    pub fn record(&mut self, epoch: u64, provider: K, probes: &[Probe]) {
        let policy = self.policy;
        let s = self.standings.entry(provider).or_default();
        for p in probes {
            if let Probe::Answered { check, .. } = p {
                match check {
                    Check::Passed => s.passed_checks += 1,
                    Check::Failed => s.failed_checks += 1,
                    Check::NotSampled => {}
                }
            }
        }
        let (score, caught) = epoch_score(probes, &policy);
        if caught {
            s.penalized_until = epoch
                .saturating_add(policy.penalty_epochs)
                .saturating_add(1);
            s.penalty_rounds_left = policy.penalty_epochs.saturating_add(1);
        }
        if s.penalized(epoch) {
            s.penalty_rounds_left = s.penalty_rounds_left.saturating_sub(1);
            s.ema = 0.0;
            s.last = 0.0;
            return;
        }
        let alpha = f64::from(policy.ema_per_mille.min(1000)) / 1000.0;
        s.ema = alpha * score + (1.0 - alpha) * s.ema;
        s.last = score;
    }

    /// Forget providers no longer on the subnet.
    pub fn retain(&mut self, keep: impl Fn(&K) -> bool) {
        self.standings.retain(|k, _| keep(k));
    }

    /// Weights in `[0, 65535]`, the best provider at 65535, zeros left out; empty
    /// when no provider has earned anything.
    pub fn weights(&self, epoch: u64) -> Vec<(K, u16)> {
        let live = |s: &Standing| {
            if s.penalized(epoch) { 0.0 } else { s.ema }
        };
        let max = self.standings.values().map(live).fold(0.0, f64::max);
        if max <= 0.0 {
            return Vec::new();
        }
        self.standings
            .iter()
            .filter_map(|(k, s)| {
                let w = (live(s) / max * 65535.0).round() as u16;
                (w > 0).then(|| (k.clone(), w))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(check: Check) -> Probe {
        Probe::Answered {
            ttft: Duration::from_millis(200),
            generation: Duration::from_secs(1),
            completion_tokens: 60,
            check,
        }
    }

    #[test]
    fn a_caught_provider_keeps_weight_zero_for_the_penalty_and_then_recovers() {
        let policy = Policy::default();
        let mut board = Scoreboard::new(policy);
        for e in 0..5 {
            board.record(e, "honest", &[answered(Check::Passed); 4]);
            board.record(e, "lazy", &[answered(Check::NotSampled); 4]);
        }
        assert_eq!(board.weights(4).len(), 2);
        board.record(5, "honest", &[answered(Check::NotSampled); 4]);
        board.record(
            5,
            "lazy",
            &[answered(Check::NotSampled), answered(Check::Failed)],
        );
        for e in 6..=(5 + policy.penalty_epochs) {
            assert_eq!(board.weights(e), vec![("honest", 65535)], "epoch {e}");
            board.record(e, "honest", &[answered(Check::NotSampled); 4]);
            board.record(e, "lazy", &[answered(Check::NotSampled); 4]);
        }
        let after = 6 + policy.penalty_epochs;
        board.record(after, "lazy", &[answered(Check::NotSampled); 4]);
        assert_eq!(board.weights(after).len(), 2);
        assert_eq!(board.standings["lazy"].failed_checks, 1);
    }

    #[test]
    fn a_penalty_outlasts_rounds_that_each_span_many_chain_epochs() {
        let policy = Policy::default();
        let mut board = Scoreboard::new(policy);
        board.record(0, "honest", &[answered(Check::Passed); 4]);
        board.record(0, "lazy", &[answered(Check::Failed); 4]);
        // Each round of the validator takes 30 chain epochs.
        for round in 1..=policy.penalty_epochs {
            let epoch = round * 30;
            board.record(epoch, "honest", &[answered(Check::NotSampled); 4]);
            board.record(epoch, "lazy", &[answered(Check::NotSampled); 4]);
            assert_eq!(
                board.weights(epoch),
                vec![("honest", 65535)],
                "round {round}"
            );
        }
        let epoch = (policy.penalty_epochs + 1) * 30;
        board.record(epoch, "lazy", &[answered(Check::NotSampled); 4]);
        assert_eq!(board.weights(epoch).len(), 2);
    }

    #[test]
    fn an_offline_provider_decays_and_a_faster_one_scores_higher() {
        let mut board = Scoreboard::new(Policy::default());
        for e in 0..10 {
            board.record(e, "a", &[answered(Check::NotSampled); 4]);
            board.record(e, "b", &[answered(Check::NotSampled); 4]);
        }
        let before = board.standings["b"].ema;
        for e in 10..20 {
            board.record(e, "a", &[answered(Check::NotSampled); 4]);
            board.record(e, "b", &[Probe::Failed; 4]);
        }
        assert!(board.standings["b"].ema < before * 0.05);
        let slow = Probe::Answered {
            ttft: Duration::from_secs(3),
            generation: Duration::from_secs(10),
            completion_tokens: 60,
            check: Check::NotSampled,
        };
        let (fast, _) = epoch_score(&[answered(Check::NotSampled)], &Policy::default());
        let (slow, _) = epoch_score(&[slow], &Policy::default());
        assert!(fast > slow && slow > 0.6, "{fast} {slow}");
        let (half, _) = epoch_score(
            &[answered(Check::NotSampled), Probe::Failed],
            &Policy::default(),
        );
        assert!((half - fast / 2.0).abs() < 1e-12);
    }
}
