//! The consensus view of a block: a [`plexus_types::Block`] whose header embeds the
//! simplex context it was proposed in.

use std::sync::Arc;

use bytes::BufMut;
use commonware_codec::{
    DecodeExt as _, EncodeSize, Error as CodecError, MaxEncodeSize, Read, ReadExt, Write,
    varint::UInt,
};
use commonware_consensus::{
    BoundedBlock, CertifiableBlock, Heightable,
    types::{Epoch, Height, Round, View},
};
use commonware_cryptography::{Digestible, blake3, ed25519};
use plexus_types::{
    Block, Hash,
    block::{MAX_BLOCK_BYTES, MAX_CONSENSUS_CONTEXT},
};

use super::ConsensusContext;

/// Digest of a block as consensus sees it: the header's blake3 digest.
pub type Digest = blake3::Digest;

/// Convert our digest to consensus's.
pub fn to_digest(hash: Hash) -> Digest {
    blake3::Digest(hash.0)
}

/// Convert consensus's digest to ours.
pub fn from_digest(digest: &Digest) -> Hash {
    Hash(digest.0)
}

/// Why bytes or a block could not become a [`ConsensusBlock`].
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// The header's consensus bytes are not an encoded simplex context.
    #[error("header does not carry a valid consensus context: {0}")]
    Context(CodecError),
    /// The block encodes to more than [`MAX_BLOCK_BYTES`].
    #[error("block of {0} bytes exceeds the limit of {MAX_BLOCK_BYTES}")]
    TooLarge(usize),
    /// The block does not decode or exceeds its bounds.
    #[error("block does not decode: {0}")]
    Decode(#[from] plexus_types::CodecError),
}

/// A block as consensus handles it. Cloning is cheap (the block is shared).
///
/// The digest is always recomputed from the header (never taken from the wire), and
/// the header's `consensus` bytes carry the encoded [`ConsensusContext`], so the digest
/// commits to the context.
#[derive(Clone, Debug)]
pub struct ConsensusBlock {
    block: Arc<Block>,
    digest: Digest,
    context: ConsensusContext,
    encoded_len: usize,
}

impl PartialEq for ConsensusBlock {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest
    }
}

impl Eq for ConsensusBlock {}

impl ConsensusBlock {
    /// Wrap `block`, decoding the context its header carries.
    pub fn new(block: Block) -> Result<Self, BlockError> {
        let context = decode_context(&block.header.consensus)?;
        let digest = to_digest(block.digest());
        let encoded_len = plexus_types::Encode::encode(&block).len();
        if encoded_len > MAX_BLOCK_BYTES {
            return Err(BlockError::TooLarge(encoded_len));
        }
        Ok(Self {
            block: Arc::new(block),
            digest,
            context,
            encoded_len,
        })
    }

    /// The block.
    pub fn block(&self) -> &Block {
        &self.block
    }

    /// The shared block.
    pub fn shared(&self) -> Arc<Block> {
        Arc::clone(&self.block)
    }

    /// The digest in our representation.
    pub fn hash(&self) -> Hash {
        from_digest(&self.digest)
    }

    /// The block's height.
    pub fn number(&self) -> u64 {
        self.block.header.height
    }
}

/// Encode a simplex context for a header's `consensus` field.
pub fn encode_context(context: &ConsensusContext) -> Vec<u8> {
    commonware_codec::Encode::encode(context).to_vec()
}

/// Decode a header's `consensus` field.
pub fn decode_context(bytes: &[u8]) -> Result<ConsensusContext, BlockError> {
    if bytes.len() > MAX_CONSENSUS_CONTEXT {
        return Err(BlockError::Context(CodecError::InvalidLength(bytes.len())));
    }
    ConsensusContext::decode(bytes::Bytes::copy_from_slice(bytes)).map_err(BlockError::Context)
}

/// The context embedded in the genesis header: round zero, led by `leader`, with an
/// all-zero parent.
pub fn genesis_context(leader: ed25519::PublicKey) -> ConsensusContext {
    ConsensusContext {
        round: Round::new(Epoch::zero(), View::zero()),
        leader,
        parent: (View::zero(), to_digest(Hash::ZERO)),
    }
}

impl Write for ConsensusBlock {
    fn write(&self, buf: &mut impl BufMut) {
        // The length fits: blocks above MAX_BLOCK_BYTES never decode or get built.
        UInt(self.encoded_len as u32).write(buf);
        buf.put_slice(&plexus_types::Encode::encode(self.block.as_ref()));
    }
}

impl EncodeSize for ConsensusBlock {
    fn encode_size(&self) -> usize {
        UInt(self.encoded_len as u32).encode_size() + self.encoded_len
    }
}

impl Read for ConsensusBlock {
    type Cfg = ();

    fn read_cfg(buf: &mut impl commonware_codec::Buf, _: &()) -> Result<Self, CodecError> {
        let len = UInt::<u32>::read(buf)?.0 as usize;
        if len > MAX_BLOCK_BYTES {
            return Err(CodecError::InvalidLength(len));
        }
        commonware_codec::util::at_least(buf, len)?;
        let mut bytes = vec![0u8; len];
        buf.copy_to_slice(&mut bytes);
        let block = Block::decode_bounded(&bytes)
            .map_err(|e| CodecError::Wrapped("plexus block", Box::new(e)))?;
        Self::new(block).map_err(|e| CodecError::Wrapped("plexus block", Box::new(e)))
    }
}

impl Digestible for ConsensusBlock {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        self.digest
    }
}

impl Heightable for ConsensusBlock {
    fn height(&self) -> Height {
        Height::new(self.block.header.height)
    }
}

impl commonware_consensus::Block for ConsensusBlock {
    fn parent(&self) -> Digest {
        to_digest(self.block.header.parent)
    }
}

impl CertifiableBlock for ConsensusBlock {
    type Context = ConsensusContext;

    fn context(&self) -> ConsensusContext {
        self.context.clone()
    }
}

impl BoundedBlock for ConsensusBlock {
    fn max_encode_size(_: &()) -> usize {
        UInt::<u32>::MAX_ENCODE_SIZE + MAX_BLOCK_BYTES
    }
}

#[cfg(test)]
mod tests {
    use commonware_codec::{DecodeExt, Encode};
    use commonware_consensus::Viewable as _;
    use commonware_cryptography::Signer as _;
    use plexus_types::{AccountId, BlockHeader};

    use super::*;

    fn sample() -> Block {
        let leader = ed25519::PrivateKey::from_seed(1).public_key();
        let context = ConsensusContext {
            round: Round::new(Epoch::zero(), View::new(7)),
            leader,
            parent: (View::new(6), to_digest(Hash([3; 32]))),
        };
        Block {
            header: BlockHeader {
                chain_id: 1,
                height: 5,
                parent: Hash([3; 32]),
                timestamp_ms: 1_000,
                proposer: AccountId([9; 32]),
                tx_root: plexus_types::block::tx_root(&[]),
                state_root: Hash([4; 32]),
                consensus: encode_context(&context),
            },
            txs: vec![],
        }
    }

    #[test]
    fn a_block_round_trips_and_its_digest_is_the_header_digest() {
        let block = sample();
        let wrapped = ConsensusBlock::new(block.clone()).unwrap();
        assert_eq!(wrapped.hash(), block.digest());
        let bytes = wrapped.encode();
        assert_eq!(bytes.len(), wrapped.encode_size());
        let decoded = ConsensusBlock::decode(bytes).unwrap();
        assert_eq!(decoded.block(), &block);
        assert_eq!(decoded.digest(), wrapped.digest());
        assert_eq!(decoded.context(), wrapped.context());
        assert_eq!(decoded.context().view(), View::new(7));
    }

    #[test]
    fn changing_the_embedded_context_changes_the_digest() {
        let block = sample();
        let mut other = block.clone();
        let mut context = decode_context(&other.header.consensus).unwrap();
        context.round = Round::new(Epoch::zero(), View::new(8));
        other.header.consensus = encode_context(&context);
        let a = ConsensusBlock::new(block).unwrap();
        let b = ConsensusBlock::new(other).unwrap();
        assert_ne!(a.digest(), b.digest());
    }

    #[test]
    fn a_header_without_a_context_or_with_trailing_bytes_is_refused() {
        let mut block = sample();
        block.header.consensus.push(0);
        assert!(ConsensusBlock::new(block.clone()).is_err());
        block.header.consensus.clear();
        assert!(ConsensusBlock::new(block).is_err());
    }

    #[test]
    fn an_oversized_length_prefix_is_refused_before_allocating() {
        let mut bytes = Vec::new();
        UInt((MAX_BLOCK_BYTES + 1) as u32).write(&mut bytes);
        assert!(ConsensusBlock::decode(bytes).is_err());
    }
}
