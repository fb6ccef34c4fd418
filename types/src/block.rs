//! Blocks: a header that commits to the parent, the transactions and the post-state root.

use serde::{Deserialize, Serialize};

use crate::{
    AccountId, Hash,
    codec::{CodecError, Decode, Encode, Reader, WriteExt},
    tx::{MAX_TX_BYTES, SignedTransaction},
};

/// Most transactions in one block.
pub const MAX_BLOCK_TXS: usize = 20_000;
/// Largest encoded block accepted anywhere.
pub const MAX_BLOCK_BYTES: usize = 8 * 1024 * 1024;
/// Largest opaque consensus context carried in a header.
pub const MAX_CONSENSUS_CONTEXT: usize = 512;

/// A block header. Its hash is the block's digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    /// The chain this block belongs to.
    pub chain_id: u64,
    /// Height; genesis is 0.
    pub height: u64,
    /// Digest of the parent block.
    pub parent: Hash,
    /// Proposer's timestamp in milliseconds since the Unix epoch; strictly increasing.
    pub timestamp_ms: u64,
    /// The validator that proposed the block.
    pub proposer: AccountId,
    /// Merkle root over the transaction ids, in order.
    pub tx_root: Hash,
    /// Root of the state after applying this block.
    pub state_root: Hash,
    /// Consensus context (round, leader, parent round), encoded by the node.
    #[serde(with = "crate::hex_bytes")]
    pub consensus: Vec<u8>,
}

impl BlockHeader {
    /// The block digest: blake3 over a domain separator and the header encoding.
    pub fn digest(&self) -> Hash {
        let mut buf = b"plexus/block/v1".to_vec();
        self.encode_to(&mut buf);
        Hash(*blake3::hash(&buf).as_bytes())
    }
}

impl Encode for BlockHeader {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.put_u64(self.chain_id);
        out.put_u64(self.height);
        self.parent.encode_to(out);
        out.put_u64(self.timestamp_ms);
        self.proposer.encode_to(out);
        self.tx_root.encode_to(out);
        self.state_root.encode_to(out);
        out.put_bytes(&self.consensus);
    }
}

impl Decode for BlockHeader {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            chain_id: r.u64("chain id")?,
            height: r.u64("height")?,
            parent: Hash::decode_from(r)?,
            timestamp_ms: r.u64("timestamp")?,
            proposer: AccountId::decode_from(r)?,
            tx_root: Hash::decode_from(r)?,
            state_root: Hash::decode_from(r)?,
            consensus: r.bytes(MAX_CONSENSUS_CONTEXT, "consensus context")?,
        })
    }
}

/// A block: header and transactions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// Transactions in execution order.
    pub txs: Vec<SignedTransaction>,
}

impl Block {
    /// The block digest (the header's).
    pub fn digest(&self) -> Hash {
        self.header.digest()
    }

    /// Whether `header.tx_root` matches the transactions.
    pub fn tx_root_matches(&self) -> bool {
        tx_root(&self.txs) == self.header.tx_root
    }

    /// Decode untrusted bytes, refusing anything above [`MAX_BLOCK_BYTES`].
    pub fn decode_bounded(bytes: &[u8]) -> Result<Self, CodecError> {
        if bytes.len() > MAX_BLOCK_BYTES {
            return Err(CodecError::TooLong {
                field: "block",
                len: bytes.len(),
                max: MAX_BLOCK_BYTES,
            });
        }
        Self::decode(bytes)
    }
}

impl Encode for Block {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        out.put_len(self.txs.len());
        for tx in &self.txs {
            // Each transaction is length-prefixed so a decoder can bound it before parsing:
            // reserve the prefix, encode in place, then fill the prefix in.
            let at = out.len();
            out.put_u32(0);
            tx.encode_to(out);
            let len = u32::try_from(out.len() - at - 4).unwrap_or(u32::MAX);
            out[at..at + 4].copy_from_slice(&len.to_le_bytes());
        }
    }
}

impl Decode for Block {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let header = BlockHeader::decode_from(r)?;
        let txs = r.list(MAX_BLOCK_TXS, "transactions", |r| {
            let bytes = r.bytes(MAX_TX_BYTES, "transaction")?;
            SignedTransaction::decode(&bytes)
        })?;
        Ok(Self { header, txs })
    }
}

/// The Merkle root over transaction ids (RFC 6962 shape with blake3: leaves are
/// `H(0x00 ‖ id)`, inner nodes `H(0x01 ‖ left ‖ right)`, the empty tree is `H()`).
pub fn tx_root(txs: &[SignedTransaction]) -> Hash {
    let leaves: Vec<Hash> = txs.iter().map(SignedTransaction::hash).collect();
    merkle_root(&leaves)
}

/// RFC 6962 Merkle tree hash over `leaves`, with blake3.
pub fn merkle_root(leaves: &[Hash]) -> Hash {
    fn leaf(h: &Hash) -> Hash {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&[0]);
        hasher.update(&h.0);
        Hash(*hasher.finalize().as_bytes())
    }
    fn node(items: &[Hash]) -> Hash {
        if items.len() == 1 {
            return leaf(&items[0]);
        }
        // Split at the largest power of two strictly below the length.
        let split = items.len().next_power_of_two() / 2;
        let (l, r) = items.split_at(split);
        let mut hasher = blake3::Hasher::new();
        hasher.update(&[1]);
        hasher.update(&node(l).0);
        hasher.update(&node(r).0);
        Hash(*hasher.finalize().as_bytes())
    }
    if leaves.is_empty() {
        return Hash(*blake3::hash(&[]).as_bytes());
    }
    node(leaves)
}
