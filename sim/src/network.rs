//! An inference subnet over many epochs, and each strategy's share of emission
//! (`plexus sim network`).
//!
//! The pieces are the real ones: every honest validator keeps its own
//! [`Scoreboard`] under the validator's [`Policy`], samples answers for re-execution
//! with [`probe::sampled`] under its own secret seed, and commits the board's
//! [`Scoreboard::weights`]; the chain's side is [`plexus_ledger::yuma::epoch`] with
//! the subnet's hyperparameters ([`plexus_ledger::emission::yuma_params`]), stake,
//! permits and bonds carried from epoch to epoch, paying the subnet's emission after
//! the owner cut. Only the providers and the network are modelled.
//!
//! # Populations
//! - **Honest providers** serve the declared model: a re-executed answer passes,
//!   except with the check's false-positive rate
//!   ([`Scenario::false_positive_per_billion`]).
//! - **Lazy providers** serve a cheaper model than they declare: faster, but a
//!   re-executed answer fails the teacher-forcing check with the rate the
//!   detection-curve bench measured ([`Scenario::cheat_detection_per_mille`]).
//! - **Offline providers** answer like honest ones until [`Scenario::offline_from`]
//!   (half the run by default) and nothing afterwards.
//! - **Probe detectors** serve the declared model to the requests they take for
//!   probes and a cheaper model to everyone else: each probe is recognised with
//!   probability [`Scenario::probe_detection_per_mille`] (by default the rate the
//!   red-team bench's classifier reaches against the private corpus when it flags one
//!   user request in ten, `benches/red_team.rs`), and answered like a lazy provider
//!   otherwise.
//! - **Honest validators** probe every provider [`Policy::probes_per_provider`]
//!   times per epoch.
//! - **Weight copiers** probe nothing: each epoch they take the rows the other
//!   validators have on chain, average them by stake and submit that.
//!
//! Time to first token and generation speed follow a per-provider load that drifts
//! from epoch to epoch (a log-normal AR(1) process, the same for every validator:
//! it is the provider's state) times independent per-probe noise; a probe that does
//! not finish within [`PROBE_TIMEOUT`] counts as failed.
//!
//! # Timeline
//! Epoch `e` covers blocks `e·tempo + 1 ..= (e + 1)·tempo`, and Yuma runs at its
//! last block; a genesis epoch at block 0 issues the first permits from stake. With
//! commit-reveal (the default) a validator reveals at the first block of an epoch
//! what it committed during the previous one, so honest weights measured in epoch
//! `e - 1` count in epoch `e`; a copier sees them only once revealed, commits its
//! copy in `e` and reveals it in `e + 1`: it is always one epoch behind. Without
//! commit-reveal, validators set weights during the epoch they measured and the
//! copier copies them within the same epoch.
//!
//! Floats drive the providers and the scoreboards (as in `plexus validator`); the
//! consensus is the ledger's fixed point. Every draw comes from blake3 streams keyed
//! by the seed, so a seed fixes the whole report.

#![allow(clippy::needless_pass_by_value, clippy::type_complexity)]

use std::time::Duration;

use plexus_ledger::yuma::{self, EpochInput, math::vec_u16_max_upscale_to_u16};
use plexus_types::{Hyperparams, YumaVariant};
use serde::{Deserialize, Serialize};

use plexus_validator::{
    probe::{self, Draw},
    score::{Check, Policy, Probe, Scoreboard},
};

/// Per mille of probes a probe detector recognises by default: the true-positive rate
/// of the red-team bench's logistic regression against the private corpus at a
/// false-positive rate of one user request in ten (`benches/red_team.rs`, measured
/// 0.144). A detector that flags more users serves more of them honestly.
pub const DEFAULT_PROBE_DETECTION_PER_MILLE: u32 = 144;

/// Per mille of re-executed cheating answers the check catches by default: the rate
/// the detection-curve bench measured for the declared model cut to 15 of its 30
/// layers, the devnet's lazy provider (`benches/detection_curve.rs`).
pub const DEFAULT_CHEAT_DETECTION_PER_MILLE: u32 = 725;

/// Per billion of re-executed honest answers the check rejects, as the detection-curve
/// bench bounds it: greedy answers stay within the margin (0 of 120 honest answers
/// rejected, on one and two threads and an AVX-512 build; 2 of 3,261 greedy positions
/// beyond 0.5 nats, each alone in its answer, the rest at most 0.37), and a sampled
/// answer fails only beyond [`plexus_validator::verify::SAMPLED_MAX_RANK_Z`], 4.8 of
/// the widest honest spread's standard deviations (8 · 10⁻⁷ per answer for a
/// Gaussian, times the 58 % of probes that are sampled). The greedy side has no such
/// bound, only the measured headroom.
pub const DEFAULT_FALSE_POSITIVE_PER_BILLION: u32 = 500;

/// The most epochs a run may have.
pub const MAX_EPOCHS: u64 = 10_000;
/// The most providers (all strategies together) a run may have.
pub const MAX_PROVIDERS: u64 = 4_096;
/// The most validators (honest and copiers together) a run may have.
pub const MAX_VALIDATORS: u64 = 256;
/// The most probes a run may send (epochs × honest validators × providers × probes
/// per provider).
pub const MAX_PROBES: u64 = 100_000_000;
/// A probe that has not finished after this long counts as failed.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(60);
/// Most stake per validator, in base units: the whole 21M PLX supply.
pub const MAX_STAKE: u64 = 21_000_000_000_000_000;

/// What to simulate. Every field may be left out of the JSON form; unknown fields are
/// rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Fixes every random draw.
    pub seed: u64,
    /// Epochs to run after the genesis epoch.
    pub epochs: u64,
    /// Honest providers.
    pub honest: u64,
    /// Lazy providers (a cheaper model than declared).
    pub lazy: u64,
    /// Offline providers.
    pub offline: u64,
    /// Providers that serve the declared model only to requests they take for probes.
    pub probe_detectors: u64,
    /// Per mille of probes a probe detector recognises (0 to 1000).
    pub probe_detection_per_mille: u32,
    /// Per mille of re-executed cheating answers (a lazy provider's, a probe
    /// detector's to probes it missed) that fail the check (0 to 1000).
    pub cheat_detection_per_mille: u32,
    /// Per billion of re-executed honest answers that fail the check all the same
    /// (0 to 10⁹): each such failure zeroes an honest provider for the penalty.
    pub false_positive_per_billion: u32,
    /// Honest validators.
    pub validators: u64,
    /// Weight-copying validators.
    pub copiers: u64,
    /// First epoch in which offline providers answer nothing (0: never online);
    /// `None` is half the run.
    pub offline_from: Option<u64>,
    /// Stake of each honest validator, in base units.
    pub validator_stake: u64,
    /// Stake of each copier, in base units.
    pub copier_stake: u64,
    /// Changes to the validator's default [`Policy`].
    pub policy: PolicyOverrides,
    /// Changes to the default subnet hyperparameters.
    pub subnet: SubnetOverrides,
    /// How the declared model performs (honest and offline providers).
    pub honest_model: Performance,
    /// How the cheaper model performs (lazy providers).
    pub lazy_model: Performance,
    /// How providers' load drifts from epoch to epoch.
    pub load: Load,
    /// Standard deviation of the per-probe log-normal noise on time to first token
    /// and on speed.
    pub probe_noise: f64,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            seed: 0,
            epochs: 100,
            honest: 4,
            lazy: 2,
            offline: 1,
            probe_detectors: 1,
            probe_detection_per_mille: DEFAULT_PROBE_DETECTION_PER_MILLE,
            cheat_detection_per_mille: DEFAULT_CHEAT_DETECTION_PER_MILLE,
            false_positive_per_billion: DEFAULT_FALSE_POSITIVE_PER_BILLION,
            validators: 3,
            copiers: 1,
            offline_from: None,
            validator_stake: 1_000_000_000_000,
            copier_stake: 1_000_000_000_000,
            policy: PolicyOverrides::default(),
            subnet: SubnetOverrides::default(),
            honest_model: Performance {
                ttft_ms: 600.0,
                tokens_per_second: 30.0,
                failure_per_mille: 10,
            },
            lazy_model: Performance {
                ttft_ms: 250.0,
                tokens_per_second: 90.0,
                failure_per_mille: 10,
            },
            load: Load::default(),
            probe_noise: 0.2,
        }
    }
}

/// Changes to the validator's [`Policy`]; `None` keeps the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyOverrides {
    /// Probes per provider per epoch (1 to 64).
    pub probes_per_provider: Option<u32>,
    /// Per mille of answered probes re-executed (0 to 1000).
    pub sample_per_mille: Option<u32>,
    /// Epochs a caught provider keeps weight zero (at most 1,000,000).
    pub penalty_epochs: Option<u64>,
    /// Weight of the newest epoch in the moving average, per mille (1 to 1000).
    pub ema_per_mille: Option<u32>,
}

/// Changes to the default subnet [`Hyperparams`]; `None` keeps the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubnetOverrides {
    /// Blocks per epoch (at least 3).
    pub tempo: Option<u16>,
    /// Which Yuma variant runs.
    pub yuma: Option<YumaVariant>,
    /// Whether weights go through commit-reveal.
    pub commit_reveal: Option<bool>,
    /// Consensus majority, out of 65535.
    pub kappa: Option<u16>,
    /// Bonds penalty, out of 65535.
    pub bonds_penalty: Option<u16>,
    /// Bonds EMA keep factor, parts per million (at most 1,000,000).
    pub bonds_moving_average: Option<u64>,
}

/// How a model serves a probe on an unloaded provider.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Performance {
    /// Median time to first token, in milliseconds (above 0, at most 60,000).
    pub ttft_ms: f64,
    /// Median generation speed, in tokens per second (above 0, at most 1,000,000).
    pub tokens_per_second: f64,
    /// Per mille of probes that fail outright (0 to 1000).
    pub failure_per_mille: u32,
}

/// A provider's load: `exp(x)` multiplies its time to first token and divides its
/// speed, with `x_e = persistence · x_{e-1} + sigma · N(0, 1)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Load {
    /// Per mille of the last epoch's load kept (0 to 990).
    pub persistence_per_mille: u32,
    /// Innovation per epoch (0 to 2).
    pub sigma: f64,
}

impl Default for Load {
    fn default() -> Self {
        Self {
            persistence_per_mille: 800,
            sigma: 0.25,
        }
    }
}

/// What a provider does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderStrategy {
    /// Serves the declared model.
    Honest,
    /// Serves a cheaper model than declared.
    Lazy,
    /// Stops answering.
    Offline,
    /// Serves the declared model only to requests it takes for probes.
    #[serde(rename = "probe_detector")]
    ProbeDetector,
}

/// What a validator does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValidatorStrategy {
    /// Probes, checks and scores every provider.
    Honest,
    /// Copies the weights the other validators put on chain.
    Copier,
}

/// One strategy's earnings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Earnings<S> {
    /// The strategy.
    pub strategy: S,
    /// UIDs following it.
    pub count: u64,
    /// Base units paid to them over the run.
    pub emission: u64,
    /// Their share of the side's emission (miners' or validators') over the run.
    pub share: f64,
    /// `share / count`; `None` without members.
    pub per_capita: Option<f64>,
    /// Their share over the last [`Report::late_epochs`] epochs.
    pub late_share: f64,
    /// `late_share / count`; `None` without members.
    pub late_per_capita: Option<f64>,
}

/// Re-execution outcomes over the run, all validators together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checks {
    /// Answers re-executed that passed.
    pub passed: u64,
    /// Answers re-executed that failed.
    pub failed: u64,
    /// Of those that failed, honest answers ([`Scenario::false_positive_per_billion`]):
    /// each zeroed an honest provider for the penalty.
    #[serde(default)]
    pub honest_failed: u64,
    /// Of those that passed, cheating answers that escaped the check
    /// ([`Scenario::cheat_detection_per_mille`]).
    #[serde(default)]
    pub cheats_passed: u64,
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// Epochs run.
    pub epochs: u64,
    /// The last this many epochs make up the `late_*` columns: a quarter of the run,
    /// at least one.
    pub late_epochs: u64,
    /// First epoch in which offline providers answered nothing.
    pub offline_from: u64,
    /// The Yuma variant.
    pub yuma: YumaVariant,
    /// Whether weights went through commit-reveal.
    pub commit_reveal: bool,
    /// Base units paid by Yuma per epoch (the subnet's emission after the owner cut).
    pub emission_per_epoch: u64,
    /// Base units paid to providers (incentive) over the run.
    pub miner_emission: u64,
    /// Base units paid to validators (dividends) over the run.
    pub validator_emission: u64,
    /// Providers, per strategy.
    pub providers: Vec<Earnings<ProviderStrategy>>,
    /// Validators, per strategy.
    pub validators: Vec<Earnings<ValidatorStrategy>>,
    /// A lazy provider's per-capita share over an honest one's; `None` without both.
    pub lazy_over_honest: Option<f64>,
    /// A probe detector's per-capita share over an honest provider's; `None` without
    /// both.
    pub detector_over_honest: Option<f64>,
    /// A copier's per-capita share of dividends over an honest validator's, per unit
    /// of stake; `None` without both.
    pub copier_over_honest: Option<f64>,
    /// The same over the last [`Report::late_epochs`] epochs.
    pub late_copier_over_honest: Option<f64>,
    /// Re-execution outcomes.
    pub checks: Checks,
}

/// Why a scenario cannot run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The input is not valid scenario JSON.
    #[error("invalid scenario: {0}")]
    Json(#[from] serde_json::Error),
    /// A count, size or parameter is out of its range.
    #[error("`{name}` {reason}")]
    Invalid {
        /// The field.
        name: &'static str,
        /// What is wrong, as the rest of a sentence.
        reason: String,
    },
}

fn invalid(name: &'static str, reason: impl Into<String>) -> SimError {
    SimError::Invalid {
        name,
        reason: reason.into(),
    }
}

fn check_range<T: PartialOrd + std::fmt::Display>(
    name: &'static str,
    value: T,
    min: T,
    max: T,
) -> Result<(), SimError> {
    if value < min || value > max {
        return Err(invalid(
            name,
            format!("is {value}; it must be between {min} and {max}"),
        ));
    }
    Ok(())
}

fn check_float(name: &'static str, value: f64, above: f64, max: f64) -> Result<(), SimError> {
    if !value.is_finite() || value <= above || value > max {
        return Err(invalid(
            name,
            format!("is {value}; it must be above {above} and at most {max}"),
        ));
    }
    Ok(())
}

/// Everything a run needs, checked.
struct Setup {
    policy: Policy,
    hp: Hyperparams,
    offline_from: u64,
    emission_per_epoch: u64,
}

impl Scenario {
    fn setup(&self) -> Result<Setup, SimError> {
        check_range("epochs", self.epochs, 1, MAX_EPOCHS)?;
        check_range("validators", self.validators, 1, MAX_VALIDATORS)?;
        let providers = self
            .honest
            .saturating_add(self.lazy)
            .saturating_add(self.offline)
            .saturating_add(self.probe_detectors);
        if providers == 0 {
            return Err(invalid(
                "honest + lazy + offline + probe_detectors",
                "is 0; the subnet needs at least one provider",
            ));
        }
        check_range(
            "honest + lazy + offline + probe_detectors",
            providers,
            1,
            MAX_PROVIDERS,
        )?;
        check_range(
            "probe_detection_per_mille",
            self.probe_detection_per_mille,
            0,
            1000,
        )?;
        check_range(
            "cheat_detection_per_mille",
            self.cheat_detection_per_mille,
            0,
            1000,
        )?;
        check_range(
            "false_positive_per_billion",
            self.false_positive_per_billion,
            0,
            1_000_000_000,
        )?;
        let all_validators = self.validators.saturating_add(self.copiers);
        check_range("validators + copiers", all_validators, 1, MAX_VALIDATORS)?;
        check_range("validator_stake", self.validator_stake, 1, MAX_STAKE)?;
        if self.copiers > 0 {
            check_range("copier_stake", self.copier_stake, 1, MAX_STAKE)?;
        }

        let mut policy = Policy::default();
        let o = self.policy;
        if let Some(v) = o.probes_per_provider {
            check_range("probes_per_provider", v, 1, 64)?;
            policy.probes_per_provider = v;
        }
        if let Some(v) = o.sample_per_mille {
            check_range("sample_per_mille", v, 0, 1000)?;
            policy.sample_per_mille = v;
        }
        if let Some(v) = o.penalty_epochs {
            check_range("penalty_epochs", v, 0, 1_000_000)?;
            policy.penalty_epochs = v;
        }
        if let Some(v) = o.ema_per_mille {
            check_range("ema_per_mille", v, 1, 1000)?;
            policy.ema_per_mille = v;
        }
        let probes = self
            .epochs
            .saturating_mul(self.validators)
            .saturating_mul(providers)
            .saturating_mul(u64::from(policy.probes_per_provider));
        if probes > MAX_PROBES {
            return Err(invalid(
                "epochs × validators × providers × probes_per_provider",
                format!("is {probes}; at most {MAX_PROBES} probes fit in one run"),
            ));
        }

        let mut hp = Hyperparams::default();
        let s = self.subnet;
        if let Some(v) = s.tempo {
            check_range("tempo", v, 3, u16::MAX)?;
            hp.tempo = v;
        }
        if let Some(v) = s.yuma {
            hp.yuma = v;
        }
        if let Some(v) = s.commit_reveal {
            hp.commit_reveal = v;
        }
        if let Some(v) = s.kappa {
            hp.kappa = v;
        }
        if let Some(v) = s.bonds_penalty {
            hp.bonds_penalty = v;
        }
        if let Some(v) = s.bonds_moving_average {
            check_range("bonds_moving_average", v, 0, 1_000_000)?;
            hp.bonds_moving_average = v;
        }
        hp.activity_cutoff = u64::MAX;
        // Every validator holds a permit: a run with more validators than permits
        // would measure the permit rule, not the strategies.
        hp.max_validators = u16::try_from(all_validators).unwrap_or(u16::MAX);

        for (prefix, m) in [
            ("honest_model", &self.honest_model),
            ("lazy_model", &self.lazy_model),
        ] {
            let ms = PROBE_TIMEOUT.as_secs_f64() * 1e3;
            check_float(perf_field(prefix, "ttft_ms"), m.ttft_ms, 0.0, ms)?;
            check_float(
                perf_field(prefix, "tokens_per_second"),
                m.tokens_per_second,
                0.0,
                1e6,
            )?;
            check_range(
                perf_field(prefix, "failure_per_mille"),
                m.failure_per_mille,
                0,
                1000,
            )?;
        }
        check_range(
            "load.persistence_per_mille",
            self.load.persistence_per_mille,
            0,
            990,
        )?;
        check_float("load.sigma", self.load.sigma, -f64::MIN_POSITIVE, 2.0)?;
        check_float("probe_noise", self.probe_noise, -f64::MIN_POSITIVE, 2.0)?;

        let offline_from = self.offline_from.unwrap_or(self.epochs / 2);
        let chain = plexus_ledger::ChainParams::default();
        let pending = u128::from(chain.block_emission) * u128::from(hp.tempo);
        let owner_cut = pending * u128::from(plexus_ledger::params::OWNER_CUT) / 65_535;
        let emission_per_epoch = u64::try_from(pending - owner_cut).unwrap_or(u64::MAX);
        Ok(Setup {
            policy,
            hp,
            offline_from,
            emission_per_epoch,
        })
    }
}

fn perf_field(prefix: &str, field: &str) -> &'static str {
    match (prefix, field) {
        ("honest_model", "ttft_ms") => "honest_model.ttft_ms",
        ("honest_model", "tokens_per_second") => "honest_model.tokens_per_second",
        ("honest_model", _) => "honest_model.failure_per_mille",
        (_, "ttft_ms") => "lazy_model.ttft_ms",
        (_, "tokens_per_second") => "lazy_model.tokens_per_second",
        _ => "lazy_model.failure_per_mille",
    }
}

/// Random draws for the simulation, from a blake3 stream.
struct Rng(Draw);

impl Rng {
    fn new(key: &[u8; 32], label: &str, parts: &[&[u8]]) -> Self {
        Self(Draw::new(key, label, parts))
    }

    /// Uniform in `[0, 1)`.
    fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller); `|z| < 8.6`.
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0.below(n)
    }

    fn seed(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for chunk in out.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.0.next_u64().to_le_bytes());
        }
        out
    }
}

struct Provider {
    uid: u16,
    strategy: ProviderStrategy,
    /// The log of its current load.
    load: f64,
    rng: Rng,
}

struct HonestValidator {
    uid: u16,
    seed: [u8; 32],
    board: Scoreboard<u16>,
    noise: Rng,
}

/// Chain-side state of the subnet, indexed by UID.
struct Chain {
    stake: Vec<u64>,
    weights: Vec<Vec<(u16, u16)>>,
    bonds: Vec<Vec<(u16, u16)>>,
    permits: Vec<bool>,
    last_update: Vec<u64>,
    committed_at: Vec<u64>,
    registered_at: Vec<u64>,
    /// A row committed and not yet revealed, with its commit block, per UID.
    pending: Vec<Option<(Vec<(u16, u16)>, u64)>>,
}

impl Chain {
    /// Store `row` as `uid`'s weights (max-upscaled, as the chain stores them).
    fn store(&mut self, uid: usize, row: &[(u16, u16)], block: u64, committed: u64) {
        let values: Vec<u16> = row.iter().map(|&(_, w)| w).collect();
        let upscaled = vec_u16_max_upscale_to_u16(&values);
        self.weights[uid] = row
            .iter()
            .map(|&(t, _)| t)
            .zip(upscaled)
            .filter(|&(_, w)| w > 0)
            .collect();
        self.last_update[uid] = block;
        self.committed_at[uid] = committed;
    }

    /// Submit `row` at `block`: commit it, or set it where commit-reveal is off.
    fn submit(&mut self, uid: usize, row: Vec<(u16, u16)>, block: u64, commit_reveal: bool) {
        if row.is_empty() {
            // The chain refuses all-zero weights; the validator sends nothing.
            return;
        }
        if commit_reveal {
            self.pending[uid] = Some((row, block));
        } else {
            self.store(uid, &row, block, block);
        }
    }

    /// Reveal `uid`'s pending commit at `block`.
    fn reveal(&mut self, uid: usize, block: u64) {
        if let Some((row, committed)) = self.pending[uid].take() {
            self.store(uid, &row, block, committed);
        }
    }

    /// What a copier submits: the other validators' stored rows, each normalised to
    /// sum one and weighted by stake, averaged and max-upscaled.
    fn copy_for(&self, copier: usize, validators: usize, n: usize) -> Vec<(u16, u16)> {
        let mut sum = vec![0.0f64; n];
        for i in (0..validators).filter(|&i| i != copier) {
            let row = &self.weights[i];
            let total: f64 = row.iter().map(|&(_, w)| f64::from(w)).sum();
            if total <= 0.0 {
                continue;
            }
            let stake = self.stake[i] as f64;
            for &(j, w) in row {
                sum[usize::from(j)] += stake * f64::from(w) / total;
            }
        }
        let max = sum.iter().copied().fold(0.0, f64::max);
        if max <= 0.0 {
            return Vec::new();
        }
        (0u16..)
            .zip(&sum)
            .filter_map(|(j, &s)| {
                let w = (s / max * 65535.0).round() as u16;
                (w > 0).then_some((j, w))
            })
            .collect()
    }
}

/// Paid base units per UID, over the run and over its late part.
struct Tally {
    miner: Vec<u64>,
    validator: Vec<u64>,
    late_miner: Vec<u64>,
    late_validator: Vec<u64>,
}

/// Run a scenario.
pub fn run(s: &Scenario) -> Result<Report, SimError> {
    let setup = s.setup()?;
    let policy = setup.policy;
    let hp = &setup.hp;
    let params = plexus_ledger::emission::yuma_params(hp);
    let commit_reveal = hp.commit_reveal;
    let tempo = u64::from(hp.tempo);

    // UIDs: honest validators, copiers, then honest, lazy and offline providers.
    let v_honest = usize::try_from(s.validators).unwrap_or(usize::MAX);
    let v_all = v_honest + usize::try_from(s.copiers).unwrap_or(usize::MAX);
    let kinds: Vec<ProviderStrategy> = [
        (ProviderStrategy::Honest, s.honest),
        (ProviderStrategy::Lazy, s.lazy),
        (ProviderStrategy::Offline, s.offline),
        (ProviderStrategy::ProbeDetector, s.probe_detectors),
    ]
    .into_iter()
    .flat_map(|(k, c)| std::iter::repeat_n(k, usize::try_from(c).unwrap_or(0)))
    .collect();
    let n = v_all + kinds.len();

    let master = blake3::derive_key("plexus sim network 2025", &s.seed.to_le_bytes());
    let mut seeds = Rng::new(&master, "plexus/sim/validator-seeds", &[]);
    let mut honest: Vec<HonestValidator> = (0..v_honest)
        .map(|i| {
            let seed = seeds.seed();
            HonestValidator {
                uid: i as u16,
                seed,
                board: Scoreboard::new(policy),
                noise: Rng::new(&seed, "plexus/sim/probe-noise", &[]),
            }
        })
        .collect();
    let rho = f64::from(s.load.persistence_per_mille) / 1000.0;
    let stationary = s.load.sigma / (1.0 - rho * rho).sqrt();
    let mut providers: Vec<Provider> = kinds
        .iter()
        .enumerate()
        .map(|(k, &strategy)| {
            let uid = (v_all + k) as u16;
            let mut rng = Rng::new(&master, "plexus/sim/load", &[&uid.to_le_bytes()]);
            let load = stationary * rng.normal();
            Provider {
                uid,
                strategy,
                load,
                rng,
            }
        })
        .collect();

    let mut chain = Chain {
        stake: (0..n)
            .map(|i| match i {
                i if i < v_honest => s.validator_stake,
                i if i < v_all => s.copier_stake,
                _ => 0,
            })
            .collect(),
        weights: vec![Vec::new(); n],
        bonds: vec![Vec::new(); n],
        permits: vec![false; n],
        last_update: vec![0; n],
        committed_at: vec![u64::MAX; n],
        registered_at: vec![0; n],
        pending: vec![None; n],
    };
    let mut tally = Tally {
        miner: vec![0; n],
        validator: vec![0; n],
        late_miner: vec![0; n],
        late_validator: vec![0; n],
    };
    let late_epochs = (s.epochs / 4).max(1);
    let late_from = s.epochs - late_epochs;
    let mut checks = Checks::default();

    let yuma_at = |chain: &mut Chain, block: u64, last: u64, emission: u64| {
        let input = EpochInput {
            current_block: block,
            last_epoch_block: last,
            stake: &chain.stake,
            weights: &chain.weights,
            bonds: &chain.bonds,
            permits: &chain.permits,
            last_update: &chain.last_update,
            registered_at: &chain.registered_at,
            weights_committed_at: commit_reveal.then_some(chain.committed_at.as_slice()),
            emission,
        };
        let mut out = yuma::epoch(&params, &input);
        chain.bonds = std::mem::take(&mut out.bonds);
        chain.permits = std::mem::take(&mut out.permits);
        out
    };

    // Genesis: permits from stake, nothing paid.
    yuma_at(&mut chain, 0, 0, 0);

    let mut probes = Vec::with_capacity(policy.probes_per_provider as usize);
    for epoch in 0..s.epochs {
        let start = epoch * tempo;
        // Block 1: last epoch's commits are revealed.
        if commit_reveal {
            for uid in 0..v_all {
                chain.reveal(uid, start + 1);
            }
        }
        // The providers' load moves on.
        for p in &mut providers {
            p.load = rho * p.load + s.load.sigma * p.rng.normal();
        }
        // Block 2: honest validators have probed and submit their weights.
        for v in &mut honest {
            for p in &providers {
                probes.clear();
                for index in 0..policy.probes_per_provider {
                    let probe = simulate_probe(s, &setup, v, p, epoch, index);
                    if let (Probe::Answered { check, .. }, cheated) = probe {
                        match (check, cheated) {
                            (Check::Passed, cheated) => {
                                checks.passed += 1;
                                checks.cheats_passed += u64::from(cheated);
                            }
                            (Check::Failed, cheated) => {
                                checks.failed += 1;
                                checks.honest_failed += u64::from(!cheated);
                            }
                            (Check::NotSampled, _) => {}
                        }
                    }
                    probes.push(probe.0);
                }
                v.board.record(epoch, p.uid, &probes);
            }
            let row = v.board.weights(epoch);
            chain.submit(usize::from(v.uid), row, start + 2, commit_reveal);
        }
        // Block 3: copiers copy what is on chain now.
        for uid in v_honest..v_all {
            let row = chain.copy_for(uid, v_all, n);
            chain.submit(uid, row, start + 3, commit_reveal);
        }
        let out = yuma_at(&mut chain, start + tempo, start, setup.emission_per_epoch);
        for i in 0..n {
            let m = out.miner_emission.get(i).copied().unwrap_or(0);
            let v = out.validator_emission.get(i).copied().unwrap_or(0);
            tally.miner[i] = tally.miner[i].saturating_add(m);
            tally.validator[i] = tally.validator[i].saturating_add(v);
            if epoch >= late_from {
                tally.late_miner[i] = tally.late_miner[i].saturating_add(m);
                tally.late_validator[i] = tally.late_validator[i].saturating_add(v);
            }
        }
    }

    Ok(report(
        s,
        &setup,
        &kinds,
        v_honest,
        v_all,
        &tally,
        late_epochs,
        checks,
    ))
}

/// One probe of `p` by `v`, and whether the answer was a cheat.
fn simulate_probe(
    s: &Scenario,
    setup: &Setup,
    v: &mut HonestValidator,
    p: &Provider,
    epoch: u64,
    index: u32,
) -> (Probe, bool) {
    // A probe detector recognises this probe or not, by what the request looks like:
    // a draw of its own, independent of the validator's noise.
    let detected = p.strategy == ProviderStrategy::ProbeDetector
        && Rng::new(
            &v.seed,
            "plexus/sim/probe-detected",
            &[
                &epoch.to_le_bytes(),
                &p.uid.to_le_bytes(),
                &index.to_le_bytes(),
            ],
        )
        .below(1000)
            < u64::from(s.probe_detection_per_mille);
    let cheats = match p.strategy {
        ProviderStrategy::Lazy => true,
        ProviderStrategy::ProbeDetector => !detected,
        ProviderStrategy::Honest | ProviderStrategy::Offline => false,
    };
    let model = match p.strategy {
        ProviderStrategy::Offline if epoch >= setup.offline_from => {
            return (Probe::Failed, false);
        }
        _ if cheats => &s.lazy_model,
        _ => &s.honest_model,
    };
    let rng = &mut v.noise;
    if rng.below(1000) < u64::from(model.failure_per_mille) {
        return (Probe::Failed, cheats);
    }
    let load = p.load.exp();
    let ttft = model.ttft_ms / 1e3 * load * (s.probe_noise * rng.normal()).exp();
    let speed = model.tokens_per_second / load * (s.probe_noise * rng.normal()).exp();
    let completion_tokens = 64 + rng.below(193) as u32;
    let generation = f64::from(completion_tokens) / speed;
    let timeout = PROBE_TIMEOUT.as_secs_f64();
    let total = ttft + generation;
    if total.is_nan() || total >= timeout {
        return (Probe::Failed, cheats);
    }
    let sampled = probe::sampled(
        &v.seed,
        epoch,
        &p.uid.to_le_bytes(),
        index,
        setup.policy.sample_per_mille,
    );
    // The check's own errors: a cheat it misses, an honest answer it rejects.
    let caught = |rng: &mut Rng| {
        if cheats {
            rng.below(1000) < u64::from(s.cheat_detection_per_mille)
        } else {
            rng.below(1_000_000_000) < u64::from(s.false_positive_per_billion)
        }
    };
    let check = match sampled {
        false => Check::NotSampled,
        true if caught(rng) => Check::Failed,
        true => Check::Passed,
    };
    (
        Probe::Answered {
            ttft: Duration::from_secs_f64(ttft),
            generation: Duration::from_secs_f64(generation),
            completion_tokens,
            check,
        },
        cheats,
    )
}

fn earnings<S>(strategy: S, uids: &[usize], total: &[u64], late: &[u64]) -> Earnings<S> {
    let sum = |v: &[u64]| v.iter().fold(0u64, |a, b| a.saturating_add(*b));
    let pick = |v: &[u64]| uids.iter().fold(0u64, |a, &i| a.saturating_add(v[i]));
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let count = uids.len() as u64;
    let share = ratio(pick(total), sum(total));
    let late_share = ratio(pick(late), sum(late));
    let per = |x: f64| (count > 0).then(|| x / count as f64);
    Earnings {
        strategy,
        count,
        emission: pick(total),
        share,
        per_capita: per(share),
        late_share,
        late_per_capita: per(late_share),
    }
}

#[allow(clippy::too_many_arguments)]
fn report(
    s: &Scenario,
    setup: &Setup,
    kinds: &[ProviderStrategy],
    v_honest: usize,
    v_all: usize,
    t: &Tally,
    late_epochs: u64,
    checks: Checks,
) -> Report {
    let sum = |v: &[u64]| v.iter().fold(0u64, |a, b| a.saturating_add(*b));
    let provider_uids = |k: ProviderStrategy| -> Vec<usize> {
        (0..kinds.len())
            .filter(|&i| kinds[i] == k)
            .map(|i| v_all + i)
            .collect()
    };
    let providers: Vec<_> = [
        ProviderStrategy::Honest,
        ProviderStrategy::Lazy,
        ProviderStrategy::Offline,
        ProviderStrategy::ProbeDetector,
    ]
    .into_iter()
    .map(|k| earnings(k, &provider_uids(k), &t.miner, &t.late_miner))
    .collect();
    let honest_uids: Vec<usize> = (0..v_honest).collect();
    let copier_uids: Vec<usize> = (v_honest..v_all).collect();
    let validators = vec![
        earnings(
            ValidatorStrategy::Honest,
            &honest_uids,
            &t.validator,
            &t.late_validator,
        ),
        earnings(
            ValidatorStrategy::Copier,
            &copier_uids,
            &t.validator,
            &t.late_validator,
        ),
    ];
    let over = |a: Option<f64>, b: Option<f64>, scale: f64| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b * scale),
        _ => None,
    };
    // Per unit of stake, so that unequal stakes compare fairly.
    let stake_scale = s.validator_stake as f64 / s.copier_stake.max(1) as f64;
    Report {
        seed: s.seed,
        epochs: s.epochs,
        late_epochs,
        offline_from: setup.offline_from,
        yuma: setup.hp.yuma,
        commit_reveal: setup.hp.commit_reveal,
        emission_per_epoch: setup.emission_per_epoch,
        miner_emission: sum(&t.miner),
        validator_emission: sum(&t.validator),
        lazy_over_honest: over(providers[1].per_capita, providers[0].per_capita, 1.0),
        detector_over_honest: over(providers[3].per_capita, providers[0].per_capita, 1.0),
        copier_over_honest: over(
            validators[1].per_capita,
            validators[0].per_capita,
            stake_scale,
        ),
        late_copier_over_honest: over(
            validators[1].late_per_capita,
            validators[0].late_per_capita,
            stake_scale,
        ),
        providers,
        validators,
        checks,
    }
}

/// Parse a scenario from JSON (an empty object gives the defaults).
pub fn scenario_from_json(text: &str) -> Result<Scenario, SimError> {
    Ok(serde_json::from_str(text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(seed: u64) -> Scenario {
        Scenario {
            seed,
            epochs: 40,
            ..Scenario::default()
        }
    }

    #[test]
    fn a_seed_fixes_the_report_and_another_seed_changes_the_numbers() {
        let a = run(&small(1)).unwrap();
        assert_eq!(a, run(&small(1)).unwrap());
        let b = run(&small(2)).unwrap();
        assert_ne!(a.providers, b.providers);
    }

    #[test]
    fn shares_of_each_side_sum_to_one_and_everything_is_paid() {
        let r = run(&small(3)).unwrap();
        let miners: f64 = r.providers.iter().map(|e| e.share).sum();
        let validators: f64 = r.validators.iter().map(|e| e.share).sum();
        assert!((miners - 1.0).abs() < 1e-9, "{miners}");
        assert!((validators - 1.0).abs() < 1e-9, "{validators}");
        let paid = r.miner_emission + r.validator_emission;
        let due = r.emission_per_epoch * r.epochs;
        // Yuma floors each UID's amount: at most a few base units per UID and epoch.
        assert!(paid <= due && due - paid <= 20 * r.epochs, "{paid} {due}");
    }

    #[test]
    fn no_honest_provider_is_zeroed_in_1000_epochs_at_the_checks_false_positive_bound() {
        for seed in 0..2 {
            let s = Scenario {
                seed,
                epochs: 1_000,
                false_positive_per_billion: DEFAULT_FALSE_POSITIVE_PER_BILLION,
                ..Scenario::default()
            };
            let r = run(&s).unwrap();
            assert!(r.checks.passed > 20_000, "{:?}", r.checks);
            assert_eq!(r.checks.honest_failed, 0, "seed {seed}: {:?}", r.checks);
        }
        // The knob is live: a check that rejects one honest answer in a thousand zeroes
        // honest providers many times over the same run.
        let r = run(&Scenario {
            epochs: 1_000,
            false_positive_per_billion: 1_000_000,
            ..Scenario::default()
        })
        .unwrap();
        assert!(r.checks.honest_failed > 5, "{:?}", r.checks);
    }

    #[test]
    fn a_check_that_misses_cheats_lets_them_through_and_a_perfect_one_none() {
        let mut s = small(5);
        s.cheat_detection_per_mille = 1000;
        assert_eq!(run(&s).unwrap().checks.cheats_passed, 0);
        s.cheat_detection_per_mille = 500;
        let r = run(&s).unwrap();
        assert!(r.checks.cheats_passed > 0, "{:?}", r.checks);
    }

    #[test]
    fn without_sampling_the_lazy_model_outearns_the_declared_one() {
        // The sensitivity check for the lazy-provider result: it comes from proof of
        // sampling, not from the set-up.
        let mut s = small(4);
        s.policy.sample_per_mille = Some(0);
        let r = run(&s).unwrap();
        assert_eq!(r.checks, Checks::default());
        let ratio = r.lazy_over_honest.unwrap();
        assert!(ratio > 1.0, "{ratio}");
    }

    #[test]
    fn a_provider_serving_only_what_it_takes_for_probes_earns_under_a_tenth_of_an_honest_one() {
        // The issue's acceptance, at the detection rate the red-team bench measured
        // for the private corpus, over 10 epochs and over a long run.
        for (epochs, seed) in [(10, 5), (10, 6), (100, 7)] {
            let r = run(&Scenario {
                seed,
                epochs,
                ..Scenario::default()
            })
            .unwrap();
            let ratio = r.detector_over_honest.unwrap();
            assert!(ratio < 0.1, "{epochs} epochs: {ratio}");
        }
    }

    #[test]
    fn a_provider_that_recognises_every_probe_earns_like_an_honest_one() {
        // The sensitivity check: the detector's loss comes from the probes it cannot
        // tell from users, and old-style probes (recognised by the bench's classifier
        // every time) paid it in full.
        let r = run(&Scenario {
            seed: 8,
            epochs: 40,
            probe_detection_per_mille: 1000,
            ..Scenario::default()
        })
        .unwrap();
        let ratio = r.detector_over_honest.unwrap();
        assert!(ratio > 0.8, "{ratio}");
    }

    #[test]
    fn bad_input_is_an_error_that_names_the_field() {
        let cases: Vec<(Scenario, &str)> = vec![
            (
                Scenario {
                    epochs: 0,
                    ..Scenario::default()
                },
                "epochs",
            ),
            (
                Scenario {
                    epochs: MAX_EPOCHS + 1,
                    ..Scenario::default()
                },
                "epochs",
            ),
            (
                Scenario {
                    validators: 0,
                    ..Scenario::default()
                },
                "validators",
            ),
            (
                Scenario {
                    honest: 0,
                    lazy: 0,
                    offline: 0,
                    probe_detectors: 0,
                    ..Scenario::default()
                },
                "provider",
            ),
            (
                Scenario {
                    honest: u64::MAX,
                    ..Scenario::default()
                },
                "honest + lazy + offline",
            ),
            (
                Scenario {
                    copiers: MAX_VALIDATORS,
                    ..Scenario::default()
                },
                "validators + copiers",
            ),
            (
                Scenario {
                    epochs: MAX_EPOCHS,
                    honest: MAX_PROVIDERS - 3,
                    probe_detectors: 0,
                    ..Scenario::default()
                },
                "probes",
            ),
            (
                Scenario {
                    probe_noise: f64::NAN,
                    ..Scenario::default()
                },
                "probe_noise",
            ),
            (
                Scenario {
                    lazy_model: Performance {
                        ttft_ms: 0.0,
                        ..Scenario::default().lazy_model
                    },
                    ..Scenario::default()
                },
                "lazy_model.ttft_ms",
            ),
            (
                Scenario {
                    subnet: SubnetOverrides {
                        tempo: Some(2),
                        ..SubnetOverrides::default()
                    },
                    ..Scenario::default()
                },
                "tempo",
            ),
        ];
        for (s, field) in cases {
            let err = run(&s).unwrap_err().to_string();
            assert!(err.contains(field), "{err} should name {field}");
        }
        assert!(matches!(
            scenario_from_json(r#"{"epochs": 3, "bogus": 1}"#),
            Err(SimError::Json(_))
        ));
        assert!(matches!(
            scenario_from_json(r#"{"honest": -1}"#),
            Err(SimError::Json(_))
        ));
        assert_eq!(scenario_from_json("{}").unwrap(), Scenario::default());
    }

    #[test]
    fn a_probe_past_the_timeout_fails() {
        let mut s = small(5);
        s.epochs = 5;
        s.honest_model.tokens_per_second = 0.1;
        s.lazy = 0;
        s.offline = 0;
        s.probe_detectors = 0;
        let r = run(&s).unwrap();
        // No honest answer completes, so no provider earns and nothing is checked.
        assert_eq!(r.miner_emission, 0);
        assert_eq!(r.checks, Checks::default());
    }
}
