//! Judge a provider's greedy answer by teacher forcing it through the declared model.
//!
//! The validator tokenizes the answer, runs the declared model once over the prompt
//! followed by those tokens, and looks at each position: was the provider's token
//! the model's argmax, or within a small log-probability margin of it (honest numeric
//! noise between kernel levels, VALIDATION.md)? A different or smaller model fails
//! within a few tokens.

use serde::{Deserialize, Serialize};

/// One position of a teacher-forced sequence: what an engine reports when it runs the
/// declared model over a prompt followed by forced tokens (`plexus-inference`'s
/// `LlamaEngine::score_tokens` produces them). Engine-neutral, so this crate judges
/// answers without linking any engine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenScore {
    /// The token that was forced at this position.
    pub token: u32,
    /// The model's most likely token at this position.
    pub argmax: u32,
    /// Whether the forced token is the argmax (ties count as a match).
    pub is_argmax: bool,
    /// log p(argmax) - log p(token): 0 for the argmax, positive otherwise.
    pub logprob_margin: f32,
}

/// How strict the check is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VerifyPolicy {
    /// A position passes when log p(argmax) − log p(token) is at most this.
    pub max_logprob_margin: f32,
    /// The answer passes when at least this many per mille of its positions pass.
    pub min_pass_per_mille: u32,
    /// Only this many leading positions are judged: greedy texts from honest engines
    /// on different kernel levels diverge after a while, and after the first
    /// divergence the rest is forced anyway, so the head carries the signal.
    pub judged_positions: usize,
}

impl Default for VerifyPolicy {
    fn default() -> Self {
        Self {
            max_logprob_margin: 1.0,
            min_pass_per_mille: 900,
            judged_positions: 64,
        }
    }
}

/// What the check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Positions judged.
    pub judged: usize,
    /// Positions whose token was within the margin of the argmax.
    pub passed: usize,
    /// The first position outside the margin, if any.
    pub first_failure: Option<usize>,
    /// Whether the answer is accepted as the declared model's.
    pub accepted: bool,
}

/// Judge teacher-forced `scores` (one per answer token) under `policy`. An empty
/// answer is judged by the model's own first choice: the caller passes the score of
/// the end-of-turn token, so an empty answer where the model would have spoken fails.
pub fn judge(scores: &[TokenScore], policy: &VerifyPolicy) -> Verdict {
    let head = &scores[..scores.len().min(policy.judged_positions)];
    let ok = |s: &TokenScore| s.is_argmax || s.logprob_margin <= policy.max_logprob_margin;
    let passed = head.iter().filter(|s| ok(s)).count();
    let first_failure = head.iter().position(|s| !ok(s));
    let accepted = !head.is_empty()
        && passed as u64 * 1000 >= head.len() as u64 * u64::from(policy.min_pass_per_mille);
    Verdict {
        judged: head.len(),
        passed,
        first_failure,
        accepted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(margin: f32) -> TokenScore {
        TokenScore {
            token: 1,
            argmax: if margin == 0.0 { 1 } else { 2 },
            is_argmax: margin == 0.0,
            logprob_margin: margin,
        }
    }

    #[test]
    fn an_answer_of_argmax_tokens_passes_and_noise_within_the_margin_too() {
        let v = judge(&[s(0.0); 20], &VerifyPolicy::default());
        assert!(v.accepted);
        assert_eq!((v.judged, v.passed, v.first_failure), (20, 20, None));
        let mut noisy = vec![s(0.0); 20];
        noisy[5] = s(0.4);
        assert!(judge(&noisy, &VerifyPolicy::default()).accepted);
    }

    #[test]
    fn an_answer_with_too_many_unlikely_tokens_fails() {
        let mut scores = vec![s(0.0); 20];
        scores[3] = s(5.0);
        scores[9] = s(2.0);
        scores[15] = s(3.0);
        let v = judge(&scores, &VerifyPolicy::default());
        assert!(!v.accepted);
        assert_eq!(v.first_failure, Some(3));
        assert!(!judge(&[], &VerifyPolicy::default()).accepted);
    }

    #[test]
    fn only_the_head_is_judged() {
        let mut scores = vec![s(0.0); 64];
        scores.extend(vec![s(9.0); 64]);
        assert!(judge(&scores, &VerifyPolicy::default()).accepted);
    }
}
