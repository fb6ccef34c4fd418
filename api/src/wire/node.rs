//! `/v1/status` and `/v1/events`: the node's progress and the block stream.

use plexus_ledger::Event;
use plexus_types::Hash;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::blocks::Header;

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
