//! The JSON shapes of every request and response, shared by the server and
//! `plexus-client` so both ends agree.
//!
//! Conventions: amounts are integers in base units (1 PLX = 10^9), accounts are
//! bech32m `plx1…` strings, hashes and byte strings are lower-case hex. Every answer
//! read from the state names the committed `height` it reflects. Domain types the
//! ledger already defines (hyperparameters, endpoints, transactions, events) appear
//! in their own serde form and are documented as objects.
//!
//! One module per route group, as in the server's `routes`; every shape is
//! re-exported here, so `plexus_api::wire::X` names it whatever its group. The
//! answers people read (subnets, metagraphs, stakes, issuers, data tasks) display as
//! the `plexus` binary prints them.

mod blocks;
mod chain;
mod credits;
mod data;
mod node;
mod proofs;
mod state;
mod text;
mod transactions;

pub use blocks::{
    BlockPage, BlockSummary, BlockView, FinalizationView, Header, RawFinalization, TxSummary,
};
pub use chain::{
    Account, Chain, EpochNeuron, EpochResult, Hotkey, Metagraph, Neuron, OwnedHotkeys,
    PendingCommit, Registration, RowEntry, Stake, Stakes, Subnet, SubnetAt, SubnetHistory, Subnets,
    Supply, Validator, Weights,
};
pub use credits::{
    Deposit, DepositAt, Deposits, IssuerAt, IssuerInfo, IssuerKeyInfo, Issuers, NonceStatus,
    Settlement,
};
pub use data::{
    DataContribution, DataPublication, DataReport, DataReports, DataTask, DataTaskAt, DataTasks,
};
pub use node::{BlockEvent, LaggedEvent, NodeStatus, Status, Tip};
pub use proofs::{Proof, ProofResponse};
pub use state::StateChunk;
pub use transactions::{SubmitRequest, SubmitResponse, TransactionView, TxStatus};

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

/// Why a wire value does not convert back to its domain type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A hex field is not hex.
    #[error("field {0} is not valid hex")]
    BadHex(&'static str),
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
    use plexus_storage::StateProof;
    use plexus_types::{AccountId, BlockHeader, Hash};

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
