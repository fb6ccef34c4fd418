//! Offline Yuma simulator behind `plexus sim yuma --scenario FILE`: run a scripted
//! sequence of epochs on a fixed stake distribution and report each epoch.
//!
//! # Input
//! ```json
//! {"variant": "original",
//!  "stake": [1, 2, 3, 4, 0, 0, 0, 0],
//!  "hyperparams": {"kappa": 32767, "bonds_penalty": 65535,
//!                  "bonds_moving_average": 900000, "max_allowed_validators": 8,
//!                  "liquid_alpha": null},
//!  "emission_per_epoch": 1000000000,
//!  "epochs": [{"weights": {"0": [[4, 16383], [5, 32767]]}}, {}]}
//! ```
//! Every hyperparameter may be left out (subtensor's defaults apply). Two optional
//! hyperparameters go beyond the chain's scenario format: `activity_cutoff`, in
//! epochs (by default every UID stays active forever), and `stake_threshold` (by
//! default zero). Unknown fields are rejected.
//!
//! # Timeline
//! All UIDs register at block 0. The simulator first runs one unreported *genesis
//! epoch* at block 0 with no weights: it only issues validator permits from stake,
//! exactly like the first `epoch` call in subtensor's tests. Listed epoch `e`
//! (0-based) then runs at block `e + 1`, after its weight entries are set at that
//! same block; the previous epoch ran at block `e`. So the first listed epoch is the
//! first in which weights count, and the permits it uses are the genesis ones.
//!
//! A weight entry `"<uid>": [[target, weight], ...]` replaces that UID's row from its
//! epoch on, stored max-upscaled to 65535 as a chain stores it, and marks the UID as
//! updated at that block; rows not mentioned keep their last value. An empty list
//! clears the row.
//!
//! # Output
//! One JSON object per listed epoch and line: `{"epoch", "consensus", "incentive",
//! "dividends", "validator_trust", "bonds", "emission"}`, where `bonds` is the
//! stored bond matrix, dense `n × n`, and `emission` is miner plus validator
//! emission per UID.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::math::vec_u16_max_upscale_to_u16;
use super::{EpochInput, LiquidAlpha, MAX_UIDS, Params, Variant};

/// The most epochs a scenario may list.
pub const MAX_EPOCHS: usize = 10_000;
/// The most weight entries a scenario may list, over all epochs.
pub const MAX_WEIGHT_ENTRIES: usize = 16_777_216;
/// The most bond cells (`n² × epochs`) a scenario's output may hold.
pub const MAX_OUTPUT_CELLS: u64 = 268_435_456;

/// A scripted simulation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Bonds and dividends rule.
    pub variant: Variant,
    /// Raw stake per UID; its length is the number of UIDs.
    pub stake: Vec<u64>,
    /// Consensus hyperparameters.
    #[serde(default)]
    pub hyperparams: Hyperparams,
    /// Base units paid out per epoch.
    pub emission_per_epoch: u64,
    /// The epochs to run, in order.
    pub epochs: Vec<ScenarioEpoch>,
}

/// Consensus hyperparameters of a scenario; each defaults to subtensor's default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Hyperparams {
    /// Majority ratio of the consensus median, as a proportion of 65535.
    pub kappa: u16,
    /// Weight of clipped over raw weights in bonds, as a proportion of 65535.
    pub bonds_penalty: u16,
    /// Weight of old bonds in the EMA, in parts per million.
    pub bonds_moving_average: u64,
    /// How many UIDs may hold a validator permit.
    pub max_allowed_validators: u16,
    /// Liquid alpha (Yuma3 only).
    pub liquid_alpha: Option<LiquidAlpha>,
    /// Epochs after its last weights update for which a UID stays active; `None`
    /// keeps every UID active.
    pub activity_cutoff: Option<u64>,
    /// Raw stake below which stake counts as zero.
    pub stake_threshold: u64,
}

impl Default for Hyperparams {
    fn default() -> Self {
        let p = Params::default();
        Self {
            kappa: p.kappa,
            bonds_penalty: p.bonds_penalty,
            bonds_moving_average: p.bonds_moving_average,
            max_allowed_validators: p.max_allowed_validators,
            liquid_alpha: None,
            activity_cutoff: None,
            stake_threshold: p.stake_threshold,
        }
    }
}

/// What changes before one epoch runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioEpoch {
    /// New weight rows, keyed by the setting UID in decimal.
    #[serde(default)]
    pub weights: BTreeMap<String, Vec<(u16, u16)>>,
}

/// What one epoch produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochReport {
    /// Index of the epoch in the scenario's list.
    pub epoch: usize,
    /// Consensus per UID.
    pub consensus: Vec<u16>,
    /// Incentive per UID.
    pub incentive: Vec<u16>,
    /// Dividends per UID.
    pub dividends: Vec<u16>,
    /// Validator trust per UID.
    pub validator_trust: Vec<u16>,
    /// Stored bonds after the epoch, dense: `bonds[i][j]` is `i`'s bond on `j`.
    pub bonds: Vec<Vec<u16>>,
    /// Miner plus validator emission per UID, in base units.
    pub emission: Vec<u64>,
}

/// Why a scenario cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The input is not valid scenario JSON (syntax, a missing or unknown field, an
    /// unknown variant, a value out of its type's range, a pair that is not a pair).
    #[error("invalid scenario: {0}")]
    Json(#[from] serde_json::Error),
    /// The stake list is empty.
    #[error("the scenario has no UIDs: `stake` is empty")]
    NoUids,
    /// More UIDs than a subnet can hold.
    #[error("the scenario has {n} UIDs; at most {max} are allowed")]
    TooManyUids {
        /// UIDs given.
        n: usize,
        /// Limit.
        max: usize,
    },
    /// More epochs than the simulator accepts.
    #[error("the scenario lists {epochs} epochs; at most {max} are allowed")]
    TooManyEpochs {
        /// Epochs given.
        epochs: usize,
        /// Limit.
        max: usize,
    },
    /// More weight entries than the simulator accepts.
    #[error("the scenario lists more than {max} weight entries")]
    TooManyEntries {
        /// Limit.
        max: usize,
    },
    /// The dense bond output would be too large.
    #[error("the output would hold {cells} bond cells (n² × epochs); at most {max} are allowed")]
    OutputTooLarge {
        /// Cells the output would hold.
        cells: u64,
        /// Limit.
        max: u64,
    },
    /// A weights key is not a decimal UID.
    #[error("epoch {epoch}: weights key {key:?} is not a UID")]
    BadUidKey {
        /// Epoch index.
        epoch: usize,
        /// The key.
        key: String,
    },
    /// A UID (setter or target) does not exist.
    #[error("epoch {epoch}: UID {uid} is out of range; the scenario has {n} UIDs (0..{n})")]
    UidOutOfRange {
        /// Epoch index.
        epoch: usize,
        /// The UID.
        uid: u64,
        /// Number of UIDs.
        n: usize,
    },
    /// A weight row names the same target twice.
    #[error("epoch {epoch}: UID {validator} weights UID {target} more than once")]
    DuplicateTarget {
        /// Epoch index.
        epoch: usize,
        /// Setting UID.
        validator: u16,
        /// Repeated target.
        target: u16,
    },
    /// A hyperparameter is out of range or does not apply.
    #[error("hyperparameter `{name}`: {reason}")]
    InvalidHyperparameter {
        /// Hyperparameter name.
        name: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Parsed, checked weight updates: per epoch, `(setter, row)` pairs.
type Updates = Vec<Vec<(u16, Vec<(u16, u16)>)>>;

fn check(s: &Scenario) -> Result<Updates, ScenarioError> {
    let n = s.stake.len();
    if n == 0 {
        return Err(ScenarioError::NoUids);
    }
    if n > MAX_UIDS {
        return Err(ScenarioError::TooManyUids { n, max: MAX_UIDS });
    }
    if s.epochs.len() > MAX_EPOCHS {
        return Err(ScenarioError::TooManyEpochs {
            epochs: s.epochs.len(),
            max: MAX_EPOCHS,
        });
    }
    let n64 = n as u64;
    let cells = n64
        .saturating_mul(n64)
        .saturating_mul(s.epochs.len() as u64);
    if cells > MAX_OUTPUT_CELLS {
        return Err(ScenarioError::OutputTooLarge {
            cells,
            max: MAX_OUTPUT_CELLS,
        });
    }
    let h = &s.hyperparams;
    if h.bonds_moving_average > 1_000_000 {
        return Err(ScenarioError::InvalidHyperparameter {
            name: "bonds_moving_average",
            reason: "must be at most 1000000 (parts per million)",
        });
    }
    if let Some(la) = h.liquid_alpha {
        if s.variant != Variant::Yuma3 {
            return Err(ScenarioError::InvalidHyperparameter {
                name: "liquid_alpha",
                reason: "only applies to the yuma3 variant",
            });
        }
        if la.alpha_low > la.alpha_high {
            return Err(ScenarioError::InvalidHyperparameter {
                name: "liquid_alpha",
                reason: "alpha_low must not exceed alpha_high",
            });
        }
    }

    let mut entries = 0usize;
    let mut updates = Vec::with_capacity(s.epochs.len());
    for (epoch, e) in s.epochs.iter().enumerate() {
        let mut rows = Vec::with_capacity(e.weights.len());
        for (key, row) in &e.weights {
            let validator: u16 = key.parse().map_err(|_| ScenarioError::BadUidKey {
                epoch,
                key: key.clone(),
            })?;
            if usize::from(validator) >= n {
                return Err(ScenarioError::UidOutOfRange {
                    epoch,
                    uid: validator.into(),
                    n,
                });
            }
            entries = entries.saturating_add(row.len());
            if entries > MAX_WEIGHT_ENTRIES {
                return Err(ScenarioError::TooManyEntries {
                    max: MAX_WEIGHT_ENTRIES,
                });
            }
            let mut seen: Vec<u16> = row.iter().map(|&(t, _)| t).collect();
            seen.sort_unstable();
            if let Some(&last) = seen.last()
                && usize::from(last) >= n
            {
                return Err(ScenarioError::UidOutOfRange {
                    epoch,
                    uid: last.into(),
                    n,
                });
            }
            if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
                return Err(ScenarioError::DuplicateTarget {
                    epoch,
                    validator,
                    target: w[0],
                });
            }
            rows.push((validator, row.clone()));
        }
        updates.push(rows);
    }
    Ok(updates)
}

/// Run a scenario and report every listed epoch.
pub fn run(s: &Scenario) -> Result<Vec<EpochReport>, ScenarioError> {
    let updates = check(s)?;
    let n = s.stake.len();
    let h = s.hyperparams;
    let params = Params {
        variant: s.variant,
        kappa: h.kappa,
        bonds_penalty: h.bonds_penalty,
        bonds_moving_average: h.bonds_moving_average,
        max_allowed_validators: h.max_allowed_validators,
        activity_cutoff: h.activity_cutoff.unwrap_or(u64::MAX),
        stake_threshold: h.stake_threshold,
        liquid_alpha: h.liquid_alpha,
    };

    let mut weights: Vec<Vec<(u16, u16)>> = vec![Vec::new(); n];
    let mut bonds: Vec<Vec<(u16, u16)>> = vec![Vec::new(); n];
    let mut permits = vec![false; n];
    let mut last_update = vec![0u64; n];
    let registered_at = vec![0u64; n];

    let run_at = |block: u64,
                  weights: &[Vec<(u16, u16)>],
                  bonds: &mut Vec<Vec<(u16, u16)>>,
                  permits: &mut Vec<bool>,
                  last_update: &[u64]| {
        let input = EpochInput {
            current_block: block,
            last_epoch_block: block.saturating_sub(1),
            stake: &s.stake,
            weights,
            bonds,
            permits,
            last_update,
            registered_at: &registered_at,
            weights_committed_at: None,
            emission: s.emission_per_epoch,
        };
        let mut out = super::epoch(&params, &input);
        *bonds = std::mem::take(&mut out.bonds);
        *permits = std::mem::take(&mut out.permits);
        out
    };

    // Genesis epoch: issues permits only.
    run_at(0, &weights, &mut bonds, &mut permits, &last_update);

    let mut reports = Vec::with_capacity(updates.len());
    for (epoch, rows) in updates.into_iter().enumerate() {
        let block = epoch as u64 + 1;
        for (validator, row) in rows {
            let values: Vec<u16> = row.iter().map(|&(_, w)| w).collect();
            let upscaled = vec_u16_max_upscale_to_u16(&values);
            let v = usize::from(validator);
            weights[v] = row.iter().map(|&(t, _)| t).zip(upscaled).collect();
            last_update[v] = block;
        }
        let out = run_at(block, &weights, &mut bonds, &mut permits, &last_update);
        let dense_bonds = bonds
            .iter()
            .map(|row| {
                let mut dense = vec![0u16; n];
                for &(j, b) in row {
                    dense[usize::from(j)] = b;
                }
                dense
            })
            .collect();
        reports.push(EpochReport {
            epoch,
            consensus: out.consensus,
            incentive: out.incentive,
            dividends: out.dividends,
            validator_trust: out.validator_trust,
            bonds: dense_bonds,
            emission: out
                .miner_emission
                .iter()
                .zip(&out.validator_emission)
                .map(|(m, v)| m.saturating_add(*v))
                .collect(),
        });
    }
    Ok(reports)
}

/// Parse a scenario from JSON, run it, and return one JSON report per line.
pub fn run_json(input: &str) -> Result<String, ScenarioError> {
    let scenario: Scenario = serde_json::from_str(input)?;
    let mut out = String::new();
    for report in run(&scenario)? {
        out.push_str(&serde_json::to_string(&report)?);
        out.push('\n');
    }
    Ok(out)
}
