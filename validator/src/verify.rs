//! Judge a provider's greedy answer by teacher forcing it through the declared model.
//!
//! The validator tokenizes the answer, runs the declared model once over the prompt
//! followed by those tokens, and looks at each position: was the provider's token
//! the model's argmax, or within a small log-probability margin of it (honest numeric
//! noise between kernel levels, VALIDATION.md)? A different or smaller model fails
//! within a few tokens.
//!
//! A sampled answer has no argmax to follow, so it is also judged by where its tokens
//! rank in the declared model's distribution at the request's temperature: at each
//! position, the probability the model puts on tokens it prefers to the provider's
//! (plus half the token's own). For a token drawn from that distribution this
//! averages ½ with a variance of at most 1/12, whatever the entropy; summed over the
//! answer it is close to Gaussian, and an answer whose tokens rank
//! lower than the model's own samples by many standard deviations was not drawn from
//! it ([`rank_z`]). A provider that truncates the distribution (`top_p`) draws only
//! the top ranks and scores lower still, so the test is one-sided.

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
    /// Under the model's distribution p_T at the temperature the answer was scored
    /// at: the probability of the tokens more likely than this one, plus half of this
    /// one's (0 for a certain token, near 1 for one the model all but rules out).
    /// A token drawn from p_T scores ½ on average.
    pub rank: f32,
    /// That rank's variance for a token drawn from p_T: (1 − Σ p³) / 12.
    pub rank_variance: f32,
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
    /// For sampled answers (temperature above 0): the answer also needs a mean
    /// log-probability margin over the judged positions of at most this. Each token
    /// of a fluent canned reply or another model's text can be plausible on its own;
    /// on average they sit further below the argmax than the model's own samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_mean_margin: Option<f32>,
    /// For sampled answers: the answer also needs a [`rank_z`] of at most this over
    /// the judged positions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rank_z: Option<f32>,
}

impl Default for VerifyPolicy {
    /// Calibrated with the detection-curve bench (`benches/detection_curve.rs`: 17
    /// greedy answers, 1,087 positions, from each of three honest builds: one thread,
    /// two threads, AVX-512): honest positions that are not the validator's argmax sit
    /// at most 0.37 nats below it (the validator scores the answer in one batch, the
    /// provider generated it token by token), on at most 8 % of an answer's positions;
    /// re-tokenising the text can add one position far off.
    fn default() -> Self {
        Self {
            max_logprob_margin: 0.5,
            min_pass_per_mille: 950,
            judged_positions: 64,
            max_mean_margin: None,
            max_rank_z: None,
        }
    }
}

/// Failing positions an answer may have whatever its length: re-tokenising the
/// provider's text can merge or split one token into one the model would not have
/// produced, which a short answer's pass rate could not absorb.
pub const TOLERATED_FAILURES: usize = 1;

/// A sampled answer (temperature above 0) passes a position whose token is at most
/// this far below the argmax in log-probability.
pub const SAMPLED_LOGPROB_MARGIN: f32 = 8.0;

/// A sampled answer passes when this many per mille of its judged positions pass.
pub const SAMPLED_MIN_PASS_PER_MILLE: u32 = 800;

/// Above this temperature the mean-margin bound is not applied.
///
/// At T = 1 an honest sample's mean margin and a cheap answer's overlap: the default
/// model's own samples of ShareGPT probes reached 2.80 (the detection-curve bench,
/// `benches/detection_curve.rs`), a canned reply 1.88–3.00 and the model cut to 15
/// layers 2.10–4.11. No bound separates them without zeroing honest providers, so
/// such answers get the per-token check only.
pub const MEAN_MARGIN_MAX_TEMPERATURE: f64 = 0.8;

/// The check for an answer sampled at `temperature` (`None`: the server's default,
/// 1 in the OpenAI API): positions pass within [`SAMPLED_LOGPROB_MARGIN`], and up to
/// [`MEAN_MARGIN_MAX_TEMPERATURE`] the mean margin must stay at most `0.6 + 1.8·T²`.
/// Calibrated on the default model
/// (`tests/it/a_sampled_answer_passes_the_looser_check_and_a_canned_one_fails.rs`):
/// its own samples averaged 0.31–0.73 at T = 0.7 (limit 1.48), a canned reply and the
/// model cut to 15 layers 1.88 and more.
pub fn sampled_policy(base: &VerifyPolicy, temperature: Option<f64>) -> VerifyPolicy {
    let t = temperature.unwrap_or(1.0).clamp(0.0, 2.0);
    VerifyPolicy {
        max_logprob_margin: base.max_logprob_margin.max(SAMPLED_LOGPROB_MARGIN),
        min_pass_per_mille: base.min_pass_per_mille.min(SAMPLED_MIN_PASS_PER_MILLE),
        max_mean_margin: (t <= MEAN_MARGIN_MAX_TEMPERATURE).then_some(0.6 + 1.8 * (t * t) as f32),
        max_rank_z: Some(base.max_rank_z.unwrap_or(SAMPLED_MAX_RANK_Z)),
        ..*base
    }
}

/// A sampled answer fails when its [`rank_z`] exceeds this. Honest samples spread
/// wider than the per-position variances predict (positions are not independent, and
/// the validator's batch numerics and re-tokenisation add a little): in the
/// detection-curve bench (`benches/detection_curve.rs`) 23 honest sampled answers per
/// build had standard deviations of 1.45 (one thread, the validator's own build),
/// 1.15 (two threads) and 0.88 (an AVX-512 build), means within 0.1 of 0, and a
/// largest score of 3.55. 7 is 4.8 of the widest of those standard deviations, about
/// 8 · 10⁻⁷ per answer for a Gaussian; a provider that samples with `top_p` below 1
/// draws only top-ranked tokens and scores lower still. (A limit of 6 would also have
/// caught 3 of the 23 sampled answers of the model cut to 24 layers there.)
pub const SAMPLED_MAX_RANK_Z: f32 = 7.0;

/// How many standard deviations lower the answer's tokens rank than the model's own
/// samples would at the same positions: `Σ (rank − ½) / √(Σ Var rank)` over `scores`
/// (0 for none). An honest sample is centred on 0 (below it when the provider
/// truncates the distribution); tokens from another model, another prompt or a canned
/// text rank lower and score above.
pub fn rank_z(scores: &[TokenScore]) -> f64 {
    let (excess, variance) = scores.iter().fold((0.0, 0.0), |(e, v), s| {
        (
            e + f64::from(s.rank) - 0.5,
            v + f64::from(s.rank_variance).max(0.0),
        )
    });
    if variance <= 0.0 {
        return 0.0;
    }
    excess / variance.sqrt()
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
    /// Where the provider said its answer ended by itself (not at `max_tokens` or a
    /// client's stop word): whether the declared model would end it there too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_there: Option<bool>,
}

/// Judge teacher-forced `scores` (one per answer token) under `policy`. An empty
/// answer is judged by the model's own first choice: the caller passes the score of
/// the end-of-turn token, so an empty answer where the model would have spoken fails.
pub fn judge(scores: &[TokenScore], policy: &VerifyPolicy) -> Verdict {
    let head = &scores[..scores.len().min(policy.judged_positions)];
    let ok = |s: &TokenScore| s.is_argmax || s.logprob_margin <= policy.max_logprob_margin;
    let passed = head.iter().filter(|s| ok(s)).count();
    let first_failure = head.iter().position(|s| !ok(s));
    let mean = head
        .iter()
        .map(|s| f64::from(s.logprob_margin))
        .sum::<f64>()
        / head.len().max(1) as f64;
    let accepted = !head.is_empty()
        && (passed as u64 * 1000 >= head.len() as u64 * u64::from(policy.min_pass_per_mille)
            || head.len() - passed <= TOLERATED_FAILURES)
        && policy.max_mean_margin.is_none_or(|m| mean <= f64::from(m))
        && policy
            .max_rank_z
            .is_none_or(|z| rank_z(head) <= f64::from(z));
    Verdict {
        judged: head.len(),
        passed,
        first_failure,
        accepted,
        ends_there: None,
    }
}

/// The end token passes within at least this margin (nats), however strict the
/// per-position margin: where an answer stops, re-tokenising its last characters can
/// change the context the end token is scored in, and an honest greedy answer on a
/// devnet failed a 0.5 limit there. Cheats sit far beyond it: in the detection-curve
/// bench the forced end of every answer cut short, canned or prompted to be brief that
/// the model would not have ended was 5.7 nats or more below the argmax.
pub const END_MARGIN: f32 = 4.0;

/// Judge an answer the provider said ended by itself: `scores` of its tokens followed
/// by one forced end token, whose score is judged apart. The answer passes only if the
/// declared model would also end there: the forced end token is within the policy's
/// margin (at least [`END_MARGIN`]) of the argmax, or the argmax is itself one of `ends` (the model's tokens that
/// end generation). An answer cut short and passed off as finished fails here however
/// faithful its head is; an empty answer is judged by this position alone.
pub fn judge_ended(scores: &[TokenScore], ends: &[u32], policy: &VerifyPolicy) -> Verdict {
    let Some((end, answer)) = scores.split_last() else {
        return judge(scores, policy);
    };
    let ends_there = end.is_argmax
        || ends.contains(&end.argmax)
        || end.logprob_margin <= policy.max_logprob_margin.max(END_MARGIN);
    let mut v = if answer.is_empty() {
        Verdict {
            judged: 0,
            passed: 0,
            first_failure: None,
            accepted: true,
            ends_there: None,
        }
    } else {
        judge(answer, policy)
    };
    v.ends_there = Some(ends_there);
    v.accepted &= ends_there;
    v
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
            rank: 0.5,
            rank_variance: 1.0 / 12.0,
        }
    }

    /// A position judged at temperature: where the token ranks, against a flat
    /// distribution's spread.
    fn drawn(rank: f32) -> TokenScore {
        TokenScore { rank, ..s(0.4) }
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
    fn a_sampled_answer_needs_a_small_mean_margin_that_grows_with_the_temperature() {
        let base = VerifyPolicy::default();
        // Every position within 8 nats, mean 1.9.
        let mut scores = vec![s(0.0); 10];
        scores.extend(vec![s(4.75); 4]);
        let mean = 4.75 * 4.0 / 14.0;
        assert!(mean < 1.48);
        assert!(judge(&scores, &sampled_policy(&base, Some(0.7))).accepted);
        scores.extend(vec![s(4.75); 4]);
        assert!(!judge(&scores, &sampled_policy(&base, Some(0.7))).accepted);
        assert!(judge(&scores, &sampled_policy(&base, None)).accepted);
        assert!(!judge(&scores, &base).accepted);
        // At T = 1 only the per-token margin counts.
        assert_eq!(sampled_policy(&base, Some(1.0)).max_mean_margin, None);
        scores.extend(vec![s(7.5); 10]);
        assert!(judge(&scores, &sampled_policy(&base, None)).accepted);
    }

    #[test]
    fn an_answer_passed_off_as_finished_must_end_where_the_model_would() {
        let policy = VerifyPolicy::default();
        let end = |argmax: u32, margin: f32| TokenScore {
            token: 2,
            argmax,
            is_argmax: argmax == 2,
            logprob_margin: margin,
            ..s(0.0)
        };
        let mut scores = vec![s(0.0); 20];
        // The model would end here: with the forced token, or with another end token.
        scores.push(end(2, 0.0));
        assert!(judge_ended(&scores, &[2, 0], &policy).accepted);
        *scores.last_mut().unwrap() = end(0, 3.0);
        assert!(judge_ended(&scores, &[2, 0], &policy).accepted);
        // An honest stop scored in a slightly different context (re-tokenised last
        // characters): within END_MARGIN, however strict the per-position margin.
        *scores.last_mut().unwrap() = end(7, 2.0);
        assert!(judge_ended(&scores, &[2, 0], &policy).accepted);
        // Cut short: the model would go on with a word.
        *scores.last_mut().unwrap() = end(7, 6.0);
        let v = judge_ended(&scores, &[2, 0], &policy);
        assert!(!v.accepted);
        assert_eq!((v.passed, v.ends_there), (20, Some(false)));
        // An empty answer is judged by its end alone.
        assert!(judge_ended(&[end(2, 0.0)], &[2], &policy).accepted);
        assert!(!judge_ended(&[end(7, 6.0)], &[2], &policy).accepted);
    }

    #[test]
    fn a_sampled_answer_whose_tokens_rank_lower_than_the_models_own_samples_fails() {
        let base = VerifyPolicy::default();
        let sampled = sampled_policy(&base, Some(1.0));
        assert_eq!(sampled.max_rank_z, Some(SAMPLED_MAX_RANK_Z));
        // Ranks spread as a sample's: z = 0.
        let honest: Vec<_> = (0..64).map(|i| drawn((i as f32 + 0.5) / 64.0)).collect();
        assert!(rank_z(&honest).abs() < 1e-6);
        assert!(judge(&honest, &sampled).accepted);
        // Every token at rank 0.8: 64 · 0.3 / √(64 / 12) ≈ 8.3 standard deviations.
        let other: Vec<_> = (0..64).map(|_| drawn(0.8)).collect();
        assert!((rank_z(&other) - 64.0 * 0.3 / (64.0f64 / 12.0).sqrt()).abs() < 1e-4);
        let v = judge(&other, &sampled);
        assert!(!v.accepted);
        assert_eq!(
            v.passed, 64,
            "every position is within the per-token margin"
        );
        // A greedy answer is judged by the argmax alone.
        assert_eq!(base.max_rank_z, None);
        assert!(judge(&other, &base).accepted);
        // Top ranks only (a provider sampling with top_p): never a failure.
        let truncated: Vec<_> = (0..64).map(|_| drawn(0.1)).collect();
        assert!(rank_z(&truncated) < 0.0);
        assert!(judge(&truncated, &sampled).accepted);
        assert_eq!(rank_z(&[]), 0.0);
    }

    #[test]
    fn only_the_head_is_judged() {
        let mut scores = vec![s(0.0); 64];
        scores.extend(vec![s(9.0); 64]);
        assert!(judge(&scores, &VerifyPolicy::default()).accepted);
    }
}
