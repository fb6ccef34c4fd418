//! Credits for private inference: issuer keys, escrowed purchases and settlement of
//! redeemed Privacy Pass tokens (see `PRIVACY.md`).
//!
//! - `RegisterIssuer`: a hotkey with a validator permit publishes its issuance
//!   endpoint (url and OHTTP keys) and RSA keys, one per (denomination, key epoch).
//!   A published key never changes; its key id is sha256 of its SPKI (RFC 9578).
//! - `BuyCredits`: a coldkey moves `credits × credit_price` into one key's escrow and
//!   gets a numbered [`Deposit`]; the issuer signs `credits / denomination` tokens for
//!   it off chain (the issuer's own store remembers which deposits it has served).
//! - `SettleCredits`: a provider hotkey claims `denomination × credit_price` per token.
//!   Every token must verify under a registered key for the challenge that names the
//!   key's issuer and the provider itself as the only origin, and its nonce must never
//!   have been settled. Payment comes from the key's escrow; if an issuer signed more
//!   than was deposited, the gap is taken from the issuer owner's self-stake, and the
//!   settlement fails only when that runs out too. So per key
//!   Σ settled from escrow ≤ Σ deposited always holds.
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

/// Most keys one issuer may hold over its lifetime.
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
    /// Key ids in registration order.
    pub key_ids: Vec<Hash>,
    /// Block of its last registration.
    pub updated_at: u64,
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
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            hotkey: AccountId::decode_from(r)?,
            netuid: r.u16("netuid")?,
            url: r.string(MAX_URL, "url")?,
            ohttp_keys: r.bytes(plexus_types::subnet::MAX_OHTTP_KEYS, "ohttp keys")?,
            key_ids: r.list(MAX_KEYS_PER_ISSUER, "key ids", Hash::decode_from)?,
            updated_at: r.u64("updated at")?,
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
    /// Σ base units taken from the issuer's stake because the escrow ran out.
    pub slashed: Amount,
    /// Tokens settled under this key.
    pub tokens_settled: u64,
}

impl IssuerKey {
    /// Base units still in this key's escrow.
    pub fn escrow(&self) -> Amount {
        self.deposited.saturating_sub(self.settled)
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

/// RegisterIssuer: record the endpoint and add the keys.
pub(crate) fn register<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    netuid: Netuid,
    url: &str,
    ohttp_keys: &[u8],
    specs: &[IssuerKeySpec],
) -> Result<(), TxError> {
    let (ov, hotkey, height) = (&mut cx.state, &cx.sender, cx.height);
    let (uid, _) = neurons::require_registered(ov, netuid, hotkey)?;
    if !neurons::scores(ov, netuid, uid)?.permit {
        return Err(TxError::NoValidatorPermit { netuid });
    }
    let mut record = issuer(ov, hotkey)?.unwrap_or(Issuer {
        hotkey: *hotkey,
        netuid,
        url: String::new(),
        ohttp_keys: Vec::new(),
        key_ids: Vec::new(),
        updated_at: height,
    });
    if record.key_ids.is_empty() {
        let mut all = issuers(ov)?;
        state::sorted_insert(&mut all, *hotkey);
        state::put(ov, keys::issuers_key(), &all);
    }
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
        }
        if find_key(ov, hotkey, spec.denomination, spec.key_epoch)?.is_some() {
            return Err(TxError::IssuerKeyTaken {
                denomination: spec.denomination,
                key_epoch: spec.key_epoch,
            });
        }
        if record.key_ids.len() >= MAX_KEYS_PER_ISSUER {
            return Err(TxError::InvalidIssuer("an issuer holds at most 64 keys"));
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
        };
        state::put(ov, keys::issuer_key_record_key(&key_id), &key);
        record.key_ids.push(key_id);
        // The record lists the key before the next spec is checked, so
        // `find_key` sees keys added earlier in this transaction.
        state::put(ov, keys::issuer_key(hotkey), &record);
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
    let amount = bundle_price(params, credits).ok_or(TxError::Overflow("bundle price"))?;
    if amount == 0 {
        return Err(TxError::ZeroAmount("bundle price"));
    }
    let id = deposit_count(ov)?;
    let next = id.checked_add(1).ok_or(TxError::Overflow("deposit id"))?;
    accounts::debit(ov, buyer, amount, "bundle price + fee")?;
    add_escrow(ov, amount)?;
    key.deposited = key
        .deposited
        .checked_add(amount)
        .ok_or(TxError::Overflow("deposited"))?;
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

fn token_reason(e: &TokenError) -> &'static str {
    match e {
        TokenError::UnknownKey => "unknown issuer key",
        TokenError::WrongChallenge => "the token is not for this provider",
        TokenError::BadSignature => "bad issuer signature",
        TokenError::WrongTokenType(_) => "not a type 0x0002 token",
        _ => "malformed token",
    }
}

/// SettleCredits: verify every token for the signing provider, mark its nonce
/// settled, and pay the provider's owner coldkey.
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
    // Verify every token before writing anything; keys are loaded once each.
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
        verifier
            .verify_for_origin(bytes, &origin)
            .map_err(|e| invalid(&e))?;
        if let Some((_, count)) = keys_used.get_mut(&key_id) {
            *count += 1;
        }
    }
    let mut paid: Amount = 0;
    let mut slashed: Amount = 0;
    for (key_id, (mut key, count)) in keys_used {
        let value = count
            .checked_mul(u64::from(key.denomination))
            .and_then(|credits| credits.checked_mul(params.credit_price))
            .ok_or(TxError::Overflow("settlement value"))?;
        let from_escrow = value.min(key.escrow());
        let gap = value - from_escrow;
        if gap > 0 {
            // The issuer signed more than was deposited: its owner's self-stake pays.
            let issuer_owner = staking::hotkey(ov, &key.issuer)?.map(|h| h.owner).ok_or(
                TxError::EscrowExhausted {
                    issuer: key.issuer,
                    short: gap,
                },
            )?;
            let stake = staking::stake(ov, &key.issuer, &issuer_owner)?;
            if stake < gap {
                return Err(TxError::EscrowExhausted {
                    issuer: key.issuer,
                    short: gap - stake,
                });
            }
            staking::decrease_stake(ov, &key.issuer, &issuer_owner, gap)?;
            key.slashed = key
                .slashed
                .checked_add(gap)
                .ok_or(TxError::Overflow("slashed"))?;
        }
        release_escrow(ov, from_escrow)?;
        key.settled += from_escrow; // from_escrow <= deposited - settled
        key.tokens_settled = key
            .tokens_settled
            .checked_add(count)
            .ok_or(TxError::Overflow("tokens settled"))?;
        state::put(ov, keys::issuer_key_record_key(&key_id), &key);
        paid = paid
            .checked_add(from_escrow)
            .ok_or(TxError::Overflow("paid"))?;
        slashed = slashed
            .checked_add(gap)
            .ok_or(TxError::Overflow("slashed"))?;
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
    let total = paid
        .checked_add(slashed)
        .ok_or(TxError::Overflow("settlement"))?;
    accounts::credit(ov, &owner, total)?;
    cx.events.push(Event::CreditsSettled {
        provider: *provider,
        tokens: u32::try_from(tokens.len()).unwrap_or(u32::MAX),
        paid,
        slashed,
    });
    Ok(())
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
        };
        assert_eq!(IssuerKey::from_bytes(&key.to_bytes()).unwrap(), key);
        assert_eq!(key.escrow(), 4);
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
