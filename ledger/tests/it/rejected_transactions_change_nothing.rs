use plexus_ledger::{
    BlockError, Overlay, TxError, apply_transaction, check_transaction, execute_block,
};
use plexus_types::{PLX, Payload, Signature, Transaction};
use proptest::prelude::*;

use crate::support::{Chain, key, snapshot};

fn assert_rejected_without_trace(chain: &Chain, tx: &plexus_types::SignedTransaction) -> TxError {
    let before = snapshot(&chain.store);
    let mut overlay = Overlay::new(&chain.store);
    let err = apply_transaction(&mut overlay, &chain.env(), tx).unwrap_err();
    assert!(
        overlay.writes().is_empty(),
        "a rejected transaction left writes: {err}"
    );
    match execute_block(&chain.store, &chain.env(), std::slice::from_ref(tx)) {
        Err(BlockError::Tx {
            index: 0, error, ..
        }) => assert_eq!(error.code(), err.code()),
        other => panic!("block with a bad transaction was not rejected: {other:?}"),
    }
    assert_eq!(snapshot(&chain.store), before);
    err
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn replayed_mis_signed_wrong_chain_and_out_of_order_transactions_change_nothing(
        amount in 1u64..1_000 * PLX,
        skip in 1u64..5,
        wrong_chain in any::<u64>(),
        byte in 0usize..64,
    ) {
        let mut chain = Chain::new();
        let alice = key("alice");
        let bob = key("bob").account();
        chain.fund(&alice.account(), 10_000 * PLX);
        let transfer = Payload::Transfer { to: bob, amount };

        // Replay: the same signed transaction twice.
        let tx = chain.tx(&alice, transfer.clone());
        chain.block(vec![tx.clone()]).unwrap();
        let err = assert_rejected_without_trace(&chain, &tx);
        prop_assert!(matches!(err, TxError::StaleNonce { .. }), "{err}");
        let ok = matches!(check_transaction(&chain.store, chain.height + 1, &tx), Err(TxError::StaleNonce { .. }));
        prop_assert!(ok);

        // Mis-signed: one flipped signature bit, or another key's signature.
        let mut bad = chain.tx(&alice, transfer.clone());
        bad.signature.0[byte] ^= 1;
        let err = assert_rejected_without_trace(&chain, &bad);
        prop_assert!(matches!(err, TxError::BadSignature { .. }), "{err}");
        let mut other = chain.tx(&alice, transfer.clone());
        other.signature = Signature(key("mallory").sign(&other.tx.signing_bytes()).0);
        let ok = matches!(assert_rejected_without_trace(&chain, &other), TxError::BadSignature { .. });
        prop_assert!(ok);

        // Wrong chain, properly signed.
        if wrong_chain != chain.chain_id {
            let t = Transaction { chain_id: wrong_chain, ..chain.tx(&alice, transfer.clone()).tx }.sign(&alice);
            let ok = matches!(assert_rejected_without_trace(&chain, &t), TxError::WrongChain { .. });
        prop_assert!(ok);
        }

        // Out of order: a future nonce is rejected by blocks, admitted by the mempool.
        let future = chain.tx_n(&alice, transfer, skip);
        let ok = matches!(assert_rejected_without_trace(&chain, &future), TxError::FutureNonce { .. });
        prop_assert!(ok);
        prop_assert!(check_transaction(&chain.store, chain.height + 1, &future).is_ok());
    }
}

#[test]
fn the_mempool_refuses_fee_free_hotkey_transactions_from_unregistered_keys() {
    let chain = Chain::new();
    let stranger = key("stranger");
    let tx = chain.tx(
        &stranger,
        Payload::CommitWeights {
            netuid: 1,
            commit: plexus_types::Hash::ZERO,
        },
    );
    assert_eq!(tx.tx.fee, 0);
    let err = check_transaction(&chain.store, chain.height + 1, &tx).unwrap_err();
    assert!(matches!(err, TxError::NotRegistered { .. }), "{err}");
    // Paying the ordinary minimum fee does not help an account that cannot pay it.
    let fee = plexus_ledger::query::chain(&chain.store)
        .unwrap()
        .params
        .min_fee;
    let paid = Transaction { fee, ..tx.tx }.sign(&stranger);
    let err = check_transaction(&chain.store, chain.height + 1, &paid).unwrap_err();
    assert!(matches!(err, TxError::InsufficientBalance { .. }), "{err}");
}

#[test]
fn the_mempool_refuses_what_the_next_block_would_refuse_but_queues_future_nonces() {
    let mut chain = Chain::new();
    let alice = key("alice");
    let bob = key("bob").account();
    chain.fund(&alice.account(), 10 * PLX);
    let next = chain.height + 1;

    // Next in line: judged against the committed state, with the block's own reason.
    let overdrawn = chain.tx(
        &alice,
        Payload::Transfer {
            to: bob,
            amount: 11 * PLX,
        },
    );
    let err = check_transaction(&chain.store, next, &overdrawn).unwrap_err();
    assert!(matches!(err, TxError::InsufficientBalance { .. }), "{err}");
    let unknown_subnet = chain.tx(
        &alice,
        Payload::Register {
            netuid: 42,
            hotkey: bob,
        },
    );
    let err = check_transaction(&chain.store, next, &unknown_subnet).unwrap_err();
    assert_eq!(
        err.code(),
        apply_transaction(
            &mut Overlay::new(&chain.store),
            &chain.env(),
            &unknown_subnet
        )
        .unwrap_err()
        .code()
    );
    let fine = chain.tx(
        &alice,
        Payload::Transfer {
            to: bob,
            amount: PLX,
        },
    );
    check_transaction(&chain.store, next, &fine).unwrap();

    // A future nonce may depend on transactions not yet committed: only its fee is checked.
    let later = chain.tx_n(
        &alice,
        Payload::Transfer {
            to: bob,
            amount: 11 * PLX,
        },
        1,
    );
    check_transaction(&chain.store, next, &later).unwrap();
}
