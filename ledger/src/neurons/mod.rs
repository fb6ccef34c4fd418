//! Neurons: registration (burn price, UID assignment, pruning), endpoints, and the
//! per-UID scores each epoch leaves behind.

pub mod keys;

use plexus_types::{
    AccountId, Amount, CodecError, Decode, Encode, Endpoint, Hyperparams, Netuid, Uid,
    codec::{Reader, WriteExt},
    subnet::{MAX_MODEL_ID, MAX_OHTTP_KEYS, MAX_OPERATOR_ID, MAX_URL},
};
use serde::{Deserialize, Serialize};

use crate::{
    TxError, accounts,
    context::TxContext,
    events::Event,
    staking,
    state::{self, StateError, Value},
    store::{Overlay, StateReader},
    subnets::{self, SubnetState},
    weights,
};

/// While at least this many UIDs are outside their immunity period, pruning skips immune UIDs.
pub const MIN_NON_IMMUNE_FOR_SKIP: usize = 10;

/// The holder of a UID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Neuron {
    /// The registered hotkey.
    pub hotkey: AccountId,
    /// Its owner coldkey at registration.
    pub coldkey: AccountId,
    /// Block of registration.
    pub registered_at: u64,
    /// Block of the last weights update (the registration block before any).
    pub last_update: u64,
    /// Block of the last SetWeights or CommitWeights, for the rate limit.
    pub weights_set_at: Option<u64>,
    /// Block of the commit behind the current weights (the set block without commit-reveal).
    pub weights_committed_at: u64,
}

impl Value for Neuron {
    fn put(&self, out: &mut Vec<u8>) {
        self.hotkey.encode_to(out);
        self.coldkey.encode_to(out);
        out.put_u64(self.registered_at);
        out.put_u64(self.last_update);
        match self.weights_set_at {
            None => out.put_bool(false),
            Some(b) => {
                out.put_bool(true);
                out.put_u64(b);
            }
        }
        out.put_u64(self.weights_committed_at);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            hotkey: AccountId::decode_from(r)?,
            coldkey: AccountId::decode_from(r)?,
            registered_at: r.u64("registered at")?,
            last_update: r.u64("last update")?,
            weights_set_at: r.option("weights set at", |r| r.u64("weights set at"))?,
            weights_committed_at: r.u64("weights committed at")?,
        })
    }
}

/// What the last epoch computed for a UID (u16 proportions out of 65535).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronScores {
    /// Rank.
    pub rank: u16,
    /// Trust.
    pub trust: u16,
    /// Consensus.
    pub consensus: u16,
    /// Incentive.
    pub incentive: u16,
    /// Dividends.
    pub dividends: u16,
    /// Validator trust.
    pub validator_trust: u16,
    /// Base units the UID earned in the last epoch (miner + validator).
    pub emission: Amount,
    /// Whether the UID holds a validator permit for the coming epoch.
    pub permit: bool,
}

impl Value for NeuronScores {
    fn put(&self, out: &mut Vec<u8>) {
        for v in [
            self.rank,
            self.trust,
            self.consensus,
            self.incentive,
            self.dividends,
            self.validator_trust,
        ] {
            out.put_u16(v);
        }
        out.put_u64(self.emission);
        out.put_bool(self.permit);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            rank: r.u16("rank")?,
            trust: r.u16("trust")?,
            consensus: r.u16("consensus")?,
            incentive: r.u16("incentive")?,
            dividends: r.u16("dividends")?,
            validator_trust: r.u16("validator trust")?,
            emission: r.u64("emission")?,
            permit: r.bool("permit")?,
        })
    }
}

/// Who holds `uid` on `netuid`.
pub fn neuron(
    state: &impl StateReader,
    netuid: Netuid,
    uid: Uid,
) -> Result<Option<Neuron>, StateError> {
    state::get(state, &keys::neuron_key(netuid, uid))
}

/// The UID `hotkey` holds on `netuid`.
pub fn uid_of(
    state: &impl StateReader,
    netuid: Netuid,
    hotkey: &AccountId,
) -> Result<Option<Uid>, StateError> {
    state::get(state, &keys::registration_key(netuid, hotkey))
}

/// The last epoch's scores of `uid`.
pub fn scores(
    state: &impl StateReader,
    netuid: Netuid,
    uid: Uid,
) -> Result<NeuronScores, StateError> {
    state::get_or_default(state, &keys::scores_key(netuid, uid))
}

/// The endpoint `uid` serves, if any.
pub fn endpoint(
    state: &impl StateReader,
    netuid: Netuid,
    uid: Uid,
) -> Result<Option<Endpoint>, StateError> {
    state::get(state, &keys::endpoint_key(netuid, uid))
}

pub(crate) fn put_neuron<R: StateReader>(
    ov: &mut Overlay<R>,
    netuid: Netuid,
    uid: Uid,
    n: &Neuron,
) {
    state::put(ov, keys::neuron_key(netuid, uid), n);
}

pub(crate) fn put_scores<R: StateReader>(
    ov: &mut Overlay<R>,
    netuid: Netuid,
    uid: Uid,
    s: &NeuronScores,
) {
    state::put_or_delete(ov, keys::scores_key(netuid, uid), s);
}

/// The UID and record of a hotkey that must be registered.
pub(crate) fn require_registered(
    state: &impl StateReader,
    netuid: Netuid,
    hotkey: &AccountId,
) -> Result<(Uid, Neuron), TxError> {
    let not = || TxError::NotRegistered {
        netuid,
        hotkey: *hotkey,
    };
    let uid = uid_of(state, netuid, hotkey)?.ok_or_else(not)?;
    let neuron = neuron(state, netuid, uid)?.ok_or_else(not)?;
    Ok((uid, neuron))
}

/// The price Register pays now (for the phase-2 funds check).
pub(crate) fn registration_price(
    state: &impl StateReader,
    netuid: Netuid,
    height: u64,
) -> Result<Amount, TxError> {
    let (hp, st) = subnets::require(state, netuid)?;
    Ok(subnets::burn_price(&hp, &st, height))
}

/// Choose the UID a registration on a full subnet replaces: the lowest last-epoch
/// emission, then the oldest registration, then the lowest uid; immune UIDs are
/// skipped while at least [`MIN_NON_IMMUNE_FOR_SKIP`] non-immune UIDs remain.
pub fn uid_to_prune(
    state: &impl StateReader,
    netuid: Netuid,
    hp: &Hyperparams,
    n: u16,
    height: u64,
) -> Result<Option<Uid>, StateError> {
    let mut candidates = Vec::with_capacity(usize::from(n));
    for uid in 0..n {
        let Some(neuron) = neuron(state, netuid, uid)? else {
            continue;
        };
        let emission = scores(state, netuid, uid)?.emission;
        let immune = height < neuron.registered_at.saturating_add(hp.immunity_period);
        candidates.push((emission, neuron.registered_at, uid, immune));
    }
    let non_immune = candidates.iter().filter(|c| !c.3).count();
    let skip_immune = non_immune >= MIN_NON_IMMUNE_FOR_SKIP;
    Ok(candidates
        .into_iter()
        .filter(|c| !(skip_immune && c.3))
        .min_by_key(|c| (c.0, c.1, c.2))
        .map(|c| c.2))
}

/// Register: pay the burn price and take a UID (appending, or replacing the prune choice).
pub(crate) fn register<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    netuid: Netuid,
    hotkey: &AccountId,
) -> Result<(), TxError> {
    let (ov, params, coldkey, height) = (&mut cx.state, cx.params, &cx.sender, cx.height);
    // Phase 2.
    let (hp, mut st) = subnets::require(ov, netuid)?;
    if !hp.registration_allowed {
        return Err(TxError::RegistrationClosed { netuid });
    }
    staking::check_owner(ov, hotkey, coldkey)?;
    if let Some(uid) = uid_of(ov, netuid, hotkey)? {
        return Err(TxError::AlreadyRegistered {
            netuid,
            hotkey: *hotkey,
            uid,
        });
    }
    let price = subnets::burn_price(&hp, &st, height);
    // Phase 3.
    staking::bind_hotkey(ov, hotkey, coldkey, params.default_take)?;
    accounts::debit(ov, coldkey, price, "burn price + fee")?;
    accounts::record_burn(ov, price)?;
    st.burn = subnets::bumped_burn(&hp, price);
    st.burn_updated_at = height;
    st.registrations = st.registrations.saturating_add(1);
    let (uid, replaced) = if st.n < hp.max_uids {
        let uid = st.n;
        st.n += 1;
        (uid, None)
    } else {
        let uid =
            uid_to_prune(ov, netuid, &hp, st.n, height)?.ok_or(TxError::Overflow("subnet size"))?;
        let old = neuron(ov, netuid, uid)?;
        if let Some(old) = &old {
            ov.delete(keys::registration_key(netuid, &old.hotkey));
        }
        weights::clear_uid(ov, netuid, uid, st.n)?;
        (uid, old.map(|o| o.hotkey))
    };
    subnets::put_subnet_state(ov, netuid, &st);
    let neuron = Neuron {
        hotkey: *hotkey,
        coldkey: *coldkey,
        registered_at: height,
        last_update: height,
        weights_set_at: None,
        weights_committed_at: 0,
    };
    put_neuron(ov, netuid, uid, &neuron);
    state::put(ov, keys::registration_key(netuid, hotkey), &uid);
    ov.delete(keys::scores_key(netuid, uid));
    ov.delete(keys::endpoint_key(netuid, uid));
    cx.events.push(Event::Registered {
        netuid,
        uid,
        hotkey: *hotkey,
        coldkey: *coldkey,
        burned: price,
        replaced,
    });
    Ok(())
}

/// Stateless checks of an endpoint.
pub fn validate_endpoint(e: &Endpoint) -> Result<(), TxError> {
    let bad = |m| Err(TxError::InvalidEndpoint(m));
    if e.url.is_empty() || e.url.len() > MAX_URL {
        return bad("url must be 1 to 256 bytes");
    }
    if !(e.url.starts_with("http://") || e.url.starts_with("https://")) {
        return bad("url must start with http:// or https://");
    }
    if e.url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return bad("url must not contain spaces or control characters");
    }
    if e.ohttp_keys.len() > MAX_OHTTP_KEYS {
        return bad("ohttp_keys must be at most 1024 bytes");
    }
    if e.model.len() > MAX_MODEL_ID || e.model.chars().any(char::is_control) {
        return bad("model must be at most 128 bytes without control characters");
    }
    if e.operator.len() > MAX_OPERATOR_ID || e.operator.chars().any(char::is_control) {
        return bad("operator must be at most 64 bytes without control characters");
    }
    Ok(())
}

/// Serve: a registered hotkey publishes its endpoint.
pub(crate) fn serve<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    netuid: Netuid,
    endpoint: &Endpoint,
) -> Result<(), TxError> {
    let (ov, hotkey) = (&mut cx.state, &cx.sender);
    subnets::require(ov, netuid)?;
    let (uid, _) = require_registered(ov, netuid, hotkey)?;
    state::put(ov, keys::endpoint_key(netuid, uid), endpoint);
    cx.events.push(Event::Served { netuid, uid });
    Ok(())
}

/// Every UID's holder, in uid order, for callers that iterate a metagraph.
pub(crate) fn all(
    state: &impl StateReader,
    netuid: Netuid,
    st: &SubnetState,
) -> Result<Vec<Neuron>, StateError> {
    let mut out = Vec::with_capacity(usize::from(st.n));
    for uid in 0..st.n {
        out.push(
            neuron(state, netuid, uid)?.ok_or(StateError::Missing("neuron of a registered uid"))?,
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemStore;

    fn subnet_with(registered_at: &[u64], emission: &[u64]) -> MemStore {
        let base = MemStore::new();
        let mut ov = Overlay::new(&base);
        for (uid, (r, e)) in (0u16..).zip(registered_at.iter().zip(emission)) {
            let hotkey = AccountId([uid as u8; 32]);
            let n = Neuron {
                hotkey,
                coldkey: hotkey,
                registered_at: *r,
                last_update: *r,
                weights_set_at: None,
                weights_committed_at: 0,
            };
            put_neuron(&mut ov, 1, uid, &n);
            let scores = NeuronScores {
                emission: *e,
                ..NeuronScores::default()
            };
            put_scores(&mut ov, 1, uid, &scores);
        }
        let mut store = MemStore::new();
        store.commit(ov.into_writes());
        store
    }

    #[test]
    fn pruning_skips_immune_uids_only_while_ten_non_immune_remain() {
        let hp = Hyperparams {
            immunity_period: 100,
            ..Hyperparams::default()
        };
        // Ten old UIDs earning 10, two immune newcomers earning nothing.
        let mut reg = vec![0u64; 10];
        reg.extend([150, 150]);
        let mut em = vec![10u64; 10];
        em.extend([0, 0]);
        em[4] = 3;
        let store = subnet_with(&reg, &em);
        assert_eq!(uid_to_prune(&store, 1, &hp, 12, 200).unwrap(), Some(4));
        // Nine non-immune left: immune UIDs become candidates, lowest emission first.
        reg[9] = 150;
        let store = subnet_with(&reg, &em);
        assert_eq!(uid_to_prune(&store, 1, &hp, 12, 200).unwrap(), Some(10));
        // Ties on emission go to the oldest registration, then the lowest uid.
        let store = subnet_with(&[5, 3, 3, 9], &[0, 0, 0, 0]);
        assert_eq!(uid_to_prune(&store, 1, &hp, 4, 1_000).unwrap(), Some(1));
    }

    #[test]
    fn endpoints_must_be_http_urls_without_spaces() {
        let ok = Endpoint {
            url: "http://127.0.0.1:8080".into(),
            ..Endpoint::default()
        };
        assert!(validate_endpoint(&ok).is_ok());
        for url in ["", "ftp://x", "http://a b", "127.0.0.1:80"] {
            let e = Endpoint {
                url: url.into(),
                ..Endpoint::default()
            };
            assert!(validate_endpoint(&e).is_err(), "{url}");
        }
    }
}
