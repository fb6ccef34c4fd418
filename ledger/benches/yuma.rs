//! Epoch time of the sparse Yuma against the dense `O(n²)` reference, in one run.
//!
//! `cargo bench -p plexus-ledger --bench yuma` prints one row per configuration:
//! UIDs, validators, how validators weight (64–256 miners each, 48 of them shared,
//! or every UID), the stored weight and bond entries, the median (and minimum)
//! sparse epoch time, the median dense epoch time, and their ratio of medians.
//! Every measured pair of outputs is also checked equal.

use std::hint::black_box;
use std::time::{Duration, Instant};

use plexus_ledger::yuma::{self, EpochInput, EpochOutput, LiquidAlpha, Params, Variant};

/// SplitMix64: a tiny deterministic generator, so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy)]
enum Fill {
    /// Each validator weights 64–256 miners: a shared core of 48 and random others.
    Sparse,
    /// Each validator weights every UID.
    Dense,
}

/// A subnet in steady state: permits issued, weights set, bonds accumulated.
struct Subnet {
    params: Params,
    stake: Vec<u64>,
    weights: Vec<Vec<(u16, u16)>>,
    bonds: Vec<Vec<(u16, u16)>>,
    permits: Vec<bool>,
    last_update: Vec<u64>,
    registered_at: Vec<u64>,
    block: u64,
}

impl Subnet {
    fn new(n: usize, validators: usize, fill: Fill, params: Params, seed: u64) -> Self {
        let mut rng = Rng(seed);
        let mut stake = vec![0; n];
        for s in stake.iter_mut().take(validators) {
            *s = 1_000_000_000 + rng.below(1_000_000_000_000);
        }
        let uid = |j: usize| u16::try_from(j).expect("fewer than 65536 UIDs");
        let weights = (0..n)
            .map(|i| {
                if i >= validators {
                    return Vec::new();
                }
                match fill {
                    Fill::Dense => (0..n)
                        .map(|j| (uid(j), 1 + rng.below(65_535) as u16))
                        .collect(),
                    Fill::Sparse => {
                        // A core of 48 miners every validator agrees on, plus 16–208
                        // others of its own choosing (other UIDs if miners are few).
                        let first = if n - validators >= 256 { validators } else { 0 };
                        let pool = n - first;
                        let core = 48.min(pool);
                        let extra = (16 + rng.below(193) as usize).min(pool - core);
                        let mut chosen: Vec<usize> = (first..first + core).collect();
                        while chosen.len() < core + extra {
                            let j = first + core + rng.below((pool - core) as u64) as usize;
                            if !chosen.contains(&j) {
                                chosen.push(j);
                            }
                        }
                        chosen.sort_unstable();
                        chosen
                            .into_iter()
                            .map(|j| (uid(j), 1 + rng.below(65_535) as u16))
                            .collect()
                    }
                }
            })
            .collect();
        let mut net = Self {
            params,
            stake,
            weights,
            bonds: vec![Vec::new(); n],
            permits: vec![false; n],
            last_update: vec![1; n],
            registered_at: vec![0; n],
            block: 1,
        };
        // Genesis (permits) plus three epochs to accumulate bonds.
        for _ in 0..4 {
            let out = yuma::epoch(&net.params, &net.input());
            net.advance(out);
        }
        net
    }

    fn input(&self) -> EpochInput<'_> {
        EpochInput {
            current_block: self.block,
            last_epoch_block: self.block - 1,
            stake: &self.stake,
            weights: &self.weights,
            bonds: &self.bonds,
            permits: &self.permits,
            last_update: &self.last_update,
            registered_at: &self.registered_at,
            weights_committed_at: None,
            emission: 1_000_000_000,
        }
    }

    fn advance(&mut self, out: EpochOutput) {
        self.bonds = out.bonds;
        self.permits = out.permits;
        self.block += 1;
    }

    fn entries(&self) -> (usize, usize) {
        (
            self.weights.iter().map(Vec::len).sum(),
            self.bonds.iter().map(Vec::len).sum(),
        )
    }
}

/// Median and minimum wall time of `runs` calls, and the last output.
fn time(runs: usize, mut f: impl FnMut() -> EpochOutput) -> (Duration, Duration, EpochOutput) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = black_box(f());
        times.push(start.elapsed());
        last = Some(out);
    }
    times.sort();
    (times[runs / 2], times[0], last.expect("at least one run"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let original = Params {
        max_allowed_validators: 256,
        ..Params::default()
    };
    let yuma3 = Params {
        variant: Variant::Yuma3,
        liquid_alpha: Some(LiquidAlpha::default()),
        ..original
    };
    println!(
        "{:>6} {:>5} {:>7} {:>8} {:>8} {:>8} {:>10} {:>10} {:>10} {:>7}",
        "UIDs",
        "vals",
        "weights",
        "variant",
        "W nnz",
        "B nnz",
        "sparse ms",
        "(min)",
        "dense ms",
        "ratio"
    );
    let mut configs = Vec::new();
    for n in [256, 1_024, 4_096] {
        for validators in [64, 256] {
            for fill in [Fill::Sparse, Fill::Dense] {
                configs.push((n, validators, fill, original, "original"));
            }
        }
    }
    configs.push((4_096, 256, Fill::Dense, yuma3, "yuma3+la"));
    configs.push((4_096, 256, Fill::Sparse, yuma3, "yuma3+la"));

    for (seed, (n, validators, fill, params, label)) in configs.into_iter().enumerate() {
        let net = Subnet::new(n, validators, fill, params, seed as u64 + 1);
        let (w, b) = net.entries();
        let input = net.input();
        let (sparse_t, sparse_min, sparse_out) = time(11, || yuma::epoch(&params, &input));
        let dense_runs = if n >= 4_096 { 3 } else { 5 };
        let (dense_t, _, dense_out) = time(dense_runs, || yuma::dense::epoch(&params, &input));
        assert!(sparse_out == dense_out, "sparse and dense outputs differ");
        let fill = match fill {
            Fill::Sparse => "64-256",
            Fill::Dense => "all",
        };
        println!(
            "{:>6} {:>5} {:>7} {:>8} {:>8} {:>8} {:>10.2} {:>10.2} {:>10.1} {:>6.1}x",
            n,
            validators,
            fill,
            label,
            w,
            b,
            ms(sparse_t),
            ms(sparse_min),
            ms(dense_t),
            dense_t.as_secs_f64() / sparse_t.as_secs_f64()
        );
    }
}
