//! Run Yuma consensus over one subnet epoch, in fixed point, without I/O.
//!
//! [`epoch`] reproduces subtensor's `epoch_mechanism`
//! (`pallets/subtensor/src/epoch/run_epoch.rs`) step for step and rounding for
//! rounding, on sparse matrices so that its cost grows with the number of stored
//! weights and bonds rather than with the square of the number of UIDs:
//!
//! 1. `active_i = last_update_i + activity_cutoff >= current_block`.
//! 2. Stake: raw stake under the threshold counts as zero; the rest is normalised
//!    (`I64F64`, then floored to `I32F32`).
//! 3. New validator permits: the `max_allowed_validators` largest non-zero stakes.
//!    This epoch still uses the previous epoch's permits.
//! 4. Active stake `a`: stake of active UIDs holding a (previous) permit, normalised.
//! 5. Weights: rows without permit, self-weights, weights set before the target's
//!    registration (and, with commit-reveal, committed before it) are dropped; rows
//!    are normalised.
//! 6. Consensus `C_j`: the stake-weighted `kappa`-median of column `j`.
//! 7. Clipped weights `min(W_ij, C_j)`; validator trust is their row sum.
//! 8. Ranks `R_j = sum_i a_i Wc_ij`; incentive is `R` normalised; trust is
//!    `R_j / (sum_i a_i W_ij)`.
//! 9. Weights for bonds `W + penalty (Wc - W)`.
//! 10. Bonds and dividends, per [`Variant`].
//! 11. Emission: miner `I_j / (sum I + sum D)`, validator `D_i / (sum I + sum D)`, each
//!     share (an `I32F32`) multiplied by the amount in `I96F32` and floored. With no
//!     incentive and no dividends at all, validators are paid by active stake (by
//!     stake if no stake is active) and miners get nothing.
//!
//! Stored vectors are `floor(x * 65535)` as `u16`.
//!
//! Bond columns of UIDs registered after `last_epoch_block` are reset in both
//! variants, as subtensor does. [`EpochOutput::ranks`] and [`EpochOutput::trust`]
//! are computed as subtensor computed them before it stopped storing them (rank
//! normalised, hence equal to incentive; trust unnormalised).
//!
//! # Deviations from subtensor
//! - Yuma3: a bond whose weight entry has disappeared decays, `(1 - alpha) B0`,
//!   whether or not liquid alpha is on. Subtensor's sparse path with liquid alpha
//!   drops such a bond (its dense path decays it, as we do).
//! - `e^x` in the liquid-alpha sigmoid is our own integer-only function; it can
//!   differ from `substrate_fixed`'s `exp` in the last bits of an `I32F32`.
//! - Liquid-alpha steepness is a `u16` (subtensor allows a negative `i16`), and a
//!   `bonds_moving_average` above 1,000,000 is treated as 1,000,000 (alpha 0)
//!   rather than giving a negative alpha.
//! - There is no subnet owner UID with a forced permit and an allowed self-weight.
//! - Raw stake is normalised exactly in 128-bit integers (subtensor's `I64F64` sum
//!   would overflow on stakes near `u64::MAX`; below that the results are equal).
//! - Stored bonds keep only non-zero `u16` entries (subtensor also stores zeros,
//!   which read back as zero), and weight and bond rows are read sorted by UID with
//!   duplicates dropped (subtensor's extrinsics never store either).

pub mod math;
pub mod scenario;

#[doc(hidden)]
pub mod dense;

mod epoch;
mod sparse;

use serde::{Deserialize, Serialize};

/// The most UIDs a subnet may have: UIDs are `u16` and 65535 is kept free.
pub const MAX_UIDS: usize = 65_535;

/// Which bonds and dividends rule a subnet uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// Subtensor's original Yuma: bonds are column-normalised, their EMA is taken
    /// against the stake-weighted weights for bonds, and dividends are
    /// `D_i = sum_j B_ij I_j`. Stored bonds are column max-upscaled.
    #[default]
    Original,
    /// Yuma 3: bonds are absolute proportions with a per-entry EMA towards the
    /// weights for bonds (optionally with liquid alpha), and dividends are
    /// `D_i ∝ a_i sum_j colnorm(B)_ij I_j`.
    ///
    /// When a validator's weight entry for a UID disappears, its bond to that UID
    /// decays, `B = (1 - alpha) B0`; it is not dropped.
    Yuma3,
}

/// Liquid alpha: a per-bond EMA rate that follows how far a weight is from
/// consensus, instead of the fixed `1 - bonds_moving_average`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiquidAlpha {
    /// Lower bound of alpha, as a proportion of 65535.
    pub alpha_low: u16,
    /// Upper bound of alpha, as a proportion of 65535.
    pub alpha_high: u16,
    /// Sigmoid steepness; the sigmoid's rate is `steepness / 100`.
    pub steepness: u16,
}

impl Default for LiquidAlpha {
    /// Subtensor's defaults: alpha in `[0.7, 0.9]`, steepness 1000.
    fn default() -> Self {
        Self {
            alpha_low: 45_875,
            alpha_high: 58_982,
            steepness: 1_000,
        }
    }
}

/// Per-subnet consensus hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Bonds and dividends rule.
    pub variant: Variant,
    /// Majority ratio of the consensus median, as a proportion of 65535.
    pub kappa: u16,
    /// How much of the clipped weight, rather than the raw weight, forms bonds, as a
    /// proportion of 65535.
    pub bonds_penalty: u16,
    /// Weight of the old bonds in the EMA, in parts per million (alpha is
    /// `1 - bonds_moving_average / 1e6`).
    pub bonds_moving_average: u64,
    /// How many UIDs may hold a validator permit.
    pub max_allowed_validators: u16,
    /// Blocks after its last weights update for which a UID counts as active.
    pub activity_cutoff: u64,
    /// Raw stake below which a UID's stake counts as zero.
    pub stake_threshold: u64,
    /// Liquid alpha (Yuma3 only); `None` uses the fixed alpha.
    pub liquid_alpha: Option<LiquidAlpha>,
}

impl Default for Params {
    /// Subtensor's runtime defaults.
    fn default() -> Self {
        Self {
            variant: Variant::Original,
            kappa: 32_767,
            bonds_penalty: u16::MAX,
            bonds_moving_average: 900_000,
            max_allowed_validators: 128,
            activity_cutoff: 5_000,
            stake_threshold: 0,
            liquid_alpha: None,
        }
    }
}

/// The subnet state one epoch reads. Every slice is indexed by UID and has one
/// entry per UID; `stake.len()` is the number of UIDs `n`. A missing entry in any
/// other slice reads as zero, `false` or empty (see [`EpochInput::validate`]).
#[derive(Clone, Copy, Debug)]
pub struct EpochInput<'a> {
    /// Current block.
    pub current_block: u64,
    /// Block of the previous epoch: bond columns of UIDs with
    /// `registered_at > last_epoch_block` are reset.
    pub last_epoch_block: u64,
    /// Raw stake per UID.
    pub stake: &'a [u64],
    /// Stored weight rows `(uid, weight)` per UID (max-upscaled to 65535 on chain).
    pub weights: &'a [Vec<(u16, u16)>],
    /// Stored bond rows `(uid, bond)` per UID, as returned in [`EpochOutput::bonds`].
    pub bonds: &'a [Vec<(u16, u16)>],
    /// Validator permits issued by the previous epoch.
    pub permits: &'a [bool],
    /// Block of each UID's last weights update.
    pub last_update: &'a [u64],
    /// Block at which each UID's current holder registered.
    pub registered_at: &'a [u64],
    /// With commit-reveal: the block of the commit whose reveal produced each row
    /// (`u64::MAX` for none). A weight is dropped when its commit predates the
    /// target's registration.
    pub weights_committed_at: Option<&'a [u64]>,
    /// Base units to pay out this epoch.
    pub emission: u64,
}

/// What an epoch produces: the vectors to store and the amounts to pay.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochOutput {
    /// Consensus weight per UID.
    pub consensus: Vec<u16>,
    /// Incentive (normalised rank) per UID.
    pub incentive: Vec<u16>,
    /// Dividends per UID.
    pub dividends: Vec<u16>,
    /// Validator trust (sum of clipped weights) per UID.
    pub validator_trust: Vec<u16>,
    /// Rank per UID: the stake-weighted sum of clipped weights, normalised, as
    /// subtensor stored it (so equal to the incentive).
    pub ranks: Vec<u16>,
    /// Trust: rank after clipping over rank before clipping, per UID.
    pub trust: Vec<u16>,
    /// New validator permits, to store for the next epoch.
    pub permits: Vec<bool>,
    /// New stored bond rows per UID (empty for UIDs without a new permit).
    pub bonds: Vec<Vec<(u16, u16)>>,
    /// Base units paid to each UID as a miner.
    pub miner_emission: Vec<u64>,
    /// Base units paid to each UID as a validator.
    pub validator_emission: Vec<u64>,
}

/// Why an [`EpochInput`] is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YumaError {
    /// More UIDs than `u16` UIDs can address.
    #[error("{n} UIDs exceed the limit of {MAX_UIDS}")]
    TooManyUids {
        /// Number of UIDs given.
        n: usize,
    },
    /// A per-UID slice does not have one entry per UID.
    #[error("`{field}` has {actual} entries, expected one per UID ({expected})")]
    LengthMismatch {
        /// Name of the slice.
        field: &'static str,
        /// Number of UIDs.
        expected: usize,
        /// Entries given.
        actual: usize,
    },
    /// A weight or bond row refers to a UID that does not exist.
    #[error("`{field}` row {row} refers to UID {uid}, but there are only {n} UIDs")]
    UidOutOfRange {
        /// Name of the matrix.
        field: &'static str,
        /// Row holding the entry.
        row: usize,
        /// UID referred to.
        uid: u16,
        /// Number of UIDs.
        n: usize,
    },
}

impl EpochInput<'_> {
    /// Check that every slice has one entry per UID and every row refers to
    /// existing UIDs. [`epoch`] does not require this (it reads missing entries as
    /// zero and ignores out-of-range ones), but a caller may want to reject such
    /// state.
    pub fn validate(&self) -> Result<(), YumaError> {
        let n = self.stake.len();
        if n > MAX_UIDS {
            return Err(YumaError::TooManyUids { n });
        }
        let lengths = [
            ("weights", self.weights.len()),
            ("bonds", self.bonds.len()),
            ("permits", self.permits.len()),
            ("last_update", self.last_update.len()),
            ("registered_at", self.registered_at.len()),
            (
                "weights_committed_at",
                self.weights_committed_at.map_or(n, <[u64]>::len),
            ),
        ];
        for (field, actual) in lengths {
            if actual != n {
                return Err(YumaError::LengthMismatch {
                    field,
                    expected: n,
                    actual,
                });
            }
        }
        for (field, matrix) in [("weights", self.weights), ("bonds", self.bonds)] {
            for (row, entries) in matrix.iter().enumerate() {
                if let Some(&(uid, _)) = entries.iter().find(|(uid, _)| usize::from(*uid) >= n) {
                    return Err(YumaError::UidOutOfRange { field, row, uid, n });
                }
            }
        }
        Ok(())
    }
}

/// Run one epoch of Yuma consensus.
///
/// Cost is `O(nnz + n log n)`, where `nnz` counts the stored weights and bonds and
/// the `n log n` is the ranking of stakes for permits.
#[must_use]
pub fn epoch(params: &Params, input: &EpochInput<'_>) -> EpochOutput {
    epoch::run(params, input)
}
