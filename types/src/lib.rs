//! Share ids, amounts, keys, transactions, blocks and bounded codecs.
