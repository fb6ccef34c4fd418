//! Seeded randomness: ChaCha20 from a public 32-byte seed, so every validator draws the same.

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// A public seed from the task id and the reveal block (blake3 key derivation).
pub fn seed_from(task_id: &[u8], reveal_block: u64) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key("plexus synth seed v1");
    h.update(&(task_id.len() as u64).to_le_bytes());
    h.update(task_id);
    h.update(&reveal_block.to_le_bytes());
    *h.finalize().as_bytes()
}

/// A sub-seed for one named purpose, so independent draws never share a stream.
pub fn derive_seed(seed: &[u8; 32], purpose: &str) -> [u8; 32] {
    let mut h = blake3::Hasher::new_keyed(seed);
    h.update(purpose.as_bytes());
    *h.finalize().as_bytes()
}

/// The seeded generator.
pub struct SeededRng(ChaCha20Rng);

impl SeededRng {
    /// A generator from a 32-byte seed.
    pub fn new(seed: [u8; 32]) -> Self {
        Self(ChaCha20Rng::from_seed(seed))
    }

    /// A generator from a u64 (for tests and tools).
    pub fn from_u64(seed: u64) -> Self {
        Self::new(derive_seed(&[0; 32], &seed.to_string()))
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in (0, 1).
    pub fn open_uniform(&mut self) -> f64 {
        loop {
            let u = self.uniform();
            if u > 0.0 {
                return u;
            }
        }
    }

    /// Uniform integer in [0, n), unbiased; 0 when n is 0.
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        let n = n as u64;
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.0.next_u64();
            if x < zone {
                return (x % n) as usize;
            }
        }
    }

    /// Standard normal (Box–Muller, one value per call).
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.open_uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}
