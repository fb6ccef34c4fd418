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

#[test]
fn forged_settlements_past_the_fee_free_quota_are_refused_before_any_token_is_verified() {
    let mut genesis = plexus_ledger::Genesis::development(key("validator").account());
    genesis.params.free_tx_quota = 2;
    genesis.params.free_tx_window = 1_000;
    let mut chain = Chain::with_genesis(genesis);
    let (owner, cold) = (key("owner"), key("cold"));
    chain.fund(&owner.account(), 1_000 * PLX);
    chain.fund(&cold.account(), 1_000 * PLX);
    let netuid = chain.create_subnet(&owner, fast_hp());
    let hot = key("spammer");
    chain.register(&cold, netuid, &hot.account()).unwrap();
    // 128 forged tokens: well formed, unknown key.
    let forged = || Payload::SettleCredits {
        netuid,
        tokens: vec![vec![0u8; plexus_types::credits::TOKEN_BYTES]; 128],
    };
    let serve = Payload::Serve {
        netuid,
        endpoint: Endpoint {
            url: "http://127.0.0.1:1".into(),
            ..Endpoint::default()
        },
    };
    // Two fee-free transactions use the quota.
    chain.submit(&hot, serve.clone()).unwrap();
    chain.submit(&hot, serve).unwrap();
    // Past it, the mempool refuses the forged settlement before decoding a token.
    let tx = chain.tx(&hot, forged());
    assert!(matches!(
        plexus_ledger::check_transaction(&chain.store, chain.height + 1, &tx),
        Err(TxError::FreeTxRateLimited { next_block: 1_000 })
    ));
    // A sender that is not a registered hotkey is refused before the payload is looked at.
    let stranger = key("stranger");
    let tx = chain.tx(&stranger, forged());
    assert!(matches!(
        plexus_ledger::check_transaction(&chain.store, chain.height + 1, &tx),
        Err(TxError::NotRegistered { .. })
    ));
    // Paying the fee is always possible.
    let mut paid = chain.tx(&hot, forged()).tx;
    paid.fee = chain.min_fee();
    let paid = paid.sign(&hot);
    assert!(matches!(
        plexus_ledger::check_transaction(&chain.store, chain.height + 1, &paid),
        Err(TxError::InsufficientBalance { .. } | TxError::InvalidToken { .. })
    ));
}
