//! Credits for private inference: issuer keys, escrowed purchases, settlement of
//! redeemed Privacy Pass tokens, the issuer bond and refunds (see `PRIVACY.md`).
//!
//! - **Key schedule.** Key epoch `e` covers blocks `[e·P, (e+1)·P)` with
//!   `P = issuer_key_period`. `RegisterIssuer` publishes keys only for the current or
//!   the next key epoch, one per (denomination, key epoch), and a published key never
//!   changes. `BuyCredits` sells only on the current epoch's key, so at any time each
//!   issuer offers one key per denomination that every buyer of that period shares:
//!   an issuer cannot mint a key per victim (RFC 9576 §6.3 consistency, "key
//!   partitioning"). Each key counts its distinct buyers; clients read the count and
//!   the key's age and refuse young or lonely keys.
//! - **Bond.** An issuer's owner coldkey keeps self-stake on the issuer hotkey locked
//!   as its bond: at least `issuer_bond`, and at least every base unit deposited into
//!   its keys that are still *open* (their settle window has not closed and they were
//!   not caught over-issuing). `RegisterIssuer` and `BuyCredits` need the bond to
//!   cover it, and `RemoveStake` cannot go below it, so the bond stays while any key
//!   can still be settled: the unbonding delay is the keys' own settle windows.
//! - `BuyCredits`: a coldkey moves `credits × credit_price` into the escrow of one
//!   issuer key and gets a numbered [`Deposit`]; the issuer must still hold its
//!   validator permit and bond. The issuer signs `credits / denomination` tokens for
//!   it off chain (the issuer's own store remembers which deposits it has served).
//! - `SettleCredits`: a provider hotkey claims `denomination × credit_price` per token.
//!   Every token must verify under a registered key for the challenge that names the
//!   key's issuer and the provider itself as the only origin, and its nonce must never
//!   have been settled. Payment comes from that key's escrow only, never from another
//!   key's. A key's escrow holds exactly the tokens bought on it, so a token past it
//!   proves the issuer signed more than was paid for: the key is marked over-issued,
//!   the issuer stops selling for good, the surplus tokens are recorded but unpaid, and
//!   the issuer's bond pays back into the key's escrow everything the key ever paid
//!   out, so that every buyer of the key can take back its whole deposit. What an
//!   over-issuer gained from the escrow is never more than what its bond loses. Tokens
//!   of a closed or over-issued key are recorded but paid nothing.
//! - `RefundCredits`: a buyer takes back its deposit, once: in full from an
//!   over-issued key; else, once the key's settle window has closed, the deposit's
//!   share of what the key's escrow still holds (all of it when the issuer served
//!   nobody, e.g. went offline). Nothing deposited is ever stuck.
//!
//! Escrowed funds stay in the supply: the invariant counts [`escrow_total`].

pub mod keys;

use std::collections::{BTreeMap, BTreeSet};

use plexus_privacy::{
    oblivious::decode_key_list,
    token::{IssuerPublicKey, Token, TokenError, TokenVerifier},
};
use plexus_types::{
    AccountId, Amount, CodecError, Decode, Encode, Endpoint, Hash, Netuid,
    codec::{Reader, WriteExt},
    credits::{CREDIT_BUNDLES, IssuerKeySpec, MAX_ISSUER_SPKI},
    subnet::MAX_URL,
};
use serde::{Deserialize, Serialize};

use crate::{
    TxError, accounts,
    context::TxContext,
    events::Event,
    neurons,
    params::ChainParams,
    staking,
    state::{self, StateError, Value},
    store::{Overlay, StateReader},
};

/// Most open keys one issuer lists at a time (closed keys leave the list).
pub const MAX_KEYS_PER_ISSUER: usize = 64;

/// A credit issuer: where its issuance gateway is and which keys it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issuer {
    /// The issuer hotkey.
    pub hotkey: AccountId,
    /// The subnet on which it held a validator permit when it last registered.
    pub netuid: Netuid,
    /// Base URL of its issuance gateway.
    pub url: String,
    /// Encoded OHTTP key configurations of the gateway.
    #[serde(with = "plexus_types::hex_bytes")]
    pub ohttp_keys: Vec<u8>,
    /// Ids of its keys that were open at its last registration, in registration order.
    pub key_ids: Vec<Hash>,
    /// Block of its last registration.
    pub updated_at: u64,
    /// Whether one of its keys was caught over-issuing: it sells no more credits.
    pub retired: bool,
}

impl Value for Issuer {
    fn put(&self, out: &mut Vec<u8>) {
        self.hotkey.encode_to(out);
        out.put_u16(self.netuid);
        out.put_bytes(self.url.as_bytes());
        out.put_bytes(&self.ohttp_keys);
        out.put_len(self.key_ids.len());
        self.key_ids.iter().for_each(|k| k.encode_to(out));
        out.put_u64(self.updated_at);
        out.put_bool(self.retired);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            hotkey: AccountId::decode_from(r)?,
            netuid: r.u16("netuid")?,
            url: r.string(MAX_URL, "url")?,
            ohttp_keys: r.bytes(plexus_types::subnet::MAX_OHTTP_KEYS, "ohttp keys")?,
            key_ids: r.list(MAX_KEYS_PER_ISSUER, "key ids", Hash::decode_from)?,
            updated_at: r.u64("updated at")?,
            retired: r.bool("retired")?,
        })
    }
}

/// One issuer key and its escrow accounting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerKey {
    /// sha256 of the SPKI: the RFC 9578 token key id.
    pub key_id: Hash,
    /// The issuer hotkey.
    pub issuer: AccountId,
    /// Credits one token is worth.
    pub denomination: u32,
    /// The issuer's key epoch.
    pub key_epoch: u32,
    /// The RSASSA-PSS SPKI.
    #[serde(with = "plexus_types::hex_bytes")]
    pub spki: Vec<u8>,
    /// Block of registration.
    pub registered_at: u64,
    /// Σ base units deposited.
    pub deposited: Amount,
    /// Σ base units paid to providers out of this key's escrow (never above `deposited`).
    pub settled: Amount,
    /// Σ base units the issuer's bond paid back into this key's escrow after the key
    /// was caught over-issuing (never above `settled`).
    pub slashed: Amount,
    /// Tokens settled under this key (paid or not).
    pub tokens_settled: u64,
    /// Distinct coldkeys that bought on this key.
    pub buyers: u64,
    /// Tokens recorded as settled but paid nothing (over-issued, or the key closed).
    pub unpaid_tokens: u64,
    /// Whether more tokens were settled than were bought on this key.
    pub over_issued: bool,
    /// Σ base units refunded to buyers.
    pub refunded: Amount,
    /// The escrow when the first refund was taken: every deposit's refund is its share
    /// of this.
    pub refund_base: Option<Amount>,
}

impl IssuerKey {
    /// Base units still in this key's escrow.
    pub fn escrow(&self) -> Amount {
        self.deposited
            .saturating_add(self.slashed)
            .saturating_sub(self.settled)
            .saturating_sub(self.refunded)
    }

    /// First block of the key's epoch: when it goes on sale.
    pub fn on_sale_from(&self, params: &ChainParams) -> u64 {
        u64::from(self.key_epoch).saturating_mul(params.issuer_key_period)
    }

    /// First block after the key's epoch: when it goes off sale.
    pub fn on_sale_until(&self, params: &ChainParams) -> u64 {
        (u64::from(self.key_epoch) + 1).saturating_mul(params.issuer_key_period)
    }

    /// First block at which the key's tokens no longer settle and its buyers may take
    /// back what is left.
    pub fn closes_at(&self, params: &ChainParams) -> u64 {
        self.on_sale_until(params)
            .saturating_add(params.credit_settle_window)
    }

    /// Whether the key sells credits at `height` (its epoch, and not over-issued).
    pub fn on_sale(&self, params: &ChainParams, height: u64) -> bool {
        !self.over_issued
            && height >= self.on_sale_from(params)
            && height < self.on_sale_until(params)
    }

    /// Whether the key's tokens are still paid at `height`.
    pub fn settles(&self, params: &ChainParams, height: u64) -> bool {
        !self.over_issued && height < self.closes_at(params)
    }

    /// What the issuer's bond must cover for this key at `height`: every base unit
    /// deposited while its tokens can still be settled.
    pub fn liability(&self, params: &ChainParams, height: u64) -> Amount {
        if self.settles(params, height) {
            self.deposited
        } else {
            0
        }
    }
}

impl Value for IssuerKey {
    fn put(&self, out: &mut Vec<u8>) {
        self.key_id.encode_to(out);
        self.issuer.encode_to(out);
        out.put_u32(self.denomination);
        out.put_u32(self.key_epoch);
        out.put_bytes(&self.spki);
        out.put_u64(self.registered_at);
        out.put_u64(self.deposited);
        out.put_u64(self.settled);
        out.put_u64(self.slashed);
        out.put_u64(self.tokens_settled);
        out.put_u64(self.buyers);
        out.put_u64(self.unpaid_tokens);
        out.put_bool(self.over_issued);
        out.put_u64(self.refunded);
        match self.refund_base {
            None => out.put_bool(false),
            Some(base) => {
                out.put_bool(true);
                out.put_u64(base);
            }
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            key_id: Hash::decode_from(r)?,
            issuer: AccountId::decode_from(r)?,
            denomination: r.u32("denomination")?,
            key_epoch: r.u32("key epoch")?,
            spki: r.bytes(MAX_ISSUER_SPKI, "spki")?,
            registered_at: r.u64("registered at")?,
            deposited: r.u64("deposited")?,
            settled: r.u64("settled")?,
            slashed: r.u64("slashed")?,
            tokens_settled: r.u64("tokens settled")?,
            buyers: r.u64("buyers")?,
            unpaid_tokens: r.u64("unpaid tokens")?,
            over_issued: r.bool("over issued")?,
            refunded: r.u64("refunded")?,
            refund_base: r.option("refund base", |r| r.u64("refund base"))?,
        })
    }
}

/// A purchase of credits: what the issuer signs tokens for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deposit {
    /// Its id, handed out in order from 0.
    pub id: u64,
    /// The buying coldkey: the key the issuance request must be signed with.
    pub buyer: AccountId,
    /// The issuer hotkey.
    pub issuer: AccountId,
    /// The issuer key the tokens are signed with.
    pub key_id: Hash,
    /// Credits bought.
    pub credits: u32,
    /// Tokens the issuer signs: `credits / denomination`.
    pub tokens: u32,
    /// Base units escrowed.
    pub amount: Amount,
    /// Block of the purchase.
    pub block: u64,
}

impl Value for Deposit {
    fn put(&self, out: &mut Vec<u8>) {
        out.put_u64(self.id);
        self.buyer.encode_to(out);
        self.issuer.encode_to(out);
        self.key_id.encode_to(out);
        out.put_u32(self.credits);
        out.put_u32(self.tokens);
        out.put_u64(self.amount);
        out.put_u64(self.block);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: r.u64("deposit id")?,
            buyer: AccountId::decode_from(r)?,
            issuer: AccountId::decode_from(r)?,
            key_id: Hash::decode_from(r)?,
            credits: r.u32("credits")?,
            tokens: r.u32("tokens")?,
            amount: r.u64("amount")?,
            block: r.u64("block")?,
        })
    }
}

/// A token nonce that has been paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettledNonce {
    /// The provider paid.
    pub provider: AccountId,
    /// The key the token was signed with.
    pub key_id: Hash,
    /// Block of settlement.
    pub block: u64,
}

impl Value for SettledNonce {
    fn put(&self, out: &mut Vec<u8>) {
        self.provider.encode_to(out);
        self.key_id.encode_to(out);
        out.put_u64(self.block);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            provider: AccountId::decode_from(r)?,
            key_id: Hash::decode_from(r)?,
            block: r.u64("block")?,
        })
    }
}

/// Every issuer hotkey, sorted.
pub fn issuers(state: &impl StateReader) -> Result<Vec<AccountId>, StateError> {
    state::get_or_default(state, &keys::issuers_key())
}

/// An issuer's registration.
pub fn issuer(state: &impl StateReader, hotkey: &AccountId) -> Result<Option<Issuer>, StateError> {
    state::get(state, &keys::issuer_key(hotkey))
}

/// An issuer key by key id.
pub fn issuer_key(
    state: &impl StateReader,
    key_id: &Hash,
) -> Result<Option<IssuerKey>, StateError> {
    state::get(state, &keys::issuer_key_record_key(key_id))
}

/// A deposit by id.
pub fn deposit(state: &impl StateReader, id: u64) -> Result<Option<Deposit>, StateError> {
    state::get(state, &keys::deposit_key(id))
}

/// What the buyer of deposit `id` took back, if it did.
pub fn refunded(state: &impl StateReader, id: u64) -> Result<Option<Amount>, StateError> {
    state::get(state, &keys::refund_key(id))
}

/// The number of deposits ever made (ids run from 0 to this, exclusive).
pub fn deposit_count(state: &impl StateReader) -> Result<u64, StateError> {
    state::get_or_default(state, &keys::next_deposit_key())
}

/// Whether (and when) a token nonce was settled.
pub fn settled_nonce(
    state: &impl StateReader,
    nonce: &[u8; 32],
) -> Result<Option<SettledNonce>, StateError> {
    state::get(state, &keys::settled_nonce_key(nonce))
}

/// Base units in every issuer key's escrow together.
pub fn escrow_total(state: &impl StateReader) -> Result<Amount, StateError> {
    state::get_or_default(state, &keys::escrow_key())
}

/// The key of `issuer` for (denomination, key epoch), if it published one.
pub fn find_key(
    state: &impl StateReader,
    issuer_hotkey: &AccountId,
    denomination: u32,
    key_epoch: u32,
) -> Result<Option<IssuerKey>, StateError> {
    let Some(record) = issuer(state, issuer_hotkey)? else {
        return Ok(None);
    };
    for id in &record.key_ids {
        if let Some(k) = issuer_key(state, id)?
            && k.denomination == denomination
            && k.key_epoch == key_epoch
        {
            return Ok(Some(k));
        }
    }
    Ok(None)
}

/// The price of `credits` at `credit_price` base units per credit.
pub fn bundle_price(params: &ChainParams, credits: u32) -> Option<Amount> {
    u64::from(credits).checked_mul(params.credit_price)
}

/// Stateless checks of `RegisterIssuer`: a well-formed gateway URL, OHTTP keys that
/// parse, and keys that are 2048-bit RSASSA-PSS SPKIs with distinct
/// (denomination, key epoch).
pub(crate) fn check_register(
    url: &str,
    ohttp_keys: &[u8],
    specs: &[IssuerKeySpec],
) -> Result<(), TxError> {
    let endpoint = Endpoint {
        url: url.to_owned(),
        ohttp_keys: ohttp_keys.to_vec(),
        ..Endpoint::default()
    };
    neurons::validate_endpoint(&endpoint)?;
    match decode_key_list(ohttp_keys) {
        Ok(list) if !list.is_empty() => {}
        _ => {
            return Err(TxError::InvalidIssuer(
                "ohttp_keys must be a non-empty application/ohttp-keys list",
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for spec in specs {
        if spec.denomination == 0 {
            return Err(TxError::InvalidIssuer(
                "a key's denomination must be at least 1",
            ));
        }
        if !seen.insert((spec.denomination, spec.key_epoch)) {
            return Err(TxError::InvalidIssuer(
                "two keys for the same denomination and key epoch",
            ));
        }
        IssuerPublicKey::from_spki(&spec.spki).map_err(|_| {
            TxError::InvalidIssuer("a key is not a canonical 2048-bit RSASSA-PSS SPKI")
        })?;
    }
    Ok(())
}

/// Stateless checks of `BuyCredits`.
pub(crate) fn check_buy(credits: u32, denomination: u32) -> Result<(), TxError> {
    if !CREDIT_BUNDLES.contains(&credits)
        || denomination == 0
        || !credits.is_multiple_of(denomination)
    {
        return Err(TxError::InvalidBundle {
            credits,
            denomination,
        });
    }
    Ok(())
}

/// Stateless checks of `SettleCredits`.
pub(crate) fn check_settle(tokens: &[Vec<u8>]) -> Result<(), TxError> {
    if tokens.is_empty() {
        return Err(TxError::NoTokens);
    }
    Ok(())
}

fn add_escrow<R: StateReader>(ov: &mut Overlay<R>, amount: Amount) -> Result<(), TxError> {
    let total = escrow_total(ov)?
        .checked_add(amount)
        .ok_or(TxError::Overflow("credit escrow"))?;
    state::put_or_delete(ov, keys::escrow_key(), &total);
    Ok(())
}

fn release_escrow<R: StateReader>(ov: &mut Overlay<R>, amount: Amount) -> Result<(), TxError> {
    let total = escrow_total(ov)?
        .checked_sub(amount)
        .ok_or(TxError::Overflow("credit escrow release"))?;
    state::put_or_delete(ov, keys::escrow_key(), &total);
    Ok(())
}

/// The chain's issuer key epoch at `height`.
pub fn key_epoch_at(params: &ChainParams, height: u64) -> u32 {
    u32::try_from(height / params.issuer_key_period.max(1)).unwrap_or(u32::MAX)
}

/// The owner coldkey of an issuer hotkey and the self-stake it holds on it.
fn owner_stake(
    state: &impl StateReader,
    issuer_hotkey: &AccountId,
) -> Result<(AccountId, Amount), TxError> {
    let owner = staking::hotkey(state, issuer_hotkey)?
        .ok_or(TxError::UnknownHotkey {
            hotkey: *issuer_hotkey,
        })?
        .owner;
    Ok((owner, staking::stake(state, issuer_hotkey, &owner)?))
}

/// What the bond of `issuer_hotkey` must cover at `height`: 0 when none of its keys
/// can still be settled, else the larger of `issuer_bond` and every base unit
/// deposited into those keys.
pub fn required_bond(
    state: &impl StateReader,
    params: &ChainParams,
    issuer_hotkey: &AccountId,
    height: u64,
) -> Result<Amount, StateError> {
    let Some(record) = issuer(state, issuer_hotkey)? else {
        return Ok(0);
    };
    let mut open = false;
    let mut owed: Amount = 0;
    for id in &record.key_ids {
        if let Some(k) = issuer_key(state, id)?
            && k.settles(params, height)
        {
            open = true;
            owed = owed.saturating_add(k.liability(params, height));
        }
    }
    Ok(if open {
        owed.max(params.issuer_bond)
    } else {
        0
    })
}

/// RemoveStake's check: the owner of an issuer hotkey keeps its bond staked.
pub(crate) fn check_unstake(
    state: &impl StateReader,
    params: &ChainParams,
    hotkey: &AccountId,
    coldkey: &AccountId,
    amount: Amount,
    height: u64,
) -> Result<(), TxError> {
    if issuer(state, hotkey)?.is_none() {
        return Ok(());
    }
    let (owner, stake) = owner_stake(state, hotkey)?;
    if owner != *coldkey {
        return Ok(());
    }
    let bonded = required_bond(state, params, hotkey, height)?;
    if stake.saturating_sub(amount) < bonded {
        return Err(TxError::StakeBonded {
            hotkey: *hotkey,
            bonded,
        });
    }
    Ok(())
}

/// RegisterIssuer: record the endpoint and add the keys.
pub(crate) fn register<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    netuid: Netuid,
    url: &str,
    ohttp_keys: &[u8],
    specs: &[IssuerKeySpec],
) -> Result<(), TxError> {
    let (ov, params, hotkey, height) = (&mut cx.state, cx.params, &cx.sender, cx.height);
    let (uid, _) = neurons::require_registered(ov, netuid, hotkey)?;
    if !neurons::scores(ov, netuid, uid)?.permit {
        return Err(TxError::NoValidatorPermit { netuid });
    }
    let current = key_epoch_at(params, height);
    for spec in specs {
        if spec.key_epoch != current && Some(spec.key_epoch) != current.checked_add(1) {
            return Err(TxError::IssuerKeyOffSchedule {
                key_epoch: spec.key_epoch,
                current,
            });
        }
    }
    let mut record = issuer(ov, hotkey)?.unwrap_or(Issuer {
        hotkey: *hotkey,
        netuid,
        url: String::new(),
        ohttp_keys: Vec::new(),
        key_ids: Vec::new(),
        updated_at: height,
        retired: false,
    });
    if record.retired {
        return Err(TxError::IssuerNotSelling {
            issuer: *hotkey,
            reason: "one of its keys was caught over-issuing",
        });
    }
    if issuer(ov, hotkey)?.is_none() {
        let mut all = issuers(ov)?;
        state::sorted_insert(&mut all, *hotkey);
        state::put(ov, keys::issuers_key(), &all);
    }
    // Closed keys leave the list (their records stay, for refunds and history).
    let mut open = Vec::with_capacity(record.key_ids.len());
    for id in &record.key_ids {
        if let Some(k) = issuer_key(ov, id)?
            && k.settles(params, height)
        {
            open.push(*id);
        }
    }
    record.key_ids = open;
    state::put(ov, keys::issuer_key(hotkey), &record);
    for spec in specs {
        let key_id = Hash(
            IssuerPublicKey::from_spki(&spec.spki)
                .map_err(|_| TxError::InvalidIssuer("a key does not parse"))?
                .key_id(),
        );
        if let Some(existing) = issuer_key(ov, &key_id)? {
            if existing.issuer != *hotkey {
                return Err(TxError::IssuerKeyOwnedByAnother {
                    issuer: existing.issuer,
                });
            }
            if existing.denomination == spec.denomination && existing.key_epoch == spec.key_epoch {
                continue; // re-publishing the same key is a no-op
            }
            return Err(TxError::InvalidIssuer(
                "a key is published once, for one denomination and key epoch",
            ));
        }
        if find_key(ov, hotkey, spec.denomination, spec.key_epoch)?.is_some() {
            return Err(TxError::IssuerKeyTaken {
                denomination: spec.denomination,
                key_epoch: spec.key_epoch,
            });
        }
        if record.key_ids.len() >= MAX_KEYS_PER_ISSUER {
            return Err(TxError::InvalidIssuer(
                "an issuer lists at most 64 open keys",
            ));
        }
        let key = IssuerKey {
            key_id,
            issuer: *hotkey,
            denomination: spec.denomination,
            key_epoch: spec.key_epoch,
            spki: spec.spki.clone(),
            registered_at: height,
            deposited: 0,
            settled: 0,
            slashed: 0,
            tokens_settled: 0,
            buyers: 0,
            unpaid_tokens: 0,
            over_issued: false,
            refunded: 0,
            refund_base: None,
        };
        state::put(ov, keys::issuer_key_record_key(&key_id), &key);
        record.key_ids.push(key_id);
        // The record lists the key before the next spec is checked, so
        // `find_key` sees keys added earlier in this transaction.
        state::put(ov, keys::issuer_key(hotkey), &record);
    }
    // The bond: the owner's self-stake covers at least `issuer_bond` from now on.
    let (_, stake) = owner_stake(ov, hotkey)?;
    let need = required_bond(ov, params, hotkey, height)?;
    if stake < need {
        return Err(TxError::IssuerBondTooSmall {
            issuer: *hotkey,
            have: stake,
            need,
        });
    }
    record.netuid = netuid;
    record.url = url.to_owned();
    record.ohttp_keys = ohttp_keys.to_vec();
    record.updated_at = height;
    state::put(ov, keys::issuer_key(hotkey), &record);
    cx.events.push(Event::IssuerRegistered {
        issuer: *hotkey,
        keys: u32::try_from(record.key_ids.len()).unwrap_or(u32::MAX),
    });
    Ok(())
}

/// BuyCredits: move the bundle price into the key's escrow and record a deposit
/// (phase 2 checked the funds).
pub(crate) fn buy<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    issuer_hotkey: &AccountId,
    denomination: u32,
    key_epoch: u32,
    credits: u32,
) -> Result<u64, TxError> {
    let (ov, params, buyer, height) = (&mut cx.state, cx.params, &cx.sender, cx.height);
    let mut key =
        find_key(ov, issuer_hotkey, denomination, key_epoch)?.ok_or(TxError::UnknownIssuerKey {
            issuer: *issuer_hotkey,
            denomination,
            key_epoch,
        })?;
    let record = issuer(ov, issuer_hotkey)?.ok_or(TxError::UnknownIssuerKey {
        issuer: *issuer_hotkey,
        denomination,
        key_epoch,
    })?;
    let not_selling = |reason| TxError::IssuerNotSelling {
        issuer: *issuer_hotkey,
        reason,
    };
    if record.retired || key.over_issued {
        return Err(not_selling("one of its keys was caught over-issuing"));
    }
    let current = key_epoch_at(params, height);
    if !key.on_sale(params, height) {
        return Err(TxError::IssuerKeyNotCurrent { key_epoch, current });
    }
    // Keys retire with the permit: an issuer sells only while it validates.
    let permit = match neurons::uid_of(ov, record.netuid, issuer_hotkey)? {
        Some(uid) => neurons::scores(ov, record.netuid, uid)?.permit,
        None => false,
    };
    if !permit {
        return Err(not_selling("it no longer holds a validator permit"));
    }
    let amount = bundle_price(params, credits).ok_or(TxError::Overflow("bundle price"))?;
    if amount == 0 {
        return Err(TxError::ZeroAmount("bundle price"));
    }
    // ...and with the bond: it must cover this purchase on top of what is open.
    let (_, stake) = owner_stake(ov, issuer_hotkey)?;
    let need = liability_after(ov, params, issuer_hotkey, height, amount)?.max(params.issuer_bond);
    if stake < need {
        return Err(TxError::IssuerBondTooSmall {
            issuer: *issuer_hotkey,
            have: stake,
            need,
        });
    }
    let id = deposit_count(ov)?;
    let next = id.checked_add(1).ok_or(TxError::Overflow("deposit id"))?;
    accounts::debit(ov, buyer, amount, "bundle price + fee")?;
    add_escrow(ov, amount)?;
    key.deposited = key
        .deposited
        .checked_add(amount)
        .ok_or(TxError::Overflow("deposited"))?;
    let marker = keys::key_buyer_key(&key.key_id, buyer);
    if state::get::<u64>(ov, &marker)?.is_none() {
        state::put(ov, marker, &1u64);
        key.buyers = key.buyers.saturating_add(1);
    }
    state::put(ov, keys::issuer_key_record_key(&key.key_id), &key);
    let deposit = Deposit {
        id,
        buyer: *buyer,
        issuer: *issuer_hotkey,
        key_id: key.key_id,
        credits,
        tokens: credits / denomination,
        amount,
        block: height,
    };
    state::put(ov, keys::deposit_key(id), &deposit);
    state::put(ov, keys::next_deposit_key(), &next);
    cx.events.push(Event::CreditsBought {
        deposit: id,
        buyer: *buyer,
        issuer: *issuer_hotkey,
        key_id: key.key_id,
        credits,
        amount,
    });
    Ok(id)
}

/// Σ deposited into the issuer's open keys plus `extra`: what its bond must cover
/// after a purchase of `extra`.
fn liability_after(
    state: &impl StateReader,
    params: &ChainParams,
    issuer_hotkey: &AccountId,
    height: u64,
    extra: Amount,
) -> Result<Amount, TxError> {
    let Some(record) = issuer(state, issuer_hotkey)? else {
        return Ok(extra);
    };
    let mut owed = extra;
    for id in &record.key_ids {
        if let Some(k) = issuer_key(state, id)? {
            owed = owed
                .checked_add(k.liability(params, height))
                .ok_or(TxError::Overflow("issuer liability"))?;
        }
    }
    Ok(owed)
}

fn token_reason(e: &TokenError) -> &'static str {
    match e {
        TokenError::UnknownKey => "unknown issuer key",
        TokenError::WrongChallenge => "the token is not for this provider",
        TokenError::BadSignature => "bad issuer signature",
        TokenError::WrongTokenType(_) => "not a type 0x0002 token",
        _ => "malformed token",
    }
}

/// What settling `count` tokens of one key did.
#[derive(Default)]
struct KeyOutcome {
    paid: Amount,
    slashed: Amount,
    unpaid: u64,
}

/// Pay `count` tokens of `key` from its own escrow. A token past the escrow proves
/// over-issuance: the key and its issuer retire, and the issuer's bond pays back into
/// the escrow what the key paid out, so every buyer can be refunded in full.
fn settle_key<R: StateReader>(
    ov: &mut Overlay<R>,
    params: &ChainParams,
    height: u64,
    key: &mut IssuerKey,
    count: u64,
    events: &mut Vec<Event>,
) -> Result<KeyOutcome, TxError> {
    let mut out = KeyOutcome::default();
    key.tokens_settled = key
        .tokens_settled
        .checked_add(count)
        .ok_or(TxError::Overflow("tokens settled"))?;
    if !key.settles(params, height) {
        out.unpaid = count;
        key.unpaid_tokens = key.unpaid_tokens.saturating_add(count);
        return Ok(out);
    }
    let token_value = u64::from(key.denomination)
        .checked_mul(params.credit_price)
        .ok_or(TxError::Overflow("token value"))?;
    let backed = key.escrow().checked_div(token_value).unwrap_or(0);
    let paid_tokens = count.min(backed);
    out.paid = paid_tokens
        .checked_mul(token_value)
        .ok_or(TxError::Overflow("settlement value"))?;
    release_escrow(ov, out.paid)?;
    key.settled = key
        .settled
        .checked_add(out.paid)
        .ok_or(TxError::Overflow("settled"))?;
    out.unpaid = count - paid_tokens;
    if out.unpaid == 0 {
        return Ok(out);
    }
    key.unpaid_tokens = key.unpaid_tokens.saturating_add(out.unpaid);
    key.over_issued = true;
    // The bond restores the escrow to everything deposited (as far as it reaches).
    let (owner, stake) = owner_stake(ov, &key.issuer)?;
    let owed = key.settled.saturating_sub(key.slashed);
    out.slashed = owed.min(stake);
    staking::decrease_stake(ov, &key.issuer, &owner, out.slashed)?;
    add_escrow(ov, out.slashed)?;
    key.slashed = key
        .slashed
        .checked_add(out.slashed)
        .ok_or(TxError::Overflow("slashed"))?;
    if let Some(mut record) = issuer(ov, &key.issuer)? {
        record.retired = true;
        state::put(ov, keys::issuer_key(&key.issuer), &record);
    }
    events.push(Event::IssuerKeyOverIssued {
        issuer: key.issuer,
        key_id: key.key_id,
    });
    Ok(out)
}

/// SettleCredits: verify every token for the signing provider, mark its nonce
/// settled, and pay the provider's owner coldkey from each token's key escrow.
pub(crate) fn settle<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    netuid: Netuid,
    tokens: &[Vec<u8>],
) -> Result<(), TxError> {
    let (ov, params, provider, height) = (&mut cx.state, cx.params, &cx.sender, cx.height);
    neurons::require_registered(ov, netuid, provider)?;
    let owner = staking::hotkey(ov, provider)?
        .ok_or(TxError::UnknownHotkey { hotkey: *provider })?
        .owner;
    let origin = provider.to_string();
    // Cheap checks of every token (decoding, known key, fresh nonce) before any RSA
    // work, then the signatures; keys are loaded once each.
    let mut verifier = TokenVerifier::new();
    let mut keys_used: BTreeMap<Hash, (IssuerKey, u64)> = BTreeMap::new();
    let mut nonces = BTreeSet::new();
    for (index, bytes) in tokens.iter().enumerate() {
        let invalid = |e: &TokenError| TxError::InvalidToken {
            index,
            reason: token_reason(e),
        };
        let token = Token::decode(bytes).map_err(|e| invalid(&e))?;
        let key_id = Hash(token.token_key_id);
        if let std::collections::btree_map::Entry::Vacant(slot) = keys_used.entry(key_id) {
            let key = issuer_key(ov, &key_id)?.ok_or(TxError::InvalidToken {
                index,
                reason: "unknown issuer key",
            })?;
            let public = IssuerPublicKey::from_spki(&key.spki).map_err(|e| invalid(&e))?;
            verifier.add_key(&key.issuer.to_string(), public);
            slot.insert((key, 0));
        }
        if !nonces.insert(token.nonce) || settled_nonce(ov, &token.nonce)?.is_some() {
            return Err(TxError::TokenAlreadySettled {
                index,
                nonce: hex::encode(token.nonce),
            });
        }
        if let Some((_, count)) = keys_used.get_mut(&key_id) {
            *count += 1;
        }
    }
    for (index, bytes) in tokens.iter().enumerate() {
        verifier
            .verify_for_origin(bytes, &origin)
            .map_err(|e| TxError::InvalidToken {
                index,
                reason: token_reason(&e),
            })?;
    }
    let mut total = KeyOutcome::default();
    for (key_id, (mut key, count)) in keys_used {
        let out = settle_key(ov, params, height, &mut key, count, &mut cx.events)?;
        state::put(ov, keys::issuer_key_record_key(&key_id), &key);
        total.paid = total
            .paid
            .checked_add(out.paid)
            .ok_or(TxError::Overflow("paid"))?;
        total.slashed = total.slashed.saturating_add(out.slashed);
        total.unpaid = total.unpaid.saturating_add(out.unpaid);
    }
    for bytes in tokens {
        let token = Token::decode(bytes).map_err(|e| TxError::InvalidToken {
            index: 0,
            reason: token_reason(&e),
        })?;
        let record = SettledNonce {
            provider: *provider,
            key_id: Hash(token.token_key_id),
            block: height,
        };
        state::put(ov, keys::settled_nonce_key(&token.nonce), &record);
    }
    accounts::credit(ov, &owner, total.paid)?;
    cx.events.push(Event::CreditsSettled {
        provider: *provider,
        tokens: u32::try_from(tokens.len()).unwrap_or(u32::MAX),
        paid: total.paid,
        slashed: total.slashed,
        unpaid: u32::try_from(total.unpaid).unwrap_or(u32::MAX),
    });
    Ok(())
}

/// RefundCredits: the buyer takes back its deposit, once, when the key was caught
/// over-issuing or its settle window has closed: the deposit's share of the key's
/// escrow at the first refund (all of it for an over-issued key, whose escrow the
/// bond restored).
pub(crate) fn refund<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    id: u64,
) -> Result<Amount, TxError> {
    let (ov, params, buyer, height) = (&mut cx.state, cx.params, &cx.sender, cx.height);
    let deposit = deposit(ov, id)?.ok_or(TxError::UnknownDeposit { deposit: id })?;
    if deposit.buyer != *buyer || refunded(ov, id)?.is_some() {
        return Err(TxError::NotRefundable { deposit: id });
    }
    let mut key =
        issuer_key(ov, &deposit.key_id)?.ok_or(TxError::UnknownDeposit { deposit: id })?;
    if key.settles(params, height) {
        return Err(TxError::RefundNotOpen {
            deposit: id,
            from_block: key.closes_at(params),
        });
    }
    let base = *key.refund_base.get_or_insert(key.escrow());
    let share = u128::from(deposit.amount) * u128::from(base) / u128::from(key.deposited.max(1));
    let amount = Amount::try_from(share)
        .map_err(|_| TxError::Overflow("refund"))?
        .min(key.escrow());
    release_escrow(ov, amount)?;
    key.refunded = key
        .refunded
        .checked_add(amount)
        .ok_or(TxError::Overflow("refunded"))?;
    state::put(ov, keys::issuer_key_record_key(&key.key_id), &key);
    state::put(ov, keys::refund_key(id), &amount);
    accounts::credit(ov, buyer, amount)?;
    cx.events.push(Event::CreditsRefunded {
        deposit: id,
        buyer: *buyer,
        amount,
    });
    Ok(amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_credit_records_round_trip() {
        let issuer = Issuer {
            hotkey: AccountId([1; 32]),
            netuid: 2,
            url: "http://127.0.0.1:1".into(),
            ohttp_keys: vec![3; 5],
            key_ids: vec![Hash([4; 32])],
            updated_at: 6,
            retired: true,
        };
        assert_eq!(Issuer::from_bytes(&issuer.to_bytes()).unwrap(), issuer);
        let key = IssuerKey {
            key_id: Hash([1; 32]),
            issuer: AccountId([2; 32]),
            denomination: 1,
            key_epoch: 3,
            spki: vec![4; 10],
            registered_at: 5,
            deposited: 6,
            settled: 2,
            slashed: 1,
            tokens_settled: 8,
            buyers: 3,
            unpaid_tokens: 2,
            over_issued: true,
            refunded: 1,
            refund_base: Some(4),
        };
        assert_eq!(IssuerKey::from_bytes(&key.to_bytes()).unwrap(), key);
        assert_eq!(key.escrow(), 4);
        let open = IssuerKey {
            refund_base: None,
            ..key
        };
        assert_eq!(IssuerKey::from_bytes(&open.to_bytes()).unwrap(), open);
        let d = Deposit {
            id: 1,
            buyer: AccountId([1; 32]),
            issuer: AccountId([2; 32]),
            key_id: Hash([3; 32]),
            credits: 100,
            tokens: 100,
            amount: 9,
            block: 4,
        };
        assert_eq!(Deposit::from_bytes(&d.to_bytes()).unwrap(), d);
        let n = SettledNonce {
            provider: AccountId([5; 32]),
            key_id: Hash([6; 32]),
            block: 7,
        };
        assert_eq!(SettledNonce::from_bytes(&n.to_bytes()).unwrap(), n);
    }

    #[test]
    fn only_fixed_bundles_that_the_denomination_divides_are_sold() {
        assert!(check_buy(10, 1).is_ok());
        assert!(check_buy(1000, 10).is_ok());
        assert!(matches!(
            check_buy(11, 1),
            Err(TxError::InvalidBundle { .. })
        ));
        assert!(matches!(
            check_buy(100, 0),
            Err(TxError::InvalidBundle { .. })
        ));
        assert!(matches!(
            check_buy(10, 3),
            Err(TxError::InvalidBundle { .. })
        ));
        assert!(matches!(check_settle(&[]), Err(TxError::NoTokens)));
    }
}
