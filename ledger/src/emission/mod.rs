//! Emission: the halving block reward, its per-block accrual to subnets (begin
//! block), and each subnet's epoch payout through Yuma consensus (end block).
//!
//! This component stores nothing of its own: it moves supply (`accounts`), pending
//! emission (`subnets`), stake (`staking`), scores (`neurons`) and bonds (`weights`).
//!
//! Payout of one epoch with pending emission `E`:
//! - the subnet owner's coldkey gets `floor(E · 11796 / 65535)` as free balance;
//! - the rest goes through `yuma::epoch`. A miner's emission is added as stake to
//!   its hotkey, owned by the hotkey's coldkey (as subtensor does). A validator's
//!   emission is split: the hotkey keeps its take (as stake of its owner coldkey),
//!   and the rest goes to every coldkey staked on the hotkey, pro rata to the stake
//!   each held before the payout (the owner's own stake counts as a nominator's);
//!   the rounding dust goes to the owner.
//! - Whatever Yuma does not pay (rounding, an empty subnet, no stake anywhere)
//!   stays pending for the next epoch, so nothing is minted or lost.

use plexus_types::{AccountId, Amount, Hyperparams, Netuid, SUPPLY_CAP, YumaVariant};

use crate::{
    TxError, accounts,
    events::Event,
    neurons::{self, NeuronScores},
    params::{ChainParams, OWNER_CUT},
    staking::{self, HotkeyInfo},
    store::{Overlay, StateReader},
    subnets::{self, SubnetState},
    weights, yuma,
};

/// Block emission for `issuance` tokens in existence: `E0 / 2^k` with
/// `k = floor(log2(cap / (cap − issuance)))`, never more than what is left under the cap.
pub fn block_emission(e0: Amount, issuance: Amount) -> Amount {
    if issuance >= SUPPLY_CAP {
        return 0;
    }
    let cap = u128::from(SUPPLY_CAP);
    let remaining = u128::from(SUPPLY_CAP - issuance);
    // k is the largest integer with remaining · 2^k <= cap.
    let mut k = 0u32;
    while k < 64 && (remaining << (k + 1)) <= cap {
        k += 1;
    }
    let e = if k >= 64 { 0 } else { e0 >> k };
    e.min(SUPPLY_CAP - issuance)
}

/// Begin block: mint this block's emission and accrue it to subnets in equal shares.
/// The remainder of the division goes one unit each to the subnets at positions
/// `height mod count`, `height + 1 mod count`, ... so it rotates fairly.
pub(crate) fn begin_block<R: StateReader>(
    ov: &mut Overlay<R>,
    params: &ChainParams,
    height: u64,
    events: &mut Vec<Event>,
) -> Result<(), TxError> {
    let netuids = subnets::list(ov)?;
    if netuids.is_empty() {
        return Ok(());
    }
    let mut supply = accounts::supply(ov)?;
    let e = block_emission(params.block_emission, supply.issuance());
    if e == 0 {
        return Ok(());
    }
    let count = netuids.len() as u64;
    let share = e / count;
    let rem = e % count;
    let start = height % count;
    for (i, netuid) in netuids.iter().enumerate() {
        let pos = (i as u64 + count - start) % count;
        let amount = share + u64::from(pos < rem);
        let mut st = subnets::subnet_state(ov, *netuid)?
            .ok_or(TxError::UnknownSubnet { netuid: *netuid })?;
        st.pending_emission = st
            .pending_emission
            .checked_add(amount)
            .ok_or(TxError::Overflow("pending emission"))?;
        subnets::put_subnet_state(ov, *netuid, &st);
    }
    supply.emitted = supply
        .emitted
        .checked_add(e)
        .ok_or(TxError::Overflow("emitted"))?;
    accounts::put_supply(ov, &supply);
    events.push(Event::EmissionAccrued { amount: e });
    Ok(())
}

/// End block: run the epoch of every subnet whose tempo has elapsed.
pub(crate) fn end_block<R: StateReader>(
    ov: &mut Overlay<R>,
    height: u64,
    events: &mut Vec<Event>,
) -> Result<(), TxError> {
    for netuid in subnets::list(ov)? {
        let (hp, st) = subnets::require(ov, netuid)?;
        if height.saturating_sub(st.last_epoch_block) >= u64::from(hp.tempo) {
            run_epoch(ov, netuid, &hp, st, height, events)?;
        }
    }
    Ok(())
}

/// Yuma parameters from a subnet's hyperparameters.
pub fn yuma_params(hp: &Hyperparams) -> yuma::Params {
    yuma::Params {
        variant: match hp.yuma {
            YumaVariant::Original => yuma::Variant::Original,
            YumaVariant::Yuma3 => yuma::Variant::Yuma3,
        },
        kappa: hp.kappa,
        bonds_penalty: hp.bonds_penalty,
        bonds_moving_average: hp.bonds_moving_average,
        max_allowed_validators: hp.max_validators,
        activity_cutoff: hp.activity_cutoff,
        stake_threshold: hp.stake_threshold,
        liquid_alpha: hp.liquid_alpha.map(|la| yuma::LiquidAlpha {
            alpha_low: la.alpha_low,
            alpha_high: la.alpha_high,
            steepness: la.steepness,
        }),
    }
}

fn mul_div(a: Amount, b: u64, c: u64) -> Amount {
    if c == 0 {
        return 0;
    }
    // a·b/c <= a whenever b <= c, which holds for every call here.
    u64::try_from(u128::from(a) * u128::from(b) / u128::from(c)).unwrap_or(0)
}

/// Stake credits for one validator's emission: take to the owner, the rest pro rata.
fn dividend_credits(
    state: &impl StateReader,
    hotkey: &AccountId,
    info: &HotkeyInfo,
    amount: Amount,
    credits: &mut Vec<(AccountId, AccountId, Amount)>,
) -> Result<(), TxError> {
    let take = mul_div(amount, u64::from(info.take), 65535);
    let rest = amount - take;
    let mut paid = 0;
    if info.total_stake > 0 {
        for coldkey in staking::nominators(state, hotkey)? {
            let stake = staking::stake(state, hotkey, &coldkey)?;
            let share = mul_div(rest, stake, info.total_stake);
            if share > 0 {
                credits.push((*hotkey, coldkey, share));
                paid += share;
            }
        }
    }
    credits.push((*hotkey, info.owner, take + rest.saturating_sub(paid)));
    Ok(())
}

/// Run one subnet's epoch and pay it out.
pub(crate) fn run_epoch<R: StateReader>(
    ov: &mut Overlay<R>,
    netuid: Netuid,
    hp: &Hyperparams,
    mut st: SubnetState,
    height: u64,
    events: &mut Vec<Event>,
) -> Result<(), TxError> {
    let info = subnets::info(ov, netuid)?.ok_or(TxError::UnknownSubnet { netuid })?;
    let pending = st.pending_emission;
    let owner_cut = mul_div(pending, u64::from(OWNER_CUT), 65535);
    let mut budget = pending - owner_cut;
    let mut miners_paid: Amount = 0;
    let mut validators_paid: Amount = 0;
    let mut payouts = Vec::new();

    if st.n > 0 {
        let neurons = neurons::all(ov, netuid, &st)?;
        let n = neurons.len();
        // Hotkey records are read once: nothing below changes them until the credits
        // are applied at the end.
        let mut hotkeys = Vec::with_capacity(n);
        let mut stake = Vec::with_capacity(n);
        let mut weights_rows = Vec::with_capacity(n);
        let mut bonds_rows = Vec::with_capacity(n);
        let mut permits = Vec::with_capacity(n);
        for (uid, neuron) in (0u16..).zip(&neurons) {
            let info = staking::hotkey(ov, &neuron.hotkey)?;
            stake.push(info.map_or(0, |h| h.total_stake));
            hotkeys.push(info);
            weights_rows.push(weights::weights_row(ov, netuid, uid)?);
            bonds_rows.push(weights::bonds_row(ov, netuid, uid)?);
            permits.push(neurons::scores(ov, netuid, uid)?.permit);
        }
        let last_update: Vec<u64> = neurons.iter().map(|x| x.last_update).collect();
        let registered_at: Vec<u64> = neurons.iter().map(|x| x.registered_at).collect();
        let committed_at: Vec<u64> = neurons.iter().map(|x| x.weights_committed_at).collect();
        let input = yuma::EpochInput {
            current_block: height,
            last_epoch_block: st.last_epoch_block,
            stake: &stake,
            weights: &weights_rows,
            bonds: &bonds_rows,
            permits: &permits,
            last_update: &last_update,
            registered_at: &registered_at,
            weights_committed_at: hp.commit_reveal.then_some(committed_at.as_slice()),
            emission: budget,
        };
        let out = yuma::epoch(&yuma_params(hp), &input);
        let at = |v: &Vec<u16>, i: usize| v.get(i).copied().unwrap_or(0);

        // Decide every credit from the pre-payout state, then apply them.
        let mut credits: Vec<(AccountId, AccountId, Amount)> = Vec::new();
        for ((uid, neuron), info) in (0u16..).zip(&neurons).zip(&hotkeys) {
            let i = usize::from(uid);
            let miner = out.miner_emission.get(i).copied().unwrap_or(0).min(budget);
            budget -= miner;
            let validator = out
                .validator_emission
                .get(i)
                .copied()
                .unwrap_or(0)
                .min(budget);
            budget -= validator;
            if miner > 0 || validator > 0 {
                let owner = info.map_or(neuron.coldkey, |h| h.owner);
                if miner > 0 {
                    credits.push((neuron.hotkey, owner, miner));
                }
                if validator > 0 {
                    let info = info.ok_or(TxError::UnknownHotkey {
                        hotkey: neuron.hotkey,
                    })?;
                    dividend_credits(ov, &neuron.hotkey, &info, validator, &mut credits)?;
                }
                payouts.push((uid, miner, validator));
            }
            miners_paid += miner;
            validators_paid += validator;
            let scores = NeuronScores {
                rank: at(&out.ranks, i),
                trust: at(&out.trust, i),
                consensus: at(&out.consensus, i),
                incentive: at(&out.incentive, i),
                dividends: at(&out.dividends, i),
                validator_trust: at(&out.validator_trust, i),
                emission: miner + validator,
                permit: out.permits.get(i).copied().unwrap_or(false),
            };
            neurons::put_scores(ov, netuid, uid, &scores);
            let bonds = out.bonds.get(i).cloned().unwrap_or_default();
            weights::put_bonds_row(ov, netuid, uid, &bonds);
        }
        for (hotkey, coldkey, amount) in credits {
            staking::increase_stake(ov, &hotkey, &coldkey, amount)?;
        }
    }

    accounts::credit(ov, &info.owner, owner_cut)?;
    st.pending_emission = budget;
    st.last_epoch_block = height;
    st.last_epoch_emission = owner_cut + miners_paid + validators_paid;
    let epoch = st.epoch_index;
    st.epoch_index = st.epoch_index.saturating_add(1);
    subnets::put_subnet_state(ov, netuid, &st);
    events.push(Event::EpochRun {
        netuid,
        epoch,
        emission: pending,
        owner_cut,
        miners: miners_paid,
        validators: validators_paid,
        carried: budget,
        payouts,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use plexus_types::PLX;

    #[test]
    fn block_emission_halves_at_each_golden_issuance() {
        assert_eq!(block_emission(PLX, 0), 1_000_000_000);
        assert_eq!(block_emission(PLX, 10_500_000 * PLX), 500_000_000);
        assert_eq!(block_emission(PLX, 15_750_000 * PLX), 250_000_000);
        assert_eq!(block_emission(PLX, 21_000_000 * PLX), 0);
        assert_eq!(block_emission(PLX, u64::MAX), 0);
        // Just below a threshold the previous rate still applies.
        assert_eq!(block_emission(PLX, 10_500_000 * PLX - 1), 1_000_000_000);
        // Never past the cap.
        assert!(block_emission(u64::MAX, SUPPLY_CAP - 3) <= 3);
    }
}
