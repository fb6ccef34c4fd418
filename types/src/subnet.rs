//! Subnet descriptions: mechanism, hyperparameters and served endpoints.

use serde::{Deserialize, Serialize};

use crate::codec::{CodecError, Decode, Encode, Reader, WriteExt};

/// The most UIDs any subnet may hold.
pub const MAX_SUBNET_UIDS: u16 = 4096;
/// Longest endpoint URL, in bytes.
pub const MAX_URL: usize = 256;
/// Longest served OHTTP key configuration list, in bytes.
pub const MAX_OHTTP_KEYS: usize = 1024;
/// Longest model id, in bytes.
pub const MAX_MODEL_ID: usize = 128;
/// Longest operator id, in bytes.
pub const MAX_OPERATOR_ID: usize = 64;

/// What kind of work a subnet pays for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    /// Miners serve model inference; validators probe and re-execute.
    Inference,
    /// Miners contribute synthetic data; validators score it.
    Data,
    /// Validators set weights by rules of the subnet owner's choosing.
    Generic,
}

impl Encode for Mechanism {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.put_u8(match self {
            Mechanism::Inference => 0,
            Mechanism::Data => 1,
            Mechanism::Generic => 2,
        });
    }
}

impl Decode for Mechanism {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8("mechanism")? {
            0 => Ok(Mechanism::Inference),
            1 => Ok(Mechanism::Data),
            2 => Ok(Mechanism::Generic),
            tag => Err(CodecError::UnknownTag {
                field: "mechanism",
                tag,
            }),
        }
    }
}

/// Which Yuma consensus variant a subnet runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum YumaVariant {
    /// Subtensor's original epoch: column-normalised bonds with a fixed EMA.
    Original,
    /// Yuma3: per-entry bond EMA in absolute proportions, optional liquid alpha.
    Yuma3,
}

/// Liquid alpha: per-bond EMA rates from a sigmoid of the distance to consensus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiquidAlpha {
    /// Lowest EMA rate, as a proportion of 65535.
    pub alpha_low: u16,
    /// Highest EMA rate, as a proportion of 65535.
    pub alpha_high: u16,
    /// Sigmoid steepness.
    pub steepness: u16,
}

/// A subnet's tunable parameters. Proportions are `u16` out of 65535.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hyperparams {
    /// Blocks per epoch.
    pub tempo: u16,
    /// Most UIDs on the subnet (at most [`MAX_SUBNET_UIDS`]).
    pub max_uids: u16,
    /// Most validator permits (top-k by stake).
    pub max_validators: u16,
    /// Blocks after registration during which a UID cannot be pruned.
    pub immunity_period: u64,
    /// Fewest non-zero weights a validator must set.
    pub min_allowed_weights: u16,
    /// Fewest blocks between two weight updates of one hotkey.
    pub weights_rate_limit: u64,
    /// Blocks after a validator's last update before it counts as inactive.
    pub activity_cutoff: u64,
    /// Consensus majority, proportion of 65535 (default 32767).
    pub kappa: u16,
    /// Bonds penalty beta, proportion of 65535 (default 65535 = 1.0).
    pub bonds_penalty: u16,
    /// Bonds EMA keep factor in parts per million (default 900,000: alpha = 0.1).
    pub bonds_moving_average: u64,
    /// Which Yuma variant runs.
    pub yuma: YumaVariant,
    /// Liquid alpha parameters (Yuma3 only).
    pub liquid_alpha: Option<LiquidAlpha>,
    /// Whether weights go through commit-reveal.
    pub commit_reveal: bool,
    /// Least stake for a validator permit, in base units.
    pub stake_threshold: u64,
    /// Lowest registration burn price, in base units.
    pub min_burn: u64,
    /// Highest registration burn price, in base units.
    pub max_burn: u64,
    /// Blocks for the burn price to halve when nobody registers.
    pub burn_half_life: u64,
    /// Whether new registrations are accepted.
    pub registration_allowed: bool,
}

impl Default for Hyperparams {
    /// Development defaults: the economy moves within a minute on a 1-second block.
    fn default() -> Self {
        Self {
            tempo: 10,
            max_uids: 256,
            max_validators: 64,
            immunity_period: 100,
            min_allowed_weights: 1,
            weights_rate_limit: 0,
            activity_cutoff: 5000,
            kappa: 32767,
            bonds_penalty: 65535,
            bonds_moving_average: 900_000,
            yuma: YumaVariant::Yuma3,
            liquid_alpha: None,
            commit_reveal: true,
            stake_threshold: 0,
            min_burn: 1_000_000,
            max_burn: 100_000_000_000,
            burn_half_life: 360,
            registration_allowed: true,
        }
    }
}

impl Hyperparams {
    /// Production-like defaults: tempo 360, as on Bittensor.
    pub fn production() -> Self {
        Self {
            tempo: 360,
            immunity_period: 5000,
            weights_rate_limit: 100,
            min_burn: 500_000_000,
            burn_half_life: 7200,
            ..Self::default()
        }
    }

    /// These hyperparameters with `changes` applied, each `KEY=VALUE` (the value as
    /// JSON, else as a string), e.g. `tempo=20` or `commit_reveal=false`.
    pub fn with_changes(&self, changes: &[String]) -> Result<Self, String> {
        let mut value = serde_json::to_value(self).map_err(|e| e.to_string())?;
        let object = value
            .as_object_mut()
            .ok_or("hyperparameters are an object")?;
        for change in changes {
            let (k, v) = change
                .split_once('=')
                .ok_or_else(|| format!("`{change}` is not KEY=VALUE"))?;
            if !object.contains_key(k) {
                let known: Vec<&str> = object.keys().map(String::as_str).collect();
                return Err(format!(
                    "unknown hyperparameter `{k}`; known: {}",
                    known.join(", ")
                ));
            }
            let parsed = serde_json::from_str(v).unwrap_or_else(|_| serde_json::json!(v));
            object.insert(k.to_string(), parsed);
        }
        serde_json::from_value(value)
            .map_err(|e| format!("the new hyperparameters are invalid: {e}"))
    }
}

/// One `key value` line per hyperparameter.
impl std::fmt::Display for Hyperparams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = serde_json::to_value(self).map_err(|_| std::fmt::Error)?;
        let lines: Vec<String> = value
            .as_object()
            .map(|o| o.iter().map(|(k, v)| format!("{k:<22} {v}")).collect())
            .unwrap_or_default();
        f.write_str(&lines.join("\n"))
    }
}

impl Encode for Hyperparams {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.put_u16(self.tempo);
        out.put_u16(self.max_uids);
        out.put_u16(self.max_validators);
        out.put_u64(self.immunity_period);
        out.put_u16(self.min_allowed_weights);
        out.put_u64(self.weights_rate_limit);
        out.put_u64(self.activity_cutoff);
        out.put_u16(self.kappa);
        out.put_u16(self.bonds_penalty);
        out.put_u64(self.bonds_moving_average);
        out.put_u8(match self.yuma {
            YumaVariant::Original => 0,
            YumaVariant::Yuma3 => 1,
        });
        match &self.liquid_alpha {
            None => out.put_bool(false),
            Some(la) => {
                out.put_bool(true);
                out.put_u16(la.alpha_low);
                out.put_u16(la.alpha_high);
                out.put_u16(la.steepness);
            }
        }
        out.put_bool(self.commit_reveal);
        out.put_u64(self.stake_threshold);
        out.put_u64(self.min_burn);
        out.put_u64(self.max_burn);
        out.put_u64(self.burn_half_life);
        out.put_bool(self.registration_allowed);
    }
}

impl Decode for Hyperparams {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            tempo: r.u16("tempo")?,
            max_uids: r.u16("max_uids")?,
            max_validators: r.u16("max_validators")?,
            immunity_period: r.u64("immunity_period")?,
            min_allowed_weights: r.u16("min_allowed_weights")?,
            weights_rate_limit: r.u64("weights_rate_limit")?,
            activity_cutoff: r.u64("activity_cutoff")?,
            kappa: r.u16("kappa")?,
            bonds_penalty: r.u16("bonds_penalty")?,
            bonds_moving_average: r.u64("bonds_moving_average")?,
            yuma: match r.u8("yuma")? {
                0 => YumaVariant::Original,
                1 => YumaVariant::Yuma3,
                tag => return Err(CodecError::UnknownTag { field: "yuma", tag }),
            },
            liquid_alpha: r.option("liquid_alpha", |r| {
                Ok(LiquidAlpha {
                    alpha_low: r.u16("alpha_low")?,
                    alpha_high: r.u16("alpha_high")?,
                    steepness: r.u16("steepness")?,
                })
            })?,
            commit_reveal: r.bool("commit_reveal")?,
            stake_threshold: r.u64("stake_threshold")?,
            min_burn: r.u64("min_burn")?,
            max_burn: r.u64("max_burn")?,
            burn_half_life: r.u64("burn_half_life")?,
            registration_allowed: r.bool("registration_allowed")?,
        })
    }
}

/// What a hotkey serves on a subnet, published with `Serve`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Endpoint {
    /// Base URL of the service (for inference: the OHTTP gateway).
    pub url: String,
    /// Encoded OHTTP key configurations (RFC 9458 `application/ohttp-keys`), at most two live.
    #[serde(with = "crate::hex_bytes")]
    pub ohttp_keys: Vec<u8>,
    /// Model id, e.g. `SmolLM2-135M-Instruct`.
    pub model: String,
    /// blake3 of the model's weights file.
    pub weights_hash: crate::Hash,
    /// Operator identity, so clients can pick a relay run by someone else.
    pub operator: String,
}

impl Encode for Endpoint {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.put_bytes(self.url.as_bytes());
        out.put_bytes(&self.ohttp_keys);
        out.put_bytes(self.model.as_bytes());
        self.weights_hash.encode_to(out);
        out.put_bytes(self.operator.as_bytes());
    }
}

impl Decode for Endpoint {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            url: r.string(MAX_URL, "url")?,
            ohttp_keys: r.bytes(MAX_OHTTP_KEYS, "ohttp_keys")?,
            model: r.string(MAX_MODEL_ID, "model")?,
            weights_hash: crate::Hash::decode_from(r)?,
            operator: r.string(MAX_OPERATOR_ID, "operator")?,
        })
    }
}
