//! The context every transaction handler takes: one struct instead of a parameter list.

use plexus_types::{AccountId, Amount, SignedTransaction};

use crate::{
    events::Event,
    params::ChainParams,
    store::{Overlay, StateReader, WriteSet},
};

/// What a transaction's handler works with: the state it reads and writes, who
/// signed it, the height it lands at, the chain parameters, the fee it pays, and the
/// events it emits. Handlers take it by `&mut`, then only their payload's fields.
///
/// The context owns a nested overlay and its own event list, so a rejected
/// transaction is dropped with everything it wrote; [`TxContext::finish`] hands back
/// the writes and events of one that applied.
#[derive(Debug)]
pub(crate) struct TxContext<'a, R> {
    /// The transaction's own overlay: reads see its writes first.
    pub(crate) state: Overlay<R>,
    /// The signer (a coldkey or a hotkey, by payload).
    pub(crate) sender: AccountId,
    /// The height of the block the transaction lands in.
    pub(crate) height: u64,
    /// The chain parameters.
    pub(crate) params: &'a ChainParams,
    /// The fee the transaction pays (burned once it applies).
    pub(crate) fee: Amount,
    /// What the transaction did, in order.
    pub(crate) events: Vec<Event>,
}

impl<'a, R: StateReader> TxContext<'a, R> {
    /// The context of `tx` landing at `height`, on a fresh overlay of `base`.
    pub(crate) fn new(
        base: R,
        height: u64,
        params: &'a ChainParams,
        tx: &SignedTransaction,
    ) -> Self {
        Self {
            state: Overlay::new(base),
            sender: tx.tx.sender,
            height,
            params,
            fee: tx.tx.fee,
            events: Vec::new(),
        }
    }

    /// The writes and events of a transaction that applied.
    pub(crate) fn finish(self) -> (WriteSet, Vec<Event>) {
        (self.state.into_writes(), self.events)
    }
}
