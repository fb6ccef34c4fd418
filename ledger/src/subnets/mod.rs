//! Subnets: creation (burning a lock cost), hyperparameters, the epoch clock and the
//! registration burn price.

pub mod keys;

use plexus_types::{
    AccountId, Amount, CodecError, Decode, Encode, Hyperparams, Mechanism, Netuid, YumaVariant,
    codec::{Reader, WriteExt},
    subnet::MAX_SUBNET_UIDS,
    tx::MAX_SUBNET_NAME,
};
use serde::{Deserialize, Serialize};

use crate::{
    TxError, accounts,
    context::TxContext,
    events::Event,
    params::ChainParams,
    state::{self, StateError, Value},
    store::{Overlay, StateReader},
};

/// The first netuid handed out (0 is reserved, as Bittensor's root network).
pub const FIRST_NETUID: Netuid = 1;
/// The registration burn price grows by 126/100 after each registration.
pub const BURN_GROWTH: (u64, u64) = (126, 100);

/// What a subnet is and who owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetInfo {
    /// Human name.
    pub name: String,
    /// What kind of work it pays for.
    pub mechanism: Mechanism,
    /// Owner coldkey (receives the owner cut, may change hyperparameters).
    pub owner: AccountId,
    /// Block at which it was created.
    pub created_at: u64,
    /// Lock cost burned to create it.
    pub lock_cost: Amount,
}

impl Value for SubnetInfo {
    fn put(&self, out: &mut Vec<u8>) {
        out.put_bytes(self.name.as_bytes());
        self.mechanism.encode_to(out);
        self.owner.encode_to(out);
        out.put_u64(self.created_at);
        out.put_u64(self.lock_cost);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            name: r.string(MAX_SUBNET_NAME, "subnet name")?,
            mechanism: Mechanism::decode_from(r)?,
            owner: AccountId::decode_from(r)?,
            created_at: r.u64("created at")?,
            lock_cost: r.u64("lock cost")?,
        })
    }
}

/// A subnet's moving parts: size, emission waiting for the epoch, epoch clock, burn price.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetState {
    /// Number of UIDs.
    pub n: u16,
    /// Emission accrued since the last epoch, not yet paid.
    pub pending_emission: Amount,
    /// Block at which the last epoch ran (creation block before the first).
    pub last_epoch_block: u64,
    /// How many epochs have run; the current epoch's index.
    pub epoch_index: u64,
    /// Burn price as of `burn_updated_at`, before decay.
    pub burn: Amount,
    /// Block at which `burn` was set.
    pub burn_updated_at: u64,
    /// Emission paid by the last epoch (owner cut included).
    pub last_epoch_emission: Amount,
    /// Registrations ever made.
    pub registrations: u64,
}

impl Value for SubnetState {
    fn put(&self, out: &mut Vec<u8>) {
        out.put_u16(self.n);
        out.put_u64(self.pending_emission);
        out.put_u64(self.last_epoch_block);
        out.put_u64(self.epoch_index);
        out.put_u64(self.burn);
        out.put_u64(self.burn_updated_at);
        out.put_u64(self.last_epoch_emission);
        out.put_u64(self.registrations);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            n: r.u16("n")?,
            pending_emission: r.u64("pending emission")?,
            last_epoch_block: r.u64("last epoch block")?,
            epoch_index: r.u64("epoch index")?,
            burn: r.u64("burn")?,
            burn_updated_at: r.u64("burn updated at")?,
            last_epoch_emission: r.u64("last epoch emission")?,
            registrations: r.u64("registrations")?,
        })
    }
}

/// Every netuid, ascending.
pub fn list(state: &impl StateReader) -> Result<Vec<Netuid>, StateError> {
    state::get_or_default(state, &keys::subnet_list_key())
}

/// A subnet's description.
pub fn info(state: &impl StateReader, netuid: Netuid) -> Result<Option<SubnetInfo>, StateError> {
    state::get(state, &keys::info_key(netuid))
}

/// A subnet's hyperparameters.
pub fn hyperparams(
    state: &impl StateReader,
    netuid: Netuid,
) -> Result<Option<Hyperparams>, StateError> {
    state::get(state, &keys::hyperparams_key(netuid))
}

/// A subnet's moving parts.
pub fn subnet_state(
    state: &impl StateReader,
    netuid: Netuid,
) -> Result<Option<SubnetState>, StateError> {
    state::get(state, &keys::subnet_state_key(netuid))
}

pub(crate) fn put_subnet_state<R: StateReader>(
    ov: &mut Overlay<R>,
    netuid: Netuid,
    s: &SubnetState,
) {
    state::put(ov, keys::subnet_state_key(netuid), s);
}

/// Hyperparameters and state of an existing subnet, or `UnknownSubnet`.
pub(crate) fn require(
    state: &impl StateReader,
    netuid: Netuid,
) -> Result<(Hyperparams, SubnetState), TxError> {
    match (hyperparams(state, netuid)?, subnet_state(state, netuid)?) {
        (Some(hp), Some(s)) => Ok((hp, s)),
        _ => Err(TxError::UnknownSubnet { netuid }),
    }
}

/// Check every hyperparameter against its range (stateless).
pub fn validate_hyperparams(hp: &Hyperparams) -> Result<(), TxError> {
    let bad = |msg: String| Err(TxError::InvalidHyperparams(msg));
    if hp.tempo == 0 {
        return bad("tempo must be at least 1 block".into());
    }
    if hp.max_uids == 0 || hp.max_uids > MAX_SUBNET_UIDS {
        return bad(format!(
            "max_uids must be in 1..={MAX_SUBNET_UIDS}, got {}",
            hp.max_uids
        ));
    }
    if hp.max_validators == 0 {
        return bad("max_validators must be at least 1".into());
    }
    if hp.min_allowed_weights > hp.max_uids {
        return bad(format!(
            "min_allowed_weights ({}) must not exceed max_uids ({})",
            hp.min_allowed_weights, hp.max_uids
        ));
    }
    if hp.activity_cutoff == 0 {
        return bad("activity_cutoff must be at least 1 block".into());
    }
    if hp.kappa == 0 {
        return bad("kappa must be above 0".into());
    }
    if hp.bonds_moving_average > 1_000_000 {
        return bad(format!(
            "bonds_moving_average is in parts per million (at most 1000000), got {}",
            hp.bonds_moving_average
        ));
    }
    if let Some(la) = &hp.liquid_alpha {
        if hp.yuma != YumaVariant::Yuma3 {
            return bad("liquid_alpha needs the yuma3 variant".into());
        }
        if la.alpha_low > la.alpha_high {
            return bad(format!(
                "alpha_low ({}) must not exceed alpha_high ({})",
                la.alpha_low, la.alpha_high
            ));
        }
        if la.alpha_high == 0 {
            return bad("alpha_high must be above 0".into());
        }
    }
    if hp.min_burn > hp.max_burn {
        return bad(format!(
            "min_burn ({}) must not exceed max_burn ({})",
            hp.min_burn, hp.max_burn
        ));
    }
    if hp.burn_half_life == 0 {
        return bad("burn_half_life must be at least 1 block".into());
    }
    Ok(())
}

/// Stateless checks of CreateSubnet.
pub(crate) fn check_create(name: &str, hp: &Hyperparams) -> Result<(), TxError> {
    if name.is_empty() {
        return Err(TxError::InvalidSubnetName("the name is empty"));
    }
    if name.len() > MAX_SUBNET_NAME {
        return Err(TxError::InvalidSubnetName(
            "the name is longer than 64 bytes",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(TxError::InvalidSubnetName(
            "the name has control characters",
        ));
    }
    validate_hyperparams(hp)
}

/// The state a new subnet starts with.
pub(crate) fn initial_state(hp: &Hyperparams, height: u64) -> SubnetState {
    SubnetState {
        last_epoch_block: height,
        burn: hp.min_burn,
        burn_updated_at: height,
        ..SubnetState::default()
    }
}

/// Write a new subnet (used by CreateSubnet and by genesis).
pub(crate) fn insert<R: StateReader>(
    ov: &mut Overlay<R>,
    params: &ChainParams,
    info: &SubnetInfo,
    hp: &Hyperparams,
    height: u64,
) -> Result<Netuid, TxError> {
    let mut netuids = list(ov)?;
    if netuids.len() >= usize::from(params.max_subnets) {
        return Err(TxError::TooManySubnets {
            max: params.max_subnets,
        });
    }
    let netuid: Netuid = state::get(ov, &keys::next_netuid_key())?.unwrap_or(FIRST_NETUID);
    let next = netuid.checked_add(1).ok_or(TxError::Overflow("netuid"))?;
    state::put(ov, keys::next_netuid_key(), &next);
    state::sorted_insert(&mut netuids, netuid);
    state::put(ov, keys::subnet_list_key(), &netuids);
    state::put(ov, keys::info_key(netuid), info);
    state::put(ov, keys::hyperparams_key(netuid), hp);
    put_subnet_state(ov, netuid, &initial_state(hp, height));
    Ok(netuid)
}

/// CreateSubnet: burn the lock cost and create a subnet owned by the signer.
pub(crate) fn create<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    name: &str,
    mechanism: Mechanism,
    hp: &Hyperparams,
) -> Result<(), TxError> {
    let (ov, params, owner, height) = (&mut cx.state, cx.params, &cx.sender, cx.height);
    let lock = params.subnet_lock_cost;
    let info = SubnetInfo {
        name: name.to_string(),
        mechanism,
        owner: *owner,
        created_at: height,
        lock_cost: lock,
    };
    let netuid = insert(ov, params, &info, hp, height)?;
    accounts::debit(ov, owner, lock, "subnet lock cost + fee")?;
    accounts::record_burn(ov, lock)?;
    cx.events.push(Event::SubnetCreated {
        netuid,
        owner: *owner,
        burned: lock,
    });
    Ok(())
}

/// SetHyperparams: the owner replaces the subnet's hyperparameters.
pub(crate) fn set_hyperparams<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    netuid: Netuid,
    hp: &Hyperparams,
) -> Result<(), TxError> {
    let (ov, signer) = (&mut cx.state, &cx.sender);
    let info = info(ov, netuid)?.ok_or(TxError::UnknownSubnet { netuid })?;
    if info.owner != *signer {
        return Err(TxError::NotSubnetOwner {
            netuid,
            owner: info.owner,
        });
    }
    let (_, st) = require(ov, netuid)?;
    if hp.max_uids < st.n {
        return Err(TxError::InvalidHyperparams(format!(
            "max_uids ({}) is below the {} uids already registered",
            hp.max_uids, st.n
        )));
    }
    state::put(ov, keys::hyperparams_key(netuid), hp);
    cx.events.push(Event::HyperparamsSet { netuid });
    Ok(())
}

/// `2^(-num/den)` in Q32 fixed point, for `num < den`, from integer square roots only.
fn exp2_neg_fraction_q32(num: u64, den: u64) -> u128 {
    const ONE: u128 = 1 << 32;
    if den == 0 || num == 0 {
        return ONE;
    }
    // The fraction's binary digits, most significant first: f = num/den in Q32.
    let frac = ((u128::from(num)) << 32) / u128::from(den);
    let mut result = ONE;
    // factor = 2^(-1/2) in Q32, then 2^(-1/4), ... (each the square root of the last).
    let mut factor = (ONE * ONE / 2).isqrt();
    for bit in (0..32).rev() {
        if (frac >> bit) & 1 == 1 {
            result = (result * factor) >> 32;
        }
        factor = (factor << 32).isqrt();
    }
    result
}

/// `price · 2^(−elapsed / half_life)`, in integer math.
pub fn decay(price: Amount, elapsed: u64, half_life: u64) -> Amount {
    if half_life == 0 {
        return price;
    }
    let halvings = elapsed / half_life;
    if halvings >= 64 {
        return 0;
    }
    let halved = price >> halvings;
    let factor = exp2_neg_fraction_q32(elapsed % half_life, half_life);
    // halved < 2^64 and factor <= 2^32: the product fits in u128.
    u64::try_from((u128::from(halved) * factor) >> 32).unwrap_or(u64::MAX)
}

/// The price to register on a subnet at `height`: the stored price decayed since it
/// was set, clamped to `[min_burn, max_burn]`.
pub fn burn_price(hp: &Hyperparams, st: &SubnetState, height: u64) -> Amount {
    let elapsed = height.saturating_sub(st.burn_updated_at);
    decay(st.burn, elapsed, hp.burn_half_life).clamp(hp.min_burn, hp.max_burn)
}

/// The stored price after a registration paid `paid`: ×1.26, clamped.
pub fn bumped_burn(hp: &Hyperparams, paid: Amount) -> Amount {
    let bumped = u128::from(paid) * u128::from(BURN_GROWTH.0) / u128::from(BURN_GROWTH.1);
    u64::try_from(bumped)
        .unwrap_or(u64::MAX)
        .clamp(hp.min_burn, hp.max_burn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_burn_price_halves_every_half_life_and_decays_smoothly_between() {
        let p = 1_000_000_000;
        assert_eq!(decay(p, 0, 360), p);
        assert_eq!(decay(p, 360, 360), p / 2);
        assert_eq!(decay(p, 720, 360), p / 4);
        // Half a half-life: 1/sqrt(2) = 0.70710678...
        let half = decay(p, 180, 360);
        assert!((707_106_700..=707_106_790).contains(&half), "{half}");
        // Monotone non-increasing in elapsed time.
        let mut last = p;
        for t in 0..1000 {
            let v = decay(p, t, 360);
            assert!(v <= last, "t={t}");
            last = v;
        }
        assert_eq!(decay(p, 64 * 360, 360), 0);
    }

    #[test]
    fn the_burn_price_is_clamped_and_grows_by_126_percent() {
        let hp = Hyperparams {
            min_burn: 100,
            max_burn: 1_000,
            ..Hyperparams::default()
        };
        assert_eq!(bumped_burn(&hp, 500), 630);
        assert_eq!(bumped_burn(&hp, 900), 1_000);
        let st = SubnetState {
            burn: 400,
            burn_updated_at: 0,
            ..SubnetState::default()
        };
        assert_eq!(burn_price(&hp, &st, 0), 400);
        assert_eq!(burn_price(&hp, &st, hp.burn_half_life), 200);
        assert_eq!(burn_price(&hp, &st, 10 * hp.burn_half_life), 100);
    }

    #[test]
    fn hyperparameters_outside_their_ranges_are_rejected() {
        assert!(validate_hyperparams(&Hyperparams::default()).is_ok());
        assert!(validate_hyperparams(&Hyperparams::production()).is_ok());
        let cases = [
            Hyperparams {
                tempo: 0,
                ..Hyperparams::default()
            },
            Hyperparams {
                max_uids: 4097,
                ..Hyperparams::default()
            },
            Hyperparams {
                max_uids: 0,
                ..Hyperparams::default()
            },
            Hyperparams {
                max_validators: 0,
                ..Hyperparams::default()
            },
            Hyperparams {
                min_burn: 10,
                max_burn: 9,
                ..Hyperparams::default()
            },
            Hyperparams {
                burn_half_life: 0,
                ..Hyperparams::default()
            },
            Hyperparams {
                bonds_moving_average: 1_000_001,
                ..Hyperparams::default()
            },
            Hyperparams {
                liquid_alpha: Some(plexus_types::LiquidAlpha {
                    alpha_low: 10,
                    alpha_high: 9,
                    steepness: 1,
                }),
                ..Hyperparams::default()
            },
        ];
        for hp in cases {
            assert!(
                matches!(
                    validate_hyperparams(&hp),
                    Err(TxError::InvalidHyperparams(_))
                ),
                "{hp:?}"
            );
        }
    }
}
