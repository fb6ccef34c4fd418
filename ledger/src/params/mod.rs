//! Chain parameters fixed at genesis: chain id, emission, fees, costs, pacing.

pub mod keys;

use plexus_types::{
    AccountId, Amount, CodecError, Decode, Encode, PLX, Payload,
    codec::{Reader, WriteExt},
};
use serde::{Deserialize, Serialize};

use crate::{
    state::{self, StateError},
    store::StateReader,
};

/// The validator take every hotkey starts with: 18% (11796/65535), as in Bittensor.
pub const DEFAULT_TAKE: u16 = 11796;
/// The subnet owner's cut of each epoch's emission: 18% (11796/65535).
pub const OWNER_CUT: u16 = 11796;

/// Development price of one credit: 0.001 PLX, so a 1000-credit bundle costs 1 PLX.
pub const DEFAULT_CREDIT_PRICE: Amount = PLX / 1000;

/// Development issuer bond: 10 PLX of the owner's self-stake.
pub const DEFAULT_ISSUER_BOND: Amount = 10 * PLX;
/// Development issuer key period: 86,400 blocks (a day of 1-second blocks).
pub const DEFAULT_ISSUER_KEY_PERIOD: u64 = 86_400;
/// Development settle window after a key's epoch: 3,600 blocks (an hour).
pub const DEFAULT_CREDIT_SETTLE_WINDOW: u64 = 3_600;
/// Development fee-free quota: 32 transactions per sender per window.
pub const DEFAULT_FREE_TX_QUOTA: u32 = 32;
/// Development fee-free window: 10 blocks.
pub const DEFAULT_FREE_TX_WINDOW: u64 = 10;

/// Tunable chain parameters, set in genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChainParams {
    /// Block emission before any halving (E0), in base units.
    pub block_emission: Amount,
    /// Least fee a coldkey transaction pays, in base units (burned).
    pub min_fee: Amount,
    /// Burned to create a subnet, in base units.
    pub subnet_lock_cost: Amount,
    /// Take a hotkey starts with, out of 65535.
    pub default_take: u16,
    /// Largest take a hotkey may set, out of 65535.
    pub max_take: u16,
    /// Target block interval for proposers, in milliseconds.
    pub block_interval_ms: u64,
    /// Most subnets the chain holds.
    pub max_subnets: u16,
    /// The development faucet account, if this chain has one (insecure, dev only).
    pub faucet: Option<AccountId>,
    /// Base units one inference credit costs: buyers pay it per credit into the
    /// issuer key's escrow, providers are paid it per credit settled.
    pub credit_price: Amount,
    /// Least self-stake a credit issuer's owner keeps locked on the issuer hotkey while
    /// any of its keys can still be settled; the lock grows to cover every base unit
    /// deposited into those keys (see [`crate::credits`]).
    pub issuer_bond: Amount,
    /// Blocks per issuer key epoch: key epoch `e` is sold during blocks
    /// `[e·period, (e+1)·period)`, and an issuer publishes keys only for the current
    /// or the next key epoch, one per denomination.
    pub issuer_key_period: u64,
    /// Blocks after its key epoch ends during which a key's tokens still settle; then
    /// the key closes and its buyers may take back what was not spent.
    pub credit_settle_window: u64,
    /// Fee-free transactions one sender may make per [`free_tx_window`](Self::free_tx_window).
    pub free_tx_quota: u32,
    /// Blocks per fee-free quota window.
    pub free_tx_window: u64,
    /// How the consensus validator set follows bonded stake.
    pub consensus: ConsensusParams,
}

/// How the consensus validator set follows bonded stake ([`crate::validators`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusParams {
    /// Blocks per consensus epoch; the set for epoch `e + 1` is chosen at the last
    /// block of epoch `e`. Zero keeps the genesis validators for the whole chain (and
    /// refuses bonding).
    pub epoch_length: u64,
    /// Fewest validators a set may have: a boundary that would choose fewer keeps
    /// the current set.
    pub min_validators: u16,
    /// Most validators a set may have: the largest bonds win, ties broken by key.
    pub max_validators: u16,
    /// Least bond that makes a validator eligible, in base units.
    pub min_bond: Amount,
    /// Blocks an unbonded amount stays slashable before it returns to the balance.
    pub unbonding_delay: u64,
    /// Share of bond (and of what is unbonding) a proven double sign burns, out of
    /// 10,000.
    pub slash_bps: u16,
}

impl Default for ConsensusParams {
    /// A fixed genesis set; when enabled, 1 to 100 validators bonding at least
    /// 1,000 PLX, a 1,000-block unbonding delay and a 5 % slash.
    fn default() -> Self {
        Self {
            epoch_length: 0,
            min_validators: 1,
            max_validators: 100,
            min_bond: 1_000 * PLX,
            unbonding_delay: 1_000,
            slash_bps: 500,
        }
    }
}

impl Default for ChainParams {
    /// Development defaults: 1 PLX per block, 1-second blocks, cheap subnets.
    fn default() -> Self {
        Self {
            block_emission: PLX,
            min_fee: 1_000,
            subnet_lock_cost: 100 * PLX,
            default_take: DEFAULT_TAKE,
            max_take: DEFAULT_TAKE,
            block_interval_ms: 1_000,
            max_subnets: 64,
            faucet: None,
            credit_price: DEFAULT_CREDIT_PRICE,
            issuer_bond: DEFAULT_ISSUER_BOND,
            issuer_key_period: DEFAULT_ISSUER_KEY_PERIOD,
            credit_settle_window: DEFAULT_CREDIT_SETTLE_WINDOW,
            free_tx_quota: DEFAULT_FREE_TX_QUOTA,
            free_tx_window: DEFAULT_FREE_TX_WINDOW,
            consensus: ConsensusParams::default(),
        }
    }
}

impl ChainParams {
    /// The least fee a transaction with `payload` must pay: 0 for the payloads
    /// [`fees::fee_free`](crate::fees::fee_free) names (hotkey housekeeping and data
    /// contributions, as in subtensor), [`min_fee`](Self::min_fee) for every other.
    /// A fee offered anyway is charged.
    pub fn min_fee_for(&self, payload: &Payload) -> Amount {
        if crate::fees::fee_free(payload).is_some() {
            0
        } else {
            self.min_fee
        }
    }
}

/// The chain id and parameters, stored under [`keys::config_key`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainConfig {
    /// Chain id every transaction must carry.
    pub chain_id: u64,
    /// The parameters.
    pub params: ChainParams,
}

impl Encode for ChainConfig {
    fn encode_to(&self, out: &mut Vec<u8>) {
        let p = &self.params;
        out.put_u64(self.chain_id);
        out.put_u64(p.block_emission);
        out.put_u64(p.min_fee);
        out.put_u64(p.subnet_lock_cost);
        out.put_u16(p.default_take);
        out.put_u16(p.max_take);
        out.put_u64(p.block_interval_ms);
        out.put_u16(p.max_subnets);
        match &p.faucet {
            None => out.put_bool(false),
            Some(a) => {
                out.put_bool(true);
                a.encode_to(out);
            }
        }
        out.put_u64(p.credit_price);
        out.put_u64(p.issuer_bond);
        out.put_u64(p.issuer_key_period);
        out.put_u64(p.credit_settle_window);
        out.put_u32(p.free_tx_quota);
        out.put_u64(p.free_tx_window);
        let c = &p.consensus;
        out.put_u64(c.epoch_length);
        out.put_u16(c.min_validators);
        out.put_u16(c.max_validators);
        out.put_u64(c.min_bond);
        out.put_u64(c.unbonding_delay);
        out.put_u16(c.slash_bps);
    }
}

impl Decode for ChainConfig {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            chain_id: r.u64("chain id")?,
            params: ChainParams {
                block_emission: r.u64("block emission")?,
                min_fee: r.u64("min fee")?,
                subnet_lock_cost: r.u64("subnet lock cost")?,
                default_take: r.u16("default take")?,
                max_take: r.u16("max take")?,
                block_interval_ms: r.u64("block interval")?,
                max_subnets: r.u16("max subnets")?,
                faucet: r.option("faucet", AccountId::decode_from)?,
                credit_price: r.u64("credit price")?,
                issuer_bond: r.u64("issuer bond")?,
                issuer_key_period: r.u64("issuer key period")?,
                credit_settle_window: r.u64("credit settle window")?,
                free_tx_quota: r.u32("free tx quota")?,
                free_tx_window: r.u64("free tx window")?,
                consensus: ConsensusParams {
                    epoch_length: r.u64("epoch length")?,
                    min_validators: r.u16("min validators")?,
                    max_validators: r.u16("max validators")?,
                    min_bond: r.u64("min bond")?,
                    unbonding_delay: r.u64("unbonding delay")?,
                    slash_bps: r.u16("slash bps")?,
                },
            },
        })
    }
}

/// Read the chain configuration; genesis always writes it.
pub fn load(state: &impl StateReader) -> Result<ChainConfig, StateError> {
    state::get(state, &keys::config_key())?.ok_or(StateError::Missing("chain configuration"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Value;

    #[test]
    fn the_chain_config_encoding_is_pinned() {
        let config = ChainConfig {
            chain_id: 7,
            params: ChainParams::default(),
        };
        let bytes = config.to_bytes();
        assert_eq!(bytes.len(), 8 * 13 + 4 + 2 * 6 + 1);
        assert_eq!(ChainConfig::from_bytes(&bytes).unwrap(), config);
        assert_eq!(&bytes[..8], &7u64.to_le_bytes());
    }
}
