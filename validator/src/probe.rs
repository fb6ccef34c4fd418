//! What a probe asks: a challenge set drawn per epoch from a secret seed, sent in the
//! request body `plexus chat` sends ([`plexus_session::chat::chat_body`]).

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

/// The probes of one epoch: `count` single-turn prompts drawn from `seed` (secret to
/// the validator until the epoch is over) and the epoch number.
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
