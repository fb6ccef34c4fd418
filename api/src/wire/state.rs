//! State sync's wire form.

use plexus_types::Hash;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /v1/state/chunks`: the next leaves of the state tree at a height, in
/// sha256(key) order, with jmt's range proof for the last one. A syncing node checks
/// every chunk against the state root of a header whose finality certificate it
/// verified (`plexus_storage::Restore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StateChunk {
    /// The height (tree version) of the chunk.
    pub height: u64,
    /// The state root at that height, hex.
    #[schema(value_type = String)]
    pub root: Hash,
    /// `[key, value]` pairs, hex, in increasing sha256(key) order.
    pub entries: Vec<[String; 2]>,
    /// borsh of `jmt::proof::SparseMerkleRangeProof<Sha256>` for the last entry, hex
    /// (empty when there is no entry).
    pub proof: String,
    /// Whether no leaf follows this chunk's last.
    pub done: bool,
}
