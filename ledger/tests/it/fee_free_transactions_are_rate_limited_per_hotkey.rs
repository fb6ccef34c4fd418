//! Fee-free hotkey housekeeping is rate-limited per hotkey, so a registered hotkey
//! cannot fill blocks for nothing.

use plexus_ledger::TxError;
use plexus_types::{Endpoint, PLX, Payload};

use crate::support::{Chain, fast_hp, key};

#[test]
fn a_registered_hotkey_cannot_flood_blocks_with_fee_free_serves() {
    let mut chain = Chain::new();
    let (owner, cold) = (key("owner"), key("cold"));
    chain.fund(&owner.account(), 1_000 * PLX);
    chain.fund(&cold.account(), 1_000 * PLX);
    let netuid = chain.create_subnet(&owner, fast_hp());
    let hot = key("spammer");
    chain.register(&cold, netuid, &hot.account()).unwrap();
    let serve = |i: u16| Payload::Serve {
        netuid,
        endpoint: Endpoint {
            url: format!("http://127.0.0.1:{}", 1000 + i),
            ..Endpoint::default()
        },
    };
    // Sixty-four fee-free serves in one block: the ledger must refuse most of them.
    let txs: Vec<_> = (0..64u16)
        .map(|i| chain.tx_n(&hot, serve(i), u64::from(i)))
        .collect();
    let refused = match chain.block(txs) {
        Ok(_) => None,
        Err(plexus_ledger::BlockError::Tx { index, error, .. }) => Some((index, error)),
        Err(e) => panic!("{e}"),
    };
    assert!(
        matches!(refused, Some((_, TxError::FreeTxRateLimited { .. }))),
        "64 fee-free transactions from one hotkey fit in one block: {refused:?}"
    );
}
