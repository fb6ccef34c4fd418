//! Reads of the committed state: accounts, hotkeys, subnets, metagraphs, weights,
//! supply and the chain configuration.

use plexus_ledger::{
    genesis::GenesisValidator,
    params::{ChainConfig, ChainParams},
    query::{
        AccountView, HotkeyView, Metagraph as LedgerMetagraph, NeuronView, StakeEntry, SubnetView,
        SupplyView,
    },
};
use plexus_types::{AccountId, Amount, Endpoint, Hash, Hyperparams, Mechanism, Netuid, Uid};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An account's balance and next nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Account {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The account.
    #[schema(value_type = String)]
    pub address: AccountId,
    /// Free balance in base units.
    pub balance: Amount,
    /// The nonce its next transaction must carry (not counting its transactions
    /// still waiting in a mempool).
    pub nonce: u64,
}

impl Account {
    /// The wire form of a ledger account view at `height`.
    pub fn from_view(height: u64, view: &AccountView) -> Self {
        Self {
            height,
            address: view.address,
            balance: view.balance,
            nonce: view.nonce,
        }
    }
}

/// Stake of one coldkey on one hotkey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Stake {
    /// The hotkey staked to.
    #[schema(value_type = String)]
    pub hotkey: AccountId,
    /// The coldkey that owns the stake.
    #[schema(value_type = String)]
    pub coldkey: AccountId,
    /// Base units.
    pub amount: Amount,
}

impl From<StakeEntry> for Stake {
    fn from(s: StakeEntry) -> Self {
        Self {
            hotkey: s.hotkey,
            coldkey: s.coldkey,
            amount: s.amount,
        }
    }
}

/// `GET /v1/accounts/{address}/stakes`: every stake a coldkey holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Stakes {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The coldkey.
    #[schema(value_type = String)]
    pub coldkey: AccountId,
    /// Σ of `stakes`.
    pub total: Amount,
    /// Stake per hotkey, sorted by hotkey.
    pub stakes: Vec<Stake>,
}

/// `GET /v1/accounts/{address}/hotkeys`: the hotkeys a coldkey owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OwnedHotkeys {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The coldkey.
    #[schema(value_type = String)]
    pub coldkey: AccountId,
    /// Hotkeys it owns, sorted.
    #[schema(value_type = Vec<String>)]
    pub hotkeys: Vec<AccountId>,
}

/// Where a hotkey holds a UID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Registration {
    /// The subnet.
    pub netuid: Netuid,
    /// The UID on it.
    pub uid: Uid,
}

/// `GET /v1/hotkeys/{address}`: owner, take, stake and registrations of a hotkey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Hotkey {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The hotkey.
    #[schema(value_type = String)]
    pub hotkey: AccountId,
    /// Its owner coldkey.
    #[schema(value_type = String)]
    pub owner: AccountId,
    /// Validator take, out of 65535.
    pub take: u16,
    /// Σ stake on it.
    pub total_stake: Amount,
    /// Stake per coldkey, sorted by coldkey.
    pub stakes: Vec<Stake>,
    /// Subnets and UIDs where it is registered.
    pub registrations: Vec<Registration>,
}

impl Hotkey {
    /// The wire form of a ledger hotkey view at `height`.
    pub fn from_view(height: u64, v: HotkeyView) -> Self {
        Self {
            height,
            hotkey: v.hotkey,
            owner: v.owner,
            take: v.take,
            total_stake: v.total_stake,
            stakes: v.stakes.into_iter().map(Stake::from).collect(),
            registrations: v
                .registrations
                .into_iter()
                .map(|(netuid, uid)| Registration { netuid, uid })
                .collect(),
        }
    }
}

/// A subnet with its parameters, clock and prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Subnet {
    /// Its netuid.
    pub netuid: Netuid,
    /// Human name.
    pub name: String,
    /// What it pays for: `inference`, `data` or `generic`.
    #[schema(value_type = String, example = "inference")]
    pub mechanism: Mechanism,
    /// Owner coldkey.
    #[schema(value_type = String)]
    pub owner: AccountId,
    /// Creation block.
    pub created_at: u64,
    /// Hyperparameters (the ledger's `Hyperparams` serde form).
    #[schema(value_type = Object)]
    pub hyperparams: Hyperparams,
    /// Number of UIDs.
    pub n: u16,
    /// The registration burn price for a registration in the next block.
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

impl From<SubnetView> for Subnet {
    fn from(v: SubnetView) -> Self {
        Self {
            netuid: v.netuid,
            name: v.name,
            mechanism: v.mechanism,
            owner: v.owner,
            created_at: v.created_at,
            hyperparams: v.hyperparams,
            n: v.n,
            burn_price: v.burn_price,
            pending_emission: v.pending_emission,
            last_epoch_block: v.last_epoch_block,
            epoch_index: v.epoch_index,
            next_epoch_block: v.next_epoch_block,
            last_epoch_emission: v.last_epoch_emission,
        }
    }
}

/// `GET /v1/subnets/{netuid}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubnetAt {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The subnet.
    pub subnet: Subnet,
}

/// `GET /v1/subnets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Subnets {
    /// The committed height this answer reflects.
    pub height: u64,
    /// Every subnet, by netuid.
    pub subnets: Vec<Subnet>,
}

/// One UID of a metagraph. Scores are `u16` proportions of 65535 from the last epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Neuron {
    /// The UID.
    pub uid: Uid,
    /// Its hotkey.
    #[schema(value_type = String)]
    pub hotkey: AccountId,
    /// The hotkey's owner coldkey.
    #[schema(value_type = String)]
    pub coldkey: AccountId,
    /// The hotkey's total stake, in base units.
    pub stake: Amount,
    /// Rank.
    pub rank: u16,
    /// Trust.
    pub trust: u16,
    /// Consensus.
    pub consensus: u16,
    /// Incentive (miner share).
    pub incentive: u16,
    /// Dividends (validator share).
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
    /// Its served endpoint (the ledger's `Endpoint` serde form), if any.
    #[schema(value_type = Option<Object>)]
    pub endpoint: Option<Endpoint>,
}

impl From<NeuronView> for Neuron {
    fn from(n: NeuronView) -> Self {
        Self {
            uid: n.uid,
            hotkey: n.hotkey,
            coldkey: n.coldkey,
            stake: n.stake,
            rank: n.rank,
            trust: n.trust,
            consensus: n.consensus,
            incentive: n.incentive,
            dividends: n.dividends,
            emission: n.emission,
            validator_trust: n.validator_trust,
            validator_permit: n.validator_permit,
            last_update: n.last_update,
            registered_at: n.registered_at,
            endpoint: n.endpoint,
        }
    }
}

/// `GET /v1/subnets/{netuid}/metagraph`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Metagraph {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The subnet.
    pub netuid: Netuid,
    /// Every UID, in order.
    pub neurons: Vec<Neuron>,
}

impl Metagraph {
    /// The wire form of a ledger metagraph at `height`.
    pub fn from_view(height: u64, m: LedgerMetagraph) -> Self {
        Self {
            height,
            netuid: m.netuid,
            neurons: m.neurons.into_iter().map(Neuron::from).collect(),
        }
    }

    /// The UID `hotkey` holds, if registered.
    pub fn uid_of(&self, hotkey: &AccountId) -> Option<Uid> {
        self.neurons
            .iter()
            .find(|n| n.hotkey == *hotkey)
            .map(|n| n.uid)
    }
}

impl Subnets {
    /// The newest subnet `owner` created under `name`.
    pub fn newest(&self, owner: &AccountId, name: &str) -> Option<Netuid> {
        let mine = self
            .subnets
            .iter()
            .filter(|s| s.owner == *owner && s.name == name);
        mine.map(|s| s.netuid).max()
    }
}

/// One entry of a sparse weights or bonds row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RowEntry {
    /// The target UID.
    pub uid: Uid,
    /// The stored value (weights max-upscaled to 65535).
    pub value: u16,
}

/// A weights commit waiting for its reveal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PendingCommit {
    /// The committed hash.
    #[schema(value_type = String)]
    pub hash: Hash,
    /// Block of the commit.
    pub block: u64,
    /// Epoch of the commit; the reveal must come in `epoch + 1`.
    pub epoch: u64,
}

/// `GET /v1/subnets/{netuid}/weights/{uid}`: a UID's stored weights and bonds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Weights {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The subnet.
    pub netuid: Netuid,
    /// The UID whose rows these are.
    pub uid: Uid,
    /// Its weights row.
    pub weights: Vec<RowEntry>,
    /// Its bonds row.
    pub bonds: Vec<RowEntry>,
    /// Its weights commit waiting for a reveal, if any.
    pub pending_commit: Option<PendingCommit>,
}

/// `GET /v1/supply`: supply accounting (`total_issuance = genesis + emitted − burned`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Supply {
    /// The committed height this answer reflects.
    pub height: u64,
    /// Allocated at genesis.
    pub genesis: Amount,
    /// Emitted since.
    pub emitted: Amount,
    /// Burned since.
    pub burned: Amount,
    /// In existence.
    pub total_issuance: Amount,
    /// Of which staked.
    pub total_stake: Amount,
    /// Of which escrowed by open data tasks.
    #[serde(default)]
    pub data_escrow: Amount,
    /// Of which escrowed in credit issuers' keys.
    #[serde(default)]
    pub credit_escrow: Amount,
    /// The hard cap on issuance.
    pub cap: Amount,
}

impl Supply {
    /// The wire form of the ledger's supply view at `height`.
    pub fn from_view(height: u64, s: &SupplyView) -> Self {
        Self {
            height,
            genesis: s.genesis,
            emitted: s.emitted,
            burned: s.burned,
            total_issuance: s.total_issuance,
            total_stake: s.total_stake,
            data_escrow: s.data_escrow,
            credit_escrow: s.credit_escrow,
            cap: plexus_types::SUPPLY_CAP,
        }
    }
}

/// A consensus validator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Validator {
    /// Its consensus public key.
    #[schema(value_type = String)]
    pub public_key: AccountId,
}

impl From<GenesisValidator> for Validator {
    fn from(v: GenesisValidator) -> Self {
        Self {
            public_key: v.public_key,
        }
    }
}

/// `GET /v1/chain`: the chain id, its parameters and its validators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Chain {
    /// The chain id every transaction must carry.
    pub chain_id: u64,
    /// Digest of the genesis block.
    #[schema(value_type = String)]
    pub genesis_digest: Hash,
    /// Chain parameters (the ledger's `ChainParams` serde form).
    #[schema(value_type = Object)]
    pub params: ChainParams,
    /// The genesis validator set.
    pub validators: Vec<Validator>,
}

impl Chain {
    /// The wire form of the chain configuration.
    pub fn new(genesis_digest: Hash, config: ChainConfig, validators: Vec<Validator>) -> Self {
        Self {
            chain_id: config.chain_id,
            genesis_digest,
            params: config.params,
            validators,
        }
    }
}

/// `GET /v1/subnets/{netuid}/history`: the results of past epochs, newest first,
/// read from the versioned state at each epoch's block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubnetHistory {
    /// The subnet.
    pub netuid: Netuid,
    /// The oldest height this node keeps (0 on an archive node): epochs before it
    /// are not served here.
    pub oldest_height: u64,
    /// Past epochs, newest first.
    pub epochs: Vec<EpochResult>,
}

/// One epoch's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EpochResult {
    /// The epoch's index on the subnet.
    pub epoch: u64,
    /// The block it ran in.
    pub height: u64,
    /// Emission it paid, in base units.
    pub emission: Amount,
    /// Every UID's scores after it.
    pub neurons: Vec<EpochNeuron>,
}

/// A UID's scores after one epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EpochNeuron {
    /// The UID.
    pub uid: Uid,
    /// Its hotkey then.
    #[schema(value_type = String)]
    pub hotkey: AccountId,
    /// Incentive (u16 proportion).
    pub incentive: u16,
    /// Dividends (u16 proportion).
    pub dividends: u16,
    /// Trust (u16 proportion).
    pub trust: u16,
    /// Validator trust (u16 proportion).
    pub validator_trust: u16,
    /// Base units it earned in the epoch.
    pub emission: Amount,
}

impl From<&NeuronView> for EpochNeuron {
    fn from(n: &NeuronView) -> Self {
        Self {
            uid: n.uid,
            hotkey: n.hotkey,
            incentive: n.incentive,
            dividends: n.dividends,
            trust: n.trust,
            validator_trust: n.validator_trust,
            emission: n.emission,
        }
    }
}
