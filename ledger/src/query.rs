//! Typed reads of the state for the API and the CLI. Every answer is serde-serializable.

use plexus_types::{
    AccountId, Amount, Endpoint, Hash, Hyperparams, Mechanism, Netuid, Uid, tx::DataTaskId,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{
    accounts, credits, data, genesis, neurons,
    params::{self, ChainConfig},
    staking,
    state::StateError,
    store::StateReader,
    subnets, weights,
};

/// Why a query could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueryError {
    /// The state could not be read.
    #[error(transparent)]
    State(#[from] StateError),
    /// No subnet has this netuid.
    #[error("subnet {0} does not exist")]
    UnknownSubnet(Netuid),
}

/// An account's balance and next nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    /// The account.
    pub address: AccountId,
    /// Free balance in base units.
    pub balance: Amount,
    /// The nonce its next transaction must carry.
    pub nonce: u64,
}

/// Stake of one coldkey on one hotkey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeEntry {
    /// The hotkey staked to.
    pub hotkey: AccountId,
    /// The coldkey that owns the stake.
    pub coldkey: AccountId,
    /// Base units.
    pub amount: Amount,
}

/// A hotkey: owner, take, total stake and every nominator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotkeyView {
    /// The hotkey.
    pub hotkey: AccountId,
    /// Its owner coldkey.
    pub owner: AccountId,
    /// Take out of 65535.
    pub take: u16,
    /// Σ stake on it.
    pub total_stake: Amount,
    /// Stake per coldkey, sorted by coldkey.
    pub stakes: Vec<StakeEntry>,
    /// Subnets and UIDs where it is registered.
    pub registrations: Vec<(Netuid, Uid)>,
}

/// A subnet with its parameters, clock and prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetView {
    /// Its netuid.
    pub netuid: Netuid,
    /// Human name.
    pub name: String,
    /// What it pays for.
    pub mechanism: Mechanism,
    /// Owner coldkey.
    pub owner: AccountId,
    /// Creation block.
    pub created_at: u64,
    /// Hyperparameters.
    pub hyperparams: Hyperparams,
    /// Number of UIDs.
    pub n: u16,
    /// The price to register at the queried height.
    pub burn_price: Amount,
    /// Emission accrued and waiting for the next epoch.
    pub pending_emission: Amount,
    /// Block of the last epoch.
    pub last_epoch_block: u64,
    /// Index of the current epoch.
    pub epoch_index: u64,
    /// First block at which the next epoch runs.
    pub next_epoch_block: u64,
    /// Emission paid by the last epoch.
    pub last_epoch_emission: Amount,
}

/// One UID of a metagraph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronView {
    /// The UID.
    pub uid: Uid,
    /// Its hotkey.
    pub hotkey: AccountId,
    /// The hotkey's owner coldkey.
    pub coldkey: AccountId,
    /// The hotkey's total stake.
    pub stake: Amount,
    /// Rank (u16 proportion).
    pub rank: u16,
    /// Trust.
    pub trust: u16,
    /// Consensus.
    pub consensus: u16,
    /// Incentive.
    pub incentive: u16,
    /// Dividends.
    pub dividends: u16,
    /// Base units earned in the last epoch.
    pub emission: Amount,
    /// Validator trust.
    pub validator_trust: u16,
    /// Whether it holds a validator permit.
    pub validator_permit: bool,
    /// Block of its last weights update.
    pub last_update: u64,
    /// Block of its registration.
    pub registered_at: u64,
    /// Its served endpoint.
    pub endpoint: Option<Endpoint>,
}

/// A subnet's UIDs and their scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metagraph {
    /// The subnet.
    pub netuid: Netuid,
    /// Every UID, in order.
    pub neurons: Vec<NeuronView>,
}

/// Supply accounting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplyView {
    /// Allocated at genesis.
    pub genesis: Amount,
    /// Emitted since.
    pub emitted: Amount,
    /// Burned since.
    pub burned: Amount,
    /// In existence: genesis + emitted − burned.
    pub total_issuance: Amount,
    /// Of which staked.
    pub total_stake: Amount,
    /// Of which held in escrow by open data tasks.
    pub data_escrow: Amount,
    /// Of which held in credit issuers' key escrows.
    #[serde(default)]
    pub credit_escrow: Amount,
}

/// A credit issuer with its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerView {
    /// Endpoint and key ids.
    #[serde(flatten)]
    pub issuer: credits::Issuer,
    /// Its keys with their escrow accounting, in registration order.
    pub keys: Vec<credits::IssuerKey>,
    /// The owner coldkey's self-stake on the issuer hotkey: its bond.
    pub self_stake: Amount,
}

/// One contribution to a data task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContributionView {
    /// The contributor's hotkey.
    pub hotkey: AccountId,
    /// Its UID on the task's subnet, if it is still registered.
    pub uid: Option<Uid>,
    /// The commitment.
    pub commitment: Hash,
    /// Block of the commit.
    pub committed_at: u64,
    /// The revealed content hash (the blob's address in the dataset store).
    pub content_hash: Option<Hash>,
    /// The revealed salt, hex.
    pub salt: Option<Hash>,
    /// Rows revealed.
    pub rows: Option<u64>,
    /// Block of the reveal.
    pub revealed_at: Option<u64>,
}

/// A data task with its contributions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataTaskView {
    /// The task as stored.
    #[serde(flatten)]
    pub task: data::DataTask,
    /// Where the task stands at the queried height: `commit`, `reveal`, `scoring` or `published`.
    pub phase: String,
    /// Contributions in commit order (empty in lists).
    pub contributions: Vec<ContributionView>,
}

/// An account's balance and nonce.
pub fn account(state: &impl StateReader, id: &AccountId) -> Result<AccountView, QueryError> {
    let a = accounts::account(state, id)?;
    Ok(AccountView {
        address: *id,
        balance: a.balance,
        nonce: a.nonce,
    })
}

/// Every stake a coldkey holds, sorted by hotkey.
pub fn stakes_of_coldkey(
    state: &impl StateReader,
    coldkey: &AccountId,
) -> Result<Vec<StakeEntry>, QueryError> {
    staking::staked_hotkeys(state, coldkey)?
        .into_iter()
        .map(|hotkey| {
            Ok(StakeEntry {
                hotkey,
                coldkey: *coldkey,
                amount: staking::stake(state, &hotkey, coldkey)?,
            })
        })
        .collect()
}

/// Hotkeys a coldkey owns.
pub fn hotkeys_of_coldkey(
    state: &impl StateReader,
    coldkey: &AccountId,
) -> Result<Vec<AccountId>, QueryError> {
    Ok(staking::owned_hotkeys(state, coldkey)?)
}

/// The coldkey that owns a hotkey.
pub fn hotkey_owner(
    state: &impl StateReader,
    hotkey: &AccountId,
) -> Result<Option<AccountId>, QueryError> {
    Ok(staking::hotkey(state, hotkey)?.map(|h| h.owner))
}

/// A hotkey with its stakes and registrations, if it was ever bound.
pub fn hotkey(
    state: &impl StateReader,
    hotkey: &AccountId,
) -> Result<Option<HotkeyView>, QueryError> {
    let Some(info) = staking::hotkey(state, hotkey)? else {
        return Ok(None);
    };
    let mut stakes = Vec::new();
    for coldkey in staking::nominators(state, hotkey)? {
        stakes.push(StakeEntry {
            hotkey: *hotkey,
            coldkey,
            amount: staking::stake(state, hotkey, &coldkey)?,
        });
    }
    let mut registrations = Vec::new();
    for netuid in subnets::list(state)? {
        if let Some(uid) = neurons::uid_of(state, netuid, hotkey)? {
            registrations.push((netuid, uid));
        }
    }
    Ok(Some(HotkeyView {
        hotkey: *hotkey,
        owner: info.owner,
        take: info.take,
        total_stake: info.total_stake,
        stakes,
        registrations,
    }))
}

/// One subnet as seen at `height` (which sets the decayed burn price).
pub fn subnet(
    state: &impl StateReader,
    netuid: Netuid,
    height: u64,
) -> Result<Option<SubnetView>, QueryError> {
    let (Some(info), Some(hp), Some(st)) = (
        subnets::info(state, netuid)?,
        subnets::hyperparams(state, netuid)?,
        subnets::subnet_state(state, netuid)?,
    ) else {
        return Ok(None);
    };
    Ok(Some(SubnetView {
        netuid,
        name: info.name,
        mechanism: info.mechanism,
        owner: info.owner,
        created_at: info.created_at,
        burn_price: subnets::burn_price(&hp, &st, height),
        n: st.n,
        pending_emission: st.pending_emission,
        last_epoch_block: st.last_epoch_block,
        epoch_index: st.epoch_index,
        next_epoch_block: st.last_epoch_block.saturating_add(u64::from(hp.tempo)),
        last_epoch_emission: st.last_epoch_emission,
        hyperparams: hp,
    }))
}

/// Every subnet as seen at `height`.
pub fn subnets(state: &impl StateReader, height: u64) -> Result<Vec<SubnetView>, QueryError> {
    let mut out = Vec::new();
    for netuid in subnets::list(state)? {
        if let Some(view) = subnet(state, netuid, height)? {
            out.push(view);
        }
    }
    Ok(out)
}

/// A subnet's metagraph.
pub fn metagraph(state: &impl StateReader, netuid: Netuid) -> Result<Metagraph, QueryError> {
    let st = subnets::subnet_state(state, netuid)?.ok_or(QueryError::UnknownSubnet(netuid))?;
    let mut out = Vec::with_capacity(usize::from(st.n));
    for (uid, n) in (0u16..).zip(neurons::all(state, netuid, &st)?) {
        let s = neurons::scores(state, netuid, uid)?;
        let hk = staking::hotkey(state, &n.hotkey)?;
        out.push(NeuronView {
            uid,
            hotkey: n.hotkey,
            coldkey: hk.map_or(n.coldkey, |h| h.owner),
            stake: hk.map_or(0, |h| h.total_stake),
            rank: s.rank,
            trust: s.trust,
            consensus: s.consensus,
            incentive: s.incentive,
            dividends: s.dividends,
            emission: s.emission,
            validator_trust: s.validator_trust,
            validator_permit: s.permit,
            last_update: n.last_update,
            registered_at: n.registered_at,
            endpoint: neurons::endpoint(state, netuid, uid)?,
        });
    }
    Ok(Metagraph {
        netuid,
        neurons: out,
    })
}

/// A UID's stored weights row `(uid, weight)`, max-upscaled to 65535.
pub fn weights(
    state: &impl StateReader,
    netuid: Netuid,
    uid: Uid,
) -> Result<Vec<(u16, u16)>, QueryError> {
    Ok(weights::weights_row(state, netuid, uid)?)
}

/// A UID's stored bonds row.
pub fn bonds(
    state: &impl StateReader,
    netuid: Netuid,
    uid: Uid,
) -> Result<Vec<(u16, u16)>, QueryError> {
    Ok(weights::bonds_row(state, netuid, uid)?)
}

/// A UID's pending weights commit.
pub fn pending_commit(
    state: &impl StateReader,
    netuid: Netuid,
    uid: Uid,
) -> Result<Option<weights::WeightsCommit>, QueryError> {
    Ok(weights::pending_commit(state, netuid, uid)?)
}

/// Supply accounting and total stake.
pub fn supply(state: &impl StateReader) -> Result<SupplyView, QueryError> {
    let s = accounts::supply(state)?;
    Ok(SupplyView {
        genesis: s.genesis,
        emitted: s.emitted,
        burned: s.burned,
        total_issuance: s.issuance(),
        total_stake: staking::total_stake(state)?,
        data_escrow: data::escrow_total(state)?,
        credit_escrow: credits::escrow_total(state)?,
    })
}

fn phase(task: &data::DataTask, height: u64) -> &'static str {
    if task.published.is_some() {
        "published"
    } else if height <= task.commit_deadline {
        "commit"
    } else if height <= task.reveal_deadline {
        "reveal"
    } else {
        "scoring"
    }
}

/// Every data task (newest first), without contributions, as seen at `height`;
/// at most `limit`, optionally only those of one subnet.
pub fn data_tasks(
    state: &impl StateReader,
    netuid: Option<Netuid>,
    height: u64,
    limit: usize,
) -> Result<Vec<DataTaskView>, QueryError> {
    let mut out = Vec::new();
    let mut id = data::task_count(state)?;
    while id > 0 && out.len() < limit {
        id -= 1;
        if let Some(task) = data::task(state, id)?
            && netuid.is_none_or(|n| n == task.netuid)
        {
            out.push(DataTaskView {
                phase: phase(&task, height).to_string(),
                task,
                contributions: Vec::new(),
            });
        }
    }
    Ok(out)
}

/// One data task with its contributions, as seen at `height`.
pub fn data_task(
    state: &impl StateReader,
    id: DataTaskId,
    height: u64,
) -> Result<Option<DataTaskView>, QueryError> {
    let Some(task) = data::task(state, id)? else {
        return Ok(None);
    };
    let mut contributions = Vec::new();
    for c in data::contributions(state, id)? {
        let r = c.reveal;
        contributions.push(ContributionView {
            hotkey: c.hotkey,
            uid: neurons::uid_of(state, task.netuid, &c.hotkey)?,
            commitment: c.commitment,
            committed_at: c.committed_at,
            content_hash: r.map(|r| r.content_hash),
            salt: r.map(|r| Hash(r.salt)),
            rows: r.map(|r| r.rows),
            revealed_at: r.map(|r| r.block),
        });
    }
    Ok(Some(DataTaskView {
        phase: phase(&task, height).to_string(),
        task,
        contributions,
    }))
}

/// The chain id and parameters.
pub fn chain(state: &impl StateReader) -> Result<ChainConfig, QueryError> {
    Ok(params::load(state)?)
}

/// The genesis validator set.
pub fn validators(state: &impl StateReader) -> Result<Vec<genesis::GenesisValidator>, QueryError> {
    Ok(genesis::validators(state)?)
}

/// Every credit issuer with its keys, in hotkey order.
pub fn issuers(state: &impl StateReader) -> Result<Vec<IssuerView>, QueryError> {
    let mut out = Vec::new();
    for hotkey in credits::issuers(state)? {
        if let Some(view) = issuer(state, &hotkey)? {
            out.push(view);
        }
    }
    Ok(out)
}

/// One credit issuer with its keys.
pub fn issuer(
    state: &impl StateReader,
    hotkey: &AccountId,
) -> Result<Option<IssuerView>, QueryError> {
    let Some(issuer) = credits::issuer(state, hotkey)? else {
        return Ok(None);
    };
    let mut keys = Vec::with_capacity(issuer.key_ids.len());
    for id in &issuer.key_ids {
        if let Some(k) = credits::issuer_key(state, id)? {
            keys.push(k);
        }
    }
    let self_stake = match staking::hotkey(state, hotkey)? {
        Some(info) => staking::stake(state, hotkey, &info.owner)?,
        None => 0,
    };
    Ok(Some(IssuerView {
        issuer,
        keys,
        self_stake,
    }))
}

/// The self-stake an issuer's owner must keep bonded at `height`: 0 once none of its
/// keys can be settled (see [`credits`]).
pub fn credits_bond(
    state: &impl StateReader,
    hotkey: &AccountId,
    height: u64,
) -> Result<Amount, QueryError> {
    let params = params::load(state)?.params;
    Ok(credits::required_bond(state, &params, hotkey, height)?)
}

/// What the buyer of deposit `id` took back with `RefundCredits`, if it did.
pub fn deposit_refund(state: &impl StateReader, id: u64) -> Result<Option<Amount>, QueryError> {
    Ok(credits::refunded(state, id)?)
}

/// A credit deposit by id.
pub fn deposit(state: &impl StateReader, id: u64) -> Result<Option<credits::Deposit>, QueryError> {
    Ok(credits::deposit(state, id)?)
}

/// Whether a token nonce was settled, and by whom.
pub fn settled_nonce(
    state: &impl StateReader,
    nonce: &[u8; 32],
) -> Result<Option<credits::SettledNonce>, QueryError> {
    Ok(credits::settled_nonce(state, nonce)?)
}

/// Deposits, newest first, at most `limit`, optionally only those of one buyer; looks
/// at no more than `scan` of the newest deposits.
pub fn deposits(
    state: &impl StateReader,
    buyer: Option<&AccountId>,
    limit: usize,
    scan: u64,
) -> Result<Vec<credits::Deposit>, QueryError> {
    let mut out = Vec::new();
    let count = credits::deposit_count(state)?;
    let mut id = count;
    while id > 0 && out.len() < limit && count - id < scan {
        id -= 1;
        if let Some(d) = credits::deposit(state, id)?
            && buyer.is_none_or(|b| *b == d.buyer)
        {
            out.push(d);
        }
    }
    Ok(out)
}
