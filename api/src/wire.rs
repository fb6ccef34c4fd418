//! The JSON shapes of every request and response, shared by the server and
//! `plexus-client` so both ends agree.
//!
//! Conventions: amounts are integers in base units (1 PLX = 10^9), accounts are
//! bech32m `plx1…` strings, hashes and byte strings are lower-case hex. Every answer
//! read from the state names the committed `height` it reflects. Domain types the
//! ledger already defines (hyperparameters, endpoints, transactions, events) appear
//! in their own serde form and are documented as objects.

use plexus_ledger::{
    Event,
    genesis::GenesisValidator,
    params::{ChainConfig, ChainParams},
    query::{
        AccountView, ContributionView, DataTaskView, HotkeyView, Metagraph as LedgerMetagraph,
        NeuronView, StakeEntry, SubnetView, SupplyView,
    },
};
use plexus_storage::StateProof;
use plexus_types::{
    AccountId, Amount, Block, BlockHeader, Endpoint, Hash, Hyperparams, Mechanism, Netuid,
    Signature, SignedTransaction, Uid, finality::FinalityCertificate,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// A machine-readable code and a message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable `snake_case` code, e.g. `stale_nonce` (the ledger's codes pass through).
    #[schema(example = "stale_nonce")]
    pub code: String,
    /// A human message; on 5xx answers it never carries internal details.
    #[schema(example = "nonce 5 is stale: the account's next nonce is 7")]
    pub message: String,
}

/// `POST /v1/transactions`: a signed transaction in its canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// Hex of the canonical encoding of a `SignedTransaction` (at most 64 KiB decoded).
    pub tx: String,
}

impl SubmitRequest {
    /// The request for `tx`.
    pub fn new(tx: &SignedTransaction) -> Self {
        use plexus_types::Encode as _;
        Self {
            tx: hex(&tx.encode()),
        }
    }
}

/// A transaction the node accepted into its mempool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitResponse {
    /// The transaction id (blake3 of the signed encoding).
    #[schema(value_type = String)]
    pub hash: Hash,
}

/// Where a transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TxStatus {
    /// Accepted by this node's mempool recently and not yet in a finalized block
    /// (it may still be dropped, e.g. if a competing transaction takes its nonce).
    Pending,
    /// In a finalized block.
    Finalized,
}

/// `GET /v1/transactions/{hash}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransactionView {
    /// The transaction id.
    #[schema(value_type = String)]
    pub hash: Hash,
    /// Pending or finalized.
    pub status: TxStatus,
    /// Height of the block holding it, once finalized.
    pub height: Option<u64>,
    /// Its position in that block, once finalized.
    pub index: Option<u32>,
    /// The transaction (serde form), once finalized.
    #[schema(value_type = Option<Object>)]
    pub transaction: Option<SignedTransaction>,
    /// Hex of its canonical encoding (hash it with blake3 to check `hash`), once finalized.
    pub encoded: Option<String>,
}

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

/// One contribution to a data task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DataContribution {
    /// The contributor's hotkey.
    #[schema(value_type = String)]
    pub hotkey: AccountId,
    /// Its UID on the task's subnet, if it is still registered.
    pub uid: Option<Uid>,
    /// The commitment, hex.
    #[schema(value_type = String)]
    pub commitment: Hash,
    /// Block of the commit.
    pub committed_at: u64,
    /// The revealed content hash: the submission's address in the dataset store.
    #[schema(value_type = Option<String>)]
    pub content_hash: Option<Hash>,
    /// The revealed salt, hex.
    #[schema(value_type = Option<String>)]
    pub salt: Option<Hash>,
    /// Rows revealed.
    pub rows: Option<u64>,
    /// Block of the reveal.
    pub revealed_at: Option<u64>,
}

impl From<ContributionView> for DataContribution {
    fn from(c: ContributionView) -> Self {
        Self {
            hotkey: c.hotkey,
            uid: c.uid,
            commitment: c.commitment,
            committed_at: c.committed_at,
            content_hash: c.content_hash,
            salt: c.salt,
            rows: c.rows,
            revealed_at: c.revealed_at,
        }
    }
}

/// A published dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DataPublication {
    /// RFC 6962 blake3 Merkle root over the accepted rows' keys, hex.
    #[schema(value_type = String)]
    pub merkle_root: Hash,
    /// Rows in the dataset.
    pub rows: u64,
    /// The validator hotkey that published it.
    #[schema(value_type = String)]
    pub validator: AccountId,
    /// Block of publication.
    pub block: u64,
}

/// A data task: schema, reference commitment, bounty, deadlines, and (in
/// `GET /v1/data/tasks/{id}`) its contributions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DataTask {
    /// Its id.
    pub id: u64,
    /// The data subnet.
    pub netuid: Netuid,
    /// The coldkey that posted it.
    #[schema(value_type = String)]
    pub creator: AccountId,
    /// blake3 of the schema (SDV metadata JSON bytes), hex.
    #[schema(value_type = String)]
    pub schema_hash: Hash,
    /// blake3 of the reference data, hex.
    #[schema(value_type = String)]
    pub reference_commitment: Hash,
    /// The bounty posted, in base units.
    pub bounty: Amount,
    /// Still in escrow.
    pub escrow: Amount,
    /// Last block for commits.
    pub commit_deadline: u64,
    /// Last block for reveals.
    pub reveal_deadline: u64,
    /// Fewest rows per submission.
    pub min_rows: u64,
    /// Most rows per submission.
    pub max_rows: u64,
    /// Block of creation.
    pub created_at: u64,
    /// Contributors that committed.
    pub commits: u32,
    /// Contributors that revealed.
    pub reveals: u32,
    /// Σ rows revealed.
    pub revealed_rows: u64,
    /// `commit`, `reveal`, `scoring` or `published`, for a block after the answer's height.
    pub phase: String,
    /// The published dataset, once there is one.
    pub published: Option<DataPublication>,
    /// Contributions in commit order (empty in lists).
    #[serde(default)]
    pub contributions: Vec<DataContribution>,
}

impl From<DataTaskView> for DataTask {
    fn from(v: DataTaskView) -> Self {
        let t = v.task;
        Self {
            id: t.id,
            netuid: t.netuid,
            creator: t.creator,
            schema_hash: t.schema_hash,
            reference_commitment: t.reference_commitment,
            bounty: t.bounty,
            escrow: t.escrow,
            commit_deadline: t.commit_deadline,
            reveal_deadline: t.reveal_deadline,
            min_rows: t.min_rows,
            max_rows: t.max_rows,
            created_at: t.created_at,
            commits: t.commits,
            reveals: t.reveals,
            revealed_rows: t.revealed_rows,
            phase: v.phase,
            published: t.published.map(|p| DataPublication {
                merkle_root: p.merkle_root,
                rows: p.rows,
                validator: p.validator,
                block: p.block,
            }),
            contributions: v.contributions.into_iter().map(Into::into).collect(),
        }
    }
}

/// `GET /v1/data/tasks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DataTasks {
    /// The committed height this answer reflects.
    pub height: u64,
    /// Tasks, newest first.
    pub tasks: Vec<DataTask>,
}

/// `GET /v1/data/tasks/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DataTaskAt {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The task with its contributions.
    pub task: DataTask,
}

/// `GET /v1/blocks/{id}/finalization`: a block's header digest and the certificate
/// that finalized it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FinalizationView {
    /// The block's height.
    pub height: u64,
    /// Its header digest, hex.
    #[schema(value_type = String)]
    pub digest: Hash,
    /// The certificate in parts (`plexus_types::finality::FinalityCertificate`):
    /// `epoch`, `view`, `parent_view`, `payload` (the header digest signed, hex),
    /// `signers` (indices into the validator set sorted by public key bytes,
    /// ascending) and `signatures` (one ed25519 signature per signer, hex, in the same
    /// order). `plexus_types::finality` gives the exact bytes signed.
    #[schema(value_type = Object)]
    pub certificate: FinalityCertificate,
}

/// One validator's signed score report for a data task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DataReport {
    /// The validator hotkey that scored the task and signed the report.
    #[schema(value_type = String)]
    pub validator: AccountId,
    /// Its UID on the task's subnet.
    pub uid: Uid,
    /// The report (JSON text, exactly as signed): every submission's gates, fidelity,
    /// utility, privacy and score, the weights set and the dataset published.
    pub report: String,
    /// ed25519 by `validator` over `plexus/data-report/v1` ‖ task id (u64 big-endian)
    /// ‖ `report`, hex.
    #[schema(value_type = String)]
    pub signature: Signature,
}

/// `GET /v1/data/tasks/{id}/reports`: the reports of validators registered on the
/// task's subnet whose signatures verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DataReports {
    /// The committed height the registrations were read at.
    pub height: u64,
    /// The task.
    pub task: u64,
    /// Reports, by validator address.
    pub reports: Vec<DataReport>,
}

/// A consensus validator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Validator {
    /// Its consensus public key.
    #[schema(value_type = String)]
    pub public_key: AccountId,
    /// Its p2p socket address.
    pub address: String,
}

impl From<GenesisValidator> for Validator {
    fn from(v: GenesisValidator) -> Self {
        Self {
            public_key: v.public_key,
            address: v.address,
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

/// A block header, field for field (convert to `BlockHeader` to compute its digest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Header {
    /// The chain this block belongs to.
    pub chain_id: u64,
    /// Height; genesis is 0.
    pub height: u64,
    /// Digest of the parent block.
    #[schema(value_type = String)]
    pub parent: Hash,
    /// Proposer's timestamp in milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// The validator that proposed the block.
    #[schema(value_type = String)]
    pub proposer: AccountId,
    /// Merkle root over the transaction ids.
    #[schema(value_type = String)]
    pub tx_root: Hash,
    /// Root of the state after this block: proofs at this height verify against it.
    #[schema(value_type = String)]
    pub state_root: Hash,
    /// Consensus context, hex.
    pub consensus: String,
}

impl From<&BlockHeader> for Header {
    fn from(h: &BlockHeader) -> Self {
        Self {
            chain_id: h.chain_id,
            height: h.height,
            parent: h.parent,
            timestamp_ms: h.timestamp_ms,
            proposer: h.proposer,
            tx_root: h.tx_root,
            state_root: h.state_root,
            consensus: hex(&h.consensus),
        }
    }
}

impl TryFrom<&Header> for BlockHeader {
    type Error = WireError;

    fn try_from(h: &Header) -> Result<Self, WireError> {
        Ok(Self {
            chain_id: h.chain_id,
            height: h.height,
            parent: h.parent,
            timestamp_ms: h.timestamp_ms,
            proposer: h.proposer,
            tx_root: h.tx_root,
            state_root: h.state_root,
            consensus: hex_decode(&h.consensus).ok_or(WireError::BadHex("consensus"))?,
        })
    }
}

/// Why a wire value does not convert back to its domain type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A hex field is not hex.
    #[error("field {0} is not valid hex")]
    BadHex(&'static str),
}

/// A transaction inside a block, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxSummary {
    /// The transaction id.
    #[schema(value_type = String)]
    pub hash: Hash,
    /// The signer.
    #[schema(value_type = String)]
    pub sender: AccountId,
    /// Its nonce.
    pub nonce: u64,
    /// Fee burned.
    pub fee: Amount,
    /// Payload kind, e.g. `transfer`.
    pub kind: String,
}

impl From<&SignedTransaction> for TxSummary {
    fn from(tx: &SignedTransaction) -> Self {
        Self {
            hash: tx.hash(),
            sender: tx.tx.sender,
            nonce: tx.tx.nonce,
            fee: tx.tx.fee,
            kind: tx.tx.payload.kind().to_string(),
        }
    }
}

/// `GET /v1/blocks/{id}`: a finalized block with its transactions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockView {
    /// Its height.
    pub height: u64,
    /// Its digest.
    #[schema(value_type = String)]
    pub digest: Hash,
    /// Its header.
    pub header: Header,
    /// Its transactions in order, summarised.
    pub transactions: Vec<TxSummary>,
    /// Its transactions in order (the ledger's `SignedTransaction` serde form).
    #[schema(value_type = Vec<Object>)]
    pub bodies: Vec<SignedTransaction>,
}

impl From<&Block> for BlockView {
    fn from(b: &Block) -> Self {
        Self {
            height: b.header.height,
            digest: b.digest(),
            header: Header::from(&b.header),
            transactions: b.txs.iter().map(TxSummary::from).collect(),
            bodies: b.txs.clone(),
        }
    }
}

/// A finalized block, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockSummary {
    /// Its height.
    pub height: u64,
    /// Its digest.
    #[schema(value_type = String)]
    pub digest: Hash,
    /// Its header.
    pub header: Header,
    /// How many transactions it holds.
    pub tx_count: usize,
}

impl From<&Block> for BlockSummary {
    fn from(b: &Block) -> Self {
        Self {
            height: b.header.height,
            digest: b.digest(),
            header: Header::from(&b.header),
            tx_count: b.txs.len(),
        }
    }
}

/// `GET /v1/blocks?from=&limit=`: a page of blocks, lowest height first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockPage {
    /// The blocks.
    pub blocks: Vec<BlockSummary>,
    /// The `from` of the next page, if more blocks are committed.
    pub next: Option<u64>,
}

/// What a node reports about its progress (`GET /v1/status`, and what a backend returns).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct NodeStatus {
    /// Height of the last committed block.
    pub finalized_height: u64,
    /// Consensus view of the latest finalization seen.
    pub view: u64,
    /// Highest finalized height consensus knows of (ahead of `finalized_height`
    /// while catching up).
    pub tip_height: u64,
    /// Other validators this node connects to.
    pub peers: usize,
    /// Validators in the current set.
    pub validators: usize,
    /// Transactions waiting in the mempool.
    pub mempool_size: usize,
    /// Why the node stopped following the chain, if it did.
    pub halted: Option<String>,
}

/// The committed tip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tip {
    /// The last committed height.
    pub height: u64,
    /// That block's digest.
    #[schema(value_type = String)]
    pub digest: Hash,
    /// The state root after it.
    #[schema(value_type = String)]
    pub state_root: Hash,
}

/// `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Status {
    /// The node's progress.
    pub node: NodeStatus,
    /// The committed tip of the store the API reads, if genesis is committed.
    pub tip: Option<Tip>,
    /// The API crate's version.
    pub version: String,
}

/// A state proof, field for field (convert to `plexus_storage::StateProof` to verify).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Proof {
    /// The committed height the proof is taken at.
    pub height: u64,
    /// The state root it proves against (the header's `state_root`).
    #[schema(value_type = String)]
    pub root: Hash,
    /// The state key, hex.
    pub key: String,
    /// The value under the key, hex, or `null` for an exclusion proof.
    pub value: Option<String>,
    /// The borsh-encoded `jmt` sparse Merkle proof, hex.
    pub proof: String,
}

impl From<&StateProof> for Proof {
    fn from(p: &StateProof) -> Self {
        Self {
            height: p.height,
            root: p.root,
            key: hex(&p.key),
            value: p.value.as_deref().map(hex),
            proof: hex(&p.proof),
        }
    }
}

impl TryFrom<&Proof> for StateProof {
    type Error = WireError;

    fn try_from(p: &Proof) -> Result<Self, WireError> {
        Ok(Self {
            height: p.height,
            root: p.root,
            key: hex_decode(&p.key).ok_or(WireError::BadHex("key"))?,
            value: p
                .value
                .as_deref()
                .map(|v| hex_decode(v).ok_or(WireError::BadHex("value")))
                .transpose()?,
            proof: hex_decode(&p.proof).ok_or(WireError::BadHex("proof"))?,
        })
    }
}

/// `GET /v1/proofs/...`: a state proof and the header of the block it was taken at,
/// so a client checks `proof.root == header.state_root` and then the proof itself.
/// The header must in turn be checked against a finality certificate for full
/// light-client security (not yet served).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProofResponse {
    /// The proof.
    pub proof: Proof,
    /// The header of the block at `proof.height`.
    pub header: Header,
}

/// `event: block` of `GET /v1/events`: a finalized block and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockEvent {
    /// Its height.
    pub height: u64,
    /// Its digest.
    #[schema(value_type = String)]
    pub digest: Hash,
    /// Its header.
    pub header: Header,
    /// Its transaction ids, in order.
    #[schema(value_type = Vec<String>)]
    pub tx_hashes: Vec<Hash>,
    /// What executing it did, in order (the ledger's `Event` serde form, tagged by `type`).
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Event>,
}

/// `event: lagged` of `GET /v1/events`: the subscriber fell behind and missed blocks;
/// read them with `GET /v1/blocks`. The stream continues with later blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LaggedEvent {
    /// How many blocks were skipped.
    pub missed: u64,
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Decode hex (either case), or `None`.
pub(crate) fn hex_decode(text: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_odd_or_foreign_characters() {
        let bytes = vec![0x00, 0xab, 0xff, 0x10];
        assert_eq!(hex(&bytes), "00abff10");
        assert_eq!(hex_decode("00ABff10"), Some(bytes));
        assert_eq!(hex_decode("abc"), None);
        assert_eq!(hex_decode("zz"), None);
        assert_eq!(hex_decode(""), Some(Vec::new()));
    }

    #[test]
    fn headers_and_proofs_convert_back_losslessly() {
        let header = BlockHeader {
            chain_id: 7,
            height: 3,
            parent: Hash([1; 32]),
            timestamp_ms: 99,
            proposer: AccountId([2; 32]),
            tx_root: Hash([3; 32]),
            state_root: Hash([4; 32]),
            consensus: vec![5, 6],
        };
        let wire = Header::from(&header);
        assert_eq!(BlockHeader::try_from(&wire), Ok(header));
        let proof = StateProof {
            height: 3,
            root: Hash([4; 32]),
            key: vec![1, 2],
            value: None,
            proof: vec![9; 10],
        };
        assert_eq!(StateProof::try_from(&Proof::from(&proof)), Ok(proof));
    }
}

/// One credit issuer key with its escrow accounting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssuerKeyInfo {
    /// sha256 of the SPKI (the RFC 9578 token key id), hex.
    #[schema(value_type = String)]
    pub key_id: Hash,
    /// Credits one token is worth.
    pub denomination: u32,
    /// The issuer's key epoch.
    pub key_epoch: u32,
    /// The RSASSA-PSS SPKI (RFC 9578 `token-key`), hex.
    #[serde(with = "plexus_types::hex_bytes")]
    #[schema(value_type = String)]
    pub spki: Vec<u8>,
    /// Block of registration.
    pub registered_at: u64,
    /// Σ base units deposited.
    pub deposited: Amount,
    /// Σ base units paid out of escrow.
    pub settled: Amount,
    /// Σ base units taken from the issuer's stake.
    pub slashed: Amount,
    /// Still in escrow.
    pub escrow: Amount,
    /// Tokens settled.
    pub tokens_settled: u64,
}

impl From<plexus_ledger::credits::IssuerKey> for IssuerKeyInfo {
    fn from(k: plexus_ledger::credits::IssuerKey) -> Self {
        Self {
            key_id: k.key_id,
            denomination: k.denomination,
            key_epoch: k.key_epoch,
            escrow: k.escrow(),
            spki: k.spki,
            registered_at: k.registered_at,
            deposited: k.deposited,
            settled: k.settled,
            slashed: k.slashed,
            tokens_settled: k.tokens_settled,
        }
    }
}

/// A credit issuer: its issuance gateway and keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssuerInfo {
    /// The issuer hotkey.
    #[schema(value_type = String)]
    pub hotkey: AccountId,
    /// The subnet of its validator permit at registration.
    pub netuid: Netuid,
    /// Base URL of its issuance gateway (reach it through a relay).
    pub url: String,
    /// Its gateway's OHTTP key configurations (`application/ohttp-keys`), hex.
    #[serde(with = "plexus_types::hex_bytes")]
    #[schema(value_type = String)]
    pub ohttp_keys: Vec<u8>,
    /// Block of its last registration.
    pub updated_at: u64,
    /// Its keys, in registration order.
    pub keys: Vec<IssuerKeyInfo>,
}

impl From<plexus_ledger::query::IssuerView> for IssuerInfo {
    fn from(v: plexus_ledger::query::IssuerView) -> Self {
        Self {
            hotkey: v.issuer.hotkey,
            netuid: v.issuer.netuid,
            url: v.issuer.url,
            ohttp_keys: v.issuer.ohttp_keys,
            updated_at: v.issuer.updated_at,
            keys: v.keys.into_iter().map(Into::into).collect(),
        }
    }
}

/// `GET /v1/credits/issuers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Issuers {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The chain's credit price: base units per credit.
    pub credit_price: Amount,
    /// Every issuer, in hotkey order.
    pub issuers: Vec<IssuerInfo>,
}

/// `GET /v1/credits/issuers/{hotkey}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssuerAt {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The issuer.
    pub issuer: IssuerInfo,
}

/// A purchase of credits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Deposit {
    /// Its id.
    pub id: u64,
    /// The buying coldkey.
    #[schema(value_type = String)]
    pub buyer: AccountId,
    /// The issuer hotkey.
    #[schema(value_type = String)]
    pub issuer: AccountId,
    /// The issuer key id, hex.
    #[schema(value_type = String)]
    pub key_id: Hash,
    /// Credits bought.
    pub credits: u32,
    /// Tokens the issuer signs for it.
    pub tokens: u32,
    /// Base units escrowed.
    pub amount: Amount,
    /// Block of the purchase.
    pub block: u64,
}

impl From<plexus_ledger::credits::Deposit> for Deposit {
    fn from(d: plexus_ledger::credits::Deposit) -> Self {
        Self {
            id: d.id,
            buyer: d.buyer,
            issuer: d.issuer,
            key_id: d.key_id,
            credits: d.credits,
            tokens: d.tokens,
            amount: d.amount,
            block: d.block,
        }
    }
}

/// `GET /v1/credits/deposits/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DepositAt {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The deposit.
    pub deposit: Deposit,
}

/// A settled token nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Settlement {
    /// The provider paid.
    #[schema(value_type = String)]
    pub provider: AccountId,
    /// The key the token was signed with, hex.
    #[schema(value_type = String)]
    pub key_id: Hash,
    /// Block of settlement.
    pub block: u64,
}

/// `GET /v1/credits/nonces/{nonce}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NonceStatus {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The token nonce, hex.
    #[schema(value_type = String)]
    pub nonce: Hash,
    /// The settlement, if the nonce was settled.
    pub settled: Option<Settlement>,
}

/// `GET /v1/credits/deposits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Deposits {
    /// The committed height this answer reflects.
    pub height: u64,
    /// Deposits, newest first.
    pub deposits: Vec<Deposit>,
}
