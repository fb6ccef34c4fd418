//! When probes leave and which are re-executed, drawn from the validator's secret
//! seed; what they ask comes from its private corpus ([`crate::corpus`]).

use std::time::Duration;

pub use plexus_session::chat::{DEFAULT_MAX_TOKENS, Message, chat_body};

/// A deterministic stream of bytes from a seed and a label (blake3 in keyed XOF mode).
pub struct Draw(blake3::OutputReader);

impl Draw {
    /// The stream keyed by `seed` for `label` and `parts` (each length-prefixed).
    pub fn new(seed: &[u8; 32], label: &str, parts: &[&[u8]]) -> Self {
        let mut h = blake3::Hasher::new_keyed(seed);
        h.update(label.as_bytes());
        for p in parts {
            h.update(&(p.len() as u64).to_le_bytes());
            h.update(p);
        }
        Self(h.finalize_xof())
    }

    /// The next eight bytes as a little-endian integer.
    pub fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.0.fill(&mut b);
        u64::from_le_bytes(b)
    }

    /// Uniform in `0..n` (n > 0), by rejection so there is no modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }
}

const ASKS: &[&str] = &[
    "What is {}?",
    "Explain {} in two sentences.",
    "Give me three facts about {}.",
    "Why does {} matter?",
    "Describe {} to a ten-year-old.",
    "Write a short poem about {}.",
    "What are the pros and cons of {}?",
    "Summarize the history of {} briefly.",
    "How would you teach someone about {}?",
    "List two common misconceptions about {}.",
    "Write one sentence that uses the word '{}'.",
    "What is a good question to ask about {}?",
];

const SUBJECTS: &[&str] = &[
    "photosynthesis",
    "the French Revolution",
    "black holes",
    "compound interest",
    "the water cycle",
    "machine learning",
    "the Roman Empire",
    "volcanoes",
    "vaccines",
    "the Pythagorean theorem",
    "coffee",
    "honeybees",
    "the internet",
    "jazz music",
    "climate change",
    "the moon",
    "chess",
    "recycling",
    "the human heart",
    "electric cars",
    "gravity",
    "the printing press",
    "rainbows",
    "democracy",
    "the Amazon rainforest",
    "prime numbers",
    "sleep",
    "earthquakes",
    "the Olympic Games",
    "bread baking",
    "octopuses",
    "solar panels",
];

/// The probes validators sent before the private corpus: `count` single-turn prompts
/// from 384 public templates, drawn from `seed` and the epoch. Kept as the red-team
/// bench's baseline (`benches/red_team.rs`); the service no longer sends them.
pub fn challenge_set(seed: &[u8; 32], epoch: u64, count: usize) -> Vec<String> {
    let mut draw = Draw::new(seed, "plexus/validator/challenges", &[&epoch.to_le_bytes()]);
    (0..count)
        .map(|_| {
            let ask = ASKS[draw.below(ASKS.len() as u64) as usize];
            let subject = SUBJECTS[draw.below(SUBJECTS.len() as u64) as usize];
            ask.replace("{}", subject)
        })
        .collect()
}

/// When the probes of `epoch` to `provider` leave, as offsets from the start of the
/// round: a Poisson process of `per_epoch` probes per `window` (independent
/// exponential gaps), cut at `window`. The count varies from epoch to epoch as a
/// Poisson variable does, so neither the number nor the times of probes tell a
/// provider which requests they are.
pub fn arrivals(
    seed: &[u8; 32],
    epoch: u64,
    provider: &[u8],
    per_epoch: u32,
    window: Duration,
) -> Vec<Duration> {
    let mut out = Vec::new();
    if per_epoch == 0 || window.is_zero() {
        return out;
    }
    let mut draw = Draw::new(
        seed,
        "plexus/validator/arrivals",
        &[&epoch.to_le_bytes(), provider],
    );
    let mean = window.as_secs_f64() / f64::from(per_epoch);
    let mut at = 0.0;
    loop {
        // Uniform in (0, 1] from 53 random bits, then an exponential gap.
        let u = ((draw.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
        at += -u.ln() * mean;
        if at >= window.as_secs_f64() {
            return out;
        }
        out.push(Duration::from_secs_f64(at));
    }
}

/// Whether probe `index` of `epoch` to `provider` is re-executed: a secret draw that
/// comes out true with probability `per_mille / 1000`.
pub fn sampled(seed: &[u8; 32], epoch: u64, provider: &[u8], index: u32, per_mille: u32) -> bool {
    let mut draw = Draw::new(
        seed,
        "plexus/validator/sample",
        &[&epoch.to_le_bytes(), provider, &index.to_le_bytes()],
    );
    draw.below(1000) < u64::from(per_mille)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_challenge_set_is_fixed_by_seed_and_epoch_and_varies_otherwise() {
        let seed = [7u8; 32];
        let a = challenge_set(&seed, 3, 16);
        assert_eq!(a, challenge_set(&seed, 3, 16));
        assert_ne!(a, challenge_set(&seed, 4, 16));
        assert_ne!(a, challenge_set(&[8u8; 32], 3, 16));
        let mut distinct = a.clone();
        distinct.sort();
        distinct.dedup();
        assert!(distinct.len() >= 12, "{a:?}");
    }

    #[test]
    fn arrivals_are_a_poisson_process_spread_over_the_window() {
        let window = Duration::from_secs(100);
        let mut counts = Vec::new();
        let mut first_half = 0usize;
        let mut all = 0usize;
        for epoch in 0..2_000 {
            let times = arrivals(&[9u8; 32], epoch, b"p", 4, window);
            assert!(times.windows(2).all(|w| w[0] <= w[1]) && times.iter().all(|t| *t < window));
            first_half += times.iter().filter(|t| t.as_secs() < 50).count();
            all += times.len();
            counts.push(times.len());
        }
        let mean = all as f64 / counts.len() as f64;
        let var = counts
            .iter()
            .map(|c| (*c as f64 - mean).powi(2))
            .sum::<f64>()
            / counts.len() as f64;
        // Poisson(4): mean and variance 4; arrivals uniform over the window.
        assert!((3.8..4.2).contains(&mean), "{mean}");
        assert!((3.4..4.6).contains(&var), "{var}");
        assert!((0.46..0.54).contains(&(first_half as f64 / all as f64)));
        assert!(counts.contains(&0) && counts.iter().any(|c| *c >= 9));
        assert_ne!(
            arrivals(&[9u8; 32], 1, b"p", 4, window),
            arrivals(&[9u8; 32], 1, b"q", 4, window)
        );
    }

    #[test]
    fn sampling_hits_its_rate() {
        let seed = [1u8; 32];
        let hits = (0..10_000)
            .filter(|i| sampled(&seed, 1, b"provider", *i, 250))
            .count();
        assert!((2_250..2_750).contains(&hits), "{hits}");
        assert!((0..100).all(|i| !sampled(&seed, 1, b"p", i, 0)));
        assert!((0..100).all(|i| sampled(&seed, 1, b"p", i, 1000)));
    }
}
