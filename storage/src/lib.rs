//! Persist state with a Merkle commitment and archive finalized blocks.
